/*
 * auth.c: API authentication (see auth.h): settings, API keys, the Authorization header, and
 * the owner rule for profile uploads. JWT verification itself lives in auth_jwt.c.
 *
 * API keys are kept only as SHA-256 digests; a presented key is hashed and compared with
 * CRYPTO_memcmp against every configured digest, so neither the position of the first wrong
 * byte nor the key's length changes the time taken.
 */
#include "handlers/auth.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/buf.h"
#include "handlers/auth_jwt.h"

#define DIGEST_LEN       32
#define DEFAULT_LEEWAY_S 30
#define DEFAULT_MAX_JWT  8192
#define MAX_PEM_BYTES    (1024 * 1024)
#define REALM            "imgsvc"

struct h_auth {
    enum h_auth_mode mode; /* resolved */
    bool keys_on, jwt_on;
    size_t nkeys;
    unsigned char key_digest[H_AUTH_MAX_API_KEYS][DIGEST_LEN];
    unsigned char *hs256_secret;
    size_t hs256_secret_len;
    EVP_PKEY *rs256_key;
    char *issuer, *audience;
    struct h_auth_jwt_config jwt; /* points into the fields above */
};

static const char *const mode_names[] = {"auto", "off", "api_key", "jwt", "any"};

void h_auth_options_default(struct h_auth_options *o)
{
    memset(o, 0, sizeof(*o));
    o->mode = H_AUTH_MODE_AUTO;
    o->jwt_leeway_s = DEFAULT_LEEWAY_S;
    o->jwt_max_bytes = DEFAULT_MAX_JWT;
}

enum err_code h_auth_mode_parse(const char *s, enum h_auth_mode *out)
{
    for (size_t i = 0; s != NULL && i < sizeof(mode_names) / sizeof(mode_names[0]); i++) {
        if (strcmp(s, mode_names[i]) == 0) {
            *out = (enum h_auth_mode)i;
            return ERR_OK;
        }
    }
    return ERR_INVALID;
}

const char *h_auth_mode_name(enum h_auth_mode mode)
{
    if ((int)mode < 0 || (size_t)mode >= sizeof(mode_names) / sizeof(mode_names[0]))
        return "unknown";
    return mode_names[mode];
}

/* True for the characters of RFC 7235's token68: ALPHA DIGIT - . _ ~ + / and trailing '='. */
static bool token68_ok(const char *s, size_t n)
{
    size_t i = 0;
    for (; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  strchr("-._~+/", c) != NULL;
        if (!ok || c == '\0')
            break;
    }
    if (i == 0)
        return false;
    while (i < n && s[i] == '=')
        i++;
    return i == n;
}

static bool sha256(const char *s, size_t n, unsigned char out[DIGEST_LEN])
{
    unsigned int len = 0;
    return EVP_Digest(s, n, out, &len, EVP_sha256(), NULL) == 1 && len == DIGEST_LEN;
}

/* Splits the comma-separated list into digests. Messages name positions, never keys. */
static enum err_code parse_api_keys(struct h_auth *a, const char *list, struct err *e)
{
    const char *p = list;
    while (p != NULL && *p != '\0') {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        while (n > 0 && (*p == ' ' || *p == '\t'))
            p++, n--;
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if (n > 0) {
            if (a->nkeys == H_AUTH_MAX_API_KEYS)
                return err_set(e, ERR_INVALID, "IMGSVC_API_KEYS: more than %d keys",
                               H_AUTH_MAX_API_KEYS);
            if (n < H_AUTH_API_KEY_MIN || n > H_AUTH_API_KEY_MAX || !token68_ok(p, n))
                return err_set(e, ERR_INVALID,
                               "IMGSVC_API_KEYS: key #%zu must be %d..%d characters of "
                               "A-Za-z0-9-._~+/=",
                               a->nkeys + 1, H_AUTH_API_KEY_MIN, H_AUTH_API_KEY_MAX);
            if (!sha256(p, n, a->key_digest[a->nkeys]))
                return err_set(e, ERR_INTERNAL, "SHA-256 failed");
            a->nkeys++;
        }
        p = end ? end + 1 : NULL;
    }
    return ERR_OK;
}

