/*
 * client.h: an S3 client over libcurl (GET, PUT, HEAD, DELETE, CopyObject, ListObjectsV2,
 * CreateBucket).
 *
 * One `struct s3_client` talks to one bucket of one endpoint (AWS S3, Ceph RGW, MinIO, R2, the
 * embedded store) and is shared by every thread: requests are signed with SigV4 (s3/sigv4.h,
 * header signing, payload hash = SHA-256 of the body, or UNSIGNED-PAYLOAD over HTTPS when asked)
 * and sent on connections kept in a libcurl share (connections, DNS and TLS sessions), so a
 * second request to the same host reuses the first one's connection, from any thread.
 *
 * Failures: every call returns an enum err_code and fills an optional `struct err` and an
 * optional `struct s3_response` (HTTP status, S3 error code and message, request id, attempts,
 * new connections). S3's XML errors are mapped: NoSuchKey/NoSuchBucket -> ERR_NOT_FOUND,
 * AccessDenied -> ERR_FORBIDDEN, SignatureDoesNotMatch/InvalidAccessKeyId/... -> ERR_AUTH,
 * BadDigest/InvalidDigest/XAmzContentSHA256Mismatch/... -> ERR_INVALID, EntityTooLarge ->
 * ERR_TOO_LARGE, 5xx -> ERR_UPSTREAM; a timeout is ERR_TIMEOUT, a connection error ERR_IO.
 *
 * Retries: 5xx but 501 (NotImplemented: asking again changes nothing), 429, timeouts and
 * connection errors are retried up to max_retries times with exponential backoff and full jitter
 * (sleep uniform in [0, min(retry_max_ms, retry_base_ms * 2^n)]); other 4xx never are. Each
 * attempt is signed again with the clock.
 *
 * Limits: a GET body is capped (max_get_bytes or the per-call cap): a larger Content-Length is
 * refused before any byte is read, and a body that streams past the cap is cut off; both are
 * ERR_TOO_LARGE. Other response bodies (errors, listings) are capped at S3_XML_BODY_MAX.
 */
#ifndef IMGSVC_S3_CLIENT_H
#define IMGSVC_S3_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/err.h"
#include "s3/credentials.h"

#define S3_KEY_BYTES_MAX         1024 /* S3's limit on a key's UTF-8 bytes */
#define S3_CODE_MAX              64   /* an S3 error code, e.g. "NoSuchKey" */
#define S3_MESSAGE_MAX           256
#define S3_REQUEST_ID_MAX        128
#define S3_ETAG_MAX              128 /* quotes included, as S3 sends it */
#define S3_CONTENT_TYPE_MAX      256
#define S3_CHECKSUM_MAX          64            /* a base64 SHA-256 is 44 characters */
#define S3_XML_BODY_MAX          (8u << 20)    /* any XML answer (error, listing) */
#define S3_META_MAX_BYTES        2048          /* S3's limit on all user metadata of an object */
#define S3_LIST_MAX_KEYS         1000          /* S3's page size limit */
#define S3_DEFAULT_MAX_GET       (64ull << 20) /* default GET cap, bytes */
#define S3_DEFAULT_CONNECT_MS    5000
#define S3_DEFAULT_TIMEOUT_MS    60000
#define S3_DEFAULT_RETRIES       3
#define S3_DEFAULT_RETRY_BASE_MS 100
#define S3_DEFAULT_RETRY_MAX_MS  5000

/* The signing clock: UTC seconds. */
typedef time_t (*s3_clock_fn)(void *ctx);

/*
 * Client settings: a plain value struct. Start from s3_options_defaults(); strings are copied by
 * s3_client_new. Zero numeric fields mean "the default" shown, except max_retries.
 */
struct s3_options {
    const char *endpoint;    /* "https://host[:port]" or "http://..."; NULL/"" =
                                "https://s3.<region>.amazonaws.com". No path part. */
    const char *region;      /* signing region; NULL/"" = "us-east-1" */
    const char *bucket;      /* required */
    bool path_style;         /* true: <endpoint>/<bucket>/<key> (RGW, MinIO, the embedded store);
                                false (default): <bucket>.<endpoint-host>/<key> (AWS) */
    long connect_timeout_ms; /* TCP + TLS connect, per attempt; default 5000 */
    long timeout_ms;         /* whole attempt; default 60000 */
    int max_retries;         /* retries after the first attempt, 0..10 (0 = none; taken as
                                given, unlike the fields around it); default 3 */
    long retry_base_ms;      /* backoff base; default 100 */
    long retry_max_ms;       /* backoff ceiling per sleep; default 5000 */
    uint64_t max_get_bytes;  /* GET body cap; default 64 MiB */
    bool unsigned_payload;   /* PUT over HTTPS: sign UNSIGNED-PAYLOAD instead of hashing the
                                body (TLS protects it); ignored over plain HTTP */
    const char *ca_file;     /* PEM bundle; NULL = the system CAs */
    const char *connect_to;  /* optional curl CONNECT_TO pin "HOST:PORT:ADDR:PORT" (e.g.
                                "::127.0.0.1:7480" sends every request there while the URL and
                                signature keep the endpoint's name); NULL = none */
    struct s3_credentials_source creds; /* see s3/credentials.h; borrowed until _new returns */
    s3_clock_fn clock;                  /* NULL = the system clock */
    void *clock_ctx;
};

