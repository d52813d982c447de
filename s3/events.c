/*
 * events.c: S3 notification parsing. See events.h.
 */
#include "s3/events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hex.h"
#include "common/json.h"

bool s3_event_key_decode(const char *in, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; in[i] != '\0'; i++) {
        char c = in[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int hi = in[i + 1] ? hex_digit_value(in[i + 1]) : -1;
            int lo = hi >= 0 && in[i + 2] ? hex_digit_value(in[i + 2]) : -1;
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                return false;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (o + 1 >= cap)
            return false;
        out[o++] = c;
    }
    if (cap == 0)
        return false;
    out[o] = '\0';
    return true;
}

const char *s3_event_source_name(enum s3_event_source s)
{
    switch (s) {
    case S3_EVSRC_AWS:
        return "aws:s3";
    case S3_EVSRC_CEPH:
        return "ceph:s3";
    case S3_EVSRC_MINIO:
        return "minio:s3";
    case S3_EVSRC_UNKNOWN:
        break;
    }
    return "unknown";
}

static enum s3_event_source source_of(const char *s)
{
    if (s == NULL)
        return S3_EVSRC_UNKNOWN;
    if (strcmp(s, "aws:s3") == 0)
        return S3_EVSRC_AWS;
    if (strcmp(s, "ceph:s3") == 0)
        return S3_EVSRC_CEPH;
    if (strcmp(s, "minio:s3") == 0)
        return S3_EVSRC_MINIO;
    return S3_EVSRC_UNKNOWN;
}

/* Copies a string member into `out` (cap bytes). Absent -> "" (true); too long -> false. */
static bool copy_str(const cJSON *obj, const char *name, char *out, size_t cap)
{
    const char *v = json_get_str(obj, name);
    out[0] = '\0';
    if (v == NULL)
        return true;
    size_t n = strlen(v);
    if (n >= cap)
        return false;
    memcpy(out, v, n + 1);
    return true;
}

/* Fills the object part (key, size, eTag, sequencer) of a record. */
static enum err_code parse_object(const cJSON *obj, struct s3_event_record *r, size_t i,
                                  struct err *e)
{
    const char *key = json_get_str(obj, "key");
    if (key == NULL || key[0] == '\0')
        return err_set(e, ERR_INVALID, "record %zu has no s3.object.key", i);
    if (r->source == S3_EVSRC_CEPH) {
        if (strlen(key) > S3_EVENT_KEY_MAX)
            return err_set(e, ERR_INVALID, "record %zu: key longer than %d bytes", i,
                           S3_EVENT_KEY_MAX);
        memcpy(r->key, key, strlen(key) + 1);
    } else if (!s3_event_key_decode(key, r->key, sizeof(r->key))) {
        return err_set(e, ERR_INVALID, "record %zu: key is not a valid URL-encoded key", i);
    }
    long long size = -1;
    r->size = json_get_int(obj, "size", &size) && size >= 0 ? size : -1;
    if (!copy_str(obj, "eTag", r->etag, sizeof(r->etag)) ||
        !copy_str(obj, "sequencer", r->sequencer, sizeof(r->sequencer)))
        return err_set(e, ERR_INVALID, "record %zu: eTag or sequencer too long", i);
    size_t n = strlen(r->etag); /* some stores quote the ETag */
    if (n >= 2 && r->etag[0] == '"' && r->etag[n - 1] == '"') {
        memmove(r->etag, r->etag + 1, n - 2);
        r->etag[n - 2] = '\0';
    }
    return ERR_OK;
}

