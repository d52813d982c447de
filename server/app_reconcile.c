/*
 * app_reconcile.c: serve's background work that no event starts — the reconciler thread and the
 * reprocess jobs of POST /v1/objects/reprocess. See routes.h.
 *
 * Both go through serve's worker pool, so they share its threads and its bound with the event
 * records: the reconciler submits through the pipeline's own submit hook (app->pipe_submit);
 * a reprocess job is one origin key plus the force flag, run with h_pipeline_reprocess.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/metrics.h"
#include "common/strcount.h"
#include "handlers/reprocess.h"
#include "server/reconciler.h"
#include "server/routes.h"

#define M_REPROCESS "imgsvc_reprocess_total"

/* One queued reprocess. */
struct reprocess_job {
    struct h_pipeline *pipeline;
    bool force;
    char key[S3_KEY_MAX];
};

static void reprocess_run(void *arg)
{
    struct reprocess_job *j = arg;
    struct h_pipe_result r;
    h_pipeline_reprocess(j->pipeline, j->key, j->force, &r);
    char labels[64];
    snprintf(labels, sizeof(labels), "outcome=\"%s\"", h_pipe_outcome_name(r.outcome));
    metrics_add(M_REPROCESS, labels, 1);
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "outcome", h_pipe_outcome_name(r.outcome));
    cJSON_AddStringToObject(f, "key", r.key);
    cJSON_AddStringToObject(f, "reason", r.reason);
    cJSON_AddStringToObject(f, "detail", r.message);
    cJSON_AddNumberToObject(f, "variants", r.variants);
    cJSON_AddNumberToObject(f, "ms", r.ms);
    log_fields(r.outcome == H_PIPE_FAILED || r.outcome == H_PIPE_RETRY ? LOGL_WARN : LOGL_INFO,
               "reprocess", NULL, "reprocess", f);
    free(j);
}

/* h_reprocess_submit_fn of serve: arg is the app. */
static enum err_code reprocess_submit(void *arg, const char *origin_key, bool force)
{
    struct srv_app *app = arg;
    if (app->pipeline == NULL || app->pool == NULL)
        return ERR_BUSY;
    if (strlen(origin_key) >= S3_KEY_MAX)
        return ERR_INVALID;
    struct reprocess_job *j = malloc(sizeof(*j));
    if (j == NULL)
        return ERR_NOMEM;
    j->pipeline = app->pipeline;
    j->force = force;
    snprintf(j->key, sizeof(j->key), "%s", origin_key);
    enum err_code rc = srv_pool_submit(app->pool, reprocess_run, j, free);
    if (rc != ERR_OK) {
        free(j);
        return rc == ERR_CONFLICT ? ERR_BUSY : rc;
    }
    return ERR_OK;
}

void srv_app_reprocess_ctx(struct srv_app *app)
{
    metrics_register(M_REPROCESS, METRICS_COUNTER,
                     "Uploads reprocessed from their origins (POST /v1/objects/reprocess) by "
                     "outcome",
                     NULL, 0);
    app->reprocess.auth = app->auth;
    app->reprocess.s3 = h_reprocess_s3(app->pipeline);
    app->reprocess.max_keys = (size_t)app->cfg->reprocess_max_keys;
    app->reprocess.submit = app->pipeline != NULL ? reprocess_submit : NULL;
    app->reprocess.submit_arg = app;
}

/* The reconciler's submit hook: the pipeline's, but only while the queue is less than half
 * full, so a backlog found by the reconciler never crowds out live events (a webhook sender
 * would get 503s). ERR_BUSY ends the pass; the next one carries on. A key whose job is already
 * queued or running (its event came, the backlog is older than the grace period) is not queued
 * again: ERR_CONFLICT. */
static enum err_code reconcile_submit(void *arg, const struct s3_event_record *r)
{
    struct srv_app *app = arg;
    if (app->pool == NULL || srv_pool_queued(app->pool) * 2 >= srv_pool_capacity(app->pool))
        return ERR_BUSY;
    if (app->pending != NULL && strcount_get(app->pending, r->key) > 0)
        return ERR_CONFLICT;
    return app->pipe_submit(app->pipe_submit_arg, r);
}

enum err_code srv_app_start_reconciler(struct srv_app *app, struct err *e)
{
    srv_reconciler_register_metrics();
    if (app->cfg->reconcile_interval_s == 0) {
        log_msg(LOGL_INFO, "reconciler", NULL, "off (IMGSVC_RECONCILE_INTERVAL_S=0)");
        return ERR_OK;
    }
    if (app->pipeline == NULL || app->pipe_submit == NULL) {
        log_msg(LOGL_WARN, "reconciler", NULL, "not started: the pipeline does not run");
        return ERR_OK;
    }
    struct srv_reconciler_opts o = {h_reprocess_s3(app->pipeline),
                                    app->cfg->reconcile_interval_s,
                                    app->cfg->reconcile_grace_s,
                                    (size_t)app->cfg->reconcile_max_keys,
                                    reconcile_submit,
                                    app};
    app->reconciler = srv_reconciler_start(&o, e);
    return app->reconciler != NULL ? ERR_OK : e->code;
}

void srv_app_stop_reconciler(struct srv_app *app)
{
    srv_reconciler_stop(app->reconciler);
    app->reconciler = NULL;
}
