/*
 * store.h: the embedded S3 store's HTTP face, a path-style S3 REST subset on its own listener.
 *
 *   GET    /                      ListBuckets (the configured bucket)
 *   HEAD   /{bucket}              HeadBucket
 *   GET    /{bucket}?list-type=2  ListObjectsV2 (ListObjects v1 without list-type)
 *   PUT    /{bucket}/{key+}       PutObject (raw or aws-chunked body; Content-MD5 and
 *                                 x-amz-checksum-* checked)
 *   GET    /{bucket}/{key+}       GetObject (Range: bytes=a-b, a-, -n)
 *   HEAD   /{bucket}/{key+}       HeadObject
 *   DELETE /{bucket}/{key+}       DeleteObject (204, idempotent)
 *   OPTIONS on both paths         CORS preflight (no authentication, as S3)
 *
 * Every other request is authenticated exactly as S3 does (s3/sigv4.h: header-signed or
 * presigned SigV4, every x-amz-* header signed, 15-minute skew, expiry, payload hash checked
 * against the body); errors are S3's XML documents with S3's codes and statuses. Objects live
 * in s3/store.h's backend. A successful PUT whose key starts with the event prefix produces an
 * S3 ObjectCreated:Put record (s3/store_event.h) handed to `on_event`.
 */
#ifndef IMGSVC_HANDLERS_STORE_H
#define IMGSVC_HANDLERS_STORE_H

#include <stdatomic.h>
#include <stddef.h>
#include <time.h>

#include "handlers/http.h"
#include "s3/sigv4.h"
#include "s3/store.h"

/* CORS answers. Lists are comma-separated; "*" allows any. `origins` "" turns CORS off. */
struct h_store_cors {
    const char *origins; /* e.g. "*" or "https://app.example.com,https://admin.example.com" */
    const char *methods; /* e.g. "GET,PUT,HEAD,DELETE" */
    const char *headers; /* allowed request headers, e.g. "*" */
    const char *expose;  /* e.g. "ETag,x-amz-request-id" */
    long max_age_s;      /* Access-Control-Max-Age; < 0: not sent */
};

/* Receives one {"Records":[...]} document (borrowed for the call). Called on the request's
 * thread after the object is durable and before the PUT is answered. */
typedef void (*h_store_event_fn)(void *arg, const char *records_json, size_t len);

/* Everything the store's routes need. Strings and objects borrowed; they must outlive the
 * listener. Zero-initialise, then fill. */
struct h_store_ctx {
    struct s3_store *store;
    const char *bucket; /* the configured bucket (created at start) */
    const char *region; /* credential scope region, e.g. "us-east-1" */
    const char *access_key;
    const char *secret_key;
    struct sigv4_key_cache *key_cache; /* optional */
    struct h_store_cors cors;
    const char *event_prefix;  /* "" = every key */
    h_store_event_fn on_event; /* NULL = no events */
    void *event_arg;
    time_t (*now)(void);            /* NULL = time(NULL); tests */
    atomic_uint_fast64_t sequencer; /* event sequencer state */
};

void h_store_list_buckets(const struct h_request *req, struct h_response *resp);
/* GET /{bucket}: ListObjectsV2 or v1; HEAD /{bucket}: HeadBucket. */
void h_store_bucket_get(const struct h_request *req, struct h_response *resp);
void h_store_object_get(const struct h_request *req, struct h_response *resp);
void h_store_object_put(const struct h_request *req, struct h_response *resp);
void h_store_object_delete(const struct h_request *req, struct h_response *resp);
/* OPTIONS on a bucket or object: CORS preflight. */
void h_store_options(const struct h_request *req, struct h_response *resp);

/*
 * srv_http_opts.render_error for the store's listener: the server's own 400/404/405/413 as S3
 * XML (413 becomes 400 EntityTooLarge, as S3 answers an oversized PUT).
 */
void h_store_render_error(const struct h_request *req, struct h_response *resp, int status,
                          const char *code, const char *msg);

#endif
