/*
 * health.h: the operations endpoints GET /healthz, GET /readyz and GET /metrics.
 *
 * The handlers know nothing of what they check: the server registers readiness checks and the
 * metrics renderer through `struct h_health_ctx`, passed as the routes' context.
 */
#ifndef IMGSVC_HANDLERS_HEALTH_H
#define IMGSVC_HANDLERS_HEALTH_H

#include <stdbool.h>
#include <stddef.h>

#include "handlers/http.h"

#define H_HEALTH_MAX_CHECKS 8

/* A readiness check: true when ready; `detail` (cap bytes) says why not. */
typedef bool (*h_check_fn)(void *arg, char *detail, size_t cap);

struct h_health_check {
    const char *name;
    h_check_fn fn;
    void *arg;
};

struct h_health_ctx {
    const char *version;
    struct h_health_check checks[H_HEALTH_MAX_CHECKS];
    size_t nchecks;
    /* Renders the Prometheus text exposition; caller frees the result with free(). */
    char *(*render_metrics)(void *arg, size_t *len);
    void *metrics_arg;
};

/* Adds a readiness check. False when the table is full. */
bool h_health_add_check(struct h_health_ctx *ctx, const char *name, h_check_fn fn, void *arg);

/* GET /healthz: 200 {"status":"ok","version":...} while the process runs. */
void h_healthz(const struct h_request *req, struct h_response *resp);
/* GET /readyz: 200 when every check passes, else 503 with each failing check's reason. */
void h_readyz(const struct h_request *req, struct h_response *resp);
/* GET /metrics: Prometheus text format 0.0.4. */
void h_metrics(const struct h_request *req, struct h_response *resp);

#endif
