/*
 * sigv4_internal.h: helpers shared by the sigv4_*.c files (not part of the public API; tests
 * may include it). See sigv4.h for the pipeline.
 */
#ifndef IMGSVC_S3_SIGV4_INTERNAL_H
#define IMGSVC_S3_SIGV4_INTERNAL_H

#include "s3/sigv4.h"

/* True when s is a non-empty RFC 7230 token (method, header name). */
bool sigv4_i_is_token(const char *s);

/* A lowercased copy of s; caller frees. NULL on ERR_NOMEM. */
char *sigv4_i_strdup_lower(const char *s);

/* True when s is exactly 64 lowercase or uppercase hex digits. */
bool sigv4_i_is_hex64(const char *s);

/* The value of the first header named `name` (case-insensitive) or NULL; `count` (optional)
 * receives how many headers carry that name. */
const char *sigv4_i_header(const struct sigv4_pair *h, size_t n, const char *name, size_t *count);

/* The value of the first query parameter named exactly `name`, or NULL. */
const char *sigv4_i_query(const struct sigv4_pair *q, size_t n, const char *name, size_t *count);

/* Percent-encodes s[0..n) as sigv4_uri_encode does into out[0..cap) (no NUL). Returns the
 * length written, or SIZE_MAX when it does not fit (out is then garbage). Unreserved runs are
 * copied at once. */
size_t sigv4_i_uri_encode_raw(char *out, size_t cap, const char *s, size_t n, bool keep_slash);

/* Writes the AWS basic timestamp "YYYYMMDDTHHMMSSZ" + NUL of t (years 1970..9999 only) without
 * the C library's time zone machinery. False outside that range (out is then ""). */
bool sigv4_i_amz_time(time_t t, char out[TS_AMZ_LEN + 1]);

/* hex(HMAC(signing key, sts[0..len))) into out, where the signing key is the one
 * sigv4_key_cache_get would give for these arguments. Through the cache (c may be NULL), a hit
 * costs no key derivation at all: the cache keeps the HMAC key schedule (the SHA-256 states
 * after the inner and outer pad blocks) of each signing key, so a signature is two SHA-256
 * continuations. */
enum err_code sigv4_i_signature(struct sigv4_key_cache *c, const char *access_key,
                                const char *secret, const char *date, const char *region,
                                const char *service, const char *sts, size_t len,
                                char out[SIGV4_HEX_LEN + 1]);

/* Headers (the caller's plus host) the presign fast path handles. */
#define SIGV4_I_FAST_HEADERS 8

/* sigv4_s3_presign_url's fast path for the common case (sigv4_fast.c): no extra query
 * parameter, no trace, at most SIGV4_I_FAST_HEADERS - 1 headers, inputs already checked by
 * check_presign. ERR_OK with *url set (the caller frees it), ERR_NOMEM, or ERR_UNSUPPORTED when
 * the case is not the common one or an input is refused: the caller then runs the staged path,
 * which gives the same URL or the error. */
enum err_code sigv4_i_presign_fast(const struct sigv4_params *p, const struct sigv4_s3_presign *o,
                                   char **url);

/* Everything one signature needs; strings borrowed. */
struct sigv4_i_input {
    const char *method;
    const char *uri; /* canonical URI (already encoded) */
    const struct sigv4_pair *query;
    size_t nquery;
    const struct sigv4_pair *headers; /* exactly the headers to sign */
    size_t nheaders;
    const char *payload_hash;
    time_t time;
    const char *secret;
    const char *access_key;
    const char *region;
    const char *service;
    struct sigv4_key_cache *cache;
};

/* The output of one signature computation. Free with sigv4_i_output_free. */
struct sigv4_i_output {
    char scope[SIGV4_SCOPE_MAX];
    char signature[SIGV4_HEX_LEN + 1];
    struct buf signed_list;
    struct buf creq;
    struct buf sts;
};

/* Runs every stage from the canonical query to the signature. Initialises `out` itself. */
enum err_code sigv4_i_compute(const struct sigv4_i_input *in, struct sigv4_i_output *out);
void sigv4_i_output_free(struct sigv4_i_output *o);

/* Copies o's canonical request and string to sign into t (when t is non-NULL). */
enum err_code sigv4_i_trace_fill(struct sigv4_trace *t, struct sigv4_i_output *o);

#endif
