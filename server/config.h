/*
 * config.h: every setting of imgsvc, in one table.
 *
 * Each entry has a name, its environment variable (IMGSVC_* or the standard AWS_* ones), a
 * type, bounds, a default and a one-line doc. srv_config_load() reads and validates them all at
 * start; a bad value stops the program with a message naming the variable and the allowed
 * range. The same table prints `imgsvc config`, `imgsvc --help` and the README's settings table
 * (`imgsvc config --markdown`, checked by a test so the README cannot drift).
 */
#ifndef IMGSVC_SERVER_CONFIG_H
#define IMGSVC_SERVER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "common/err.h"

enum cfg_type {
    CFG_INT,    /* integer in [min, max] */
    CFG_BOOL,   /* true/false, 1/0, yes/no, on/off */
    CFG_STRING, /* text of at most max bytes (min: least length) */
    CFG_SECRET, /* like CFG_STRING, never printed */
    CFG_ENUM,   /* one of `choices` ("a|b|c") */
    CFG_ADDR,   /* an IPv4 or IPv6 literal */
    CFG_URL,    /* empty, or http(s)://host[:port] with no path */
};

struct srv_config {
    /* HTTP server */
    char *listen_addr;
    long long port;
    long long http_threads;
    long long max_connections;
    long long read_timeout_s;
    long long max_json_bytes;
    bool debug_routes;
    char *demo; /* auto|on|off */
    /* workers */
    long long workers;
    long long pipeline_jobs; /* 0: 2 * workers (see serve.c) */
    long long queue_depth;
    long long pipeline_max_attempts; /* event pipeline */
    long long pipeline_retry_base_ms;
    long long pipeline_retry_max_ms;
    long long shutdown_timeout_s;
    /* logging */
    char *log_level;
    /* S3 and presigning */
    char *s3_endpoint;
    char *s3_bucket;
    char *s3_addressing;
    long long s3_connect_timeout_ms;
    long long s3_timeout_ms;
    long long s3_max_retries;
    long long s3_retry_base_ms;
    long long s3_retry_max_ms;
    char *s3_ca_file;
    char *public_endpoint;
    long long presign_expires_s;
    long long status_url_expires_s;
    long long max_upload_bytes;
    char *presets_file;
    /* embedded S3 store */
    char *data_dir;
    char *store_listen_addr;
    long long store_port;
    char *store_access_key_id;
    char *store_secret_access_key;
    long long store_max_object_bytes;
    char *store_cors_origins;
    char *store_cors_methods;
    char *store_cors_headers;
    char *store_cors_expose_headers;
    long long store_cors_max_age_s;
    char *store_event_prefix;
    /* imaging */
    long long max_image_bytes;
    long long max_pixels;
    long long max_side;
    long long max_frames;
    long long max_progressive_pixels;
    bool multipart_recovery;
    bool origin_strip_location;
    long long vips_concurrency;
    long long resize_concurrency;
    long long resize_queue;
    long long resize_wait_ms;
    /* authentication */
    char *auth_mode;
    char *api_keys;
    char *jwt_hs256_secret;
    char *jwt_rs256_public_key_file;
    char *jwt_rs256_public_key;
    char *jwt_issuer;
    char *jwt_audience;
    long long jwt_leeway_s;
    long long jwt_max_bytes;
    /* event webhook and SNS */
    char *events_token;
    long long events_max_bytes;
    long long events_max_records;
    long long events_retry_after_s;
    char *sns_cert_hosts;
    char *sns_topic_arns;
    char *sns_ca_file;
    char *sns_connect_to;
    long long sns_timeout_ms;
    long long sns_max_cert_bytes;
    long long sns_cert_cache;
    /* reconciler and reprocess */
    long long reconcile_interval_s;
    long long reconcile_grace_s;
    long long reconcile_max_keys;
    long long reprocess_max_keys;
    /* imgsvc lambda */
    long long lambda_deadline_margin_ms;
    /* AWS */
    char *aws_region;
    char *aws_access_key_id;
    char *aws_secret_access_key;
    char *aws_session_token;
    char *aws_profile;
    char *aws_shared_credentials_file;
    char *aws_credential_expiration;
};

struct cfg_entry {
    const char *env; /* environment variable */
    enum cfg_type type;
    long long min, max;  /* CFG_INT: value bounds; strings: length bounds */
    const char *def;     /* default, as text */
    const char *choices; /* CFG_ENUM only: "debug|info|warn|error" */
    size_t offset;       /* offsetof(struct srv_config, field) */
    const char *doc;     /* one line */
};

/* The table itself, for tests and documentation. */
const struct cfg_entry *srv_config_table(size_t *n);

/* Reads a variable; returns NULL when unset. getenv-compatible. */
typedef const char *(*cfg_getenv_fn)(void *ctx, const char *name);

/*
 * Fills `c` from the table: each value from `get` (NULL = the process environment) or its
 * default, validated. On a bad value returns ERR_INVALID with a message such as
 * "IMGSVC_PORT=70000 is invalid: expected an integer from 0 to 65535". The caller frees `c`
 * with srv_config_free() whatever the result.
 */
enum err_code srv_config_load(struct srv_config *c, cfg_getenv_fn get, void *ctx, struct err *e);

void srv_config_free(struct srv_config *c);

/* Prints the effective settings as NAME=value lines; secrets as "****" (or "" when unset). */
void srv_config_print(const struct srv_config *c, FILE *out);

/* Prints the settings table in Markdown (variable, default, allowed, description). */
void srv_config_markdown(FILE *out);

/* Describes the allowed values of an entry into `out` (e.g. "an integer from 0 to 65535"). */
void srv_config_describe(const struct cfg_entry *ent, char *out, size_t cap);

#endif
