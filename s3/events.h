/*
 * events.h: S3 ObjectCreated notifications in the shapes real stores send them.
 *
 *   aws:s3    AWS S3 (eventVersion 2.x): object key URL-encoded, '+' for a space
 *   ceph:s3   Ceph RGW: the key exactly as written
 *   minio:s3  MinIO: eventName with an "s3:" prefix, key query-escaped ('+' for a space), plus
 *             outer "EventName" and "Key" ("bucket/key") members
 *   s3:TestEvent   the message S3 sends when a notification is configured (no records)
 * The parser decodes each key per its source, so callers always see the key as stored. It is
 * strict about shape and bounded (record count, key length) because the body comes from the
 * network; a record it cannot use is reported, not guessed at.
 */
#ifndef IMGSVC_S3_EVENTS_H
#define IMGSVC_S3_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define S3_EVENT_KEY_MAX    1024 /* S3's own key limit, in bytes */
#define S3_EVENT_BUCKET_MAX 63
#define S3_EVENT_NAME_MAX   64
#define S3_EVENT_ETAG_MAX   80
#define S3_EVENT_SEQ_MAX    64
#define S3_EVENT_TIME_MAX   40

enum s3_event_source { S3_EVSRC_UNKNOWN = 0, S3_EVSRC_AWS, S3_EVSRC_CEPH, S3_EVSRC_MINIO };

struct s3_event_record {
    enum s3_event_source source;
    char event_name[S3_EVENT_NAME_MAX + 1]; /* without MinIO's "s3:" prefix: "ObjectCreated:Put" */
    char bucket[S3_EVENT_BUCKET_MAX + 1];
    char key[S3_EVENT_KEY_MAX + 1];         /* decoded: the key as stored */
    int64_t size;                           /* -1 when absent */
    char etag[S3_EVENT_ETAG_MAX + 1];       /* without quotes; "" when absent */
    char sequencer[S3_EVENT_SEQ_MAX + 1];   /* "" when absent */
    char event_time[S3_EVENT_TIME_MAX + 1]; /* as sent; "" when absent */
};

struct s3_event_batch {
    bool test_event; /* an s3:TestEvent (no records) */
    size_t count;
    struct s3_event_record *records; /* owned; free with s3_event_batch_free */
};

/*
 * Parses a notification body ({"Records":[...]} or an s3:TestEvent). At most `max_records`
 * records (ERR_TOO_LARGE beyond). ERR_INVALID with a message for anything malformed (not JSON,
 * no Records array, a record without bucket or key, a key that does not decode or decodes to
 * NUL, overlong fields). On success the caller frees `out` with s3_event_batch_free.
 */
enum err_code s3_events_parse(const char *json, size_t len, size_t max_records,
                              struct s3_event_batch *out, struct err *e);

void s3_event_batch_free(struct s3_event_batch *b);

/* True for ObjectCreated:* events (Put, Post, Copy, CompleteMultipartUpload, ...). */
bool s3_event_is_created(const struct s3_event_record *r);

/* "aws:s3", "ceph:s3", "minio:s3" or "unknown". */
const char *s3_event_source_name(enum s3_event_source s);

/*
 * Decodes an AWS/MinIO event key: %XX escapes and '+' as a space. False when an escape is
 * malformed, a byte decodes to NUL, or the result does not fit `cap` (with its NUL).
 */
bool s3_event_key_decode(const char *in, char *out, size_t cap);

/*
 * Orders two sequencers of the same key as S3 documents: compare as hex numbers after padding
 * the shorter with leading zeros. Negative, zero or positive like strcmp; an empty sequencer
 * sorts first.
 */
int s3_event_sequencer_cmp(const char *a, const char *b);

#endif
