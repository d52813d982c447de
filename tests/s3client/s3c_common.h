/*
 * s3c_common.h: helpers shared by the S3 client's integration tests (s3c_rgw.c, s3c_fault.c):
 * the client options from the environment the suite sets (tests/rgw/suite.cmake).
 */
#ifndef IMGSVC_TESTS_S3C_COMMON_H
#define IMGSVC_TESTS_S3C_COMMON_H

#include <stdlib.h>

#include "s3/client.h"

static inline const char *env_or(const char *name, const char *def)
{
    const char *v = getenv(name);
    return (v && v[0]) ? v : def;
}

static inline void base_options(struct s3_options *o)
{
    s3_options_defaults(o);
    o->endpoint = env_or("IMGSVC_S3_ENDPOINT", "http://127.0.0.1:7480");
    o->region = env_or("AWS_REGION", "us-east-1");
    o->bucket = env_or("IMGSVC_S3_BUCKET", "imgsvc-test");
    o->path_style = true;
    o->creds.access_key = env_or("IMGSVC_RGW_ACCESS_KEY", "IMGSVCTESTACCESSKEY0");
    o->creds.secret_key =
        env_or("IMGSVC_RGW_SECRET_KEY", "imgsvc-test-secret-key-0123456789abcdefgh");
    o->timeout_ms = 30000;
    o->retry_base_ms = 10;
    o->retry_max_ms = 50;
}

#endif
