/*
 * routes.h: the API's routing table, the one place (with main.c) that knows the handlers.
 */
#ifndef IMGSVC_SERVER_ROUTES_H
#define IMGSVC_SERVER_ROUTES_H

#include <stddef.h>

#include "handlers/auth.h"
#include "handlers/health.h"
#include "handlers/resize.h"
#include "handlers/store.h"
#include "handlers/uploads.h"
#include "imaging/img_preset.h"
#include "s3/sigv4.h"
#include "server/config.h"
#include "server/router.h"

#define SRV_MAX_ROUTES 32

/* What the handlers need, built once by `serve` (srv_app_init) and borrowed by the routes. */
struct srv_app {
    const struct srv_config *cfg;
    struct h_health_ctx health;
    struct h_auth *auth; /* NULL when authentication is off */
    struct img_preset_table presets;
    struct sigv4_key_cache *key_cache;
    char public_scheme[8];
    char public_host[256];
    struct h_uploads_ctx uploads;
    struct h_resize_ctx resize;
    /* the embedded S3 store: runs when IMGSVC_S3_ENDPOINT is empty (store_enabled) */
    bool store_enabled;
    const char *store_access_key; /* the setting, or the loopback-only dev default */
    const char *store_secret_key;
    struct s3_store *store; /* opened by serve */
    struct h_store_ctx store_ctx;
};

/*
 * Builds everything the routes need from the settings: authentication (refusing "off" unless
 * the API listens on loopback), presets (built-in or IMGSVC_PRESETS_FILE), presigning. Errors
 * name the setting at fault. Free with srv_app_free whatever the result.
 */
enum err_code srv_app_init(struct srv_app *app, const struct srv_config *cfg, struct err *e);
void srv_app_free(struct srv_app *app);

/* Fills `out` with the API routes; returns how many. */
size_t srv_routes_build(struct srv_app *app, struct srv_route out[SRV_MAX_ROUTES]);

/* Once the embedded store listens on `port`: presigned URLs point at it unless
 * IMGSVC_PUBLIC_ENDPOINT says otherwise (the port may have been 0 = any). */
void srv_app_store_started(struct srv_app *app, unsigned port);

/* Fills `out` with the embedded S3 store's routes (context app->store_ctx); returns how many. */
size_t srv_store_routes_build(struct srv_app *app, struct srv_route out[SRV_MAX_ROUTES]);

#endif
