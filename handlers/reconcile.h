/*
 * reconcile.h: one reconciler pass — list delete/, hand every temp object old enough to the
 * pipeline, so an upload whose event was lost (webhook down, imgsvc stopped, a store that never
 * notified) is still processed.
 *
 * S3 itself is the durable queue: a temp object exists until the pipeline has written every
 * output and the manifest, so listing `delete/` finds exactly the uploads not yet finished. A
 * pass lists at most `max_keys` objects (ListObjectsV2, in key order), skips the ones younger
 * than the grace period (by LastModified; their event is probably on its way) and the keys the
 * schema does not know (the pipeline would ignore them anyway), and submits the rest as
 * synthetic ObjectCreated records through the same hook the webhook uses (same worker pool,
 * same bound). When the queue is full the pass stops at once; the next one starts over. The
 * hook answers ERR_CONFLICT for a key whose job is already queued or running (serve tracks
 * them), which the pass counts and skips; a record submitted twice anyway (an event arriving
 * after the pass) is harmless: the pipeline is idempotent.
 *
 * The periodic thread around this lives in server/reconciler.c.
 */
#ifndef IMGSVC_HANDLERS_RECONCILE_H
#define IMGSVC_HANDLERS_RECONCILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/err.h"
#include "handlers/pipeline.h"
#include "s3/client.h"
#include "s3/events.h"

#define H_RECONCILE_PREFIX "delete/"

struct h_reconcile_opts {
    struct s3_client *s3;    /* the bucket to list (borrowed) */
    int64_t grace_s;         /* least age by LastModified, >= 0 */
    size_t max_keys;         /* most objects listed per pass, >= 1 */
    h_pipe_submit_fn submit; /* where due records go (borrowed) */
    void *submit_arg;
    bool (*stop)(void *arg); /* optional: polled per object; true ends the pass early */
    void *stop_arg;
};

/* What one pass saw. Plain value. */
struct h_reconcile_stats {
    size_t listed;    /* objects listed under delete/ */
    size_t submitted; /* handed to the pipeline */
    size_t young;     /* skipped: younger than the grace period */
    size_t foreign;   /* skipped: not a temp key of the schema */
    size_t queued;    /* skipped: a job for the key is already queued or running */
    bool busy;        /* the queue was full: the pass stopped early */
    bool truncated;   /* max_keys was reached with more objects left */
    bool stopped;     /* opts->stop asked to end early */
};

/*
 * True when an object last modified at `last_modified` (Unix seconds; 0 = unknown) is due at
 * `now`: now - last_modified >= grace_s. An unknown time is due (the pipeline is idempotent);
 * a time in the future (clock skew) waits until it is grace_s in the past.
 */
bool h_reconcile_is_due(time_t last_modified, time_t now, int64_t grace_s);

/*
 * Fills `r` with the synthetic ObjectCreated:Put record the reconciler submits for a listed
 * object (bucket, key, size and ETag without quotes; no sequencer, source unknown). False when
 * the key or bucket does not fit a record.
 */
bool h_reconcile_record(const char *bucket, const struct s3_list_entry *entry,
                        struct s3_event_record *r);

/*
 * Runs one pass at time `now` (Unix seconds). Fills `st` (zeroed first). Returns ERR_OK when
 * the listing worked (even if the pass stopped early: see st->busy/stopped/truncated), the
 * listing's error otherwise (e set), ERR_INVALID for bad options.
 */
enum err_code h_reconcile_pass(const struct h_reconcile_opts *o, time_t now,
                               struct h_reconcile_stats *st, struct err *e);

#endif
