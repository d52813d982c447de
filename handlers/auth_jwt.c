/*
 * auth_jwt.c: JWT verification with OpenSSL (see auth_jwt.h).
 *
 * The token is checked as a list of stages: size, three segments, strict base64url, a JSON
 * object header with a known alg, the signature over "<header>.<payload>", and only then the
 * payload's claims (exp, nbf, iss, aud, sub). Every refusal is ERR_AUTH with a reason code.
 */
#include "handlers/auth_jwt.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/json.h"

#define MIN_RSA_BITS  2048
#define MAX_MEMBERS   64 /* members in a header or payload object */
#define HS256_SIG_LEN 32
#define MAX_SIG_BYTES 1024 /* an RSA-8192 signature */

static int b64url_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

enum err_code h_auth_b64url_decode(const char *s, size_t n, unsigned char *out, size_t cap,
                                   size_t *out_len)
{
    *out_len = 0;
    if (n % 4 == 1)
        return ERR_INVALID;
    size_t need = n / 4 * 3 + (n % 4 == 0 ? 0 : n % 4 - 1);
    if (need > cap)
        return ERR_TOO_LARGE;
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64url_value(s[i]);
        if (v < 0)
            return ERR_INVALID;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) /* the unused low bits of the last character must be zero */
        return ERR_INVALID;
    *out_len = o;
    return ERR_OK;
}

/* True when some two members of `obj` share a name, or there are too many members. */
static bool bad_members(const cJSON *obj)
{
    int count = 0;
    for (const cJSON *a = obj->child; a != NULL; a = a->next) {
        if (++count > MAX_MEMBERS || a->string == NULL)
            return true;
        for (const cJSON *b = a->next; b != NULL; b = b->next) {
            if (b->string != NULL && strcmp(a->string, b->string) == 0)
                return true;
        }
    }
    return false;
}

/* Decodes one base64url segment holding a JSON object into `*out` (caller deletes). */
static enum err_code decode_json(const char *seg, size_t n, const char *what, cJSON **out,
                                 struct err *e)
{
    enum err_code rc = ERR_AUTH;
    size_t len = 0;
    unsigned char *raw = malloc(n + 1);
    *out = NULL;
    if (raw == NULL) {
        rc = err_set(e, ERR_NOMEM, "out of memory decoding the token");
        goto cleanup;
    }
    if (n == 0 || h_auth_b64url_decode(seg, n, raw, n, &len) != ERR_OK) {
        err_set(e, ERR_AUTH, "malformed_token: the %s is not base64url", what);
        goto cleanup;
    }
    *out = json_parse((const char *)raw, len, NULL);
    if (*out == NULL || !cJSON_IsObject(*out) || bad_members(*out)) {
        err_set(e, ERR_AUTH, "malformed_token: the %s is not a JSON object with unique members",
                what);
        goto cleanup;
    }
    rc = ERR_OK;
cleanup:
    if (rc != ERR_OK) {
        cJSON_Delete(*out);
        *out = NULL;
    }
    free(raw);
    return rc;
}

/* HMAC-SHA256 of `data` under the configured secret, compared in constant time. */
static enum err_code verify_hs256(const struct h_auth_jwt_config *cfg, const char *data, size_t n,
                                  const unsigned char *sig, size_t sig_len, struct err *e)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t mac_len = 0;
    if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, cfg->hs256_secret, cfg->hs256_secret_len,
                  (const unsigned char *)data, n, mac, sizeof(mac), &mac_len) == NULL)
        return err_set(e, ERR_INTERNAL, "HMAC-SHA256 failed");
    bool ok = sig_len == HS256_SIG_LEN && mac_len == HS256_SIG_LEN &&
              CRYPTO_memcmp(mac, sig, HS256_SIG_LEN) == 0;
    OPENSSL_cleanse(mac, sizeof(mac));
    if (!ok)
        return err_set(e, ERR_AUTH, "bad_signature: the HS256 signature does not match");
    return ERR_OK;
}

/* RSASSA-PKCS1-v1_5 SHA-256 verification of `data` under the configured public key. */
static enum err_code verify_rs256(const struct h_auth_jwt_config *cfg, const char *data, size_t n,
                                  const unsigned char *sig, size_t sig_len, struct err *e)
{
    enum err_code rc = ERR_AUTH;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL) {
        rc = err_set(e, ERR_NOMEM, "out of memory verifying the token");
        goto cleanup;
    }
    if (sig_len != (size_t)EVP_PKEY_get_size(cfg->rs256_key)) {
        err_set(e, ERR_AUTH, "bad_signature: the RS256 signature has the wrong length");
        goto cleanup;
    }
    if (EVP_DigestVerifyInit_ex(ctx, NULL, "SHA256", NULL, NULL, cfg->rs256_key, NULL) != 1) {
        rc = err_set(e, ERR_INTERNAL, "RS256 verifier could not start");
        goto cleanup;
    }
    if (EVP_DigestVerify(ctx, sig, sig_len, (const unsigned char *)data, n) != 1) {
        err_set(e, ERR_AUTH, "bad_signature: the RS256 signature does not verify");
        goto cleanup;
    }
    rc = ERR_OK;
