/*
 * reconciler.c: the reconciler thread. See reconciler.h.
 *
 * The thread sleeps on a condition variable bound to CLOCK_MONOTONIC (a wall-clock jump
 * neither fires nor delays a pass), so stopping is a signal away at any moment; between two
 * listed objects the pass polls the same stop flag.
 */
#include "server/reconciler.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/metrics.h"
#include "common/timeutil.h"
#include "handlers/reconcile.h"

#define M_RUNS   "imgsvc_reconciler_runs_total"
#define M_FOUND  "imgsvc_reconciler_found_total"
#define M_ERRORS "imgsvc_reconciler_errors_total"

struct srv_reconciler {
    struct srv_reconciler_opts o;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool stop; /* guarded by mu */
};

void srv_reconciler_register_metrics(void)
{
    metrics_register(M_RUNS, METRICS_COUNTER, "Reconciler passes over delete/", NULL, 0);
    metrics_register(M_FOUND, METRICS_COUNTER,
                     "Temp objects the reconciler handed to the pipeline (their event was late "
                     "or lost)",
                     NULL, 0);
    metrics_register(M_ERRORS, METRICS_COUNTER,
                     "Reconciler passes that failed (listing or submit error)", NULL, 0);
    metrics_add(M_RUNS, NULL, 0);
    metrics_add(M_FOUND, NULL, 0);
    metrics_add(M_ERRORS, NULL, 0);
}

static bool stop_requested(void *arg)
{
    struct srv_reconciler *r = arg;
    pthread_mutex_lock(&r->mu);
    bool stop = r->stop;
    pthread_mutex_unlock(&r->mu);
    return stop;
}

static void log_pass(const struct h_reconcile_stats *st, enum err_code rc, const struct err *e,
                     int64_t ms)
{
    cJSON *f = cJSON_CreateObject();
    cJSON_AddNumberToObject(f, "listed", (double)st->listed);
    cJSON_AddNumberToObject(f, "submitted", (double)st->submitted);
    cJSON_AddNumberToObject(f, "young", (double)st->young);
    cJSON_AddNumberToObject(f, "foreign", (double)st->foreign);
    cJSON_AddNumberToObject(f, "alreadyQueued", (double)st->queued);
    cJSON_AddBoolToObject(f, "queueFull", st->busy);
    cJSON_AddBoolToObject(f, "truncated", st->truncated);
    cJSON_AddNumberToObject(f, "ms", (double)ms);
    if (rc != ERR_OK)
        cJSON_AddStringToObject(f, "error", e->msg);
    log_fields(rc != ERR_OK ? LOGL_WARN : LOGL_INFO, "reconciler", NULL, "reconcile pass", f);
}

static void run_pass(struct srv_reconciler *r)
{
    struct h_reconcile_opts ho = {
        r->o.s3, r->o.grace_s, r->o.max_keys, r->o.submit, r->o.submit_arg, stop_requested, r};
    struct h_reconcile_stats st;
    struct err e = {0};
    int64_t t0 = ts_now_mono_ms();
    enum err_code rc = h_reconcile_pass(&ho, time(NULL), &st, &e);
    if (st.stopped)
        return; /* shutting down: no half-pass numbers */
    metrics_add(M_RUNS, NULL, 1);
    metrics_add(M_FOUND, NULL, (double)st.submitted);
    if (rc != ERR_OK)
        metrics_add(M_ERRORS, NULL, 1);
    log_pass(&st, rc, &e, ts_now_mono_ms() - t0);
}

static void *loop(void *arg)
{
    struct srv_reconciler *r = arg;
    for (;;) {
        run_pass(r);
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += (time_t)r->o.interval_s;
        pthread_mutex_lock(&r->mu);
        while (!r->stop && pthread_cond_timedwait(&r->cond, &r->mu, &until) == 0)
            ; /* woken without a stop request: keep waiting until the deadline */
        bool stop = r->stop;
        pthread_mutex_unlock(&r->mu);
        if (stop)
            break;
    }
    return NULL;
}

/* Mutex and a condition variable on the monotonic clock. */
static bool sync_init(struct srv_reconciler *r)
{
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) != 0)
        return false;
    bool ok = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
              pthread_cond_init(&r->cond, &ca) == 0;
    pthread_condattr_destroy(&ca);
    if (!ok)
        return false;
    if (pthread_mutex_init(&r->mu, NULL) != 0) {
        pthread_cond_destroy(&r->cond);
        return false;
    }
    return true;
}

struct srv_reconciler *srv_reconciler_start(const struct srv_reconciler_opts *o, struct err *e)
{
    if (o == NULL || o->s3 == NULL || o->submit == NULL || o->interval_s < 1 || o->grace_s < 0 ||
        o->max_keys < 1) {
        err_set(e, ERR_INVALID, "reconciler: bad options");
        return NULL;
    }
    struct srv_reconciler *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        err_set(e, ERR_NOMEM, "out of memory");
        return NULL;
    }
    r->o = *o;
    if (!sync_init(r)) {
        free(r);
        err_set(e, ERR_INTERNAL, "reconciler: cannot set up its condition variable");
        return NULL;
    }
    srv_reconciler_register_metrics();
    if (pthread_create(&r->thread, NULL, loop, r) != 0) {
        pthread_cond_destroy(&r->cond);
        pthread_mutex_destroy(&r->mu);
        free(r);
        err_set(e, ERR_INTERNAL, "reconciler: cannot start its thread");
        return NULL;
    }
    log_msg(LOGL_INFO, "reconciler", NULL,
            "started: every %lld s, grace %lld s, at most %zu objects per pass",
            (long long)o->interval_s, (long long)o->grace_s, o->max_keys);
    return r;
}

void srv_reconciler_stop(struct srv_reconciler *r)
{
    if (r == NULL)
        return;
    pthread_mutex_lock(&r->mu);
    r->stop = true;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->thread, NULL);
    pthread_cond_destroy(&r->cond);
    pthread_mutex_destroy(&r->mu);
    free(r);
}
