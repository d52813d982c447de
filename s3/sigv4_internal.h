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
