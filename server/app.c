/*
 * app.c: assembles the application's parts from the settings. See routes.h (srv_app_init).
 */
#include "server/routes.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/timeutil.h"

#define PRESETS_FILE_MAX     (1024 * 1024)
#define STORE_DEV_ACCESS_KEY "imgsvc-dev"
#define STORE_DEV_SECRET_KEY "imgsvc-dev-secret"

static bool is_loopback(const char *addr)
{
    struct in_addr a4;
    if (inet_pton(AF_INET, addr, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    return strcmp(addr, "::1") == 0;
}

static enum err_code init_auth(struct srv_app *app, const struct srv_config *cfg, struct err *e)
{
    struct h_auth_options o;
    h_auth_options_default(&o);
    if (h_auth_mode_parse(cfg->auth_mode, &o.mode) != ERR_OK)
        return err_set(e, ERR_INVALID, "IMGSVC_AUTH_MODE=%s is not a mode", cfg->auth_mode);
    o.api_keys = cfg->api_keys;
    o.jwt_hs256_secret = cfg->jwt_hs256_secret;
    o.jwt_rs256_public_key_file = cfg->jwt_rs256_public_key_file;
    o.jwt_rs256_public_key_pem = cfg->jwt_rs256_public_key;
    o.jwt_issuer = cfg->jwt_issuer;
    o.jwt_audience = cfg->jwt_audience;
    o.jwt_leeway_s = (int)cfg->jwt_leeway_s;
    o.jwt_max_bytes = (size_t)cfg->jwt_max_bytes;
    app->auth = h_auth_new(&o, e);
    if (app->auth == NULL)
        return e->code != ERR_OK ? e->code : ERR_INVALID;
    char desc[256];
    h_auth_describe(app->auth, desc, sizeof(desc));
    if (h_auth_effective_mode(app->auth) != H_AUTH_MODE_OFF) {
        log_msg(LOGL_INFO, "auth", NULL, "%s", desc);
        return ERR_OK;
    }
    if (!is_loopback(cfg->listen_addr))
        return err_set(e, ERR_INVALID,
                       "authentication is off but IMGSVC_LISTEN_ADDR=%s is not loopback: set "
                       "IMGSVC_API_KEYS or a JWT setting, or listen on 127.0.0.1",
                       cfg->listen_addr);
    log_msg(LOGL_WARN, "auth", NULL,
            "AUTHENTICATION IS OFF: anyone who can reach %s may call the API (allowed only on "
            "loopback; set IMGSVC_API_KEYS or IMGSVC_JWT_* to turn it on)",
            cfg->listen_addr);
    h_auth_destroy(app->auth);
    app->auth = NULL;
    return ERR_OK;
}

static enum err_code init_presets(struct srv_app *app, const struct srv_config *cfg, struct err *e)
{
    img_presets_builtin(&app->presets);
    if (cfg->presets_file[0] == '\0')
        return ERR_OK;
    FILE *f = fopen(cfg->presets_file, "rb");
    if (f == NULL)
        return err_set(e, ERR_INVALID, "IMGSVC_PRESETS_FILE=%s cannot be opened",
                       cfg->presets_file);
    char *text = malloc(PRESETS_FILE_MAX + 1);
    size_t n = text ? fread(text, 1, PRESETS_FILE_MAX + 1, f) : 0;
    fclose(f);
    enum err_code rc = ERR_OK;
    struct img_error ie = {0};
    if (text == NULL)
        rc = err_set(e, ERR_NOMEM, "out of memory");
    else if (n > PRESETS_FILE_MAX)
        rc = err_set(e, ERR_TOO_LARGE, "IMGSVC_PRESETS_FILE=%s is larger than %d bytes",
                     cfg->presets_file, PRESETS_FILE_MAX);
    else if (img_presets_parse(text, n, &app->presets, &ie) != ERR_OK)
        rc = err_set(e, ERR_INVALID, "IMGSVC_PRESETS_FILE=%s: %s", cfg->presets_file, ie.msg);
    free(text);
    return rc;
}

/* Splits "scheme://host[:port][/]" into the app's public scheme and host. */
static enum err_code init_endpoint(struct srv_app *app, const struct srv_config *cfg, struct err *e)
{
    char embedded[96];
    snprintf(embedded, sizeof(embedded), "http://127.0.0.1:%lld", cfg->store_port);
    const char *url = cfg->public_endpoint[0] ? cfg->public_endpoint
                      : cfg->s3_endpoint[0]   ? cfg->s3_endpoint
                                              : embedded;
    const char *sep = strstr(url, "://");
    if (sep == NULL || (size_t)(sep - url) >= sizeof(app->public_scheme))
        return err_set(e, ERR_INVALID, "public endpoint %s is not a URL", url);
    snprintf(app->public_scheme, sizeof(app->public_scheme), "%.*s", (int)(sep - url), url);
    snprintf(app->public_host, sizeof(app->public_host), "%s", sep + 3);
    size_t n = strlen(app->public_host);
    if (n > 0 && app->public_host[n - 1] == '/')
        app->public_host[n - 1] = '\0';
    return ERR_OK;
}

/* The embedded store's credentials: the settings, or the dev default on loopback only. */
static enum err_code init_store_creds(struct srv_app *app, const struct srv_config *cfg,
                                      struct err *e)
{
    app->store_enabled = cfg->s3_endpoint[0] == '\0';
    if (!app->store_enabled)
        return ERR_OK;
    bool dev = cfg->store_access_key_id[0] == '\0' || cfg->store_secret_access_key[0] == '\0';
    if (dev && (cfg->store_access_key_id[0] != '\0' || cfg->store_secret_access_key[0] != '\0'))
        return err_set(e, ERR_INVALID,
                       "set both IMGSVC_STORE_ACCESS_KEY_ID and IMGSVC_STORE_SECRET_ACCESS_KEY, "
                       "or neither");
    if (dev && !is_loopback(cfg->store_listen_addr))
        return err_set(e, ERR_INVALID,
                       "the embedded store's dev credentials are allowed only on loopback but "
                       "IMGSVC_STORE_LISTEN_ADDR=%s: set IMGSVC_STORE_ACCESS_KEY_ID and "
                       "IMGSVC_STORE_SECRET_ACCESS_KEY",
                       cfg->store_listen_addr);
    if (!dev && strlen(cfg->store_secret_access_key) < 8)
        return err_set(e, ERR_INVALID, "IMGSVC_STORE_SECRET_ACCESS_KEY must be 8 bytes or more");
    app->store_access_key = dev ? STORE_DEV_ACCESS_KEY : cfg->store_access_key_id;
    app->store_secret_key = dev ? STORE_DEV_SECRET_KEY : cfg->store_secret_access_key;
    if (dev)
        log_msg(LOGL_WARN, "store", NULL,
                "the embedded S3 store uses the documented dev credentials (access key %s; "
                "loopback only): set IMGSVC_STORE_ACCESS_KEY_ID and "
                "IMGSVC_STORE_SECRET_ACCESS_KEY",
                STORE_DEV_ACCESS_KEY);
    return ERR_OK;
}

static enum err_code init_uploads(struct srv_app *app, const struct srv_config *cfg, struct err *e)
{
    struct h_uploads_ctx *u = &app->uploads;
    u->auth = app->auth;
    u->presets = &app->presets;
    u->creds.access_key = app->s3_creds.access_key;
    u->creds.secret_key = app->s3_creds.secret_key;
    u->creds.session_token = app->s3_creds.session_token;
    if (app->store_enabled) { /* presigned URLs for the embedded store: its own keys */
        u->creds.access_key = app->store_access_key;
        u->creds.secret_key = app->store_secret_key;
        u->creds.session_token = NULL;
    }
    u->region = cfg->aws_region;
    u->bucket = cfg->s3_bucket;
    u->public_scheme = app->public_scheme;
    u->public_host = app->public_host;
    u->virtual_hosted = strcmp(cfg->s3_addressing, "virtual") == 0;
    u->expires_s = cfg->presign_expires_s;
    u->max_upload_bytes = cfg->max_upload_bytes;
    u->key_cache = app->key_cache;
    if (cfg->aws_credential_expiration[0] != '\0') {
        time_t t = 0;
        if (!ts_parse_rfc3339(cfg->aws_credential_expiration, &t))
            return err_set(e, ERR_INVALID,
                           "AWS_CREDENTIAL_EXPIRATION=%s is not an RFC 3339 UTC time",
                           cfg->aws_credential_expiration);
        u->creds_expire_at = (int64_t)t;
    }
    return ERR_OK;
}

static enum err_code init_resize(struct srv_app *app, const struct srv_config *cfg, struct err *e)
{
    struct h_resize_ctx *r = &app->resize;
    r->auth = app->auth;
    r->limits.max_bytes = (size_t)cfg->max_image_bytes;
    r->limits.max_pixels = (uint64_t)cfg->max_pixels;
    r->limits.max_width = (int)cfg->max_side;
    r->limits.max_height = (int)cfg->max_side;
    r->limits.max_frames = (int)cfg->max_frames;
    r->limits.max_progressive_pixels = (uint64_t)cfg->max_progressive_pixels;
    r->multipart_recovery = cfg->multipart_recovery;
    r->limiter = h_limiter_new((size_t)cfg->resize_concurrency, (size_t)cfg->resize_queue,
                               (long)cfg->resize_wait_ms);
    if (r->limiter == NULL)
        return err_set(e, ERR_NOMEM, "out of memory");
    return ERR_OK;
}

enum err_code srv_app_init(struct srv_app *app, const struct srv_config *cfg, struct err *e)
{
    enum err_code rc = ERR_OK;
    app->cfg = cfg;
    app->key_cache = sigv4_key_cache_new(16);
    if (app->key_cache == NULL)
        return err_set(e, ERR_NOMEM, "out of memory");
    if ((rc = init_auth(app, cfg, e)) != ERR_OK || (rc = init_presets(app, cfg, e)) != ERR_OK ||
        (rc = init_endpoint(app, cfg, e)) != ERR_OK ||
        (rc = init_store_creds(app, cfg, e)) != ERR_OK ||
        (rc = srv_app_init_s3(app, cfg, e)) != ERR_OK ||
        (rc = init_uploads(app, cfg, e)) != ERR_OK || (rc = init_resize(app, cfg, e)) != ERR_OK ||
        (rc = srv_app_init_events(app, cfg, e)) != ERR_OK)
        return rc;
    return ERR_OK;
}

void srv_app_free(struct srv_app *app)
{
    h_auth_destroy(app->auth);
    app->auth = NULL;
    h_limiter_destroy(app->resize.limiter);
    app->resize.limiter = NULL;
    sigv4_key_cache_destroy(app->key_cache);
    app->key_cache = NULL;
    srv_app_free_pipeline(app); /* before the S3 clients it may borrow */
    srv_app_free_s3(app);
    srv_app_free_events(app);
    h_demo_ctx_free(&app->demo);
}

void srv_app_store_started(struct srv_app *app, unsigned port)
{
    if (app->cfg->public_endpoint[0] == '\0' && app->cfg->s3_endpoint[0] == '\0')
        snprintf(app->public_host, sizeof(app->public_host), "127.0.0.1:%u", port);
}
