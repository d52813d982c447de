/*
 * resize.c: POST /v1/resize and POST /v1/info. See resize.h.
 *
 * Both take the raw image as the body. Steps: authenticate, take a concurrency slot (429 +
 * Retry-After when none is free in time), unwrap a multipart/form-data envelope (or refuse it),
 * probe the header against the limits, then resize once (resize) or compute the facts and
 * placeholders (info). imaging/ refusals map to 400/413/415/422 with their own codes.
 */
#include "handlers/resize.h"
#include "handlers/resize_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "handlers/guard.h"
#include "imaging/img_facts.h"
#include "imaging/img_input.h"
#include "imaging/img_probe.h"
#include "imaging/img_process.h"
#include "imaging/img_variant.h"

/* HTTP status for an imaging refusal. */
static int reason_status(enum img_reason r)
{
    switch (r) {
    case IMG_R_UNSUPPORTED_FORMAT:
        return 415;
    case IMG_R_TOO_LARGE_BYTES:
        return 413;
    case IMG_R_TOO_MANY_PIXELS:
    case IMG_R_DIMENSIONS_TOO_LARGE:
    case IMG_R_TOO_MANY_FRAMES:
    case IMG_R_PROGRESSIVE_TOO_LARGE:
    case IMG_R_CORRUPT_IMAGE:
    case IMG_R_TRUNCATED:
        return 422;
    case IMG_R_INTERNAL:
        return 500;
    default:
        return 400;
    }
}

static void img_refusal(const struct h_request *req, struct h_response *resp,
                        const struct img_error *ie)
{
    int status = reason_status(ie->reason);
    if (status == 500)
        log_msg(LOGL_ERROR, "imaging", req->request_id, "%s", ie->msg);
    h_resp_error(resp, req, status, img_reason_name(ie->reason), "%s", ie->msg);
}

/* Parses query integer `name` in [lo, hi]; absent leaves *out. False (and a 400) when bad. */
static bool query_int(const struct h_request *req, struct h_response *resp, const char *name,
                      int lo, int hi, int *out)
{
    const char *v = h_query(req, name);
    if (v == NULL)
        return true;
    char *end = NULL;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || n < lo || n > hi) {
        h_resp_error(resp, req, 400, "invalid_option", "query %s must be an integer from %d to %d",
                     name, lo, hi);
        return false;
    }
    *out = (int)n;
    return true;
}

/* Builds the one preset of a resize request from w, h, fit, gravity, format, q. */
bool h_resize_parse_preset(const struct h_request *req, struct h_response *resp,
                           struct img_preset *p)
{
    memset(p, 0, sizeof(*p));
    snprintf(p->name, sizeof(p->name), "resize");
    p->quality = IMG_DEFAULT_QUALITY;
    if (!query_int(req, resp, "w", 1, IMG_PRESET_MAX_SIDE, &p->width) ||
        !query_int(req, resp, "h", 1, IMG_PRESET_MAX_SIDE, &p->height) ||
        !query_int(req, resp, "q", 1, 100, &p->quality))
        return false;
    const char *fit = h_query(req, "fit"), *grav = h_query(req, "gravity");
    const char *fmt = h_query(req, "format");
    const char *bad = NULL;
    if (fit != NULL && !img_fit_parse(fit, &p->fit))
        bad = "fit must be inside, cover, contain or fill";
    else if (grav != NULL && !img_gravity_parse(grav, &p->gravity))
        bad = "gravity must be centre or attention";
    else if (fmt != NULL && !img_out_format_parse(fmt, &p->format))
        bad = "format must be same, jpeg, png, webp or avif";
    else if (p->width == 0 && p->height == 0)
        bad = "give w, h or both";
    struct img_error ie = {0};
    if (bad == NULL && img_preset_validate(p, &ie) != ERR_OK)
        bad = ie.msg;
    if (bad != NULL) {
        h_resp_error(resp, req, 400, "invalid_option", "%s", bad);
        return false;
    }
    return true;
}

/* The 429 for a caller let in while the image slots are full; returns false. */
static bool too_busy(const struct h_request *req, struct h_response *resp, const char *msg)
{
    h_resp_error(resp, req, 429, "too_many_requests", "%s", msg);
    (void)h_resp_header(resp, "Retry-After", "1");
    return false;
}

