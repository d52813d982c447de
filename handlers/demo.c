/*
 * demo.c: the browser demo's routes. See demo.h.
 *
 * Everything is built once at start (the joined assets and /demo.json), so a request only copies
 * a prepared text into its response.
 */
#include "handlers/demo.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "s3/keys.h"

#define DEMO_FILE_MAX (1024u * 1024u) /* cap of any one joined asset */

bool h_demo_wanted(const char *mode, const char *listen_addr)
{
    struct in_addr a4;
    if (mode == NULL || strcmp(mode, "off") == 0)
        return false;
    if (strcmp(mode, "on") == 0)
        return true;
    if (listen_addr == NULL)
        return false;
    if (inet_pton(AF_INET, listen_addr, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    return strcmp(listen_addr, "::1") == 0;
}

/* Joins NULL-terminated lines into one owned text. */
static enum err_code join(const char *const *lines, char **out, size_t *len, struct err *e)
{
    struct buf b;
    enum err_code rc = ERR_OK;
    buf_init(&b, DEMO_FILE_MAX);
    for (size_t i = 0; rc == ERR_OK && lines[i] != NULL; i++)
        rc = buf_append_str(&b, lines[i]);
    if (rc == ERR_OK && (*out = buf_take(&b, len)) == NULL)
        rc = ERR_NOMEM;
    if (rc != ERR_OK)
        err_set(e, rc, "a demo asset does not fit");
    buf_free(&b);
    return rc;
}

/* /demo.json: {"auth":bool,"domains":[{"name":"profile","ids":["userId"]},...]}. */
static enum err_code config_json(bool auth_on, char **out, size_t *len, struct err *e)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = o != NULL ? cJSON_AddArrayToObject(o, "domains") : NULL;
    bool ok = arr != NULL && cJSON_AddBoolToObject(o, "auth", auth_on) != NULL;
    for (int d = 0; ok && d < S3_DOMAIN_COUNT; d++) {
        const struct s3_key_domain_desc *desc = s3_key_domain_get((enum s3_key_domain)d);
        cJSON *item = cJSON_CreateObject();
        ok = item != NULL && cJSON_AddItemToArray(arr, item) &&
             cJSON_AddStringToObject(item, "name", desc->name) != NULL;
        cJSON *ids = ok ? cJSON_AddArrayToObject(item, "ids") : NULL;
        ok = ids != NULL;
        for (size_t i = 0; ok && i < desc->nids; i++) {
            cJSON *s = cJSON_CreateString(desc->id_names[i]);
            ok = s != NULL && cJSON_AddItemToArray(ids, s);
        }
    }
    *out = ok ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    if (*out == NULL)
        return err_set(e, ERR_NOMEM, "out of memory");
    *len = strlen(*out);
    return ERR_OK;
}

enum err_code h_demo_ctx_init(struct h_demo_ctx *c, bool auth_on, const char *store_origin,
                              struct err *e)
{
    enum err_code rc = ERR_OK;
    int n = snprintf(c->csp, sizeof(c->csp),
                     "default-src 'none'; script-src 'self'; style-src 'self'; "
                     "img-src 'self' data: blob: %s; connect-src 'self' %s; base-uri 'none'; "
                     "form-action 'none'; frame-ancestors 'none'",
                     store_origin, store_origin);
    if (n < 0 || (size_t)n >= sizeof(c->csp))
        return err_set(e, ERR_INVALID, "the store origin is too long for the demo's policy");
    for (size_t i = 0; rc == ERR_OK && i < H_DEMO_NASSETS; i++) {
        struct h_demo_file *f = &c->files[i];
        f->path = h_demo_assets[i].path;
        f->content_type = h_demo_assets[i].content_type;
        f->csp = strcmp(f->path, "/") == 0 ? c->csp : NULL;
        rc = join(h_demo_assets[i].lines, &f->body, &f->len, e);
    }
    if (rc != ERR_OK)
        return rc;
    struct h_demo_file *cfg = &c->files[H_DEMO_NASSETS];
    cfg->path = "/demo.json";
    cfg->content_type = "application/json";
    cfg->csp = NULL;
    return config_json(auth_on, &cfg->body, &cfg->len, e);
}

void h_demo_ctx_free(struct h_demo_ctx *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < H_DEMO_NFILES; i++) {
        free(c->files[i].body);
        c->files[i].body = NULL;
    }
}

void h_demo_get(const struct h_request *req, struct h_response *resp)
{
    const struct h_demo_file *f = req->route_ctx;
    char *copy = f->body != NULL ? malloc(f->len + 1) : NULL;
    if (copy == NULL) {
        h_resp_error(resp, req, 500, "internal", "out of memory");
        return;
    }
    memcpy(copy, f->body, f->len + 1);
    h_resp_take(resp, 200, f->content_type, copy, f->len);
    h_resp_header(resp, "Cache-Control", "no-cache");
    h_resp_header(resp, "X-Content-Type-Options", "nosniff");
    h_resp_header(resp, "Referrer-Policy", "no-referrer");
    if (f->csp != NULL) {
        h_resp_header(resp, "Content-Security-Policy", f->csp);
        h_resp_header(resp, "X-Frame-Options", "DENY");
    }
}
