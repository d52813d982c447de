/*
 * routes.c: the API's routing table. See routes.h.
 *
 * Every route names its body cap: 0 for routes that take no body, a setting for the rest.
 */
#include "server/routes.h"

#include <stdio.h>

#include "common/log.h"
#include "handlers/debug.h"
#include "handlers/demo.h"

/* The browser demo's routes when IMGSVC_DEMO allows them (handlers/demo.h). Built here, after
 * the embedded store started, so the page's policy names the store's real port. */
static size_t demo_routes(struct srv_app *app, struct srv_route *out)
{
    char origin[300];
    struct err e = {0};
    if (!h_demo_wanted(app->cfg->demo, app->cfg->listen_addr))
        return 0;
    if (app->uploads.virtual_hosted)
        snprintf(origin, sizeof(origin), "%s://%s.%s", app->public_scheme, app->cfg->s3_bucket,
                 app->public_host);
    else
        snprintf(origin, sizeof(origin), "%s://%s", app->public_scheme, app->public_host);
    if (h_demo_ctx_init(&app->demo, app->auth != NULL, origin, &e) != ERR_OK) {
        log_msg(LOGL_WARN, "demo", NULL, "the browser demo is off: %s", e.msg);
        h_demo_ctx_free(&app->demo);
        return 0;
    }
    for (size_t i = 0; i < H_DEMO_NFILES; i++)
        out[i] =
            (struct srv_route){"GET", app->demo.files[i].path, h_demo_get, &app->demo.files[i], 0};
    return H_DEMO_NFILES;
}

size_t srv_routes_build(struct srv_app *app, struct srv_route out[SRV_MAX_ROUTES])
{
    size_t n = 0;
    out[n++] = (struct srv_route){"GET", "/healthz", h_healthz, &app->health, 0};
    out[n++] = (struct srv_route){"GET", "/readyz", h_readyz, &app->health, 0};
    out[n++] = (struct srv_route){"GET", "/metrics", h_metrics, &app->health, 0};
    out[n++] = (struct srv_route){"POST", "/v1/uploads", h_uploads_create, &app->uploads,
                                  (size_t)app->cfg->max_json_bytes};
    app->status.auth = app->auth; /* serve opened the pipeline before building the routes */
    app->status.pipeline = app->pipeline;
    app->status.presign = &app->uploads; /* ?urls=1: GET URLs signed like the upload URLs */
    app->status.url_expires_s = app->cfg->status_url_expires_s;
    out[n++] =
        (struct srv_route){"GET", "/v1/uploads/{uploadId}", h_uploads_status, &app->status, 0};
    out[n++] = (struct srv_route){"POST", "/v1/resize", h_resize, &app->resize,
                                  (size_t)app->cfg->max_image_bytes};
    out[n++] = (struct srv_route){"POST", "/v1/info", h_info, &app->resize,
                                  (size_t)app->cfg->max_image_bytes};
    app->events.submit = app->pipe_submit; /* serve set it once its pool runs */
    app->events.submit_arg = app->pipe_submit_arg;
    out[n++] = (struct srv_route){"POST", "/v1/events/s3", h_events_post, &app->events,
                                  (size_t)app->cfg->events_max_bytes};
    out[n++] = (struct srv_route){"HEAD", "/v1/events/s3", h_events_head, &app->events, 0};
    srv_app_reprocess_ctx(app); /* serve opened the pipeline before building the routes */
    out[n++] = (struct srv_route){"POST", "/v1/objects/reprocess", h_reprocess_post,
                                  &app->reprocess, (size_t)app->cfg->max_json_bytes};
    n += demo_routes(app, out + n);
    if (app->cfg->debug_routes) {
        out[n++] = (struct srv_route){"POST", "/debug/echo", h_debug_echo, NULL,
                                      (size_t)app->cfg->max_json_bytes};
        out[n++] = (struct srv_route){"GET", "/debug/sleep", h_debug_sleep, NULL, 0};
    }
    return n;
}

bool srv_routes_admit(const struct srv_route *route, const struct h_request *req,
                      struct h_response *resp)
{
    if (route->fn == h_resize || route->fn == h_info)
        return h_resize_admit(req, resp);
    return true;
}

size_t srv_store_routes_build(struct srv_app *app, struct srv_route out[SRV_MAX_ROUTES])
{
    size_t n = 0;
    void *c = &app->store_ctx;
    size_t max_obj = (size_t)app->cfg->store_max_object_bytes;
    out[n++] = (struct srv_route){"GET", "/", h_store_list_buckets, c, 0};
    out[n++] = (struct srv_route){"GET", "/{bucket}", h_store_bucket_get, c, 0};
    out[n++] = (struct srv_route){"GET", "/{bucket}/", h_store_bucket_get, c, 0};
    out[n++] = (struct srv_route){"OPTIONS", "/{bucket}", h_store_options, c, 0};
    out[n++] = (struct srv_route){"OPTIONS", "/{bucket}/", h_store_options, c, 0};
    out[n++] = (struct srv_route){"GET", "/{bucket}/{key+}", h_store_object_get, c, 0};
    out[n++] = (struct srv_route){"PUT", "/{bucket}/{key+}", h_store_object_put, c, max_obj};
    out[n++] = (struct srv_route){"DELETE", "/{bucket}/{key+}", h_store_object_delete, c, 0};
    out[n++] = (struct srv_route){"OPTIONS", "/{bucket}/{key+}", h_store_options, c, 0};
    return n;
}
