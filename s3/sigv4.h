/*
 * sigv4.h: AWS Signature Version 4 (AWS4-HMAC-SHA256) signing, presigning and verification.
 *
 * Built as a pipeline of small pure stages (after aws-c-auth), each usable and testable alone:
 *
 *   canonical URI, canonical query, canonical headers + signed-headers list, hashed payload
 *     -> canonical request -> string to sign (with the credential scope)
 *   signing key (HMAC chain over date/region/service, optionally cached) -> signature
 *     -> Authorization header value, or the X-Amz-* query parameters of a presigned URL.
 *
 * On top of the stages: header signing (sigv4_sign_headers), query signing
 * (sigv4_sign_query), an S3 presigned URL builder (sigv4_s3_presign_url) and a verifier for the
 * embedded store (sigv4_verify) that answers with S3's own error vocabulary.
 *
 * Rules: the clock is always an argument (time_t, UTC seconds), never read here. Under
 * SIGV4_RULES_S3 the path is the decoded object path ("/bucket/key"), never normalized, and
 * each byte outside [A-Za-z0-9-._~/] is percent-encoded exactly once; presigned S3 requests use
 * the payload hash UNSIGNED-PAYLOAD. The generic rules (the AWS test suite's service "service")
 * take the path as it appears on the wire and encode it again ("double encoding"), optionally
 * normalizing it first (dot segments and empty segments removed).
 *
 * Secrets: the secret key and derived keys are never logged or copied into growable buffers;
 * stack copies and cached keys are wiped with OPENSSL_cleanse. The signing-key cache is the only
 * stateful object here (opaque, thread-safe). Everything else is reentrant.
 */
#ifndef IMGSVC_S3_SIGV4_H
#define IMGSVC_S3_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/timeutil.h"

#define SIGV4_ALGORITHM     "AWS4-HMAC-SHA256"
#define SIGV4_UNSIGNED      "UNSIGNED-PAYLOAD"
#define SIGV4_EMPTY_SHA256  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SIGV4_HEX_LEN       64             /* a hex SHA-256 or signature, without NUL */
#define SIGV4_KEY_LEN       32             /* a raw signing key */
#define SIGV4_DATE_LEN      8              /* "YYYYMMDD" */
#define SIGV4_EXPIRES_MIN   1              /* presigned URL lifetime bounds, seconds */
#define SIGV4_EXPIRES_MAX   604800         /* 7 days, S3's maximum */
#define SIGV4_MAX_SKEW      900            /* clock skew allowed, s: signed date, presign ahead */
#define SIGV4_TEXT_MAX      (256u * 1024u) /* cap for any canonical text or URL we build */
#define SIGV4_SCOPE_MAX     256            /* "YYYYMMDD/<region>/<service>/aws4_request" + NUL */
#define SIGV4_FIELD_MAX     128            /* access key id, region, service: longest accepted */
#define SIGV4_TOKEN_MAX     4096           /* longest session token accepted */
#define SIGV4_CACHE_DEFAULT 16             /* signing-key cache entries when 0 is asked for */

/* ---- value types ------------------------------------------------------------------------- */

/* Credentials. All strings borrowed. session_token NULL or "" means none. */
struct sigv4_credentials {
    const char *access_key;
    const char *secret_key;
    const char *session_token;
};

/* One header or query parameter. Query pairs are DECODED text; value NULL is treated as "".
 * Header names are matched case-insensitively. Strings borrowed. */
struct sigv4_pair {
    const char *name;
    const char *value;
};

/* How the path is canonicalized and which service rules the verifier applies. */
enum sigv4_rules {
    SIGV4_RULES_S3 = 0,           /* decoded path, encoded once, never normalized; S3 checks */
    SIGV4_RULES_GENERIC,          /* wire path encoded again, not normalized */
    SIGV4_RULES_GENERIC_NORMALIZE /* wire path normalized (RFC 3986 dot segments, '//'), then
                                     encoded again */
};

