/*
 * app_s3.c: the application's connection to a real S3 (AWS, Ceph RGW, MinIO). See routes.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "server/routes.h"

#define PROBE_CONNECT_TIMEOUT_MS 2000
#define PROBE_TIMEOUT_MS         5000

static void fill_options(struct s3_options *o, const struct srv_app *app,
                         const struct srv_config *cfg)
{
    s3_options_defaults(o);
    o->endpoint = cfg->s3_endpoint;
    o->region = cfg->aws_region;
    o->bucket = cfg->s3_bucket;
    o->path_style = strcmp(cfg->s3_addressing, "path") == 0;
    o->connect_timeout_ms = (long)cfg->s3_connect_timeout_ms;
    o->timeout_ms = (long)cfg->s3_timeout_ms;
    o->max_retries = (int)cfg->s3_max_retries;
    o->retry_base_ms = (long)cfg->s3_retry_base_ms;
    o->retry_max_ms = (long)cfg->s3_retry_max_ms;
    o->max_get_bytes = (uint64_t)cfg->max_image_bytes;
    o->ca_file = cfg->s3_ca_file[0] ? cfg->s3_ca_file : NULL;
    o->creds.access_key = app->s3_creds.access_key;
    o->creds.secret_key = app->s3_creds.secret_key;
    o->creds.session_token = app->s3_creds.session_token;
}

/* Resolves credentials; a missing source is not an error (logged, presigning answers 503). */
static enum err_code resolve(struct srv_app *app, const struct srv_config *cfg, struct err *e)
{
    struct s3_credentials_source src = {
        .access_key = cfg->aws_access_key_id,
        .secret_key = cfg->aws_secret_access_key,
        .session_token = cfg->aws_session_token,
        .file = cfg->aws_shared_credentials_file,
        .profile = cfg->aws_profile,
        .home = getenv("HOME"),
    };
    struct err ce = {0};
    enum err_code rc = s3_credentials_resolve(&src, &app->s3_creds, &ce);
    if (rc == ERR_NOT_FOUND) {
        log_msg(LOGL_WARN, "s3", NULL, "no S3 credentials found (%s): presigning answers 503",
                ce.msg);
        memset(&app->s3_creds, 0, sizeof(app->s3_creds));
        return ERR_OK;
    }
    if (rc != ERR_OK)
        return err_set(e, rc, "S3 credentials: %s", ce.msg);
    return ERR_OK;
}

enum err_code srv_app_init_s3(struct srv_app *app, const struct srv_config *cfg, struct err *e)
{
    if (app->store_enabled)
        return ERR_OK;
    enum err_code rc = resolve(app, cfg, e);
    if (rc != ERR_OK || app->s3_creds.access_key == NULL)
        return rc;
    struct s3_options o;
    fill_options(&o, app, cfg);
    app->s3 = s3_client_new(&o, e);
    if (app->s3 == NULL)
        return e->code != ERR_OK ? e->code : ERR_INVALID;
    o.max_retries = 0;
    o.connect_timeout_ms = PROBE_CONNECT_TIMEOUT_MS < o.connect_timeout_ms
                               ? PROBE_CONNECT_TIMEOUT_MS
                               : o.connect_timeout_ms;
    o.timeout_ms = PROBE_TIMEOUT_MS;
    app->s3_probe = s3_client_new(&o, e);
    if (app->s3_probe == NULL)
        return e->code != ERR_OK ? e->code : ERR_INVALID;
    return ERR_OK;
}

void srv_app_free_s3(struct srv_app *app)
{
    s3_client_destroy(app->s3);
    app->s3 = NULL;
    s3_client_destroy(app->s3_probe);
    app->s3_probe = NULL;
    s3_credentials_free(&app->s3_creds);
}

bool srv_app_s3_ready(void *arg, char *detail, size_t cap)
{
    struct srv_app *app = arg;
    if (app->s3_probe == NULL) {
        snprintf(detail, cap, "no S3 credentials configured");
        return false;
    }
    struct s3_list_opts lo = {.prefix = "delete/", .max_keys = 1};
    struct s3_list_page page;
    struct s3_response r;
    struct err e = {0};
    memset(&page, 0, sizeof(page));
    memset(&r, 0, sizeof(r));
    enum err_code rc = s3_client_list(app->s3_probe, &lo, &page, &r, &e);
    if (rc == ERR_OK)
        s3_list_page_free(&page);
    else
        snprintf(detail, cap, "S3 bucket %s not reachable: %s", s3_client_bucket(app->s3_probe),
                 r.code[0] ? r.code : e.msg);
    return rc == ERR_OK;
}
