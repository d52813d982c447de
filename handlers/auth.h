/*
 * auth.h: who is calling the API. Pure logic: header values and settings in, a principal or a
 * refusal out; the HTTP server passes the headers and turns a refusal into a response.
 *
 * Two kinds of caller:
 *   - internal services send an API key, as `Authorization: Bearer <key>` or `X-Api-Key: <key>`;
 *     keys are compared in constant time (SHA-256 digests, every key checked every time);
 *   - mobile apps send `Authorization: Bearer <JWT>`, HS256 or RS256 (handlers/auth_jwt.h),
 *     with `exp` required, `nbf` honoured, `iss`/`aud` checked when configured, all with a
 *     leeway, and `sub` returned. For profile and chat_profile uploads the token's sub must
 *     equal the upload's userId (h_auth_check_owner).
 *
 * Refusals are ERR_AUTH (HTTP 401, code "unauthenticated") or ERR_FORBIDDEN (403, "forbidden")
 * with a message that starts with a stable reason and a colon, e.g. "token_expired: ...":
 *   401  missing_credentials    neither Authorization nor X-Api-Key was sent
 *        bad_authorization      Authorization is not "Bearer <token68>", or X-Api-Key is blank
 *                               or has characters a key cannot have
 *        ambiguous_credentials  both Authorization and X-Api-Key were sent
 *        invalid_api_key        no configured key matches (or API keys are not accepted)
 *        token_too_large        the token is longer than the configured maximum
 *        malformed_token        not three segments, bad base64url, header/payload not a JSON
 *                               object with unique members, no alg; or JWTs are not accepted
 *        unsupported_header     the header has `crit`
 *        unsupported_alg        alg is none, unknown, or not configured (HS256 without a secret,
 *                               RS256 without a public key: an HS256 token is never checked
 *                               against the RSA key)
 *        bad_signature          the signature does not verify
 *        missing_claim          exp or sub is absent
 *        bad_claim              exp/nbf/iat not a number, sub not a usable string
 *        token_expired          now >= exp + leeway
 *        token_not_yet_valid    now + leeway < nbf
 *        bad_issuer             iss is absent or differs (when an issuer is configured)
 *        bad_audience           aud (string or array) lacks the audience (when configured)
 *   403  subject_mismatch       the token's sub is not the upload's userId
 * Messages never contain a key, a token or a secret.
 */
#ifndef IMGSVC_HANDLERS_AUTH_H
#define IMGSVC_HANDLERS_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "s3/keys.h"

#define H_AUTH_SUB_MAX          256 /* bytes of a JWT `sub` we accept, and its NUL */
#define H_AUTH_MAX_API_KEYS     64
#define H_AUTH_API_KEY_MIN      16  /* characters */
#define H_AUTH_API_KEY_MAX      256 /* characters */
#define H_AUTH_HS256_SECRET_MIN 32  /* bytes (RFC 7518 3.2: at least the hash size) */
#define H_AUTH_LEEWAY_MAX       300
#define H_AUTH_JWT_MIN_BYTES    256
#define H_AUTH_JWT_MAX_BYTES    65536

enum h_auth_mode {
    H_AUTH_MODE_AUTO,    /* "auto": off when nothing is configured, else "any" */
    H_AUTH_MODE_OFF,     /* "off": everyone is let in (only sane on loopback) */
    H_AUTH_MODE_API_KEY, /* "api_key": API keys only */
    H_AUTH_MODE_JWT,     /* "jwt": JWTs only */
    H_AUTH_MODE_ANY      /* "any": an API key or a JWT */
};

/*
 * Settings. All strings are borrowed for the duration of h_auth_new only (it copies what it
 * keeps). Defaults from h_auth_options_default: mode auto, nothing configured, leeway 30 s,
 * max token 8192 bytes.
 */
struct h_auth_options {
    enum h_auth_mode mode;
    const char *api_keys;                  /* comma-separated; blanks around keys ignored */
    const char *jwt_hs256_secret;          /* raw bytes of the string, >= 32 bytes */
    const char *jwt_rs256_public_key_file; /* path to a PEM public key or certificate */
    const char *jwt_rs256_public_key_pem;  /* the PEM itself (instead of the file) */
    const char *jwt_issuer;                /* expected iss; NULL or "" = not checked */
    const char *jwt_audience;              /* expected aud; NULL or "" = not checked */
    int jwt_leeway_s;                      /* 0..300 */
    size_t jwt_max_bytes;                  /* 256..65536 */
};