static enum err_code parse_record(const cJSON *rec, struct s3_event_record *r, size_t i,
                                  struct err *e)
{
    memset(r, 0, sizeof(*r));
    if (!cJSON_IsObject(rec))
        return err_set(e, ERR_INVALID, "record %zu is not an object", i);
    r->source = source_of(json_get_str(rec, "eventSource"));
    const char *name = json_get_str(rec, "eventName");
    if (name == NULL)
        return err_set(e, ERR_INVALID, "record %zu has no eventName", i);
    if (strncmp(name, "s3:", 3) == 0)
        name += 3; /* MinIO */
    if (strlen(name) > S3_EVENT_NAME_MAX)
        return err_set(e, ERR_INVALID, "record %zu: eventName too long", i);
    memcpy(r->event_name, name, strlen(name) + 1);
    if (!copy_str(rec, "eventTime", r->event_time, sizeof(r->event_time)))
        return err_set(e, ERR_INVALID, "record %zu: eventTime too long", i);
    const cJSON *s3 = cJSON_GetObjectItemCaseSensitive(rec, "s3");
    const cJSON *bucket = cJSON_GetObjectItemCaseSensitive(s3, "bucket");
    const cJSON *obj = cJSON_GetObjectItemCaseSensitive(s3, "object");
    if (!cJSON_IsObject(s3) || !cJSON_IsObject(bucket) || !cJSON_IsObject(obj))
        return err_set(e, ERR_INVALID, "record %zu lacks s3.bucket or s3.object", i);
    if (!copy_str(bucket, "name", r->bucket, sizeof(r->bucket)) || r->bucket[0] == '\0')
        return err_set(e, ERR_INVALID, "record %zu: bucket name missing or too long", i);
    return parse_object(obj, r, i, e);
}

enum err_code s3_events_parse(const char *json, size_t len, size_t max_records,
                              struct s3_event_batch *out, struct err *e)
{
    enum err_code rc = ERR_INVALID;
    memset(out, 0, sizeof(*out));
    cJSON *root = json_parse(json, len, e);
    if (root == NULL || !cJSON_IsObject(root)) {
        if (root != NULL)
            err_set(e, ERR_INVALID, "the notification is not a JSON object");
        goto cleanup;
    }
    const char *ev = json_get_str(root, "Event");
    if (ev != NULL && strcmp(ev, "s3:TestEvent") == 0) {
        out->test_event = true;
        rc = ERR_OK;
        goto cleanup;
    }
    const cJSON *records = cJSON_GetObjectItemCaseSensitive(root, "Records");
    if (!cJSON_IsArray(records)) {
        err_set(e, ERR_INVALID, "the notification has no Records array");
        goto cleanup;
    }
    size_t n = (size_t)cJSON_GetArraySize(records);
    if (n > max_records) {
        rc = err_set(e, ERR_TOO_LARGE, "the notification has %zu records; the limit is %zu", n,
                     max_records);
        goto cleanup;
    }
    out->records = n ? calloc(n, sizeof(*out->records)) : NULL;
    if (n > 0 && out->records == NULL) {
        rc = err_set(e, ERR_NOMEM, "out of memory");
        goto cleanup;
    }
    size_t i = 0;
    for (const cJSON *rec = records->child; rec != NULL; rec = rec->next, i++) {
        if ((rc = parse_record(rec, &out->records[i], i, e)) != ERR_OK)
            goto cleanup;
    }
    out->count = n;
    rc = ERR_OK;
cleanup:
    cJSON_Delete(root);
    if (rc != ERR_OK)
        s3_event_batch_free(out);
    return rc;
}

void s3_event_batch_free(struct s3_event_batch *b)
{
    free(b->records);
    b->records = NULL;
    b->count = 0;
}

bool s3_event_is_created(const struct s3_event_record *r)
{
    return strncmp(r->event_name, "ObjectCreated:", 14) == 0;
}

int s3_event_sequencer_cmp(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t n = la > lb ? la : lb;
    for (size_t i = 0; i < n; i++) {
        char ca = i < n - la ? '0' : a[i - (n - la)];
        char cb = i < n - lb ? '0' : b[i - (n - lb)];
        int va = hex_digit_value(ca), vb = hex_digit_value(cb);
        if (va != vb)
            return va < vb ? -1 : 1;
    }
    if (la != lb && (la == 0 || lb == 0))
        return la == 0 ? -1 : 1;
    return 0;
}