cleanup:
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    return rc;
}

/* Reads the header's alg and checks the signature over data[0..n) with the matching key. */
static enum err_code verify_signature(const struct h_auth_jwt_config *cfg, const cJSON *header,
                                      const char *data, size_t n, const char *sig_b64, size_t sig_n,
                                      struct h_auth_jwt_claims *out, struct err *e)
{
    unsigned char sig[MAX_SIG_BYTES];
    size_t sig_len = 0;
    const char *alg = json_get_str(header, "alg");
    if (alg == NULL)
        return err_set(e, ERR_AUTH, "malformed_token: the header has no alg");
    if (cJSON_GetObjectItemCaseSensitive(header, "crit") != NULL)
        return err_set(e, ERR_AUTH, "unsupported_header: crit extensions are not supported");
    bool hs = strcmp(alg, "HS256") == 0, rs = strcmp(alg, "RS256") == 0;
    if (!hs && !rs)
        return err_set(e, ERR_AUTH, "unsupported_alg: %.16s is not accepted", alg);
    if ((hs && cfg->hs256_secret == NULL) || (rs && cfg->rs256_key == NULL))
        return err_set(e, ERR_AUTH, "unsupported_alg: %s is not configured", alg);
    if (sig_n == 0 || h_auth_b64url_decode(sig_b64, sig_n, sig, sizeof(sig), &sig_len) != ERR_OK)
        return err_set(e, ERR_AUTH, "malformed_token: the signature is not base64url");
    memcpy(out->alg, alg, 6);
    return hs ? verify_hs256(cfg, data, n, sig, sig_len, e)
              : verify_rs256(cfg, data, n, sig, sig_len, e);
}

/* Reads the NumericDate `name`: *present false when absent; bad_claim when not a number. */
static enum err_code numeric_claim(const cJSON *payload, const char *name, bool *present, double *v,
                                   struct err *e)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(payload, name);
    *present = c != NULL;
    if (c == NULL)
        return ERR_OK;
    if (!cJSON_IsNumber(c) || !isfinite(c->valuedouble))
        return err_set(e, ERR_AUTH, "bad_claim: %s is not a number", name);
    *v = c->valuedouble;
    return ERR_OK;
}

/* exp (required), nbf and iat (optional) against `now` with the leeway. */
static enum err_code check_times(const struct h_auth_jwt_config *cfg, const cJSON *payload,
                                 int64_t now, struct h_auth_jwt_claims *out, struct err *e)
{
    bool has_exp = false, has_nbf = false, has_iat = false;
    double exp = 0, nbf = 0, iat = 0;
    enum err_code rc = numeric_claim(payload, "exp", &has_exp, &exp, e);
    if (rc == ERR_OK)
        rc = numeric_claim(payload, "nbf", &has_nbf, &nbf, e);
    if (rc == ERR_OK)
        rc = numeric_claim(payload, "iat", &has_iat, &iat, e);
    if (rc != ERR_OK)
        return rc;
    if (!has_exp)
        return err_set(e, ERR_AUTH, "missing_claim: exp is required");
    if ((double)now >= exp + (double)cfg->leeway_s)
        return err_set(e, ERR_AUTH, "token_expired: exp %.0f is past", floor(exp));
    if (has_nbf && (double)now + (double)cfg->leeway_s < nbf)
        return err_set(e, ERR_AUTH, "token_not_yet_valid: nbf %.0f is in the future", floor(nbf));
    out->exp = exp > 9e15 ? (int64_t)9e15 : (int64_t)floor(exp);
    return ERR_OK;
}

/* True when `aud` (a string or an array of strings) contains `want`. */
static bool audience_has(const cJSON *aud, const char *want)
{
    if (cJSON_IsString(aud))
        return strcmp(aud->valuestring, want) == 0;
    if (!cJSON_IsArray(aud))
        return false;
    const cJSON *item = NULL;
    cJSON_ArrayForEach(item, aud)
    {
        if (cJSON_IsString(item) && strcmp(item->valuestring, want) == 0)
            return true;
    }
    return false;
}

