/*
 * auth_tokens.h: helpers shared by the handlers/auth unit tests: JWTs made with OpenSSL
 * (HS256, RS256 with a key generated at test time), PEM export, and authenticator setups.
 * Static functions only; include once per test file.
 */
#ifndef IMGSVC_TESTS_AUTH_TOKENS_H
#define IMGSVC_TESTS_AUTH_TOKENS_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/encoder.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "handlers/auth.h"
#include "handlers/auth_jwt.h"

#define NOW    1764000000LL
#define SECRET "test-hs256-secret-that-is-long-enough-0123"
#define KEY1   "internal-key-0001-abcdefgh"
#define KEY2   "internal-key-0002-ijklmnop"

/* ---- token making ---- */

static void b64url(const unsigned char *p, size_t n, char *out)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) |
                     (i + 2 < n ? p[i + 2] : 0);
        out[o++] = a[(v >> 18) & 63];
        out[o++] = a[(v >> 12) & 63];
        if (i + 1 < n)
            out[o++] = a[(v >> 6) & 63];
        if (i + 2 < n)
            out[o++] = a[v & 63];
    }
    out[o] = '\0';
}

/* "<b64(header)>.<b64(payload)>" into out. */
static void signing_input(const char *header, const char *payload, char *out)
{
    b64url((const unsigned char *)header, strlen(header), out);
    size_t n = strlen(out);
    out[n] = '.';
    b64url((const unsigned char *)payload, strlen(payload), out + n + 1);
}

/* Appends ".<b64(sig)>" to out. */
static void append_sig(char *out, const unsigned char *sig, size_t len)
{
    size_t n = strlen(out);
    out[n] = '.';
    b64url(sig, len, out + n + 1);
}

static char tok[70000];

static const char *hs256_with(const char *secret, size_t slen, const char *header,
                              const char *payload)
{
    unsigned char mac[32];
    size_t len = 0;
    signing_input(header, payload, tok);
    EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, secret, slen, (unsigned char *)tok, strlen(tok),
              mac, sizeof(mac), &len);
    append_sig(tok, mac, len);
    return tok;
}

static const char *hs256(const char *payload)
{
    return hs256_with(SECRET, strlen(SECRET), "{\"alg\":\"HS256\",\"typ\":\"JWT\"}", payload);
}

static EVP_PKEY *rsa_key(void)
{
    static EVP_PKEY *k = NULL;
    if (k == NULL)
        k = EVP_RSA_gen(2048);
    return k;
}

static const char *rs256_with(EVP_PKEY *key, const char *header, const char *payload)
{
    unsigned char sig[1024];
    size_t len = sizeof(sig);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    signing_input(header, payload, tok);
    EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key);
    EVP_DigestSign(ctx, sig, &len, (unsigned char *)tok, strlen(tok));
    EVP_MD_CTX_free(ctx);
    append_sig(tok, sig, len);
    return tok;
}

static const char *rs256(const char *payload)
{
    return rs256_with(rsa_key(), "{\"alg\":\"RS256\",\"typ\":\"JWT\"}", payload);
}

/* PEM text of `key`'s public half, in SubjectPublicKeyInfo or PKCS#1 ("type-specific") form. */
static char *public_pem(EVP_PKEY *key, const char *structure)
{
    unsigned char *data = NULL;
    size_t len = 0;
    OSSL_ENCODER_CTX *ctx =
        OSSL_ENCODER_CTX_new_for_pkey(key, EVP_PKEY_PUBLIC_KEY, "PEM", structure, NULL);
    OSSL_ENCODER_to_data(ctx, &data, &len);
    OSSL_ENCODER_CTX_free(ctx);
    char *s = calloc(1, len + 1);
    memcpy(s, data, len);
    OPENSSL_free(data);
    return s;
}

/* ---- authenticator setups ---- */

static struct h_auth *make(const char *keys, const char *secret, const char *pem, const char *iss,
                           const char *aud, enum h_auth_mode mode)
{
    struct h_auth_options o;
    struct err e = {0};
    h_auth_options_default(&o);
    o.mode = mode;
    o.api_keys = keys;
    o.jwt_hs256_secret = secret;
    o.jwt_rs256_public_key_pem = pem;
    o.jwt_issuer = iss;
    o.jwt_audience = aud;
    struct h_auth *a = h_auth_new(&o, &e);
    if (a == NULL)
        fprintf(stderr, "h_auth_new: %s\n", e.msg);
    return a;
}

static enum err_code bearer(struct h_auth *a, const char *token, int64_t now,
                            struct h_auth_principal *p, struct err *e)
{
    static char h[70100];
    snprintf(h, sizeof(h), "Bearer %s", token);
    return h_auth_authenticate(a, h, NULL, now, p, e);
}

/* True when e's message starts with "<reason>:". */
static bool reason_is(const struct err *e, const char *reason)
{
    size_t n = strlen(reason);
    bool ok = strncmp(e->msg, reason, n) == 0 && e->msg[n] == ':';
    if (!ok)
        fprintf(stderr, "  message \"%s\", expected reason %s\n", e->msg, reason);
    return ok;
}

#define CHECK_REFUSED(a, token, now, reason)                                                       \
    do {                                                                                           \
        struct h_auth_principal p_;                                                                \
        struct err e_ = {0};                                                                       \
        CHECK_INT(bearer((a), (token), (now), &p_, &e_), ERR_AUTH);                                \
        CHECK(reason_is(&e_, (reason)));                                                           \
        CHECK_INT(p_.via, H_AUTH_VIA_NONE);                                                        \
        CHECK_STR(p_.sub, "");                                                                     \
    } while (0)

#define GOOD_PAYLOAD "{\"sub\":\"42\",\"exp\":1764003600}"

#endif