/* The request to sign. All strings borrowed. */
struct sigv4_request {
    const char *method;             /* "GET", "PUT", ... (used as given) */
    const char *path;               /* see enum sigv4_rules; "" means "/" */
    const struct sigv4_pair *query; /* decoded; the caller's own parameters */
    size_t nquery;
    const struct sigv4_pair *headers; /* every header to sign; must include host */
    size_t nheaders;
    const char *payload_hash; /* hex SHA-256 or SIGV4_UNSIGNED; NULL = empty body.
                                 Ignored by sigv4_s3_presign_url (always UNSIGNED) */
};

struct sigv4_key_cache;

/* Signing parameters shared by header and query signing. All strings borrowed. */
struct sigv4_params {
    struct sigv4_credentials creds;
    const char *region;            /* e.g. "us-east-1" */
    const char *service;           /* "s3" for S3 */
    time_t time;                   /* the signing time (UTC seconds) */
    enum sigv4_rules rules;        /* path canonicalization; SIGV4_RULES_S3 by default */
    bool omit_session_token;       /* send the token but do not sign it (some non-S3 services);
                                      false for S3 */
    bool add_content_sha256;       /* header signing: add and sign x-amz-content-sha256 (S3
                                      requires it on header-signed requests) */
    int64_t expires;               /* query signing: lifetime, SIGV4_EXPIRES_MIN..MAX */
    struct sigv4_key_cache *cache; /* optional signing-key cache (borrowed), NULL = derive */
};

/* Optional intermediate results, for tests and debugging. Free with sigv4_trace_free. */
struct sigv4_trace {
    char *canonical_request;
    char *string_to_sign;
};

/* Frees the strings of a trace (not the struct). NULL is a no-op. */
void sigv4_trace_free(struct sigv4_trace *t);

/* ---- stages ------------------------------------------------------------------------------ */

/* SHA-256 of n bytes as 64 lowercase hex chars + NUL into out. */
void sigv4_sha256_hex(const void *data, size_t n, char out[SIGV4_HEX_LEN + 1]);

/* Appends s[0..n) percent-encoded per SigV4: bytes outside [A-Za-z0-9-._~] become %XX
 * (uppercase hex); '/' is kept when keep_slash. */
enum err_code sigv4_uri_encode(struct buf *out, const char *s, size_t n,
                               bool keep_slash) BUF_WARN_UNUSED;

/* Decodes %XX sequences of s[0..n) into out ('+' stays '+'). ERR_INVALID on a bad escape or an
 * embedded NUL. */
enum err_code sigv4_uri_decode(struct buf *out, const char *s, size_t n) BUF_WARN_UNUSED;

/* Stage: canonical method (the method as given; ERR_INVALID when empty or not a token). */
enum err_code sigv4_canonical_method(struct buf *out, const char *method) BUF_WARN_UNUSED;

/* Stage: canonical URI of `path` under `rules` (see enum sigv4_rules). */
enum err_code sigv4_canonical_uri(struct buf *out, const char *path,
                                  enum sigv4_rules rules) BUF_WARN_UNUSED;

/* Stage: canonical query string: each decoded name and value encoded, pairs sorted by encoded
 * name then encoded value, joined "n=v&n=v". Duplicate names are kept. */
enum err_code sigv4_canonical_query(struct buf *out, const struct sigv4_pair *q,
                                    size_t n) BUF_WARN_UNUSED;

/* Stage: canonical headers ("name:value\n" lines: names lowercased, values trimmed with inner
 * whitespace runs collapsed to one space, sorted by name, duplicate names joined with ',' in
 * their original order) into `out`, and the signed-headers list ("a;b;c") into `signed_list`.
 * ERR_INVALID for an empty or non-token header name. */
enum err_code sigv4_canonical_headers(struct buf *out, struct buf *signed_list,
                                      const struct sigv4_pair *h, size_t n) BUF_WARN_UNUSED;

/* Stage: the canonical request: method \n uri \n query \n headers \n signed \n payload_hash. */
enum err_code sigv4_canonical_request(struct buf *out, const char *method, const char *uri,
                                      const char *query, const char *headers,
                                      const char *signed_list,
                                      const char *payload_hash) BUF_WARN_UNUSED;

