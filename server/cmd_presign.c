/*
 * cmd_presign.c: `imgsvc presign`. See cmd_presign.h.
 */
#include "server/cmd_presign.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/timeutil.h"
#include "s3/sigv4.h"
#include "server/routes.h"

struct presign_args {
    const char *method;
    const char *key;
    const char *content_type;
    long long expires;
    time_t at;
};

static int usage_error(const char *msg)
{
    fprintf(stderr,
            "imgsvc presign: %s\nusage: imgsvc presign --method PUT|GET --key KEY "
            "[--content-type TYPE] [--expires SECONDS] [--at YYYYMMDDTHHMMSSZ]\n",
            msg);
    return 2;
}

/* Parses the options; returns 0 or the exit code of a usage error. */
static int parse_args(int argc, char **argv, struct presign_args *a, long long def_expires)
{
    a->method = NULL;
    a->key = NULL;
    a->content_type = NULL;
    a->expires = def_expires;
    a->at = time(NULL);
    for (int i = 0; i < argc; i++) {
        const char *opt = argv[i];
        if (i + 1 >= argc)
            return usage_error("every option needs a value");
        const char *v = argv[++i];
        if (strcmp(opt, "--method") == 0) {
            if (strcmp(v, "PUT") != 0 && strcmp(v, "GET") != 0)
                return usage_error("--method must be PUT or GET");
            a->method = v;
        } else if (strcmp(opt, "--key") == 0) {
            a->key = v;
        } else if (strcmp(opt, "--content-type") == 0) {
            a->content_type = v;
        } else if (strcmp(opt, "--expires") == 0) {
            char *end = NULL;
            errno = 0;
            a->expires = strtoll(v, &end, 10);
            if (errno != 0 || end == v || *end != '\0' || a->expires < SIGV4_EXPIRES_MIN ||
                a->expires > SIGV4_EXPIRES_MAX)
                return usage_error("--expires must be an integer from 1 to 604800");
        } else if (strcmp(opt, "--at") == 0) {
            if (!ts_parse_amz(v, &a->at))
                return usage_error("--at must be a time like 20150830T123600Z");
        } else {
            return usage_error("unknown option");
        }
    }
    if (a->method == NULL || a->key == NULL || a->key[0] == '\0')
        return usage_error("--method and --key are required");
    return 0;
}

int srv_cmd_presign(const struct srv_config *cfg, int argc, char **argv)
{
    struct presign_args a;
    int rc = parse_args(argc, argv, &a, cfg->presign_expires_s);
    if (rc != 0)
        return rc;
    struct srv_app app;
    struct err e = {0};
    memset(&app, 0, sizeof(app));
    char *url = NULL;
    rc = 1;
    log_set_level(LOGL_ERROR); /* the URL is the output; start-up notices are not */
    if (srv_app_init(&app, cfg, &e) != ERR_OK) {
        fprintf(stderr, "imgsvc presign: %s\n", e.msg);
        goto cleanup;
    }
    if (app.uploads.creds.access_key == NULL || app.uploads.creds.access_key[0] == '\0') {
        fprintf(stderr, "imgsvc presign: no S3 credentials: set AWS_ACCESS_KEY_ID and "
                        "AWS_SECRET_ACCESS_KEY, or a profile in the shared credentials file\n");
        goto cleanup;
    }
    struct sigv4_pair hdr = {"Content-Type", a.content_type};
    struct sigv4_params p = {.creds = app.uploads.creds,
                             .region = cfg->aws_region,
                             .service = "s3",
                             .time = a.at,
                             .expires = a.expires};
    struct sigv4_s3_presign o = {.method = a.method,
                                 .scheme = app.public_scheme,
                                 .host = app.public_host,
                                 .virtual_hosted = app.uploads.virtual_hosted,
                                 .bucket = cfg->s3_bucket,
                                 .key = a.key,
                                 .headers = a.content_type ? &hdr : NULL,
                                 .nheaders = a.content_type ? 1 : 0};
    if (sigv4_s3_presign_url(&p, &o, &url, NULL, &e) != ERR_OK) {
        fprintf(stderr, "imgsvc presign: %s\n", e.msg);
        goto cleanup;
    }
    printf("%s\n", url);
    rc = 0;
cleanup:
    free(url);
    srv_app_free(&app);
    return rc;
}
