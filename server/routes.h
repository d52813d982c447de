/*
 * routes.h: the API's routing table, the one place (with main.c) that knows the handlers.
 */
#ifndef IMGSVC_SERVER_ROUTES_H
#define IMGSVC_SERVER_ROUTES_H

#include <stddef.h>

#include "handlers/health.h"
#include "server/config.h"
#include "server/router.h"

#define SRV_MAX_ROUTES 32

/* What the handlers need, built once by `serve` and borrowed by the routes. */
struct srv_app {
    const struct srv_config *cfg;
    struct h_health_ctx health;
};

/* Fills `out` with the API routes; returns how many. */
size_t srv_routes_build(struct srv_app *app, struct srv_route out[SRV_MAX_ROUTES]);

#endif