/* Stage: credential scope "YYYYMMDD/region/service/aws4_request" into out (cap bytes).
 * ERR_INVALID when region/service are empty, contain '/', or do not fit. */
enum err_code sigv4_scope(char *out, size_t cap, time_t t, const char *region, const char *service);

/* Stage: string to sign: algorithm \n amz-date \n scope \n hex(sha256(canonical_request)). */
enum err_code sigv4_string_to_sign(struct buf *out, time_t t, const char *scope,
                                   const char *canonical_request) BUF_WARN_UNUSED;

/* Stage: signing key = HMAC chain "AWS4"+secret -> date -> region -> service ->
 * "aws4_request". `date` is "YYYYMMDD". The caller wipes `out` when done. */
enum err_code sigv4_signing_key(uint8_t out[SIGV4_KEY_LEN], const char *secret, const char *date,
                                const char *region, const char *service);

/* Stage: hex(HMAC(key, string_to_sign)) into out. */
void sigv4_signature(const uint8_t key[SIGV4_KEY_LEN], const char *sts, size_t len,
                     char out[SIGV4_HEX_LEN + 1]);

/* Stage: Authorization header value
 * "AWS4-HMAC-SHA256 Credential=<ak>/<scope>, SignedHeaders=<list>, Signature=<sig>". */
enum err_code sigv4_authorization(struct buf *out, const char *access_key, const char *scope,
                                  const char *signed_list, const char *signature) BUF_WARN_UNUSED;

/* ---- signing-key cache ------------------------------------------------------------------- */

/* A thread-safe cache of derived signing keys per (access key, secret, date, region, service).
 * It keeps a SHA-256 fingerprint of the secret, never the secret. Entries of an older date and
 * the least recently used entry are evicted; dropped keys are wiped. `capacity` 0 = default.
 * Returns NULL on ERR_NOMEM. Caller destroys with sigv4_key_cache_destroy. */
struct sigv4_key_cache *sigv4_key_cache_new(size_t capacity);

/* Wipes and frees every key. NULL is a no-op. */
void sigv4_key_cache_destroy(struct sigv4_key_cache *c);

/* Like sigv4_signing_key, through the cache (c may be NULL: derive). `access_key` may be NULL.
 * `hit` (optional) tells whether the key came from the cache. */
enum err_code sigv4_key_cache_get(struct sigv4_key_cache *c, const char *access_key,
                                  const char *secret, const char *date, const char *region,
                                  const char *service, uint8_t out[SIGV4_KEY_LEN], bool *hit);

/* Number of live entries (for tests and metrics). */
size_t sigv4_key_cache_size(struct sigv4_key_cache *c);

/* ---- header signing ---------------------------------------------------------------------- */

/* What the caller must add to the request after sigv4_sign_headers. */
struct sigv4_header_auth {
    char amz_date[TS_AMZ_LEN + 1]; /* send as X-Amz-Date */
    char signature[SIGV4_HEX_LEN + 1];
    char *authorization;        /* send as Authorization; owned, see _free */
    const char *security_token; /* send as X-Amz-Security-Token when non-NULL
                                   (borrowed from params->creds) */
    const char *content_sha256; /* send as x-amz-content-sha256 when non-NULL
                                   (borrowed from req or a static string) */
};

/* Signs `req` for the Authorization header. The signer adds x-amz-date, the session token (as
 * a signed header unless omit_session_token) and, when add_content_sha256, x-amz-content-sha256;
 * `req->headers` must not contain them. `trace` is optional. On success the caller frees
 * `out` with sigv4_header_auth_free. */
enum err_code sigv4_sign_headers(const struct sigv4_params *p, const struct sigv4_request *req,
                                 struct sigv4_header_auth *out, struct sigv4_trace *trace,
                                 struct err *e);

/* Frees out->authorization. NULL is a no-op. */
void sigv4_header_auth_free(struct sigv4_header_auth *a);

/* ---- query signing (presigned URLs) ------------------------------------------------------ */

