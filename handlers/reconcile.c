/*
 * reconcile.c: one reconciler pass over delete/. See reconcile.h.
 *
 * The listing callback does the whole job per object: stop checks, the age filter, the schema
 * filter, the synthetic record, the submit. Nothing is kept between objects, so a pass over
 * many keys uses constant memory.
 */
#include "handlers/reconcile.h"

#include <stdio.h>
#include <string.h>

#include "s3/keys.h"

bool h_reconcile_is_due(time_t last_modified, time_t now, int64_t grace_s)
{
    if (last_modified <= 0)
        return true;
    return (int64_t)now - (int64_t)last_modified >= grace_s;
}

bool h_reconcile_record(const char *bucket, const struct s3_list_entry *entry,
                        struct s3_event_record *r)
{
    memset(r, 0, sizeof(*r));
    if (bucket == NULL || entry == NULL || entry->key == NULL ||
        strlen(bucket) > S3_EVENT_BUCKET_MAX || strlen(entry->key) > S3_EVENT_KEY_MAX)
        return false;
    r->source = S3_EVSRC_UNKNOWN;
    snprintf(r->event_name, sizeof(r->event_name), "ObjectCreated:Put");
    snprintf(r->bucket, sizeof(r->bucket), "%s", bucket);
    snprintf(r->key, sizeof(r->key), "%s", entry->key);
    r->size = (int64_t)entry->size;
    const char *etag = entry->etag != NULL ? entry->etag : "";
    size_t n = strlen(etag);
    if (n >= 2 && etag[0] == '"' && etag[n - 1] == '"') {
        etag++;
        n -= 2;
    }
    if (n <= S3_EVENT_ETAG_MAX)
        snprintf(r->etag, sizeof(r->etag), "%.*s", (int)n, etag);
    return true;
}

/* The state of one pass, shared with the listing callback. */
struct pass {
    const struct h_reconcile_opts *o;
    const char *bucket;
    time_t now;
    struct h_reconcile_stats *st;
    enum err_code submit_rc; /* a submit error other than ERR_BUSY */
};

static bool on_entry(void *ctx, const struct s3_list_entry *entry, const char *prefix)
{
    struct pass *p = ctx;
    struct h_reconcile_stats *st = p->st;
    if (entry == NULL || prefix != NULL)
        return true;
    if (p->o->stop != NULL && p->o->stop(p->o->stop_arg)) {
        st->stopped = true;
        return false;
    }
    if (st->listed >= p->o->max_keys) {
        st->truncated = true;
        return false;
    }
    st->listed++;
    struct s3_key k;
    struct s3_event_record r;
    if (s3_key_parse_temp(entry->key, &k, NULL) != ERR_OK ||
        !h_reconcile_record(p->bucket, entry, &r)) {
        st->foreign++;
        return true;
    }
    if (!h_reconcile_is_due(entry->last_modified, p->now, p->o->grace_s)) {
        st->young++;
        return true;
    }
    enum err_code rc = p->o->submit(p->o->submit_arg, &r);
    if (rc == ERR_BUSY) {
        st->busy = true;
        return false;
    }
    if (rc == ERR_CONFLICT) {
        st->queued++;
        return true;
    }
    if (rc != ERR_OK) {
        p->submit_rc = rc;
        return false;
    }
    st->submitted++;
    return true;
}

enum err_code h_reconcile_pass(const struct h_reconcile_opts *o, time_t now,
                               struct h_reconcile_stats *st, struct err *e)
{
    memset(st, 0, sizeof(*st));
    if (o == NULL || o->s3 == NULL || o->submit == NULL || o->max_keys < 1 || o->grace_s < 0)
        return err_set(e, ERR_INVALID, "reconcile: bad options");
    struct pass p = {o, s3_client_bucket(o->s3), now, st, ERR_OK};
    /* one more than max_keys, so a full pass can tell it left objects behind */
    struct s3_list_opts lo = {.prefix = H_RECONCILE_PREFIX, .max_keys = S3_LIST_MAX_KEYS};
    if (o->max_keys < S3_LIST_MAX_KEYS)
        lo.max_keys = (int)o->max_keys + 1;
    enum err_code rc = s3_client_list_each(o->s3, &lo, 0, on_entry, &p, NULL, NULL, e);
    if (rc == ERR_OK && p.submit_rc != ERR_OK)
        rc = err_set(e, p.submit_rc, "reconcile: submit failed: %s", err_name(p.submit_rc));
    return rc;
}