/* How a request was let in. */
enum h_auth_via { H_AUTH_VIA_NONE, H_AUTH_VIA_API_KEY, H_AUTH_VIA_JWT };

/* Who is calling: filled by h_auth_authenticate. */
struct h_auth_principal {
    enum h_auth_via via;
    int api_key_index;        /* which configured key (0-based, for logs); -1 otherwise */
    char sub[H_AUTH_SUB_MAX]; /* the JWT's sub; "" otherwise */
    char alg[8];              /* the JWT's alg; "" otherwise */
    int64_t exp;              /* the JWT's exp; 0 otherwise */
};

/* Opaque: the parsed keys, secret and public key. Safe to share between threads. */
struct h_auth;

/* Fills `o` with the defaults above. */
void h_auth_options_default(struct h_auth_options *o);

/* Parses "auto" | "off" | "api_key" | "jwt" | "any". ERR_INVALID otherwise. */
enum err_code h_auth_mode_parse(const char *s, enum h_auth_mode *out);

/* The name of a mode as h_auth_mode_parse accepts it. Never NULL. */
const char *h_auth_mode_name(enum h_auth_mode mode);

/*
 * Builds the authenticator: parses the API keys, copies the secret, reads the RSA public key.
 * ERR_INVALID (message names the setting, never its value) when a setting is out of bounds or
 * the mode needs something that is not configured; ERR_IO when the key file cannot be read.
 * Caller frees with h_auth_destroy.
 */
struct h_auth *h_auth_new(const struct h_auth_options *o, struct err *e);

/* Wipes the secrets and frees. NULL is a no-op. */
void h_auth_destroy(struct h_auth *a);

/* The mode in force (auto resolved; never H_AUTH_MODE_AUTO). */
enum h_auth_mode h_auth_effective_mode(const struct h_auth *a);

/*
 * One line for the start-up log, e.g. "mode=any api_keys=2 jwt=HS256,RS256 iss=set aud=set
 * leeway=30s"; never a secret. Returns the length written (truncated to fit `cap`).
 */
size_t h_auth_describe(const struct h_auth *a, char *out, size_t cap);

/*
 * Authenticates one request from its Authorization and X-Api-Key header values (either may be
 * NULL when absent) at time `now` (Unix seconds). Fills `out` (zeroed on refusal). In mode off
 * every request is let in with via NONE and the headers are ignored. Returns ERR_OK, ERR_AUTH
 * with a reason, or ERR_NOMEM/ERR_INTERNAL.
 */
enum err_code h_auth_authenticate(const struct h_auth *a, const char *authorization,
                                  const char *x_api_key, int64_t now, struct h_auth_principal *out,
                                  struct err *e);

/*
 * Checks that `p` may upload for `domain` with these ids (as passed to s3_key_init). For
 * profile and chat_profile, a JWT caller's sub must equal the userId; API-key callers and mode
 * off are trusted. ERR_FORBIDDEN "subject_mismatch: ..." otherwise (also when the userId is
 * missing, so a caller cannot dodge the check with bad ids).
 */
enum err_code h_auth_check_owner(const struct h_auth_principal *p, enum s3_key_domain domain,
                                 const char *const ids[], size_t nids, struct err *e);

/* 401 for ERR_AUTH, 403 for ERR_FORBIDDEN, 500 for anything else but ERR_OK (200). */
int h_auth_http_status(enum err_code code);

/* "unauthenticated", "forbidden" or "internal" (the API error code for the status above). */
const char *h_auth_error_code(enum err_code code);

/*
 * The WWW-Authenticate value for a 401 (RFC 6750): `Bearer realm="imgsvc"` when no credentials
 * were sent, `Bearer realm="imgsvc", error="invalid_token"` otherwise. Static storage.
 */
const char *h_auth_www_authenticate(const struct err *e);

#endif
