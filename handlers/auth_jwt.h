/*
 * auth_jwt.h: JWT (JWS compact) verification for handlers/auth.c. Internal to the auth module;
 * the unit tests include it to reach the stages directly. Callers elsewhere use handlers/auth.h.
 *
 * Only HS256 (HMAC-SHA256 with a shared secret) and RS256 (RSASSA-PKCS1-v1_5 with SHA-256 and
 * an RSA public key) are accepted, and each only when its key is configured: an HS256 token is
 * never checked against the RSA key (no algorithm confusion), "none" and every other alg are
 * refused. The signature is verified before any claim is read. Errors use the reason codes
 * documented in handlers/auth.h.
 */
#ifndef IMGSVC_HANDLERS_AUTH_JWT_H
#define IMGSVC_HANDLERS_AUTH_JWT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "common/err.h"
#include "handlers/auth.h"

/* What the verifier needs. Everything is borrowed from the caller. */
struct h_auth_jwt_config {
    const unsigned char *hs256_secret; /* NULL: HS256 refused */
    size_t hs256_secret_len;
    EVP_PKEY *rs256_key;  /* NULL: RS256 refused */
    const char *issuer;   /* NULL: `iss` not checked */
    const char *audience; /* NULL: `aud` not checked */
    int64_t leeway_s;     /* allowed clock difference for exp and nbf */
    size_t max_bytes;     /* longest token accepted */
};

/* The claims a caller needs from a valid token. */
struct h_auth_jwt_claims {
    char sub[H_AUTH_SUB_MAX];
    char alg[8]; /* "HS256" or "RS256" */
    int64_t exp; /* seconds (fraction dropped) */
};

/*
 * Verifies `token` (`len` bytes, not necessarily NUL-terminated) at time `now` (Unix seconds)
 * and fills `out`. ERR_AUTH with a reason ("bad_signature: ...") when it must be refused,
 * ERR_NOMEM/ERR_INTERNAL when we failed.
 */
enum err_code h_auth_jwt_verify(const struct h_auth_jwt_config *cfg, const char *token, size_t len,
                                int64_t now, struct h_auth_jwt_claims *out, struct err *e);

/*
 * Strict base64url (RFC 4648 section 5) without padding: refuses '=', other alphabets, a length
 * of 1 mod 4 and non-zero unused bits. Writes at most `cap` bytes to `out` and the count to
 * `*out_len`. ERR_INVALID on bad input, ERR_TOO_LARGE when `cap` is too small.
 */
enum err_code h_auth_b64url_decode(const char *s, size_t n, unsigned char *out, size_t cap,
                                   size_t *out_len);

/*
 * Reads an RSA public key (SubjectPublicKeyInfo "PUBLIC KEY", PKCS#1 "RSA PUBLIC KEY", or an
 * X.509 certificate) of at least 2048 bits from PEM text. Refuses private keys. Returns the key
 * (caller frees with EVP_PKEY_free) or NULL with ERR_INVALID in `e`.
 */
EVP_PKEY *h_auth_jwt_load_rsa_pem(const char *pem, size_t len, struct err *e);

#endif
