/*
 * health.c: operations endpoints. See health.h.
 */
#include "handlers/health.h"

#include <stdlib.h>

bool h_health_add_check(struct h_health_ctx *ctx, const char *name, h_check_fn fn, void *arg)
{
    if (ctx->nchecks >= H_HEALTH_MAX_CHECKS)
        return false;
    ctx->checks[ctx->nchecks++] = (struct h_health_check){name, fn, arg};
    return true;
}

void h_healthz(const struct h_request *req, struct h_response *resp)
{
    const struct h_health_ctx *ctx = req->route_ctx;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "status", "ok");
    if (ctx != NULL && ctx->version != NULL)
        cJSON_AddStringToObject(o, "version", ctx->version);
    h_resp_json(resp, 200, o);
}

void h_readyz(const struct h_request *req, struct h_response *resp)
{
    const struct h_health_ctx *ctx = req->route_ctx;
    cJSON *o = cJSON_CreateObject();
    cJSON *checks = cJSON_CreateObject();
    bool ready = true;
    for (size_t i = 0; ctx != NULL && i < ctx->nchecks; i++) {
        char detail[256] = "";
        bool ok = ctx->checks[i].fn(ctx->checks[i].arg, detail, sizeof(detail));
        cJSON_AddStringToObject(checks, ctx->checks[i].name, ok ? "ok" : detail);
        ready = ready && ok;
    }
    cJSON_AddStringToObject(o, "status", ready ? "ready" : "not_ready");
    cJSON_AddItemToObject(o, "checks", checks);
    h_resp_json(resp, ready ? 200 : 503, o);
}

void h_metrics(const struct h_request *req, struct h_response *resp)
{
    const struct h_health_ctx *ctx = req->route_ctx;
    size_t len = 0;
    char *text = NULL;
    if (ctx != NULL && ctx->render_metrics != NULL)
        text = ctx->render_metrics(ctx->metrics_arg, &len);
    if (text == NULL) {
        h_resp_error(resp, req, 500, "internal", "metrics could not be rendered");
        return;
    }
    h_resp_take(resp, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
}
