/*
 * app_pipeline.c: the event pipeline as `serve` runs it, and its settings for `process` and
 * `lambda`. See routes.h.
 *
 * The pipeline reaches S3 only through an s3_client: with a real S3 (IMGSVC_S3_ENDPOINT) the
 * app's own client; with the embedded store a client of its own pointed at the store's
 * listener (path style, the store's keys), so the embedded mode takes the same code path as
 * production. Records run on serve's worker pool: the submit hook copies the record into a
 * job; a full queue is ERR_BUSY (the webhook answers 503; the store's hook logs and counts it,
 * and the reconciler finds the object later).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/metrics.h"
#include "common/strcount.h"
#include "common/timeutil.h"
#include "server/pool.h"
#include "server/routes.h"

void srv_pipeline_cfg(const struct srv_config *cfg, struct s3_client *s3,
                      const struct img_preset_table *presets, struct h_pipeline_cfg *out)
{
    memset(out, 0, sizeof(*out));
    out->s3 = s3;
    out->presets = presets;
    out->job = img_job_opts_default();
    out->job.limits.max_bytes = (size_t)cfg->max_image_bytes;
    out->job.limits.max_pixels = (uint64_t)cfg->max_pixels;
    out->job.limits.max_width = (int)cfg->max_side;
    out->job.limits.max_height = (int)cfg->max_side;
    out->job.limits.max_frames = (int)cfg->max_frames;
    out->job.limits.max_progressive_pixels = (uint64_t)cfg->max_progressive_pixels;
    out->job.recover_multipart = cfg->multipart_recovery;
    out->job.strip_origin_location = cfg->origin_strip_location;
    out->max_object_bytes = (uint64_t)cfg->max_image_bytes;
    out->max_attempts = (int)cfg->pipeline_max_attempts;
    out->retry_base_ms = (long)cfg->pipeline_retry_base_ms;
    out->retry_max_ms = (long)cfg->pipeline_retry_max_ms;
    out->imaging_slots = (int)cfg->workers;
}

/* A client for the embedded store's listener on `port` (loopback when it listens on any). */
static struct s3_client *store_client(struct srv_app *app, unsigned port, struct err *e)
{
    const struct srv_config *cfg = app->cfg;
    const char *host = cfg->store_listen_addr;
    char endpoint[300];
    if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "") == 0)
        host = "127.0.0.1";
    else if (strcmp(host, "::") == 0)
        host = "::1";
    bool v6 = strchr(host, ':') != NULL;
    snprintf(endpoint, sizeof(endpoint), "http://%s%s%s:%u", v6 ? "[" : "", host, v6 ? "]" : "",
             port);
    struct s3_options o;
    s3_options_defaults(&o);
    o.endpoint = endpoint;
    o.region = cfg->aws_region;
    o.bucket = cfg->s3_bucket;
    o.path_style = true;
    o.connect_timeout_ms = (long)cfg->s3_connect_timeout_ms;
    o.timeout_ms = (long)cfg->s3_timeout_ms;
    o.max_retries = (int)cfg->s3_max_retries;
    o.retry_base_ms = (long)cfg->s3_retry_base_ms;
    o.retry_max_ms = (long)cfg->s3_retry_max_ms;
    o.max_get_bytes = (uint64_t)cfg->max_image_bytes;
    o.creds.access_key = app->store_access_key;
    o.creds.secret_key = app->store_secret_key;
    return s3_client_new(&o, e);
}

/* One queued record. */
struct pipe_job {
    struct h_pipeline *pipeline;
    struct strcount *pending; /* the app's: the record's key is counted there until it ran */
    int64_t queued_ms;        /* when it was queued (monotonic) */
    struct s3_event_record rec;
};

static void pipe_job_drop(void *arg)
{
    struct pipe_job *j = arg;
    strcount_remove(j->pending, j->rec.key);
    free(j);
}

static void pipe_job_run(void *arg)
{
    struct pipe_job *j = arg;
    struct h_pipe_result r;
    double waited = (double)(ts_now_mono_ms() - j->queued_ms);
    h_pipeline_handle_queued(j->pipeline, &j->rec, waited, &r); /* logs and counts itself */
    pipe_job_drop(j);
}

