/*
 * serve.c: `imgsvc serve`. See serve.h.
 *
 * Start: signals blocked in every thread (the main thread takes them with sigwait), metrics
 * registered, worker pool, routes, HTTP server. Stop (SIGTERM or SIGINT): /readyz turns 503,
 * the listener closes, in-flight requests finish and queued jobs run until
 * IMGSVC_SHUTDOWN_TIMEOUT_S, then every connection closes and the process exits 0 (1 when the
 * deadline cut work short: queued jobs are dropped, and jobs still running are left to die with
 * the process, which then exits at once without freeing what they use). A second signal during
 * the drain exits at once with status 1.
 */
#include "server/serve.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/metrics.h"
#include "common/timeutil.h"
#include "imaging/img_init.h"
#include "server/alloc.h"
#include "server/http.h"
#include "server/pool.h"
#include "server/routes.h"

#ifndef IMGSVC_GIT_REV
#define IMGSVC_GIT_REV "unknown"
#endif

static atomic_bool draining;
static struct srv_pool *the_pool;
static struct srv_http *the_http;
static struct srv_http *the_store_http; /* the embedded S3 store's listener, when it runs */

static bool check_not_draining(void *arg, char *detail, size_t cap)
{
    (void)arg;
    if (atomic_load(&draining)) {
        snprintf(detail, cap, "shutting down");
        return false;
    }
    return true;
}

static double queue_depth(void *arg)
{
    (void)arg;
    return the_pool ? (double)srv_pool_queued(the_pool) : 0;
}

static double queue_capacity(void *arg)
{
    (void)arg;
    return the_pool ? (double)srv_pool_capacity(the_pool) : 0;
}

static double jobs_running(void *arg)
{
    (void)arg;
    return the_pool ? (double)srv_pool_running(the_pool) : 0;
}

static double inflight(void *arg)
{
    (void)arg;
    return the_http ? (double)srv_http_inflight(the_http) : 0;
}

static char *render_metrics(void *arg, size_t *len)
{
    (void)arg;
    return metrics_render(len);
}

static void register_metrics(void)
{
    srv_http_register_metrics();
    metrics_register("imgsvc_build_info", METRICS_GAUGE,
                     "Always 1; the labels carry the version and git revision", NULL, 0);
    metrics_set("imgsvc_build_info",
                "version=\"" IMGSVC_VERSION "\",revision=\"" IMGSVC_GIT_REV "\"", 1);
    metrics_register("imgsvc_process_start_time_seconds", METRICS_GAUGE,
                     "Start time of the process since the Unix epoch in seconds", NULL, 0);
    metrics_set("imgsvc_process_start_time_seconds", NULL, (double)ts_now_realtime_ms() / 1000.0);
    metrics_register_fn("imgsvc_queue_depth", "Background jobs waiting in the queue", queue_depth,
                        NULL);
    metrics_register_fn("imgsvc_queue_capacity", "Most background jobs the queue holds",
                        queue_capacity, NULL);
    metrics_register_fn("imgsvc_jobs_running", "Background jobs running now", jobs_running, NULL);
    metrics_register_fn("imgsvc_pipeline_queue_depth", "Event records waiting for a worker",
                        queue_depth, NULL);
    metrics_register_fn("imgsvc_http_in_flight_requests", "HTTP requests being handled now",
                        inflight, NULL);
    metrics_register("imgsvc_store_events_total", METRICS_COUNTER,
                     "ObjectCreated events emitted by the embedded S3 store", NULL, 0);
}