/* Authenticates, takes a slot, unwraps and probes. On false `resp` holds the refusal. */
static bool admit(const struct h_request *req, struct h_response *resp,
                  const struct h_resize_ctx *ctx, struct img_span *img, struct img_probe *probe,
                  bool *unwrapped)
{
    struct h_auth_principal who;
    if (!h_guard(req, resp, ctx->auth, &who))
        return false;
    struct img_error ie = {0};
    if (img_input_unwrap(req->body, req->body_len, ctx->multipart_recovery, img, unwrapped, &ie) !=
            ERR_OK ||
        img_probe(img->data, img->len, &ctx->limits, probe, &ie) != ERR_OK) {
        img_refusal(req, resp, &ie);
        return false;
    }
    if (h_limiter_acquire(ctx->limiter) != ERR_OK)
        return too_busy(req, resp, "the image workers are busy; retry after the Retry-After delay");
    return true;
}

bool h_resize_admit(const struct h_request *req, struct h_response *resp)
{
    const struct h_resize_ctx *c = req->route_ctx;
    struct h_auth_principal who;
    if (!h_guard(req, resp, c->auth, &who))
        return false;
    if (c->limiter == NULL || h_limiter_has_room(c->limiter))
        return true;
    return too_busy(req, resp,
                    "this route is at its concurrency limit; retry after the Retry-After delay");
}

static void note_unwrapped(const struct h_request *req, struct h_response *resp)
{
    log_msg(LOGL_WARN, "imaging", req->request_id,
            "body was a multipart/form-data envelope; its file part was used (send raw bytes)");
    (void)h_resp_header(resp, "X-Imgsvc-Warning", "multipart_unwrapped");
}

void h_resize(const struct h_request *req, struct h_response *resp)
{
    const struct h_resize_ctx *ctx = req->route_ctx;
    struct img_preset preset;
    struct img_span img;
    struct img_probe probe;
    bool unwrapped = false;
    if (!h_resize_parse_preset(req, resp, &preset) ||
        !admit(req, resp, ctx, &img, &probe, &unwrapped))
        return;
    struct img_variants out = {0};
    struct img_error ie = {0};
    struct img_job_opts jo = img_job_opts_default();
    jo.limits = ctx->limits;
    jo.recover_multipart = false; /* `img` is already unwrapped */
    bool again = false;
    enum err_code rc = img_resize(img.data, img.len, &jo, &preset, &out, &again, &ie);
    h_limiter_release(ctx->limiter);
    if (rc != ERR_OK) {
        img_refusal(req, resp, &ie);
        return;
    }
    struct img_variant *v = &out.items[0];
    char dim[16];
    h_resp_take(resp, 200, img_format_mime(v->format), v->data, v->len);
    v->data = NULL; /* now owned by the response */
    snprintf(dim, sizeof(dim), "%d", v->width);
    (void)h_resp_header(resp, "X-Image-Width", dim);
    snprintf(dim, sizeof(dim), "%d", v->height);
    (void)h_resp_header(resp, "X-Image-Height", dim);
    if (unwrapped)
        note_unwrapped(req, resp);
    img_variants_free(&out);
}

static cJSON *facts_json(const struct img_facts *f)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "format", img_format_name(f->format));
    cJSON_AddStringToObject(o, "contentType", img_format_mime(f->format));
    cJSON_AddNumberToObject(o, "width", f->width);
    cJSON_AddNumberToObject(o, "height", f->height);
    cJSON_AddNumberToObject(o, "orientation", f->orientation);
    cJSON_AddBoolToObject(o, "alpha", f->has_alpha);
    cJSON_AddNumberToObject(o, "frames", f->frames);
    if (f->placeholders) {
        cJSON_AddStringToObject(o, "dominantColor", f->dominant);
        cJSON_AddStringToObject(o, "blurhash", f->blurhash);
        cJSON_AddStringToObject(o, "thumbhash", f->thumbhash);
    }
    return o;
}

void h_info(const struct h_request *req, struct h_response *resp)
{
    const struct h_resize_ctx *ctx = req->route_ctx;
    struct img_span img;
    struct img_probe probe;
    bool unwrapped = false;
    if (!admit(req, resp, ctx, &img, &probe, &unwrapped))
        return;
    struct img_pixels px = {0};
    struct img_error ie = {0};
    enum err_code rc = img_placeholder_pixels(img.data, img.len, &probe, &px, &ie);
    h_limiter_release(ctx->limiter);
    if (rc != ERR_OK) {
        img_refusal(req, resp, &ie);
        return;
    }
    struct img_facts f;
    img_facts_fill(&f, &probe, &px);
    img_pixels_free(&px);
    cJSON *o = facts_json(&f);
    cJSON_AddNumberToObject(o, "bytes", (double)img.len);
    h_resp_json(resp, 200, o);
    if (unwrapped)
        note_unwrapped(req, resp);
}
