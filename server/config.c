/*
 * config.c: the settings table and its loader. See config.h.
 *
 * To add a setting: add a field to struct srv_config, one line to `table` below, and use it.
 * The README table is regenerated with `imgsvc config --markdown`.
 */
#include "server/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define F(field) offsetof(struct srv_config, field)
#define KIB      1024LL
#define MIB      (1024LL * 1024LL)

/* clang-format off */
static const struct cfg_entry table[] = {
    {"IMGSVC_LISTEN_ADDR", CFG_ADDR, 0, 0, "127.0.0.1", NULL, F(listen_addr),
     "Address the API listens on (IPv4 or IPv6 literal; 0.0.0.0 for all interfaces)"},
    {"IMGSVC_PORT", CFG_INT, 0, 65535, "8080", NULL, F(port),
     "TCP port of the API; 0 picks a free port (logged at start)"},
    {"IMGSVC_HTTP_THREADS", CFG_INT, 1, 256, "4", NULL, F(http_threads),
     "HTTP threads (libmicrohttpd thread pool with epoll)"},
    {"IMGSVC_MAX_CONNECTIONS", CFG_INT, 1, 100000, "1024", NULL, F(max_connections),
     "Most concurrent client connections; more are refused at accept"},
    {"IMGSVC_READ_TIMEOUT_S", CFG_INT, 1, 3600, "30", NULL, F(read_timeout_s),
     "Seconds to receive a whole request (headers and body) from a connection's start or "
     "its previous response; slower or idle connections are closed"},
    {"IMGSVC_MAX_JSON_BYTES", CFG_INT, 1 * KIB, 16 * MIB, "65536", NULL, F(max_json_bytes),
     "Largest JSON request body in bytes (413 payload_too_large past it)"},
    {"IMGSVC_DEBUG_ROUTES", CFG_BOOL, 0, 0, "false", NULL, F(debug_routes),
     "Serve POST /debug/echo and GET /debug/sleep (diagnostics for tests and operators)"},
    {"IMGSVC_DEMO", CFG_ENUM, 0, 0, "auto", "auto|on|off", F(demo),
     "Serve the browser demo at / (upload a photo, see its variants); auto: only when the API "
     "listens on loopback"},
    {"IMGSVC_WORKERS", CFG_INT, 1, 256, "2", NULL, F(workers),
     "Uploads the event pipeline decodes and resizes at once (about one core and one decoded "
     "photo of memory each)"},
    {"IMGSVC_PIPELINE_JOBS", CFG_INT, 0, 1024, "0", NULL, F(pipeline_jobs),
     "Background jobs (uploads) in progress at once: the S3 reads and writes of some overlap "
     "the imaging of others, at most IMGSVC_WORKERS of which run at a time; each holds its "
     "upload's bytes. 0: twice IMGSVC_WORKERS"},
    {"IMGSVC_QUEUE_DEPTH", CFG_INT, 1, 1000000, "1024", NULL, F(queue_depth),
     "Most queued background jobs; when full, senders get 503 and retry"},
    {"IMGSVC_PIPELINE_MAX_ATTEMPTS", CFG_INT, 1, 20, "3", NULL, F(pipeline_max_attempts),
     "Attempts of one upload's processing on transient S3 errors (after the S3 client's own "
     "retries); then the temp object stays for the reconciler"},
    {"IMGSVC_PIPELINE_RETRY_BASE_MS", CFG_INT, 0, 60000, "200", NULL, F(pipeline_retry_base_ms),
     "Backoff base in milliseconds between processing attempts (full jitter, doubling)"},
    {"IMGSVC_PIPELINE_RETRY_MAX_MS", CFG_INT, 0, 600000, "10000", NULL,
     F(pipeline_retry_max_ms),
     "Longest backoff in milliseconds between processing attempts (at least the base)"},
    {"IMGSVC_SHUTDOWN_TIMEOUT_S", CFG_INT, 0, 3600, "25", NULL, F(shutdown_timeout_s),
     "On SIGTERM/SIGINT, seconds to finish in-flight requests and queued jobs before exit"},
    {"IMGSVC_LOG_LEVEL", CFG_ENUM, 0, 0, "info", "debug|info|warn|error", F(log_level),
     "Least severe log level written (JSON lines on stderr)"},
    {"IMGSVC_S3_ENDPOINT", CFG_URL, 0, 2048, "", NULL, F(s3_endpoint),
     "S3 endpoint, e.g. https://s3.eu-west-3.amazonaws.com or http://127.0.0.1:7480 (Ceph RGW, "
     "MinIO); empty: the embedded store"},
    {"IMGSVC_S3_BUCKET", CFG_STRING, 3, 63, "imgsvc", NULL, F(s3_bucket),
     "Bucket that receives uploads, variants, origins and manifests"},
    {"IMGSVC_S3_ADDRESSING", CFG_ENUM, 0, 0, "path", "path|virtual", F(s3_addressing),
     "S3 addressing: path (host/bucket/key) or virtual (bucket.host/key)"},
    {"IMGSVC_S3_CONNECT_TIMEOUT_MS", CFG_INT, 100, 60000, "5000", NULL, F(s3_connect_timeout_ms),
     "S3 connect timeout (TCP and TLS) per attempt, in milliseconds"},
    {"IMGSVC_S3_TIMEOUT_MS", CFG_INT, 1000, 600000, "60000", NULL, F(s3_timeout_ms),
     "Deadline of one S3 request attempt, in milliseconds"},
    {"IMGSVC_S3_MAX_RETRIES", CFG_INT, 0, 10, "3", NULL, F(s3_max_retries),
     "Retries of an S3 request on 5xx, 429, timeouts and connection errors (never other 4xx)"},
    {"IMGSVC_S3_RETRY_BASE_MS", CFG_INT, 1, 10000, "100", NULL, F(s3_retry_base_ms),
     "First backoff before an S3 retry in milliseconds (doubling, full jitter)"},
    {"IMGSVC_S3_RETRY_MAX_MS", CFG_INT, 1, 60000, "5000", NULL, F(s3_retry_max_ms),
     "Longest backoff between S3 retries in milliseconds"},
    {"IMGSVC_S3_CA_FILE", CFG_STRING, 0, 4096, "", NULL, F(s3_ca_file),
     "PEM CA bundle for HTTPS to S3; empty: the system CAs"},
    {"IMGSVC_PUBLIC_ENDPOINT", CFG_URL, 0, 2048, "", NULL, F(public_endpoint),
     "Scheme and host the phones reach S3 by, used in presigned URLs; empty: "
     "IMGSVC_S3_ENDPOINT, or http://127.0.0.1:9000 for the embedded store"},
    {"IMGSVC_PRESIGN_EXPIRES_S", CFG_INT, 1, 604800, "600", NULL, F(presign_expires_s),
     "Lifetime of presigned upload URLs in seconds (also bounded by the credentials' expiry)"},
    {"IMGSVC_STATUS_URL_EXPIRES_S", CFG_INT, 1, 604800, "300", NULL, F(status_url_expires_s),
     "Lifetime in seconds of the presigned GET URLs of a ready upload's variants and origin "
     "(GET /v1/uploads/{uploadId}?urls=1; also bounded by the credentials' expiry)"},
    {"IMGSVC_MAX_UPLOAD_BYTES", CFG_INT, 1, 5368709120LL, "52428800", NULL, F(max_upload_bytes),
     "Largest upload in bytes a client may declare (contentLength)"},
    {"IMGSVC_PRESETS_FILE", CFG_STRING, 0, 4096, "", NULL, F(presets_file),
     "JSON file of per-domain variant presets; empty: the built-in presets"},
    {"IMGSVC_DATA_DIR", CFG_STRING, 1, 3000, "./data", NULL, F(data_dir),
     "Folder of the embedded S3 store (objects, metadata, temp files)"},
    {"IMGSVC_STORE_LISTEN_ADDR", CFG_ADDR, 0, 0, "127.0.0.1", NULL, F(store_listen_addr),
     "Address the embedded S3 store listens on (it runs only when IMGSVC_S3_ENDPOINT is empty)"},
    {"IMGSVC_STORE_PORT", CFG_INT, 0, 65535, "9000", NULL, F(store_port),
     "TCP port of the embedded S3 store; 0 picks a free port (logged at start)"},
    {"IMGSVC_STORE_ACCESS_KEY_ID", CFG_STRING, 0, 128, "", NULL, F(store_access_key_id),
     "Access key id of the embedded store; empty: imgsvc-dev (allowed only on loopback)"},
    {"IMGSVC_STORE_SECRET_ACCESS_KEY", CFG_SECRET, 0, 128, "", NULL, F(store_secret_access_key),
     "Secret key of the embedded store (8+ bytes); empty: imgsvc-dev-secret (loopback only)"},
    {"IMGSVC_STORE_MAX_OBJECT_BYTES", CFG_INT, 1, 5368709120LL, "104857600", NULL,
     F(store_max_object_bytes), "Largest object the embedded store accepts (400 EntityTooLarge "
     "past it; bodies are buffered in memory)"},
    {"IMGSVC_STORE_CORS_ORIGINS", CFG_STRING, 0, 4096, "*", NULL, F(store_cors_origins),
     "Comma-separated origins allowed by the store's CORS (one '*' wildcard each); empty: off"},
    {"IMGSVC_STORE_CORS_METHODS", CFG_STRING, 1, 256, "GET,PUT,HEAD,DELETE", NULL,
     F(store_cors_methods), "Comma-separated methods allowed by the store's CORS"},
    {"IMGSVC_STORE_CORS_HEADERS", CFG_STRING, 1, 4096, "*", NULL, F(store_cors_headers),
     "Comma-separated request headers allowed by the store's CORS ('*': any)"},
    {"IMGSVC_STORE_CORS_EXPOSE_HEADERS", CFG_STRING, 0, 4096, "ETag,x-amz-request-id", NULL,
     F(store_cors_expose_headers), "Response headers a browser may read (Access-Control-Expose-Headers)"},
    {"IMGSVC_STORE_CORS_MAX_AGE_S", CFG_INT, 0, 86400, "3000", NULL, F(store_cors_max_age_s),
     "Seconds a browser may cache a preflight answer (Access-Control-Max-Age)"},
    {"IMGSVC_STORE_EVENT_PREFIX", CFG_STRING, 0, 1024, "delete/", NULL, F(store_event_prefix),
     "PUTs to keys starting with this emit an ObjectCreated:Put event; empty: every key"},
    {"IMGSVC_MAX_IMAGE_BYTES", CFG_INT, 1024, 1024 * MIB, "52428800", NULL, F(max_image_bytes),
     "Largest image in bytes: the body cap of /v1/resize and /v1/info and the upload size limit"},
    {"IMGSVC_MAX_PIXELS", CFG_INT, 1, 1000000000, "120000000", NULL, F(max_pixels),
     "Most pixels (width x height) an image may have; checked from the header before decoding"},
    {"IMGSVC_MAX_SIDE", CFG_INT, 1, 65535, "32768", NULL, F(max_side),
     "Largest width or height in pixels"},
    {"IMGSVC_MAX_FRAMES", CFG_INT, 1, 10000, "100", NULL, F(max_frames),
     "Most frames or pages an image file may have (only the first is used)"},
    {"IMGSVC_MAX_PROGRESSIVE_PIXELS", CFG_INT, 1, 1000000000, "50000000", NULL,
     F(max_progressive_pixels), "Most pixels of a progressive JPEG (they decode in full memory)"},
    {"IMGSVC_MULTIPART_RECOVERY", CFG_BOOL, 0, 0, "true", NULL, F(multipart_recovery),
     "Recover a photo sent inside a multipart/form-data envelope (with a warning); false: "
     "refuse it with multipart_upload"},
    {"IMGSVC_ORIGIN_STRIP_LOCATION", CFG_BOOL, 0, 0, "true", NULL, F(origin_strip_location),
     "Remove GPS/location metadata from the stored origin (JPEG pixels not re-encoded, "
     "orientation kept); false: store the upload's bytes as they came"},
    {"IMGSVC_VIPS_CONCURRENCY", CFG_INT, 0, 64, "1", NULL, F(vips_concurrency),
     "libvips worker threads per image operation (0: libvips' default, one per core)"},
    {"IMGSVC_RESIZE_CONCURRENCY", CFG_INT, 1, 256, "2", NULL, F(resize_concurrency),
     "Images /v1/resize and /v1/info process at once"},
    {"IMGSVC_RESIZE_QUEUE", CFG_INT, 0, 10000, "16", NULL, F(resize_queue),
     "Requests that may wait for a free image slot; beyond it the answer is 429"},
    {"IMGSVC_RESIZE_WAIT_MS", CFG_INT, 1, 600000, "10000", NULL, F(resize_wait_ms),
     "Longest wait for a free image slot in milliseconds before 429"},
    {"IMGSVC_AUTH_MODE", CFG_ENUM, 0, 0, "auto", "auto|off|api_key|jwt|any", F(auth_mode),
     "API authentication; auto: off when no key or JWT setting is given, else any. Off is "
     "refused unless the API listens on loopback"},
    {"IMGSVC_API_KEYS", CFG_SECRET, 0, 16640, "", NULL, F(api_keys),
     "Comma-separated API keys for internal callers (16 to 256 characters each)"},
    {"IMGSVC_JWT_HS256_SECRET", CFG_SECRET, 0, 4096, "", NULL, F(jwt_hs256_secret),
     "Shared secret for HS256 JWTs (at least 32 bytes)"},
    {"IMGSVC_JWT_RS256_PUBLIC_KEY_FILE", CFG_STRING, 0, 4096, "", NULL,
     F(jwt_rs256_public_key_file), "PEM file with the RSA public key (2048 bits or more) for "
     "RS256 JWTs"},
    {"IMGSVC_JWT_RS256_PUBLIC_KEY", CFG_STRING, 0, 16384, "", NULL, F(jwt_rs256_public_key),
     "The same PEM given inline (not together with the _FILE setting)"},
    {"IMGSVC_JWT_ISSUER", CFG_STRING, 0, 1024, "", NULL, F(jwt_issuer),
     "Expected JWT iss; empty: not checked"},
    {"IMGSVC_JWT_AUDIENCE", CFG_STRING, 0, 1024, "", NULL, F(jwt_audience),
     "Expected JWT aud; empty: not checked"},
    {"IMGSVC_JWT_LEEWAY_S", CFG_INT, 0, 300, "30", NULL, F(jwt_leeway_s),
     "Allowed clock difference in seconds for JWT exp and nbf"},
    {"IMGSVC_JWT_MAX_BYTES", CFG_INT, 256, 65536, "8192", NULL, F(jwt_max_bytes),
     "Longest JWT accepted, in bytes"},
    {"IMGSVC_RECONCILE_INTERVAL_S", CFG_INT, 0, 86400, "60", NULL, F(reconcile_interval_s),
     "Seconds between reconciler passes (at start, then every N s: list delete/ and process "
     "uploads whose event was lost); 0: off"},
    {"IMGSVC_RECONCILE_GRACE_S", CFG_INT, 0, 86400, "30", NULL, F(reconcile_grace_s),
     "Age in seconds (by LastModified) a temp object must reach before the reconciler takes it"},
    {"IMGSVC_RECONCILE_MAX_KEYS", CFG_INT, 1, 10000000, "10000", NULL, F(reconcile_max_keys),
     "Most temp objects one reconciler pass lists; the rest wait for the next pass"},
    {"IMGSVC_REPROCESS_MAX_KEYS", CFG_INT, 1, 1000000, "10000", NULL, F(reprocess_max_keys),
     "Most uploads one POST /v1/objects/reprocess may queue (larger prefixes: the CLI "
     "`imgsvc reprocess`)"},
    {"IMGSVC_EVENTS_TOKEN", CFG_SECRET, 0, 256, "", NULL, F(events_token),
     "Shared token of POST /v1/events/s3 (16 to 256 of A-Z a-z 0-9 . _ ~ -), sent as "
     "Authorization: Bearer (MinIO) or ?token= (Ceph RGW); empty: SNS-signed deliveries only "
     "(or anything when authentication is off on loopback)"},
    {"IMGSVC_EVENTS_MAX_BYTES", CFG_INT, 1 * KIB, 64 * MIB, "1048576", NULL, F(events_max_bytes),
     "Largest event notification body in bytes (413 payload_too_large past it)"},
    {"IMGSVC_EVENTS_MAX_RECORDS", CFG_INT, 1, 10000, "100", NULL, F(events_max_records),
     "Most records in one event notification (413 past it)"},
    {"IMGSVC_EVENTS_RETRY_AFTER_S", CFG_INT, 1, 3600, "5", NULL, F(events_retry_after_s),
     "Retry-After in seconds of a 503 when the event queue is full"},
    {"IMGSVC_SNS_CERT_HOSTS", CFG_STRING, 1, 1024, "sns.*.amazonaws.com", NULL, F(sns_cert_hosts),
     "Comma-separated host patterns ('*' = one DNS label) SNS SigningCertURL and SubscribeURL "
     "must be on (https, port 443; certificates end in .pem)"},
    {"IMGSVC_SNS_TOPIC_ARNS", CFG_STRING, 0, 16384, "", NULL, F(sns_topic_arns),
     "Comma-separated SNS TopicArns accepted; empty: any topic (anyone with an AWS account "
     "can then subscribe this endpoint to their topic and send it signed events)"},
    {"IMGSVC_SNS_CA_FILE", CFG_STRING, 0, 4096, "", NULL, F(sns_ca_file),
     "PEM CA bundle for fetching SNS certificates and SubscribeURLs; empty: the system CAs"},
    {"IMGSVC_SNS_CONNECT_TO", CFG_STRING, 0, 4096, "", NULL, F(sns_connect_to),
     "Comma-separated curl CONNECT_TO pins HOST:443:ADDR:PORT for SNS fetches (proxies and "
     "tests; TLS still checks HOST); empty: none"},
    {"IMGSVC_SNS_TIMEOUT_MS", CFG_INT, 100, 60000, "5000", NULL, F(sns_timeout_ms),
     "Deadline of one SNS certificate or SubscribeURL fetch in milliseconds"},
    {"IMGSVC_SNS_MAX_CERT_BYTES", CFG_INT, 1 * KIB, 1 * MIB, "65536", NULL, F(sns_max_cert_bytes),
     "Largest SNS certificate or SubscribeURL answer in bytes"},
    {"IMGSVC_SNS_CERT_CACHE", CFG_INT, 1, 1024, "32", NULL, F(sns_cert_cache),
     "SNS signing certificates kept in memory (by URL, least recently used evicted)"},
    {"IMGSVC_LAMBDA_DEADLINE_MARGIN_MS", CFG_INT, 0, 600000, "2000", NULL,
     F(lambda_deadline_margin_ms), "imgsvc lambda: no record starts with less time than this "
     "left before the invocation's deadline (the invocation answers an error; Lambda retries)"},
    {"AWS_REGION", CFG_STRING, 1, 64, "us-east-1", NULL, F(aws_region),
     "Region used to sign S3 requests"},
    {"AWS_ACCESS_KEY_ID", CFG_STRING, 0, 128, "", NULL, F(aws_access_key_id),
     "S3 access key id (else the shared credentials file)"},
    {"AWS_SECRET_ACCESS_KEY", CFG_SECRET, 0, 128, "", NULL, F(aws_secret_access_key),
     "S3 secret access key (never logged)"},
    {"AWS_SESSION_TOKEN", CFG_SECRET, 0, 4096, "", NULL, F(aws_session_token),
     "Session token for temporary credentials (never logged)"},
    {"AWS_PROFILE", CFG_STRING, 1, 128, "default", NULL, F(aws_profile),
     "Profile read from the shared credentials file"},
    {"AWS_SHARED_CREDENTIALS_FILE", CFG_STRING, 0, 4096, "", NULL,
     F(aws_shared_credentials_file), "Shared credentials file (empty: ~/.aws/credentials)"},
    {"AWS_CREDENTIAL_EXPIRATION", CFG_STRING, 0, 64, "", NULL, F(aws_credential_expiration),
     "Expiry of temporary credentials (RFC 3339, UTC); presigned URLs never outlive it"},
};
/* clang-format on */

