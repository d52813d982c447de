/*
 * main.c: the imgsvc command line.
 *
 *   imgsvc serve      run the HTTP API (the long-running service)
 *   imgsvc config     print the effective settings (secrets masked); --markdown: the table
 *   imgsvc process    run the event handler on one S3 event (server/cmd_process.c)
 *   imgsvc lambda     run as an AWS Lambda function (server/cmd_lambda.c)
 *   imgsvc presign    print a presigned S3 URL (later)
 *   imgsvc healthcheck  GET /healthz of the running service (the image's HEALTHCHECK)
 * Settings come only from the environment (see server/config.c); a bad value stops the
 * program before anything starts, naming the variable and the allowed range.
 */
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "server/alloc.h"
#include "server/cmd_healthcheck.h"
#include "server/cmd_lambda.h"
#include "server/cmd_presign.h"
#include "server/cmd_process.h"
#include "server/cmd_reprocess.h"
#include "server/config.h"
#include "server/serve.h"

#ifndef IMGSVC_GIT_REV
#define IMGSVC_GIT_REV "unknown"
#endif

static void usage(FILE *out)
{
    fprintf(out,
            "imgsvc %s: direct-to-S3 photo uploads turned into ready-to-serve sizes\n\n"
            "usage: imgsvc <command> [options]\n\n"
            "commands:\n"
            "  serve              run the HTTP API until SIGTERM/SIGINT\n"
            "  config             print the effective settings (secrets masked)\n"
            "  config --markdown  print the settings table in Markdown\n"
            "  process FILE|-     run the event handler on one S3 event document, print the\n"
            "                     results as JSON (--key KEY: one temp key; --help)\n"
            "  lambda             run as an AWS Lambda function (Runtime API loop; --help)\n"
            "  reprocess --prefix P  regenerate variants and manifests of existing uploads\n"
            "                     from their origins with the current presets (--help)\n"
            "  presign            print a presigned S3 URL (not yet available)\n"
            "  healthcheck [--path P]  exit 0 when the local service answers GET /healthz\n"
            "                     (or P) with 200: the container's HEALTHCHECK\n\n"
            "options:\n"
            "  -h, --help         this text\n"
            "  -V, --version      the version\n\n"
            "settings (environment variables):\n",
            IMGSVC_VERSION);
    size_t n = 0;
    const struct cfg_entry *t = srv_config_table(&n);
    for (size_t i = 0; i < n; i++) {
        char allowed[160];
        srv_config_describe(&t[i], allowed, sizeof(allowed));
        fprintf(out, "  %-28s %s\n  %-28s default \"%s\"; %s\n", t[i].env, t[i].doc, "", t[i].def,
                allowed);
    }
}

static int not_yet(const char *cmd)
{
    fprintf(stderr, "imgsvc: the '%s' command is not available in this version yet\n", cmd);
    return 2;
}

int main(int argc, char **argv)
{
    srv_alloc_setup(); /* before any thread: the malloc arenas (server/alloc.h) */
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0) {
        printf("imgsvc %s (%s)\n", IMGSVC_VERSION, IMGSVC_GIT_REV);
        return 0;
    }
    if (strcmp(cmd, "config") == 0 && argc == 3 && strcmp(argv[2], "--markdown") == 0) {
        srv_config_markdown(stdout);
        return 0;
    }
    static const char *const known[] = {"serve",   "config",    "process",    "lambda",
                                        "presign", "reprocess", "healthcheck"};
    bool ok = false;
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        ok = ok || strcmp(cmd, known[i]) == 0;
    if (!ok) {
        fprintf(stderr, "imgsvc: unknown command '%s' (see imgsvc --help)\n", cmd);
        return 2;
    }
    struct srv_config cfg;
    struct err e = {0};
    if (srv_config_load(&cfg, NULL, NULL, &e) != ERR_OK) {
        fprintf(stderr, "imgsvc: configuration error: %s\n", e.msg);
        srv_config_free(&cfg);
        return strcmp(cmd, "lambda") == 0 ? srv_cmd_lambda_init_failed(e.msg) : 2;
    }
    enum log_level lvl = LOGL_INFO;
    if (log_level_parse(cfg.log_level, &lvl))
        log_set_level(lvl);
    int rc = 0;
    if (strcmp(cmd, "config") == 0)
        srv_config_print(&cfg, stdout);
    else if (strcmp(cmd, "serve") == 0)
        rc = srv_serve(&cfg);
    else if (strcmp(cmd, "presign") == 0)
        rc = srv_cmd_presign(&cfg, argc - 2, argv + 2);
    else if (strcmp(cmd, "reprocess") == 0)
        rc = srv_cmd_reprocess(&cfg, argc - 2, argv + 2);
    else if (strcmp(cmd, "process") == 0)
        rc = srv_cmd_process(&cfg, argc - 2, argv + 2);
    else if (strcmp(cmd, "lambda") == 0)
        rc = srv_cmd_lambda(&cfg, argc - 2, argv + 2);
    else if (strcmp(cmd, "healthcheck") == 0)
        rc = srv_cmd_healthcheck(&cfg, argc - 2, argv + 2);
    else
        rc = not_yet(cmd);
    srv_config_free(&cfg);
    return rc;
}
