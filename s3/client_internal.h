/*
 * client_internal.h: the pieces of the S3 client shared by its files (client.c: lifecycle,
 * retries and error mapping; client_http.c: one signed libcurl attempt; client_ops.c: the S3
 * operations; client_xml.c: S3's XML answers). Not a public API: unit tests include it.
 */
#ifndef IMGSVC_S3_CLIENT_INTERNAL_H
#define IMGSVC_S3_CLIENT_INTERNAL_H

#include <pthread.h>

#include <curl/curl.h>

#include "common/buf.h"
#include "s3/client.h"
#include "s3/sigv4.h"

#define S3_I_META_MAX     64          /* x-amz-meta-* headers kept from one response */
#define S3_I_ERR_BODY_MAX (64u << 10) /* an error body kept from a GET */

struct s3_client {
    struct s3_options opt; /* strings below are the client's own copies */
    char *endpoint;        /* "scheme://authority" */
    char *scheme;          /* "http" or "https" */
    char *authority;       /* host[:port] of the endpoint (default port removed) */
    char *region;
    char *bucket;
    char *ca_file;
    char *connect_to;
    struct s3_credentials creds;
    struct sigv4_key_cache *keys;
    CURLSH *share;
    pthread_mutex_t locks[CURL_LOCK_DATA_LAST];
    bool locks_ready;
    pthread_mutex_t rng_lock;
    uint64_t rng; /* xorshift64* state for backoff jitter */
};

/* One request to make. All strings borrowed. */
struct s3_i_req {
    const char *method;
    const char *key; /* NULL for a bucket-level request */
    const struct sigv4_pair *query;
    size_t nquery;
    const struct sigv4_pair *headers; /* sent and signed (besides host and x-amz-*) */
    size_t nheaders;
    const void *body; /* PUT body (may be NULL with body_len 0) */
    size_t body_len;
    const char *payload_hash; /* hex SHA-256 of body given by the caller; NULL = compute */
    bool upload;              /* send body (PUT) */
    bool head;                /* HEAD: no response body */
    uint64_t max_body;        /* cap for a 2xx body */
};

/* What one attempt received. Free with s3_i_resp_free; reset between attempts. */
struct s3_i_resp {
    long status;
    struct buf body;
    bool too_large;         /* 2xx body (or its Content-Length) over max_body */
    int64_t content_length; /* -1 when absent */
    char etag[S3_ETAG_MAX];
    char content_type[S3_CONTENT_TYPE_MAX];
    char checksum_sha256[S3_CHECKSUM_MAX];
    char request_id[S3_REQUEST_ID_MAX];
    time_t last_modified;
    struct s3_meta meta[S3_I_META_MAX]; /* owned strings */
    size_t nmeta;
    uint64_t max_body; /* private: the cap being applied */
    bool head;         /* private: a HEAD answer (its Content-Length is the object's) */
};

void s3_i_resp_init(struct s3_i_resp *p, uint64_t max_body);
void s3_i_resp_free(struct s3_i_resp *p);

/* One signed attempt (client_http.c): returns the curl code; `p` holds what arrived.
 * ERR-style failures before sending (bad key, signing) are reported through *rc/`e` with
 * CURLE_ABORTED_BY_CALLBACK returned. `connects` receives CURLINFO_NUM_CONNECTS. */
CURLcode s3_i_attempt(struct s3_client *c, const struct s3_i_req *q, struct s3_i_resp *p,
                      long *connects, enum err_code *rc, struct err *e);

/* The whole call with retries (client.c). On ERR_OK `p` holds the 2xx answer; on an S3 error
 * `r` carries its code and message. The caller frees `p` with s3_i_resp_free either way. */
enum err_code s3_i_perform(struct s3_client *c, const struct s3_i_req *q, struct s3_i_resp *p,
                           struct s3_response *r, struct err *e);

/* ---- pure helpers (unit-tested) ---------------------------------------------------------- */

/* True when a failed attempt may be retried: curl timeouts and connection errors, HTTP 5xx
 * (but 501) and 429. Never other 4xx, never a size-cap abort. */
bool s3_i_retryable(CURLcode cc, long status);

/* An S3 <Error> document. */
struct s3_i_error {
    char code[S3_CODE_MAX];
    char message[S3_MESSAGE_MAX];
    char request_id[S3_REQUEST_ID_MAX];
};

/* Parses an S3 error body. ERR_INVALID (with e) when it is not a well-formed <Error> with a
 * <Code>. */
enum err_code s3_i_parse_error(const char *body, size_t len, struct s3_i_error *out, struct err *e);

/* Parses a CopyObject answer's body: a <CopyObjectResult> (its ETag, as sent, into `etag`) or
 * an <Error> (into `err`, *failed set; S3 reports a failure during the copy so, with 200).
 * ERR_INVALID (with e) for anything else. */
enum err_code s3_i_parse_copy(const char *body, size_t len, char etag[S3_ETAG_MAX], bool *failed,
                              struct s3_i_error *err, struct err *e);

/* Parses a ListBucketResult (ListObjectsV2). When it says <EncodingType>url</EncodingType>,
 * keys and prefixes are form-decoded. ERR_INVALID for anything malformed (including a truncated
 * page without a continuation token). Caller frees `out` with s3_list_page_free. */
enum err_code s3_i_parse_list(const char *body, size_t len, struct s3_list_page *out,
                              struct err *e);

/* Decodes application/x-www-form-urlencoded text ('+' is a space, %XX a byte) into a new
 * string (caller frees). ERR_INVALID on a bad escape or a NUL byte. */
enum err_code s3_i_form_decode(const char *s, size_t n, char **out);

#endif