/* Opens the embedded store, creates the bucket and starts its listener (when it runs). */
static enum err_code start_store(const struct srv_config *cfg, struct srv_app *app,
                                 struct srv_route *routes, struct err *e)
{
    if (!app->store_enabled)
        return ERR_OK;
    struct s3_store_opts so = {cfg->data_dir, (uint64_t)cfg->store_max_object_bytes, false};
    app->store = s3_store_open(&so, e);
    if (app->store == NULL || s3_store_bucket_create(app->store, cfg->s3_bucket, e) != ERR_OK)
        return e->code != ERR_OK ? e->code : ERR_INTERNAL;
    struct h_store_ctx *c = &app->store_ctx;
    c->store = app->store;
    c->bucket = cfg->s3_bucket;
    c->region = cfg->aws_region;
    c->access_key = app->store_access_key;
    c->secret_key = app->store_secret_key;
    c->key_cache = app->key_cache;
    c->cors = (struct h_store_cors){cfg->store_cors_origins, cfg->store_cors_methods,
                                    cfg->store_cors_headers, cfg->store_cors_expose_headers,
                                    (long)cfg->store_cors_max_age_s};
    c->event_prefix = cfg->store_event_prefix;
    if (c->on_event == NULL) { /* the pipeline (server/app_pipeline.c) */
        c->on_event = srv_app_store_event;
        c->event_arg = app;
    }
    struct srv_http_opts ho = {
        .addr = cfg->store_listen_addr,
        .port = (unsigned)cfg->store_port,
        .threads = (unsigned)cfg->http_threads,
        .max_connections = (unsigned)cfg->max_connections,
        .read_timeout_s = (unsigned)cfg->read_timeout_s,
        .routes = routes,
        .nroutes = srv_store_routes_build(app, routes),
        .name = "store",
        .render_error = h_store_render_error,
    };
    the_store_http = srv_http_new(&ho, e);
    if (the_store_http == NULL)
        return e->code;
    srv_app_store_started(app, srv_http_port(the_store_http));
    return ERR_OK;
}

static void log_listening(const char *server, const char *addr, unsigned port)
{
    cJSON *f = cJSON_CreateObject();
    if (server != NULL)
        cJSON_AddStringToObject(f, "server", server);
    cJSON_AddStringToObject(f, "addr", addr);
    cJSON_AddNumberToObject(f, "port", port);
    cJSON_AddStringToObject(f, "version", IMGSVC_VERSION);
    if (server == NULL) { /* the API's line also says how memory is allocated */
        struct srv_alloc a = srv_alloc_info();
        cJSON_AddStringToObject(f, "allocator", a.allocator);
        if (a.arenas > 0)
            cJSON_AddNumberToObject(f, "mallocArenas", a.arenas);
        cJSON_AddStringToObject(f, "mallocArenasFrom", a.from);
    }
    log_fields(LOGL_INFO, "main", NULL, "listening", f);
}

/* Second signal during the drain: give up at once. */
static void *second_signal(void *arg)
{
    sigset_t *set = arg;
    int sig = 0;
    if (sigwait(set, &sig) == 0) {
        log_msg(LOGL_WARN, "main", NULL, "second signal %d: exiting without draining", sig);
        _exit(1);
    }
    return NULL;
}

/* Destroys the pool; while jobs still run (a deadline passed) the process ends at once with
 * status 1 instead: they use the pipeline, the S3 client and libvips, which the caller would
 * free under them. Their uploads stay under delete/ for the reconciler. */
static void destroy_pool_or_exit(void)
{
    if (!srv_pool_destroy(the_pool)) {
        log_msg(LOGL_WARN, "main", NULL, "stopped with jobs still running");
        fflush(stderr);
        _exit(1);
    }
    the_pool = NULL;
}

static int drain(const struct srv_config *cfg, sigset_t *set)
{
    pthread_t t;
    if (pthread_create(&t, NULL, second_signal, set) == 0)
        pthread_detach(t);
    int64_t deadline = ts_now_mono_ms() + cfg->shutdown_timeout_s * 1000;
    atomic_store(&draining, true);
    srv_http_quiesce(the_http);
    bool http_idle = srv_http_wait_idle(the_http, deadline);
    /* queued records still talk to the embedded store: it closes after the pool drained */
    bool jobs_done = srv_pool_drain(the_pool, deadline);
    if (the_store_http != NULL) {
        srv_http_quiesce(the_store_http);
        http_idle = srv_http_wait_idle(the_store_http, deadline) && http_idle;
    }
    if (!http_idle || !jobs_done)
        log_msg(LOGL_WARN, "main", NULL,
                "shutdown deadline of %lld s passed: %zu requests in flight, %zu jobs queued, "
                "%zu running",
                cfg->shutdown_timeout_s, srv_http_inflight(the_http), srv_pool_queued(the_pool),
                srv_pool_running(the_pool));
    srv_http_destroy(the_http);
    the_http = NULL;
    srv_http_destroy(the_store_http);
    the_store_http = NULL;
    destroy_pool_or_exit();
    return http_idle && jobs_done ? 0 : 1;
}

