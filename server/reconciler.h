/*
 * reconciler.h: the reconciler thread of `imgsvc serve`.
 *
 * At start and then every IMGSVC_RECONCILE_INTERVAL_S seconds it runs one pass of
 * handlers/reconcile.h: list delete/ and hand every temp object older than
 * IMGSVC_RECONCILE_GRACE_S to the pipeline through the same submit hook as the webhook (the
 * worker pool and its bound; serve's hook refuses once the queue is half full, keeping the other
 * half for live events). A pass that finds the queue full stops; the next one retries.
 * One log line per pass with its counts; metrics imgsvc_reconciler_runs_total,
 * imgsvc_reconciler_found_total (objects handed over) and imgsvc_reconciler_errors_total
 * (passes whose listing or submit failed). srv_reconciler_stop wakes the thread through a
 * condition variable and ends a pass in progress between two objects, so shutdown never
 * waits for an interval.
 */
#ifndef IMGSVC_SERVER_RECONCILER_H
#define IMGSVC_SERVER_RECONCILER_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "handlers/pipeline.h"
#include "s3/client.h"

struct srv_reconciler_opts {
    struct s3_client *s3;    /* the bucket (borrowed; must outlive the reconciler) */
    int64_t interval_s;      /* >= 1 (0 = off is the caller's business: do not start one) */
    int64_t grace_s;         /* >= 0 */
    size_t max_keys;         /* objects listed per pass, >= 1 */
    h_pipe_submit_fn submit; /* borrowed, like its argument */
    void *submit_arg;
};

struct srv_reconciler;

/* Registers the reconciler's metric families (each series at 0). Idempotent. */
void srv_reconciler_register_metrics(void);

/*
 * Starts the thread; its first pass runs at once. NULL with `e` set on bad options or when the
 * thread cannot start. Stop and free with srv_reconciler_stop.
 */
struct srv_reconciler *srv_reconciler_start(const struct srv_reconciler_opts *o, struct err *e);

/* Asks the thread to stop, waits for it (a pass in progress ends after its current S3
 * request) and frees everything. NULL is a no-op. */
void srv_reconciler_stop(struct srv_reconciler *r);

#endif