/* Fills `o` with the defaults above (everything else zero/NULL). */
void s3_options_defaults(struct s3_options *o);

/* What the last attempt of a call saw. Optional out-parameter of every call. */
struct s3_response {
    long status;                        /* HTTP status; 0 when no answer arrived */
    char code[S3_CODE_MAX];             /* S3 error code ("" on success) */
    char message[S3_MESSAGE_MAX];       /* S3 error message ("" on success) */
    char request_id[S3_REQUEST_ID_MAX]; /* x-amz-request-id (or the XML's RequestId) */
    char etag[S3_ETAG_MAX];             /* ETag header, as sent (PUT, GET, HEAD) */
    int attempts;                       /* 1 + retries made */
    long new_connections;               /* connections opened over all attempts (0 = reused) */
};

/* One piece of user metadata: sent as "x-amz-meta-<name>: <value>". Strings borrowed (inputs)
 * or owned by the enclosing result (outputs; names lowercased, prefix removed). */
struct s3_meta {
    const char *name;
    const char *value;
};

/* What HEAD (and GET) tell about an object. Owned strings; free with s3_object_info_free. */
struct s3_object_info {
    uint64_t size;
    char etag[S3_ETAG_MAX];
    char content_type[S3_CONTENT_TYPE_MAX];
    char checksum_sha256[S3_CHECKSUM_MAX]; /* x-amz-checksum-sha256 when S3 returned it */
    time_t last_modified;                  /* 0 when absent */
    struct s3_meta *meta;
    size_t nmeta;
};

/* Frees info->meta. NULL is a no-op. */
void s3_object_info_free(struct s3_object_info *info);

/* PUT settings. All strings borrowed. */
struct s3_put_opts {
    const char *content_type;    /* NULL = "application/octet-stream" */
    const char *content_md5;     /* base64 MD5 to send as Content-Md5 (S3 answers BadDigest on
                                    a mismatch); NULL = none, unless compute_md5 */
    bool compute_md5;            /* compute Content-Md5 from the body */
    const char *checksum_sha256; /* base64 SHA-256 for x-amz-checksum-sha256; NULL = none,
                                    unless compute_checksum_sha256 */
    bool compute_checksum_sha256;
    const char *payload_sha256; /* hex SHA-256 of the body when the caller already has it
                                   (signed as x-amz-content-sha256 instead of hashing again;
                                   S3 refuses the body with XAmzContentSHA256Mismatch when it
                                   is wrong); NULL = computed */
    const char *cache_control;  /* NULL = none */
    const struct s3_meta *meta;
    size_t nmeta;
};

/* ListObjectsV2 parameters. Strings borrowed; NULL = not sent. */
struct s3_list_opts {
    const char *prefix;
    const char *delimiter;
    int max_keys; /* 1..1000; 0 = S3's default (1000) */
    const char *continuation_token;
    const char *start_after;
};

struct s3_list_entry {
    char *key;
    uint64_t size;
    char *etag;
    time_t last_modified;
    char *storage_class; /* may be "" */
};

/* One ListObjectsV2 page. Owned; free with s3_list_page_free. */
struct s3_list_page {
    struct s3_list_entry *entries;
    size_t nentries;
    char **common_prefixes;
    size_t nprefixes;
    bool truncated;
    char *next_token; /* NextContinuationToken when truncated, else NULL */
};

/* Frees a page's contents (not the struct). NULL is a no-op. */
void s3_list_page_free(struct s3_list_page *p);

struct s3_client;

/* Creates a client: validates the options, resolves credentials (explicit values, else the
 * shared credentials file), sets up the connection share. Returns NULL with `e` set on failure
 * (ERR_INVALID for bad options, the credential resolver's code, ERR_NOMEM). Thread-safe to use
 * from many threads; destroy it with s3_client_destroy once no call is in flight. */