const struct cfg_entry *srv_config_table(size_t *n)
{
    *n = sizeof(table) / sizeof(table[0]);
    return table;
}

static const char *env_get(void *ctx, const char *name)
{
    (void)ctx;
    return getenv(name);
}

void srv_config_describe(const struct cfg_entry *ent, char *out, size_t cap)
{
    switch (ent->type) {
    case CFG_INT:
        snprintf(out, cap, "an integer from %lld to %lld", ent->min, ent->max);
        break;
    case CFG_BOOL:
        snprintf(out, cap, "true or false");
        break;
    case CFG_ENUM:
        snprintf(out, cap, "one of %s", ent->choices);
        break;
    case CFG_ADDR:
        snprintf(out, cap, "an IPv4 or IPv6 address");
        break;
    case CFG_URL:
        snprintf(out, cap, "empty or http(s)://host[:port]");
        break;
    case CFG_STRING:
    case CFG_SECRET:
        if (ent->min > 0)
            snprintf(out, cap, "text of %lld to %lld bytes", ent->min, ent->max);
        else
            snprintf(out, cap, "text of at most %lld bytes", ent->max);
        break;
    }
}

static bool parse_int(const char *s, long long *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0')
        return false;
    *out = v;
    return true;
}

static bool parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0)
            return (*out = true), true;
        if (strcasecmp(s, no[i]) == 0)
            return (*out = false), true;
    }
    return false;
}

