/*
 * cmd_pipe.c: the pipeline of `imgsvc process` and `imgsvc lambda`, built from the settings.
 * See cmd_process.h (srv_cmd_pipe_open).
 *
 * Unlike `serve`, these commands have no embedded store and no HTTP server: they need an S3
 * endpoint, resolved credentials (AWS_* variables, as Lambda sets them, else the shared file),
 * the presets and libvips; the pipeline's own settings come from srv_pipeline_cfg, as in serve.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "imaging/img_init.h"
#include "server/cmd_process.h"
#include "server/routes.h"

#define PRESETS_FILE_MAX (1024 * 1024)

struct srv_cmd_pipe {
    struct s3_client *s3;
    struct img_preset_table presets;
    struct h_pipeline *p;
};

static enum err_code load_presets(struct img_preset_table *t, const char *path, struct err *e)
{
    img_presets_builtin(t);
    if (path[0] == '\0')
        return ERR_OK;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return err_set(e, ERR_INVALID, "IMGSVC_PRESETS_FILE=%s cannot be opened", path);
    char *text = malloc(PRESETS_FILE_MAX + 1);
    size_t n = text ? fread(text, 1, PRESETS_FILE_MAX + 1, f) : 0;
    fclose(f);
    enum err_code rc = ERR_OK;
    struct img_error ie = {0};
    if (text == NULL)
        rc = err_set(e, ERR_NOMEM, "out of memory");
    else if (n > PRESETS_FILE_MAX)
        rc = err_set(e, ERR_TOO_LARGE, "IMGSVC_PRESETS_FILE=%s is larger than %d bytes", path,
                     PRESETS_FILE_MAX);
    else if (img_presets_parse(text, n, t, &ie) != ERR_OK)
        rc = err_set(e, ERR_INVALID, "IMGSVC_PRESETS_FILE=%s: %s", path, ie.msg);
    free(text);
    return rc;
}

static struct s3_client *open_s3(const struct srv_config *cfg, long timeout_ms, struct err *e)
{
    struct s3_options o;
    s3_options_defaults(&o);
    o.endpoint = cfg->s3_endpoint;
    o.region = cfg->aws_region;
    o.bucket = cfg->s3_bucket;
    o.path_style = strcmp(cfg->s3_addressing, "path") == 0;
    o.timeout_ms =
        timeout_ms > 0 && timeout_ms < cfg->s3_timeout_ms ? timeout_ms : (long)cfg->s3_timeout_ms;
    o.connect_timeout_ms = (long)cfg->s3_connect_timeout_ms < o.timeout_ms
                               ? (long)cfg->s3_connect_timeout_ms
                               : o.timeout_ms;
    o.max_retries = (int)cfg->s3_max_retries;
    o.retry_base_ms = (long)cfg->s3_retry_base_ms;
    o.retry_max_ms = (long)cfg->s3_retry_max_ms;
    o.max_get_bytes = (uint64_t)cfg->max_image_bytes;
    o.ca_file = cfg->s3_ca_file[0] ? cfg->s3_ca_file : NULL;
    o.creds.access_key = cfg->aws_access_key_id;
    o.creds.secret_key = cfg->aws_secret_access_key;
    o.creds.session_token = cfg->aws_session_token;
    o.creds.file = cfg->aws_shared_credentials_file;
    o.creds.profile = cfg->aws_profile;
    o.creds.home = getenv("HOME");
    struct err ce = {0};
    struct s3_client *c = s3_client_new(&o, &ce);
    if (c == NULL)
        err_set(e, ce.code != ERR_OK ? ce.code : ERR_INVALID, "S3 client: %s", ce.msg);
    return c;
}

struct srv_cmd_pipe *srv_cmd_pipe_open(const struct srv_config *cfg, long s3_timeout_ms,
                                       struct err *e)
{
    struct srv_cmd_pipe *cp = NULL;
    struct img_init_opts io = {.concurrency = (int)cfg->vips_concurrency,
                               .log_debug = strcmp(cfg->log_level, "debug") == 0};
    if (cfg->s3_endpoint[0] == '\0') {
        err_set(e, ERR_INVALID,
                "IMGSVC_S3_ENDPOINT is empty: the embedded store runs only inside `imgsvc "
                "serve`; set it to the S3 that holds IMGSVC_S3_BUCKET (e.g. "
                "https://s3.%s.amazonaws.com)",
                cfg->aws_region);
        goto fail;
    }
    if (img_global_init(&io, e) != ERR_OK)
        goto fail;
    cp = calloc(1, sizeof(*cp));
    if (cp == NULL) {
        err_set(e, ERR_NOMEM, "out of memory");
        goto fail;
    }
    if (load_presets(&cp->presets, cfg->presets_file, e) != ERR_OK)
        goto fail;
    cp->s3 = open_s3(cfg, s3_timeout_ms, e);
    if (cp->s3 == NULL)
        goto fail;
    struct h_pipeline_cfg pc;
    srv_pipeline_cfg(cfg, cp->s3, &cp->presets, &pc);
    cp->p = h_pipeline_new(&pc, e);
    if (cp->p == NULL)
        goto fail;
    return cp;
fail:
    srv_cmd_pipe_close(cp);
    return NULL;
}

struct h_pipeline *srv_cmd_pipe_handler(struct srv_cmd_pipe *cp)
{
    return cp->p;
}

void srv_cmd_pipe_close(struct srv_cmd_pipe *cp)
{
    if (cp == NULL)
        return;
    h_pipeline_free(cp->p);
    s3_client_destroy(cp->s3);
    free(cp);
}