int srv_serve(const struct srv_config *cfg)
{
    /* static: the detached second-signal thread keeps waiting on it after srv_serve returns */
    static sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* A file size limit (ulimit -f) fails the store's write with EFBIG, like a full disk,
     * instead of killing the process: the PUT answers 500 InternalError. */
    signal(SIGXFSZ, SIG_IGN);
    register_metrics();

    struct err e = {0};
    struct img_init_opts io = {.concurrency = (int)cfg->vips_concurrency,
                               .log_debug = strcmp(cfg->log_level, "debug") == 0};
    if (img_global_init(&io, &e) != ERR_OK) {
        log_msg(LOGL_ERROR, "main", NULL, "cannot start libvips: %s", e.msg);
        return 1;
    }
    size_t jobs = cfg->pipeline_jobs > 0 ? (size_t)cfg->pipeline_jobs : 2 * (size_t)cfg->workers;
    struct srv_pool_opts po = {jobs, (size_t)cfg->queue_depth, img_thread_cleanup};
    the_pool = srv_pool_new(&po, &e);
    if (the_pool == NULL) {
        log_msg(LOGL_ERROR, "main", NULL, "cannot start workers: %s", e.msg);
        return 1;
    }
    static struct srv_app app;
    static struct srv_route routes[SRV_MAX_ROUTES];
    static struct srv_route store_routes[SRV_MAX_ROUTES];
    memset(&app, 0, sizeof(app));
    if (srv_app_init(&app, cfg, &e) != ERR_OK) {
        log_msg(LOGL_ERROR, "main", NULL, "%s", e.msg);
        srv_app_free(&app);
        srv_pool_destroy(the_pool);
        return 2;
    }
    app.health.version = IMGSVC_VERSION;
    app.health.render_metrics = render_metrics;
    h_health_add_check(&app.health, "shutdown", check_not_draining, NULL);
    if (!app.store_enabled)
        h_health_add_check(&app.health, "s3", srv_app_s3_ready, &app);
    if (start_store(cfg, &app, store_routes, &e) != ERR_OK ||
        srv_app_init_pipeline(&app, the_pool, the_store_http ? srv_http_port(the_store_http) : 0,
                              &e) != ERR_OK) {
        log_msg(LOGL_ERROR, "main", NULL, "embedded S3 store or pipeline: %s", e.msg);
        srv_http_destroy(the_store_http);
        the_store_http = NULL;
        s3_store_close(app.store);
        srv_pool_destroy(the_pool); /* first: dropped jobs give their keys back to the app */
        srv_app_free(&app);
        return 1;
    }
    size_t nroutes = srv_routes_build(&app, routes);

    struct srv_http_opts ho = {
        .addr = cfg->listen_addr,
        .port = (unsigned)cfg->port,
        .threads = (unsigned)cfg->http_threads,
        .max_connections = (unsigned)cfg->max_connections,
        .read_timeout_s = (unsigned)cfg->read_timeout_s,
        .routes = routes,
        .nroutes = nroutes,
        .name = "api",
        .admit = srv_routes_admit, /* early 401/429 for /v1/resize and /v1/info */
    };
    the_http = srv_http_new(&ho, &e);
    if (the_http == NULL) {
        log_msg(LOGL_ERROR, "main", NULL, "%s", e.msg);
        srv_pool_drain(the_pool, ts_now_mono_ms() + 1000); /* store events may have queued */
        srv_http_destroy(the_store_http);
        the_store_http = NULL;
        destroy_pool_or_exit(); /* before the app is freed: dropped jobs give their keys back */
        s3_store_close(app.store);
        srv_app_free(&app);
        return 1;
    }
    log_listening(NULL, cfg->listen_addr, srv_http_port(the_http));
    if (the_store_http != NULL) /* after the API's line, which tools wait for first */
        log_listening("store", cfg->store_listen_addr, srv_http_port(the_store_http));
    if (srv_app_start_reconciler(&app, &e) != ERR_OK) /* first pass at once */
        log_msg(LOGL_ERROR, "main", NULL, "reconciler not started: %s", e.msg);

    int sig = 0;
    sigwait(&set, &sig);
    log_msg(LOGL_INFO, "main", NULL, "signal %d: draining (deadline %lld s)", sig,
            cfg->shutdown_timeout_s);
    srv_app_stop_reconciler(&app); /* before the pool drains: it submits to it */
    int rc = drain(cfg, &set);
    s3_store_close(app.store);
    app.store = NULL;
    srv_app_free(&app);
    img_global_shutdown();
    log_msg(LOGL_INFO, "main", NULL, "stopped");
    return rc;
}
