/*
 * routes.h: the API's routing table, the one place (with main.c) that knows the handlers.
 */
#ifndef IMGSVC_SERVER_ROUTES_H
#define IMGSVC_SERVER_ROUTES_H

#include <stddef.h>

#include "handlers/auth.h"
#include "handlers/demo.h"
#include "handlers/events.h"
#include "handlers/health.h"
#include "handlers/pipeline.h"
#include "handlers/reprocess.h"
#include "handlers/resize.h"
#include "handlers/status.h"
#include "handlers/store.h"
#include "common/strcount.h"
#include "handlers/uploads.h"
#include "imaging/img_preset.h"
#include "s3/client.h"
#include "s3/credentials.h"
#include "s3/sigv4.h"
#include "server/config.h"
#include "server/pool.h"
#include "server/router.h"

#define SRV_MAX_ROUTES 32

struct srv_reconciler;

/* What the handlers need, built once by `serve` (srv_app_init) and borrowed by the routes. */
struct srv_app {
    const struct srv_config *cfg;
    struct h_health_ctx health;
    struct h_auth *auth; /* NULL when authentication is off */
    struct img_preset_table presets;
    struct sigv4_key_cache *key_cache;
    char public_scheme[8];
    char public_host[256];
    /* a real S3 (IMGSVC_S3_ENDPOINT set): resolved credentials and clients */
    struct s3_credentials s3_creds; /* empty when none were found */
    struct s3_client *s3;           /* NULL with the embedded store */
    struct s3_client *s3_probe;     /* short timeouts, no retries: for /readyz */
    struct h_uploads_ctx uploads;
    struct h_resize_ctx resize;
    /* the embedded S3 store: runs when IMGSVC_S3_ENDPOINT is empty (store_enabled) */
    bool store_enabled;
    const char *store_access_key; /* the setting, or the loopback-only dev default */
    const char *store_secret_key;
    struct s3_store *store; /* opened by serve */
    struct h_store_ctx store_ctx;
    /* the event pipeline's queue: set by serve once its worker pool runs (NULL until then:
     * POST /v1/events/s3 answers 503) */
    h_pipe_submit_fn pipe_submit;
    void *pipe_submit_arg;
    struct h_pipeline *pipeline; /* the event pipeline (server/app_pipeline.c); NULL without S3 */
    struct s3_client *pipe_s3;   /* its client of the embedded store (NULL with a real S3) */
    struct srv_pool *pool;       /* serve's worker pool (borrowed) */
    struct strcount *pending;    /* temp keys with a pipeline job queued or running */
    struct h_status_ctx status;  /* GET /v1/uploads/{uploadId} */
    struct h_events_ctx events;  /* POST /v1/events/s3 (server/app_events.c) */
    /* the reconciler and POST /v1/objects/reprocess (server/app_reconcile.c) */
    struct h_reprocess_ctx reprocess;
    struct srv_reconciler *reconciler; /* NULL when off */
    struct h_demo_ctx demo;            /* the browser demo at / (server/routes.c) */
};

/*
 * Builds everything the routes need from the settings: authentication (refusing "off" unless
 * the API listens on loopback), presets (built-in or IMGSVC_PRESETS_FILE), presigning. Errors
 * name the setting at fault. Free with srv_app_free whatever the result.
 */
enum err_code srv_app_init(struct srv_app *app, const struct srv_config *cfg, struct err *e);
void srv_app_free(struct srv_app *app);

/*
 * With IMGSVC_S3_ENDPOINT set: resolves the credentials (AWS_* variables, else the shared
 * credentials file and profile) and opens the S3 clients. Without credentials the service
 * still starts: presigning answers 503 and /readyz says why. (server/app_s3.c)
 */
enum err_code srv_app_init_s3(struct srv_app *app, const struct srv_config *cfg, struct err *e);
void srv_app_free_s3(struct srv_app *app);

/* The event webhook's context: token rule, SNS fetcher, limits. (server/app_events.c) */
enum err_code srv_app_init_events(struct srv_app *app, const struct srv_config *cfg, struct err *e);
void srv_app_free_events(struct srv_app *app);

/* The pipeline's settings from the configuration: limits and multipart policy (as
 * /v1/resize), the temp GET cap (IMGSVC_MAX_IMAGE_BYTES), attempts and backoff
 * (IMGSVC_PIPELINE_*). `s3` and `presets` are borrowed by `out`. (server/app_pipeline.c) */
void srv_pipeline_cfg(const struct srv_config *cfg, struct s3_client *s3,
                      const struct img_preset_table *presets, struct h_pipeline_cfg *out);

/*
 * serve, once the embedded store listens on `store_port` (ignored with a real S3): opens the
 * pipeline's S3 client (the store's listener, or app->s3), the pipeline, and sets
 * app->pipe_submit to queue records on `pool` (borrowed; ERR_BUSY when full). Without S3
 * credentials nothing is created and pipe_submit stays NULL. Free with srv_app_free_pipeline
 * once the pool has stopped.
 */
enum err_code srv_app_init_pipeline(struct srv_app *app, struct srv_pool *pool, unsigned store_port,
                                    struct err *e);
void srv_app_free_pipeline(struct srv_app *app);

/* The embedded store's on_event hook (arg: the app): parses the records and submits each;
 * one that cannot be queued is logged and counted (the reconciler finds its object later). */
void srv_app_store_event(void *arg, const char *records_json, size_t len);

/* Fills app->reprocess (the route's context: auth, the pipeline's S3 client, the bound, a submit
 * hook that queues h_pipeline_reprocess jobs on app->pool). Call once the pipeline exists,
 * before the routes are built. (server/app_reconcile.c) */
void srv_app_reprocess_ctx(struct srv_app *app);

/* Starts the reconciler thread (server/reconciler.h) on the pipeline's S3 client and submit hook
 * unless IMGSVC_RECONCILE_INTERVAL_S is 0 or no pipeline runs. Stop it with
 * srv_app_stop_reconciler before the pool drains. (server/app_reconcile.c) */
enum err_code srv_app_start_reconciler(struct srv_app *app, struct err *e);
void srv_app_stop_reconciler(struct srv_app *app);

/* The /readyz check of a real S3: a one-key listing of the bucket. */
bool srv_app_s3_ready(void *arg, char *detail, size_t cap);

/* Fills `out` with the API routes; returns how many. */
size_t srv_routes_build(struct srv_app *app, struct srv_route out[SRV_MAX_ROUTES]);

/* The API server's admit hook (srv_http_opts.admit): POST /v1/resize and /v1/info are refused
 * before their body is read when the credentials are refused (401/403) or, for a caller let in,
 * while the image workers' limiter and wait queue are full (429; h_resize_admit); every other
 * route is admitted. */
bool srv_routes_admit(const struct srv_route *route, const struct h_request *req,
                      struct h_response *resp);

/* Once the embedded store listens on `port`: presigned URLs point at it unless
 * IMGSVC_PUBLIC_ENDPOINT says otherwise (the port may have been 0 = any). */
void srv_app_store_started(struct srv_app *app, unsigned port);

/* Fills `out` with the embedded S3 store's routes (context app->store_ctx); returns how many. */
size_t srv_store_routes_build(struct srv_app *app, struct srv_route out[SRV_MAX_ROUTES]);

#endif