struct s3_client *s3_client_new(const struct s3_options *o, struct err *e);

/* Frees the client (wiping its secrets) and closes its connections. NULL is a no-op. */
void s3_client_destroy(struct s3_client *c);

/* The bucket, region and endpoint in use (borrowed from the client). */
const char *s3_client_bucket(const struct s3_client *c);
const char *s3_client_region(const struct s3_client *c);
const char *s3_client_endpoint(const struct s3_client *c);

/* GET into memory. `max_bytes` 0 = the client's max_get_bytes. On success *data (NUL-
 * terminated, the NUL not counted in *len) belongs to the caller (free()); `info` (optional)
 * receives the headers (caller frees with s3_object_info_free). */
enum err_code s3_client_get(struct s3_client *c, const char *key, uint64_t max_bytes, char **data,
                            size_t *len, struct s3_object_info *info, struct s3_response *r,
                            struct err *e);

/* PUT from memory (borrows body for the call). `o` may be NULL. The new ETag is in r->etag. */
enum err_code s3_client_put(struct s3_client *c, const char *key, const void *body, size_t len,
                            const struct s3_put_opts *o, struct s3_response *r, struct err *e);

/* HEAD: size, ETag, content type, last-modified, metadata into `info` (caller frees with
 * s3_object_info_free). A missing key is ERR_NOT_FOUND (code "NoSuchKey": HEAD has no body). */
enum err_code s3_client_head(struct s3_client *c, const char *key, struct s3_object_info *info,
                             struct s3_response *r, struct err *e);

/* CopyObject settings. All strings borrowed. */
struct s3_copy_opts {
    const char *if_match;      /* x-amz-copy-source-if-match: copy only while the source has this
                                  ETag (quoted or not), else ERR_CONFLICT (PreconditionFailed);
                                  NULL = any version */
    bool replace_metadata;     /* x-amz-metadata-directive REPLACE: the copy gets the two fields
                                  below (and no user metadata); false = COPY the source's */
    const char *content_type;  /* with replace_metadata; NULL = "application/octet-stream" */
    const char *cache_control; /* with replace_metadata; NULL = none */
};

/*
 * CopyObject: `src_key` of the client's bucket to `key`, on the server (the bytes do not travel
 * through the client). `o` may be NULL (copy the metadata, no condition). The new ETag is in
 * r->etag. A 200 answer whose body is an <Error> (S3 reports a failure during the copy that
 * way) is that error: ERR_UPSTREAM for InternalError, else as s3_error_map says. A missing
 * source is ERR_NOT_FOUND; a store without CopyObject answers 501 (ERR_UPSTREAM, not retried).
 */
enum err_code s3_client_copy(struct s3_client *c, const char *src_key, const char *key,
                             const struct s3_copy_opts *o, struct s3_response *r, struct err *e);

/* DELETE. Deleting a missing key succeeds, as in S3. */
enum err_code s3_client_delete(struct s3_client *c, const char *key, struct s3_response *r,
                               struct err *e);

/* One ListObjectsV2 page into `page` (caller frees with s3_list_page_free). Keys are asked
 * for with encoding-type=url and decoded, so any key survives the XML. */
enum err_code s3_client_list(struct s3_client *c, const struct s3_list_opts *o,
                             struct s3_list_page *page, struct s3_response *r, struct err *e);

/* Called for each listed key (entry != NULL) or common prefix (prefix != NULL); both borrowed
 * for the call. Return false to stop the listing early (the call then returns ERR_OK). */
typedef bool (*s3_list_fn)(void *ctx, const struct s3_list_entry *entry, const char *prefix);

/* Lists every page (following continuation tokens) from `o`, calling fn for each key and
 * common prefix in order. `max_pages` 0 = no limit; ERR_TOO_LARGE when more pages remain after
 * max_pages. `pages` (optional) receives how many pages were fetched. */
enum err_code s3_client_list_each(struct s3_client *c, const struct s3_list_opts *o,
                                  size_t max_pages, s3_list_fn fn, void *ctx, size_t *pages,
                                  struct s3_response *r, struct err *e);

/* CreateBucket for the client's bucket (no location constraint unless the region is not
 * us-east-1). An existing bucket owned by the caller is ERR_CONFLICT (code
 * BucketAlreadyOwnedByYou) on AWS and success on RGW. */
enum err_code s3_client_create_bucket(struct s3_client *c, struct s3_response *r, struct err *e);

/* Maps an HTTP status and S3 error code to our error type (see the file comment). */
enum err_code s3_error_map(long status, const char *code);

#endif