/* h_pipe_submit_fn of serve: arg is the app. */
static enum err_code pipe_submit(void *arg, const struct s3_event_record *r)
{
    struct srv_app *app = arg;
    if (app->pipeline == NULL || app->pool == NULL || app->pending == NULL)
        return ERR_BUSY;
    struct pipe_job *j = malloc(sizeof(*j));
    if (j == NULL)
        return ERR_NOMEM;
    j->pipeline = app->pipeline;
    j->pending = app->pending;
    j->rec = *r;
    j->queued_ms = ts_now_mono_ms();
    if (strcount_add(app->pending, j->rec.key) != ERR_OK) {
        free(j);
        return ERR_NOMEM;
    }
    enum err_code rc = srv_pool_submit(app->pool, pipe_job_run, j, pipe_job_drop);
    if (rc != ERR_OK) {
        pipe_job_drop(j);
        return rc == ERR_CONFLICT ? ERR_BUSY : rc;
    }
    return ERR_OK;
}

enum err_code srv_app_init_pipeline(struct srv_app *app, struct srv_pool *pool, unsigned store_port,
                                    struct err *e)
{
    struct s3_client *s3 = app->s3;
    metrics_register("imgsvc_pipeline_records_dropped_total", METRICS_COUNTER,
                     "Embedded store events not queued (queue full or draining); the reconciler "
                     "finds their objects later",
                     NULL, 0);
    if (app->store_enabled) {
        app->pipe_s3 = store_client(app, store_port, e);
        if (app->pipe_s3 == NULL)
            return e->code != ERR_OK ? e->code : ERR_INTERNAL;
        s3 = app->pipe_s3;
    }
    if (s3 == NULL) {
        log_msg(LOGL_WARN, "pipeline", NULL, "no S3 client (no credentials): events answer 503");
        return ERR_OK;
    }
    struct h_pipeline_cfg pc;
    srv_pipeline_cfg(app->cfg, s3, &app->presets, &pc);
    app->pipeline = h_pipeline_new(&pc, e);
    if (app->pipeline == NULL)
        return e->code != ERR_OK ? e->code : ERR_INTERNAL;
    app->pending = strcount_new(srv_pool_capacity(pool));
    if (app->pending == NULL)
        return err_set(e, ERR_NOMEM, "pipeline: out of memory");
    app->pool = pool;
    app->pipe_submit = pipe_submit;
    app->pipe_submit_arg = app;
    return ERR_OK;
}

void srv_app_free_pipeline(struct srv_app *app)
{
    app->pipe_submit = NULL;
    app->pipe_submit_arg = NULL;
    h_pipeline_free(app->pipeline);
    app->pipeline = NULL;
    strcount_free(app->pending);
    app->pending = NULL;
    s3_client_destroy(app->pipe_s3);
    app->pipe_s3 = NULL;
    app->pool = NULL;
}

/* One log line per store event, with the record's key as sent (URL-encoded, as AWS does). */
static void log_store_event(const char *records_json, size_t len)
{
    cJSON *doc = cJSON_ParseWithLength(records_json, len);
    cJSON *rec = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "Records"), 0);
    cJSON *obj = cJSON_GetObjectItem(cJSON_GetObjectItem(rec, "s3"), "object");
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "eventName",
                            cJSON_GetStringValue(cJSON_GetObjectItem(rec, "eventName")));
    cJSON_AddStringToObject(f, "key", cJSON_GetStringValue(cJSON_GetObjectItem(obj, "key")));
    cJSON_AddNumberToObject(f, "size", cJSON_GetNumberValue(cJSON_GetObjectItem(obj, "size")));
    log_fields(LOGL_INFO, "store", NULL, "s3 event", f);
    cJSON_Delete(doc);
}

void srv_app_store_event(void *arg, const char *records_json, size_t len)
{
    struct srv_app *app = arg;
    struct s3_event_batch b = {0};
    struct err e = {0};
    metrics_add("imgsvc_store_events_total", NULL, 1);
    log_store_event(records_json, len);
    if (s3_events_parse(records_json, len, 1000, &b, &e) != ERR_OK) {
        log_msg(LOGL_ERROR, "pipeline", NULL, "store event not parsed: %s", e.msg);
        return;
    }
    for (size_t i = 0; i < b.count; i++) {
        enum err_code rc = app->pipe_submit != NULL
                               ? app->pipe_submit(app->pipe_submit_arg, &b.records[i])
                               : ERR_BUSY;
        if (rc != ERR_OK) {
            metrics_add("imgsvc_pipeline_records_dropped_total", NULL, 1);
            log_msg(LOGL_WARN, "pipeline", NULL,
                    "store event for %s not queued (%s): the reconciler will find it",
                    b.records[i].key, err_name(rc));
        }
    }
    s3_event_batch_free(&b);
}
