/*
 * store_event.c: S3 event notification records. See store_event.h.
 */
#include "s3/store_event.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "common/timeutil.h"

#define KEY_ENC_MAX (16u * 1024u)

enum err_code s3_store_event_key_encode(struct buf *out, const char *key)
{
    static const char hex[] = "0123456789ABCDEF";
    enum err_code rc = ERR_OK;
    for (const unsigned char *p = (const unsigned char *)key; *p != '\0' && rc == ERR_OK; p++) {
        unsigned char c = *p;
        bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.' || c == '*' || c == '~' || c == '/';
        if (keep) {
            rc = buf_append(out, p, 1);
        } else if (c == ' ') {
            rc = buf_append(out, "+", 1);
        } else {
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
            rc = buf_append(out, esc, 3);
        }
    }
    return rc;
}

void s3_store_event_sequencer(atomic_uint_fast64_t *last, int64_t now_ns,
                              char out[S3_EVENT_SEQUENCER_LEN + 1])
{
    uint_fast64_t want = now_ns > 0 ? (uint_fast64_t)now_ns : 0;
    uint_fast64_t prev = atomic_load(last), next;
    do {
        next = want > prev ? want : prev + 1;
    } while (!atomic_compare_exchange_weak(last, &prev, next));
    snprintf(out, S3_EVENT_SEQUENCER_LEN + 1, "%018" PRIXFAST64, next);
}

static cJSON *principal(const char *id)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "principalId", id ? id : "");
    return o;
}

static cJSON *s3_part(const struct s3_store_event *ev, const char *key_enc)
{
    char arn[128];
    snprintf(arn, sizeof(arn), "arn:aws:s3:::%s", ev->bucket);
    cJSON *s3 = cJSON_CreateObject();
    cJSON_AddStringToObject(s3, "s3SchemaVersion", "1.0");
    cJSON_AddStringToObject(s3, "configurationId", "imgsvc-embedded");
    cJSON *b = cJSON_AddObjectToObject(s3, "bucket");
    cJSON_AddStringToObject(b, "name", ev->bucket);
    cJSON_AddItemToObject(b, "ownerIdentity", principal(ev->principal));
    cJSON_AddStringToObject(b, "arn", arn);
    cJSON *o = cJSON_AddObjectToObject(s3, "object");
    cJSON_AddStringToObject(o, "key", key_enc);
    cJSON_AddNumberToObject(o, "size", (double)ev->size);
    cJSON_AddStringToObject(o, "eTag", ev->etag);
    cJSON_AddStringToObject(o, "sequencer", ev->sequencer);
    return s3;
}

char *s3_store_event_json(const struct s3_store_event *ev, size_t *len)
{
    struct buf kb;
    buf_init(&kb, KEY_ENC_MAX);
    char when[32];
    char *out = NULL;
    if (s3_store_event_key_encode(&kb, ev->key) != ERR_OK)
        goto cleanup;
    ts_rfc3339_ms(ev->time_ms, when, sizeof(when));
    cJSON *root = cJSON_CreateObject();
    cJSON *recs = cJSON_AddArrayToObject(root, "Records");
    cJSON *r = cJSON_CreateObject();
    cJSON_AddItemToArray(recs, r);
    cJSON_AddStringToObject(r, "eventVersion", "2.1");
    cJSON_AddStringToObject(r, "eventSource", "aws:s3");
    cJSON_AddStringToObject(r, "awsRegion", ev->region);
    cJSON_AddStringToObject(r, "eventTime", when);
    cJSON_AddStringToObject(r, "eventName", ev->event_name);
    cJSON_AddItemToObject(r, "userIdentity", principal(ev->principal));
    cJSON *rp = cJSON_AddObjectToObject(r, "requestParameters");
    cJSON_AddStringToObject(rp, "sourceIPAddress", ev->source_ip ? ev->source_ip : "");
    cJSON *re = cJSON_AddObjectToObject(r, "responseElements");
    cJSON_AddStringToObject(re, "x-amz-request-id", ev->request_id ? ev->request_id : "");
    cJSON_AddStringToObject(re, "x-amz-id-2", ev->sequencer);
    cJSON_AddItemToObject(r, "s3", s3_part(ev, kb.data ? kb.data : ""));
    out = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (out != NULL)
        *len = strlen(out);
cleanup:
    buf_free(&kb);
    return out;
}