static bool enum_has(const char *choices, const char *v)
{
    size_t n = strlen(v);
    const char *p = choices;
    while (p != NULL && *p != '\0') {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncmp(p, v, n) == 0)
            return true;
        p = bar ? bar + 1 : NULL;
    }
    return false;
}

/* Empty, or http(s)://host[:port] with an optional trailing slash and nothing else. */
static bool valid_url(const char *s)
{
    if (s[0] == '\0')
        return true;
    const char *h = strncmp(s, "https://", 8) == 0  ? s + 8
                    : strncmp(s, "http://", 7) == 0 ? s + 7
                                                    : NULL;
    if (h == NULL || *h == '\0' || *h == ':' || *h == '/')
        return false;
    for (const char *p = h; *p != '\0'; p++) {
        bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                  (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' || *p == ':' || *p == '[' ||
                  *p == ']';
        if (!ok && !(*p == '/' && p[1] == '\0'))
            return false;
    }
    return true;
}

static bool valid_addr(const char *s)
{
    unsigned char tmp[16];
    return inet_pton(AF_INET, s, tmp) == 1 || inet_pton(AF_INET6, s, tmp) == 1;
}

/* Validates and stores one value; false when invalid. */
static bool store(struct srv_config *c, const struct cfg_entry *ent, const char *v)
{
    char *base = (char *)c + ent->offset;
    long long n = 0;
    bool b = false;
    size_t len = strlen(v);
    switch (ent->type) {
    case CFG_INT:
        if (!parse_int(v, &n) || n < ent->min || n > ent->max)
            return false;
        *(long long *)(void *)base = n;
        return true;
    case CFG_BOOL:
        if (!parse_bool(v, &b))
            return false;
        *(bool *)(void *)base = b;
        return true;
    case CFG_ENUM:
        if (!enum_has(ent->choices, v))
            return false;
        break;
    case CFG_ADDR:
        if (!valid_addr(v))
            return false;
        break;
    case CFG_URL:
        if ((long long)len > ent->max || !valid_url(v))
            return false;
        break;
    case CFG_STRING:
    case CFG_SECRET:
        if ((long long)len < ent->min || (long long)len > ent->max)
            return false;
        break;
    }
    char *copy = strdup(v);
    if (copy == NULL)
        return false;
    char **slot = (char **)(void *)base;
    free(*slot);
    *slot = copy;
    return true;
}

enum err_code srv_config_load(struct srv_config *c, cfg_getenv_fn get, void *ctx, struct err *e)
{
    memset(c, 0, sizeof(*c));
    if (get == NULL)
        get = env_get;
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        const struct cfg_entry *ent = &table[i];
        if (!store(c, ent, ent->def))
            return err_set(e, ERR_INTERNAL, "default of %s is invalid", ent->env);
    }
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        const struct cfg_entry *ent = &table[i];
        const char *v = get(ctx, ent->env);
        if (v == NULL)
            continue;
        if (!store(c, ent, v)) {
            char allowed[160];
            srv_config_describe(ent, allowed, sizeof(allowed));
            if (ent->type == CFG_SECRET)
                return err_set(e, ERR_INVALID, "%s is invalid: expected %s", ent->env, allowed);
            return err_set(e, ERR_INVALID, "%s=%.100s is invalid: expected %s", ent->env, v,
                           allowed);
        }
    }
    return ERR_OK;
}