/* Reads the RS256 key from the file or the inline PEM (not both). */
static enum err_code load_rsa(struct h_auth *a, const struct h_auth_options *o, struct err *e)
{
    enum err_code rc = ERR_OK;
    struct buf pem;
    FILE *f = NULL;
    buf_init(&pem, MAX_PEM_BYTES);
    bool has_file = o->jwt_rs256_public_key_file && *o->jwt_rs256_public_key_file;
    bool has_pem = o->jwt_rs256_public_key_pem && *o->jwt_rs256_public_key_pem;
    if (has_file && has_pem) {
        rc = err_set(e, ERR_INVALID, "IMGSVC_JWT_RS256_PUBLIC_KEY and _FILE are both set");
    } else if (has_pem) {
        a->rs256_key = h_auth_jwt_load_rsa_pem(o->jwt_rs256_public_key_pem,
                                               strlen(o->jwt_rs256_public_key_pem), e);
        rc = a->rs256_key ? ERR_OK : ERR_INVALID;
    } else if (has_file) {
        char chunk[4096];
        size_t n = 0;
        f = fopen(o->jwt_rs256_public_key_file, "rb");
        if (f == NULL) {
            rc = err_set(e, ERR_IO, "IMGSVC_JWT_RS256_PUBLIC_KEY_FILE: cannot open %s",
                         o->jwt_rs256_public_key_file);
            goto cleanup;
        }
        while (rc == ERR_OK && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
            rc = buf_append(&pem, chunk, n);
        if (rc != ERR_OK || ferror(f)) {
            rc = err_set(e, rc == ERR_OK ? ERR_IO : rc,
                         "IMGSVC_JWT_RS256_PUBLIC_KEY_FILE: cannot read %s",
                         o->jwt_rs256_public_key_file);
            goto cleanup;
        }
        a->rs256_key = h_auth_jwt_load_rsa_pem(pem.data, pem.len, e);
        rc = a->rs256_key ? ERR_OK : ERR_INVALID;
    }
cleanup:
    if (f != NULL)
        fclose(f);
    buf_free(&pem);
    return rc;
}

/* Copies the optional strings and the secret; checks the numeric bounds. */
static enum err_code copy_settings(struct h_auth *a, const struct h_auth_options *o, struct err *e)
{
    if (o->jwt_leeway_s < 0 || o->jwt_leeway_s > H_AUTH_LEEWAY_MAX)
        return err_set(e, ERR_INVALID, "IMGSVC_JWT_LEEWAY_S must be 0..%d", H_AUTH_LEEWAY_MAX);
    if (o->jwt_max_bytes < H_AUTH_JWT_MIN_BYTES || o->jwt_max_bytes > H_AUTH_JWT_MAX_BYTES)
        return err_set(e, ERR_INVALID, "IMGSVC_JWT_MAX_BYTES must be %d..%d", H_AUTH_JWT_MIN_BYTES,
                       H_AUTH_JWT_MAX_BYTES);
    if (o->jwt_hs256_secret != NULL && *o->jwt_hs256_secret != '\0') {
        a->hs256_secret_len = strlen(o->jwt_hs256_secret);
        if (a->hs256_secret_len < H_AUTH_HS256_SECRET_MIN)
            return err_set(e, ERR_INVALID, "IMGSVC_JWT_HS256_SECRET must be at least %d bytes",
                           H_AUTH_HS256_SECRET_MIN);
        a->hs256_secret = OPENSSL_memdup(o->jwt_hs256_secret, a->hs256_secret_len);
        if (a->hs256_secret == NULL)
            return err_set(e, ERR_NOMEM, "out of memory");
    }
    if (o->jwt_issuer != NULL && *o->jwt_issuer != '\0' &&
        (a->issuer = strdup(o->jwt_issuer)) == NULL)
        return err_set(e, ERR_NOMEM, "out of memory");
    if (o->jwt_audience != NULL && *o->jwt_audience != '\0' &&
        (a->audience = strdup(o->jwt_audience)) == NULL)
        return err_set(e, ERR_NOMEM, "out of memory");
    a->jwt =
        (struct h_auth_jwt_config){a->hs256_secret, a->hs256_secret_len, a->rs256_key,    a->issuer,
                                   a->audience,     o->jwt_leeway_s,     o->jwt_max_bytes};
    return ERR_OK;
}

/* Resolves auto and checks that the mode has what it needs. */
static enum err_code resolve_mode(struct h_auth *a, enum h_auth_mode mode, struct err *e)
{
    bool have_keys = a->nkeys > 0, have_jwt = a->hs256_secret || a->rs256_key;
    if (mode == H_AUTH_MODE_AUTO)
        mode = have_keys || have_jwt ? H_AUTH_MODE_ANY : H_AUTH_MODE_OFF;
    if ((int)mode < 0 || mode > H_AUTH_MODE_ANY)
        return err_set(e, ERR_INVALID, "IMGSVC_AUTH_MODE: unknown mode %d", (int)mode);
    if (mode == H_AUTH_MODE_API_KEY && !have_keys)
        return err_set(e, ERR_INVALID, "IMGSVC_AUTH_MODE=api_key needs IMGSVC_API_KEYS");
    if (mode == H_AUTH_MODE_JWT && !have_jwt)
        return err_set(e, ERR_INVALID,
                       "IMGSVC_AUTH_MODE=jwt needs IMGSVC_JWT_HS256_SECRET or "
                       "an RS256 public key");
    if (mode == H_AUTH_MODE_ANY && !have_keys && !have_jwt)
        return err_set(e, ERR_INVALID, "IMGSVC_AUTH_MODE=any needs API keys or a JWT key");
    a->mode = mode;
    a->keys_on = have_keys && (mode == H_AUTH_MODE_API_KEY || mode == H_AUTH_MODE_ANY);
    a->jwt_on = have_jwt && (mode == H_AUTH_MODE_JWT || mode == H_AUTH_MODE_ANY);
    return ERR_OK;
}

struct h_auth *h_auth_new(const struct h_auth_options *o, struct err *e)
{
    struct h_auth *a = calloc(1, sizeof(*a));
    struct h_auth *ret = NULL;
    if (a == NULL) {
        err_set(e, ERR_NOMEM, "out of memory");
        goto cleanup;
    }
    if (parse_api_keys(a, o->api_keys, e) != ERR_OK || load_rsa(a, o, e) != ERR_OK ||
        copy_settings(a, o, e) != ERR_OK || resolve_mode(a, o->mode, e) != ERR_OK)
        goto cleanup;
    ret = a;
    a = NULL;
cleanup:
    h_auth_destroy(a);
    return ret;
}

void h_auth_destroy(struct h_auth *a)
{
    if (a == NULL)
        return;
    OPENSSL_clear_free(a->hs256_secret, a->hs256_secret_len);
    EVP_PKEY_free(a->rs256_key);
    free(a->issuer);
    free(a->audience);
    OPENSSL_cleanse(a, sizeof(*a));
    free(a);
}

enum h_auth_mode h_auth_effective_mode(const struct h_auth *a)
{
    return a->mode;
}

size_t h_auth_describe(const struct h_auth *a, char *out, size_t cap)
{
    if (cap == 0)
        return 0;
    const char *algs = a->hs256_secret && a->rs256_key ? "HS256,RS256"
                       : a->hs256_secret               ? "HS256"
                       : a->rs256_key                  ? "RS256"
                                                       : "none";
    int n = snprintf(out, cap, "mode=%s api_keys=%zu jwt=%s iss=%s aud=%s leeway=%llds",
                     h_auth_mode_name(a->mode), a->keys_on ? a->nkeys : 0,
                     a->jwt_on ? algs : "none", a->issuer ? "set" : "unchecked",
                     a->audience ? "set" : "unchecked", (long long)a->jwt.leeway_s);
    if (n < 0)
        n = 0;
    return (size_t)n < cap ? (size_t)n : cap - 1;
}

/* Index of the configured key equal to k[0..n), or -1. Checks every key every time. */
static int match_api_key(const struct h_auth *a, const char *k, size_t n)
{
    unsigned char d[DIGEST_LEN];
    int found = -1;
    if (!sha256(k, n, d))
        return -1;
    for (size_t i = 0; i < a->nkeys; i++) {
        int eq = CRYPTO_memcmp(d, a->key_digest[i], DIGEST_LEN) == 0;
        found = (found < 0 && eq) ? (int)i : found;
    }
    OPENSSL_cleanse(d, sizeof(d));
    return found;
}

/* Finds the token in "Bearer <token68>" (scheme case-insensitive, blanks around ignored). */
static bool parse_bearer(const char *h, const char **tok, size_t *n)
{
    while (*h == ' ' || *h == '\t')
        h++;
    if (strncasecmp(h, "Bearer", 6) != 0 || (h[6] != ' ' && h[6] != '\t'))
        return false;
    h += 6;
    while (*h == ' ' || *h == '\t')
        h++;
    size_t len = strlen(h);
    while (len > 0 && (h[len - 1] == ' ' || h[len - 1] == '\t'))
        len--;
    *tok = h;
    *n = len;
    return len > 0;
}

/* The X-Api-Key path. */
static enum err_code auth_x_api_key(const struct h_auth *a, const char *v,
                                    struct h_auth_principal *out, struct err *e)
{
    if (!a->keys_on)
        return err_set(e, ERR_AUTH, "invalid_api_key: API keys are not accepted here");
    while (*v == ' ' || *v == '\t')
        v++;
    size_t n = strlen(v);
    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    if (n > H_AUTH_API_KEY_MAX || !token68_ok(v, n))
        return err_set(e, ERR_AUTH, "bad_authorization: X-Api-Key is not a well-formed key");
    out->api_key_index = match_api_key(a, v, n);
    if (out->api_key_index < 0)
        return err_set(e, ERR_AUTH, "invalid_api_key: the key is not recognised");
    out->via = H_AUTH_VIA_API_KEY;
    return ERR_OK;
}

/* The Authorization: Bearer path: an API key first, then a JWT. */
static enum err_code auth_bearer(const struct h_auth *a, const char *h, int64_t now,
                                 struct h_auth_principal *out, struct err *e)
{
    const char *tok = NULL;
    size_t n = 0;
    struct h_auth_jwt_claims claims;
    if (!parse_bearer(h, &tok, &n))
        return err_set(e, ERR_AUTH, "bad_authorization: expected 'Bearer <token>'");
    size_t limit = a->jwt.max_bytes > H_AUTH_API_KEY_MAX ? a->jwt.max_bytes : H_AUTH_API_KEY_MAX;
    if (n > limit)
        return err_set(e, ERR_AUTH, "token_too_large: over %zu bytes", limit);
    if (!token68_ok(tok, n))
        return err_set(e, ERR_AUTH, "bad_authorization: the bearer token has bad characters");
    if (a->keys_on && n <= H_AUTH_API_KEY_MAX &&
        (out->api_key_index = match_api_key(a, tok, n)) >= 0) {
        out->via = H_AUTH_VIA_API_KEY;
        return ERR_OK;
    }
    out->api_key_index = -1;
    if (a->jwt_on && memchr(tok, '.', n) != NULL) {
        enum err_code rc = h_auth_jwt_verify(&a->jwt, tok, n, now, &claims, e);
        if (rc != ERR_OK)
            return rc;
        out->via = H_AUTH_VIA_JWT;
        memcpy(out->sub, claims.sub, sizeof(out->sub));
        memcpy(out->alg, claims.alg, sizeof(out->alg));
        out->exp = claims.exp;
        return ERR_OK;
    }
    if (a->keys_on)
        return err_set(e, ERR_AUTH, "invalid_api_key: the key is not recognised");
    return err_set(e, ERR_AUTH, "malformed_token: the bearer token is not a JWT");
}

enum err_code h_auth_authenticate(const struct h_auth *a, const char *authorization,
                                  const char *x_api_key, int64_t now, struct h_auth_principal *out,
                                  struct err *e)
{
    enum err_code rc = ERR_AUTH;
    memset(out, 0, sizeof(*out));
    out->api_key_index = -1;
    if (a->mode == H_AUTH_MODE_OFF) {
        rc = ERR_OK;
    } else if (authorization != NULL && x_api_key != NULL) {
        rc = err_set(e, ERR_AUTH,
                     "ambiguous_credentials: send Authorization or X-Api-Key, "
                     "not both");
    } else if (x_api_key != NULL) {
        rc = auth_x_api_key(a, x_api_key, out, e);
    } else if (authorization != NULL) {
        rc = auth_bearer(a, authorization, now, out, e);
    } else {
        rc = err_set(e, ERR_AUTH,
                     "missing_credentials: send Authorization: Bearer <token> or "
                     "X-Api-Key");
    }
    if (rc != ERR_OK) {
        memset(out, 0, sizeof(*out));
        out->api_key_index = -1;
    }
    return rc;
}

enum err_code h_auth_check_owner(const struct h_auth_principal *p, enum s3_key_domain domain,
                                 const char *const ids[], size_t nids, struct err *e)
{
    if (p == NULL)
        return err_set(e, ERR_FORBIDDEN, "subject_mismatch: no caller");
    if (p->via != H_AUTH_VIA_JWT ||
        (domain != S3_DOMAIN_PROFILE && domain != S3_DOMAIN_CHAT_PROFILE))
        return ERR_OK;
    int idx = s3_key_id_index(s3_key_domain_get(domain), "userId");
    if (idx < 0 || ids == NULL || (size_t)idx >= nids || ids[idx] == NULL ||
        strcmp(ids[idx], p->sub) != 0)
        return err_set(e, ERR_FORBIDDEN, "subject_mismatch: the token's sub is not this userId");
    return ERR_OK;
}

int h_auth_http_status(enum err_code code)
{
    return code == ERR_OK ? 200 : code == ERR_AUTH ? 401 : code == ERR_FORBIDDEN ? 403 : 500;
}

const char *h_auth_error_code(enum err_code code)
{
    return code == ERR_AUTH ? "unauthenticated" : code == ERR_FORBIDDEN ? "forbidden" : "internal";
}

const char *h_auth_www_authenticate(const struct err *e)
{
    if (e != NULL && strncmp(e->msg, "missing_credentials:", 20) == 0)
        return "Bearer realm=\"" REALM "\"";
    return "Bearer realm=\"" REALM "\", error=\"invalid_token\"";
}