/* iss and aud when configured, then the required sub. */
static enum err_code check_identity(const struct h_auth_jwt_config *cfg, const cJSON *payload,
                                    struct h_auth_jwt_claims *out, struct err *e)
{
    if (cfg->issuer != NULL) {
        const char *iss = json_get_str(payload, "iss");
        if (iss == NULL || strcmp(iss, cfg->issuer) != 0)
            return err_set(e, ERR_AUTH, "bad_issuer: iss is %s",
                           iss ? "not the expected one" : "missing");
    }
    if (cfg->audience != NULL) {
        const cJSON *aud = cJSON_GetObjectItemCaseSensitive(payload, "aud");
        if (!audience_has(aud, cfg->audience))
            return err_set(e, ERR_AUTH, "bad_audience: aud is %s",
                           aud ? "not the expected one" : "missing");
    }
    const cJSON *sub = cJSON_GetObjectItemCaseSensitive(payload, "sub");
    if (sub == NULL)
        return err_set(e, ERR_AUTH, "missing_claim: sub is required");
    if (!cJSON_IsString(sub) || sub->valuestring[0] == '\0' ||
        strlen(sub->valuestring) >= H_AUTH_SUB_MAX)
        return err_set(e, ERR_AUTH, "bad_claim: sub must be a string of 1..%d bytes",
                       H_AUTH_SUB_MAX - 1);
    memcpy(out->sub, sub->valuestring, strlen(sub->valuestring) + 1);
    return ERR_OK;
}

enum err_code h_auth_jwt_verify(const struct h_auth_jwt_config *cfg, const char *token, size_t len,
                                int64_t now, struct h_auth_jwt_claims *out, struct err *e)
{
    enum err_code rc = ERR_AUTH;
    cJSON *header = NULL, *payload = NULL;
    memset(out, 0, sizeof(*out));
    if (len > cfg->max_bytes) {
        err_set(e, ERR_AUTH, "token_too_large: over %zu bytes", cfg->max_bytes);
        goto cleanup;
    }
    const char *d1 = memchr(token, '.', len);
    const char *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token)) : NULL;
    if (d2 == NULL || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token)) != NULL) {
        err_set(e, ERR_AUTH, "malformed_token: a JWT has exactly three segments");
        goto cleanup;
    }
    rc = decode_json(token, (size_t)(d1 - token), "header", &header, e);
    if (rc != ERR_OK)
        goto cleanup;
    rc = verify_signature(cfg, header, token, (size_t)(d2 - token), d2 + 1,
                          len - (size_t)(d2 + 1 - token), out, e);
    if (rc != ERR_OK)
        goto cleanup;
    rc = decode_json(d1 + 1, (size_t)(d2 - d1 - 1), "payload", &payload, e);
    if (rc == ERR_OK)
        rc = check_times(cfg, payload, now, out, e);
    if (rc == ERR_OK)
        rc = check_identity(cfg, payload, out, e);
cleanup:
    if (rc != ERR_OK)
        memset(out, 0, sizeof(*out));
    cJSON_Delete(header);
    cJSON_Delete(payload);
    return rc;
}

/* Decodes any public key the PEM holds, or NULL. */
static EVP_PKEY *decode_public_key(const char *pem, size_t len)
{
    EVP_PKEY *pkey = NULL;
    const unsigned char *p = (const unsigned char *)pem;
    size_t left = len;
    OSSL_DECODER_CTX *dctx =
        OSSL_DECODER_CTX_new_for_pkey(&pkey, "PEM", NULL, "RSA", EVP_PKEY_PUBLIC_KEY, NULL, NULL);
    if (dctx != NULL && OSSL_DECODER_from_data(dctx, &p, &left) != 1) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    OSSL_DECODER_CTX_free(dctx);
    if (pkey == NULL && len <= (size_t)INT32_MAX) {
        BIO *bio = BIO_new_mem_buf(pem, (int)len);
        X509 *cert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
        pkey = cert ? X509_get_pubkey(cert) : NULL;
        X509_free(cert);
        BIO_free(bio);
    }
    ERR_clear_error();
    return pkey;
}

EVP_PKEY *h_auth_jwt_load_rsa_pem(const char *pem, size_t len, struct err *e)
{
    EVP_PKEY *pkey = NULL, *ret = NULL;
    if (pem == NULL || len == 0) {
        err_set(e, ERR_INVALID, "the RS256 public key is empty");
        goto cleanup;
    }
    /* A private key here is an operator mistake worth stopping at: it must stay elsewhere. */
    if (memmem(pem, len, "PRIVATE KEY", 11) != NULL) {
        err_set(e, ERR_INVALID, "the RS256 key is a private key; configure the public key only");
        goto cleanup;
    }
    pkey = decode_public_key(pem, len);
    if (pkey == NULL || !EVP_PKEY_is_a(pkey, "RSA")) {
        err_set(e, ERR_INVALID, "the RS256 key is not a PEM RSA public key or certificate");
        goto cleanup;
    }
    if (EVP_PKEY_get_bits(pkey) < MIN_RSA_BITS) {
        err_set(e, ERR_INVALID, "the RS256 key has %d bits; at least %d are required",
                EVP_PKEY_get_bits(pkey), MIN_RSA_BITS);
        goto cleanup;
    }
    ret = pkey;
    pkey = NULL;
cleanup:
    EVP_PKEY_free(pkey);
    return ret;
}