#define SIGV4_QUERY_AUTH_MAX 7

/* The X-Amz-* parameters of a presigned request, decoded values, in the order AWS documents
 * them (Algorithm, Credential, Date, Expires, SignedHeaders, [Security-Token], Signature).
 * The values point into the struct itself, its private storage and the credentials: do not
 * copy the struct, and keep the credentials alive while using it. */
struct sigv4_query_auth {
    struct sigv4_pair params[SIGV4_QUERY_AUTH_MAX];
    size_t nparams;
    char signature[SIGV4_HEX_LEN + 1];
    char *storage_; /* private: owns the strings */
};

/* Signs `req` in the query string (lifetime p->expires, refused with ERR_INVALID outside
 * SIGV4_EXPIRES_MIN..MAX). The payload hash is req->payload_hash (S3: SIGV4_UNSIGNED). The
 * session token becomes X-Amz-Security-Token (signed unless omit_session_token). `req->query`
 * must not contain X-Amz-* auth parameters. Caller frees `out` with sigv4_query_auth_free. */
enum err_code sigv4_sign_query(const struct sigv4_params *p, const struct sigv4_request *req,
                               struct sigv4_query_auth *out, struct sigv4_trace *trace,
                               struct err *e);

/* Frees the strings of `a`. NULL is a no-op. */
void sigv4_query_auth_free(struct sigv4_query_auth *a);

/* Order of parameters in a presigned URL's query string (the signature is the same). */
enum sigv4_url_order {
    SIGV4_ORDER_AWS = 0, /* caller's params in given order, then the auth params in AWS order;
                            botocore's layout */
    SIGV4_ORDER_SORTED   /* every parameter, signature included, sorted by name (the AWS SDK
                            for JavaScript v3's layout) */
};

/* An S3 object to presign. All strings borrowed. */
struct sigv4_s3_presign {
    const char *method;  /* "PUT", "GET", ... */
    const char *scheme;  /* "https" or "http" */
    const char *host;    /* endpoint host with ":port" when not the default */
    bool virtual_hosted; /* bucket.host/key instead of host/bucket/key */
    const char *bucket;
    const char *key;                  /* raw object key (UTF-8 bytes, not encoded) */
    const struct sigv4_pair *headers; /* headers the client will send and that are signed
                                         (e.g. content-type); host is added here */
    size_t nheaders;
    const struct sigv4_pair *query; /* extra signed query parameters (decoded), may be 0 */
    size_t nquery;
    enum sigv4_url_order order;
};

/* Builds a presigned S3 URL: path never normalized, key encoded once, UNSIGNED-PAYLOAD,
 * lifetime p->expires (1..604800 s, else ERR_INVALID), session token signed as
 * X-Amz-Security-Token. p->rules is ignored (always S3). On success *url is a string the
 * caller frees with free(). */
enum err_code sigv4_s3_presign_url(const struct sigv4_params *p, const struct sigv4_s3_presign *o,
                                   char **url, struct sigv4_trace *trace, struct err *e);

/* ---- verification (the embedded store) --------------------------------------------------- */

/* S3's answers. Suggested HTTP statuses (the handler maps them): 403 for SIGNATURE_MISMATCH,
 * ACCESS_DENIED, INVALID_ACCESS_KEY, TIME_SKEWED; 400 for the rest. */
enum sigv4_verdict {
    SIGV4_OK = 0,
    SIGV4_SIGNATURE_MISMATCH, /* SignatureDoesNotMatch */
    SIGV4_ACCESS_DENIED,      /* AccessDenied (expired, not yet valid, unsigned x-amz-*,
                                 anonymous, missing date) */
    SIGV4_QUERY_PARAMS_ERROR, /* AuthorizationQueryParametersError */
    SIGV4_HEADER_MALFORMED,   /* AuthorizationHeaderMalformed */
    SIGV4_INVALID_ACCESS_KEY, /* InvalidAccessKeyId */
    SIGV4_TIME_SKEWED,        /* RequestTimeTooSkewed */
    SIGV4_INVALID_TOKEN,      /* InvalidToken (session token missing, unexpected or wrong) */
    SIGV4_INVALID_ARGUMENT,   /* InvalidArgument (two auth mechanisms, bad content sha256) */
    SIGV4_INVALID_REQUEST,    /* InvalidRequest (x-amz-content-sha256 missing) */
    SIGV4_VERDICT_COUNT
};

