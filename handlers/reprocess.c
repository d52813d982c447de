/*
 * reprocess.c: POST /v1/objects/reprocess, the prefix check and the origin listing. See
 * reprocess.h.
 *
 * The route is a list of named steps: authenticate (API keys only), parse the body, check the
 * prefix, list the origins under it (bounded), queue one job per origin, answer 202. Nothing is
 * queued when the listing fails or holds too many origins.
 */
#include "handlers/reprocess.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/log.h"
#include "handlers/guard.h"
#include "s3/keys.h"

/* ---- prefix check -------------------------------------------------------------------------- */

static bool seg_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

/* True when the first `n` bytes of `s` are the top folder of some domain's path. */
static bool is_domain_root(const char *s, size_t n)
{
    for (int d = 0; d < S3_DOMAIN_COUNT; d++) {
        const struct s3_key_domain_desc *desc = s3_key_domain_get((enum s3_key_domain)d);
        size_t root = strcspn(desc->path, "/");
        if (root == n && strncmp(desc->path, s, n) == 0)
            return true;
    }
    return false;
}

enum err_code h_reprocess_prefix_check(const char *prefix, char *out, size_t cap, struct err *e)
{
    if (cap > 0)
        out[0] = '\0';
    if (prefix == NULL || prefix[0] == '\0')
        return err_set(e, ERR_INVALID, "the prefix is empty: give a folder such as profile/42/");
    size_t len = strlen(prefix);
    if (len > H_REPROCESS_PREFIX_MAX)
        return err_set(e, ERR_INVALID, "the prefix is longer than %d bytes",
                       H_REPROCESS_PREFIX_MAX);
    size_t seg = 0; /* length of the segment being read */
    for (size_t i = 0; i < len; i++) {
        char c = prefix[i];
        if (c == '/') {
            if (seg == 0)
                return err_set(e, ERR_INVALID,
                               "the prefix has an empty segment (a leading '/' "
                               "or '//')");
            seg = 0;
        } else if (!seg_char_ok(c)) {
            return err_set(e, ERR_INVALID,
                           "the prefix may hold only A-Z a-z 0-9 _ - and '/' between segments");
        } else {
            seg++;
        }
    }
    size_t root = strcspn(prefix, "/");
    if (!is_domain_root(prefix, root))
        return err_set(e, ERR_INVALID,
                       "the prefix must start with profile/, feed/ or chatroom/ (outputs; never "
                       "delete/ or failed/)");
    bool slash = prefix[len - 1] == '/';
    if (len + (slash ? 0 : 1) > H_REPROCESS_PREFIX_MAX || len + 2 > cap)
        return err_set(e, ERR_INVALID, "the prefix is longer than %d bytes",
                       H_REPROCESS_PREFIX_MAX);
    snprintf(out, cap, "%s%s", prefix, slash ? "" : "/");
    return ERR_OK;
}

/* ---- origin listing ------------------------------------------------------------------------ */

void h_key_list_free(struct h_key_list *l)
{
    if (l == NULL)
        return;
    for (size_t i = 0; i < l->n; i++)
        free(l->keys[i]);
    free(l->keys);
    memset(l, 0, sizeof(*l));
}

static bool key_list_add(struct h_key_list *l, const char *key)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        char **k = realloc(l->keys, cap * sizeof(*k));
        if (k == NULL)
            return false;
        l->keys = k;
        l->cap = cap;
    }
    char *copy = strdup(key);
    if (copy == NULL)
        return false;
    l->keys[l->n++] = copy;
    return true;
}

struct listing {
    struct h_key_list *out;
    size_t max_origins, origins, listed;
    enum err_code rc; /* ERR_TOO_LARGE or ERR_NOMEM when the walk stopped */
};

static bool on_key(void *ctx, const struct s3_list_entry *entry, const char *prefix)
{
    struct listing *l = ctx;
    if (entry == NULL || prefix != NULL)
        return true;
    l->listed++;
    if (l->max_origins > 0 && l->listed > l->max_origins * H_REPROCESS_KEYS_PER_UPLOAD) {
        l->rc = ERR_TOO_LARGE;
        return false;
    }
    struct s3_key k;
    if (s3_key_parse(entry->key, &k, NULL) != ERR_OK || k.kind != S3_KEY_ORIGIN)
        return true;
    if (l->max_origins > 0 && l->origins >= l->max_origins) {
        l->rc = ERR_TOO_LARGE;
        return false;
    }
    if (!key_list_add(l->out, entry->key)) {
        l->rc = ERR_NOMEM;
        return false;
    }
    l->origins++;
    return true;
}

enum err_code h_reprocess_list_origins(struct s3_client *s3, const char *prefix, size_t max_origins,
                                       struct h_key_list *out, struct err *e)
{
    struct listing l = {out, max_origins, 0, 0, ERR_OK};
    struct s3_list_opts lo = {.prefix = prefix, .max_keys = S3_LIST_MAX_KEYS};
    enum err_code rc = s3_client_list_each(s3, &lo, 0, on_key, &l, NULL, NULL, e);
    if (rc != ERR_OK)
        return rc;
    if (l.rc == ERR_TOO_LARGE)
        return err_set(e, ERR_TOO_LARGE, "%s holds more than %zu uploads", prefix, max_origins);
    if (l.rc != ERR_OK)
        return err_set(e, l.rc, "out of memory listing %s", prefix);
    return ERR_OK;
}

