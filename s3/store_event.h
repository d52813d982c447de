/*
 * store_event.h: S3 event notification records (AWS's JSON format) for the embedded store.
 *
 * The store emits one record per successful PUT whose key matches its prefix filter, shaped
 * exactly like the records AWS S3 sends to SNS, SQS, Lambda and webhooks (eventVersion 2.1), so
 * the event pipeline cannot tell the embedded store from AWS:
 *
 *   {"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1",
 *     "eventTime":"2026-01-02T03:04:05.678Z","eventName":"ObjectCreated:Put",
 *     "userIdentity":{"principalId":"<access key>"},
 *     "requestParameters":{"sourceIPAddress":"127.0.0.1"},
 *     "responseElements":{"x-amz-request-id":"..","x-amz-id-2":".."},
 *     "s3":{"s3SchemaVersion":"1.0","configurationId":"imgsvc-embedded",
 *       "bucket":{"name":"b","ownerIdentity":{"principalId":".."},"arn":"arn:aws:s3:::b"},
 *       "object":{"key":"delete/a+b.jpeg","size":5,"eTag":"<md5>","sequencer":"0..."}}}]}
 *
 * The key is URL-encoded as AWS does (form style: space as '+', '/' kept).
 */
#ifndef IMGSVC_S3_STORE_EVENT_H
#define IMGSVC_S3_STORE_EVENT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"

#define S3_EVENT_SEQUENCER_LEN 18 /* hex digits */

/* One event. All strings borrowed. */
struct s3_store_event {
    const char *event_name; /* "ObjectCreated:Put" */
    const char *region;
    const char *bucket;
    const char *key; /* raw key */
    uint64_t size;
    const char *etag; /* hex MD5 without quotes */
    const char *sequencer;
    int64_t time_ms;
    const char *principal;  /* access key id of the writer */
    const char *source_ip;  /* may be NULL */
    const char *request_id; /* may be NULL */
};

/* Appends `key` URL-encoded as in S3 event records: [A-Za-z0-9-_.*~/] kept, space as '+',
 * everything else %XX (uppercase). */
enum err_code s3_store_event_key_encode(struct buf *out, const char *key) BUF_WARN_UNUSED;

/* Next sequencer: 18 uppercase hex digits, strictly increasing within the process (and with the
 * wall clock across restarts). `last` is the caller's state, zero-initialised. */
void s3_store_event_sequencer(atomic_uint_fast64_t *last, int64_t now_ns,
                              char out[S3_EVENT_SEQUENCER_LEN + 1]);

/* Builds {"Records":[...]} for one event into a malloc'ed string (caller frees); *len its
 * length. NULL on ERR_NOMEM. */
char *s3_store_event_json(const struct s3_store_event *ev, size_t *len);

#endif