void srv_config_free(struct srv_config *c)
{
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        const struct cfg_entry *ent = &table[i];
        if (ent->type == CFG_INT || ent->type == CFG_BOOL)
            continue;
        char **slot = (char **)(void *)((char *)c + ent->offset);
        if (*slot != NULL && ent->type == CFG_SECRET)
            memset(*slot, 0, strlen(*slot));
        free(*slot);
        *slot = NULL;
    }
}

/* Formats the current value of an entry into `out`, secrets masked. */
static void value_text(const struct srv_config *c, const struct cfg_entry *ent, char *out,
                       size_t cap)
{
    const char *base = (const char *)c + ent->offset;
    if (ent->type == CFG_INT) {
        snprintf(out, cap, "%lld", *(const long long *)(const void *)base);
    } else if (ent->type == CFG_BOOL) {
        snprintf(out, cap, "%s", *(const bool *)(const void *)base ? "true" : "false");
    } else {
        const char *s = *(char *const *)(const void *)base;
        if (ent->type == CFG_SECRET)
            snprintf(out, cap, "%s", s != NULL && s[0] != '\0' ? "****" : "");
        else
            snprintf(out, cap, "%s", s != NULL ? s : "");
    }
}

void srv_config_print(const struct srv_config *c, FILE *out)
{
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        char v[512];
        value_text(c, &table[i], v, sizeof(v));
        fprintf(out, "%s=%s\n", table[i].env, v);
    }
}

void srv_config_markdown(FILE *out)
{
    fprintf(out, "| Variable | Default | Allowed | Description |\n");
    fprintf(out, "|---|---|---|---|\n");
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        char allowed[160];
        srv_config_describe(&table[i], allowed, sizeof(allowed));
        const char *def = table[i].def[0] != '\0' ? table[i].def : "(empty)";
        fprintf(out, "| `%s` | `%s` | %s | %s |\n", table[i].env, def, allowed, table[i].doc);
    }
}