/* S3's error code string for a verdict, e.g. "SignatureDoesNotMatch"; "OK" for SIGV4_OK. */
const char *sigv4_verdict_code(enum sigv4_verdict v);

#define SIGV4_MSG_MAX 256

struct sigv4_verify_result {
    enum sigv4_verdict verdict;
    char message[SIGV4_MSG_MAX];          /* S3's message; never contains a secret */
    bool anonymous;                       /* no auth at all (verdict ACCESS_DENIED) */
    bool presigned;                       /* query auth (else header auth) */
    char access_key[SIGV4_FIELD_MAX];     /* the signer's access key id, when parsed */
    char payload_hash[SIGV4_HEX_LEN + 1]; /* header auth: the claimed x-amz-content-sha256 when
                                             it is a hex hash (the store checks the body);
                                             "" for UNSIGNED-PAYLOAD or other modes */
    time_t expires_at;                    /* presigned: date + expires */
};

/* Looks up an access key. Fills out->secret_key (and out->session_token when that key needs
 * one) with strings that stay valid until sigv4_verify returns; returns ERR_NOT_FOUND for an
 * unknown key. */
typedef enum err_code (*sigv4_lookup_fn)(void *ctx, const char *access_key,
                                         struct sigv4_credentials *out);

/* The request as received. `path` is the raw request path without the query (percent-encoded
 * as on the wire); `query` holds the decoded parameters: build them from the raw query string
 * with sigv4_query_parse (which, like S3's signers, leaves '+' as '+'; a form-style decoder
 * that turns '+' into ' ' would break signatures of keys containing '+'). */
struct sigv4_verify_request {
    const char *method;
    const char *path;
    const struct sigv4_pair *query;
    size_t nquery;
    const struct sigv4_pair *headers;
    size_t nheaders;
    const char *payload_hash; /* generic rules only: hash to use when the request carries no
                                 x-amz-content-sha256 (NULL = empty body). S3 ignores it. */
};

struct sigv4_verify_params {
    const char *region;  /* the store's region */
    const char *service; /* "s3" */
    time_t now;
    enum sigv4_rules rules;  /* S3: wire path decoded then encoded once; content sha256 header
                                required and every x-amz-* header must be signed */
    int64_t max_skew;        /* header auth, presigned date ahead; 0 = SIGV4_MAX_SKEW */
    bool omit_session_token; /* generic rules only: a presigned X-Amz-Security-Token was not
                                signed (the signer's omit_session_token) */
    sigv4_lookup_fn lookup;
    void *lookup_ctx;
    struct sigv4_key_cache *cache; /* optional */
};

/* Verifies a header-signed or presigned request. Returns ERR_OK when a verdict was reached
 * (read out->verdict; SIGV4_OK means authentic and in time), or ERR_NOMEM / ERR_TOO_LARGE /
 * ERR_INVALID (bad params) / ERR_INTERNAL with `e` set. Signatures are compared in constant
 * time. */
enum err_code sigv4_verify(const struct sigv4_verify_params *p,
                           const struct sigv4_verify_request *req, struct sigv4_verify_result *out,
                           struct err *e);

/* ---- helpers ----------------------------------------------------------------------------- */

/* Splits a raw query string ("a=1&b=%20x", no leading '?') into decoded pairs. *pairs and the
 * strings they point to are one allocation the caller frees with free(*pairs). A name without
 * '=' gets value "". ERR_INVALID on a bad %-escape; ERR_TOO_LARGE past max_pairs. */
enum err_code sigv4_query_parse(const char *raw, size_t max_pairs, struct sigv4_pair **pairs,
                                size_t *npairs);

#endif