/* ---- the route ----------------------------------------------------------------------------- */

/* Only API-key callers (or everyone when authentication is off). */
static bool allowed(const struct h_request *req, struct h_response *resp,
                    const struct h_reprocess_ctx *ctx)
{
    struct h_auth_principal who;
    if (!h_guard(req, resp, ctx->auth, &who))
        return false;
    if (ctx->auth == NULL || who.via == H_AUTH_VIA_API_KEY)
        return true;
    h_resp_error(resp, req, 403, "forbidden",
                 "api_key_required: reprocessing is for internal callers with an API key");
    return false;
}

/* Reads {"prefix": string, "force": bool (optional)} and checks the prefix into `prefix`. */
static bool parse_body(const struct h_request *req, struct h_response *resp,
                       char prefix[H_REPROCESS_PREFIX_MAX + 2], bool *force)
{
    struct err e = {0};
    bool ok = false;
    cJSON *body = json_parse(req->body, req->body_len, &e);
    if (body == NULL || !cJSON_IsObject(body)) {
        h_resp_error(resp, req, 400, "malformed_json", "%s",
                     body ? "the body must be a JSON object" : e.msg);
        goto cleanup;
    }
    for (const cJSON *m = body->child; m != NULL; m = m->next) {
        if (strcmp(m->string, "prefix") != 0 && strcmp(m->string, "force") != 0) {
            h_resp_error(resp, req, 400, "unknown_field",
                         "unknown member '%.64s' (allowed: "
                         "prefix, force)",
                         m->string);
            goto cleanup;
        }
    }
    *force = false;
    if (cJSON_GetObjectItemCaseSensitive(body, "force") != NULL &&
        !json_get_bool(body, "force", force)) {
        h_resp_error(resp, req, 400, "bad_force", "force must be true or false");
        goto cleanup;
    }
    const char *p = json_get_str(body, "prefix");
    if (p == NULL ||
        h_reprocess_prefix_check(p, prefix, H_REPROCESS_PREFIX_MAX + 2, &e) != ERR_OK) {
        h_resp_error(resp, req, 400, "bad_prefix", "%s",
                     p ? e.msg : "prefix must be a string such as \"profile/42/\"");
        goto cleanup;
    }
    ok = true;
cleanup:
    cJSON_Delete(body);
    return ok;
}

/* Lists the origins; on failure fills the error response. */
static bool list(const struct h_request *req, struct h_response *resp,
                 const struct h_reprocess_ctx *ctx, const char *prefix, struct h_key_list *keys)
{
    struct err e = {0};
    enum err_code rc = h_reprocess_list_origins(ctx->s3, prefix, ctx->max_keys, keys, &e);
    if (rc == ERR_OK)
        return true;
    if (rc == ERR_TOO_LARGE)
        h_resp_error(resp, req, 413, "too_many_objects",
                     "%s holds more than %zu uploads (IMGSVC_REPROCESS_MAX_KEYS): use the "
                     "command `imgsvc reprocess --prefix %s`, or a narrower prefix",
                     prefix, ctx->max_keys, prefix);
    else {
        log_msg(LOGL_ERROR, "reprocess", req->request_id, "listing %s failed: %s", prefix, e.msg);
        h_resp_error(resp, req, 502, "storage_error", "listing the bucket failed: %s",
                     err_name(rc));
    }
    return false;
}

void h_reprocess_post(const struct h_request *req, struct h_response *resp)
{
    const struct h_reprocess_ctx *ctx = req->route_ctx;
    struct h_key_list keys = {0};
    char prefix[H_REPROCESS_PREFIX_MAX + 2];
    bool force = false;
    if (!allowed(req, resp, ctx) || !parse_body(req, resp, prefix, &force))
        goto cleanup;
    if (ctx->s3 == NULL || ctx->submit == NULL) {
        h_resp_error(resp, req, 503, "pipeline_unavailable", "the pipeline is not running");
        goto cleanup;
    }
    if (!list(req, resp, ctx, prefix, &keys))
        goto cleanup;
    size_t queued = 0;
    for (; queued < keys.n; queued++) {
        enum err_code rc = ctx->submit(ctx->submit_arg, keys.keys[queued], force);
        if (rc == ERR_OK)
            continue;
        (void)h_resp_header(resp, "Retry-After", "5");
        h_resp_error(resp, req, 503, rc == ERR_BUSY ? "queue_full" : "unavailable",
                     "queued %zu of %zu uploads before the job queue refused more; call again "
                     "later (finished uploads are skipped)",
                     queued, keys.n);
        goto cleanup;
    }
    log_msg(LOGL_INFO, "reprocess", req->request_id, "queued %zu uploads under %s (force=%s)",
            queued, prefix, force ? "true" : "false");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "queued", (double)queued);
    cJSON_AddStringToObject(o, "prefix", prefix);
    cJSON_AddBoolToObject(o, "force", force);
    h_resp_json(resp, 202, o);
cleanup:
    h_key_list_free(&keys);
}
