/*
 * client.c: the S3 client's lifecycle (options, credentials, the libcurl share), the retry loop
 * around one signed attempt (client_http.c) and the mapping of S3 errors to our error type.
 * The operations themselves are in client_ops.c.
 */
#include "s3/client_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "common/log.h"
#include "common/timeutil.h"

#define RETRIES_MAX 10

void s3_options_defaults(struct s3_options *o)
{
    memset(o, 0, sizeof(*o));
    o->region = "us-east-1";
    o->connect_timeout_ms = S3_DEFAULT_CONNECT_MS;
    o->timeout_ms = S3_DEFAULT_TIMEOUT_MS;
    o->max_retries = S3_DEFAULT_RETRIES;
    o->retry_base_ms = S3_DEFAULT_RETRY_BASE_MS;
    o->retry_max_ms = S3_DEFAULT_RETRY_MAX_MS;
    o->max_get_bytes = S3_DEFAULT_MAX_GET;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *ctx)
{
    (void)h;
    (void)access;
    struct s3_client *c = ctx;
    pthread_mutex_lock(&c->locks[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *ctx)
{
    (void)h;
    struct s3_client *c = ctx;
    pthread_mutex_unlock(&c->locks[data]);
}

/* A libcurl share of connections, DNS and TLS sessions, locked per data kind. */
static enum err_code make_share(struct s3_client *c, struct err *e)
{
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_init(&c->locks[i], NULL);
    pthread_mutex_init(&c->rng_lock, NULL);
    c->locks_ready = true;
    c->share = curl_share_init();
    if (c->share == NULL)
        return err_set(e, ERR_NOMEM, "s3: curl_share_init failed");
    if (curl_share_setopt(c->share, CURLSHOPT_LOCKFUNC, share_lock) ||
        curl_share_setopt(c->share, CURLSHOPT_UNLOCKFUNC, share_unlock) ||
        curl_share_setopt(c->share, CURLSHOPT_USERDATA, c) ||
        curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT) ||
        curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) ||
        curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION))
        return err_set(e, ERR_INTERNAL, "s3: configuring the curl share failed");
    return ERR_OK;
}

static char *dup_or_null(const char *s)
{
    return (s && s[0]) ? strdup(s) : NULL;
}

/* Splits the endpoint into scheme and authority (a default port is dropped, as curl drops it
 * from the Host header it sends). */
static enum err_code parse_endpoint(struct s3_client *c, const char *ep, struct err *e)
{
    char fallback[256];
    if (ep == NULL || ep[0] == '\0') {
        snprintf(fallback, sizeof(fallback), "https://s3.%s.amazonaws.com", c->region);
        ep = fallback;
    }
    const char *rest;
    if (strncasecmp(ep, "https://", 8) == 0) {
        c->scheme = strdup("https");
        rest = ep + 8;
    } else if (strncasecmp(ep, "http://", 7) == 0) {
        c->scheme = strdup("http");
        rest = ep + 7;
    } else {
        return err_set(e, ERR_INVALID, "s3: endpoint must start with http:// or https://");
    }
    size_t n = strcspn(rest, "/?#");
    if (n == 0 || (rest[n] != '\0' && strcmp(rest + n, "/") != 0) || memchr(rest, '@', n) ||
        strcspn(rest, " \t\r\n") < n)
        return err_set(e, ERR_INVALID, "s3: endpoint must be scheme://host[:port] (no path)");
    const char *def = strcmp(c->scheme, "https") == 0 ? ":443" : ":80";
    if (n > strlen(def) && memcmp(rest + n - strlen(def), def, strlen(def)) == 0)
        n -= strlen(def);
    c->authority = strndup(rest, n);
    size_t elen = strlen(c->scheme) + 3 + n + 1;
    c->endpoint = malloc(elen);
    if (c->scheme == NULL || c->authority == NULL || c->endpoint == NULL)
        return err_set(e, ERR_NOMEM, "s3: out of memory");
    snprintf(c->endpoint, elen, "%s://%s", c->scheme, c->authority);
    return ERR_OK;
}

/* S3's bucket naming rules that matter here: 3..63 of [a-z0-9.-]; virtual-hosted addressing
 * also needs no dots (TLS wildcard certificates) and no uppercase. */
static enum err_code check_bucket(const char *b, bool path_style, struct err *e)
{
    size_t n = b ? strlen(b) : 0;
    if (n < 3 || n > 63)
        return err_set(e, ERR_INVALID, "s3: the bucket name must have 3..63 characters");
    for (size_t i = 0; i < n; i++) {
        char ch = b[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
                  (ch == '.' && path_style) ||
                  (path_style && (ch == '_' || (ch >= 'A' && ch <= 'Z')));
        if (!ok)
            return err_set(e, ERR_INVALID, "s3: bucket name not usable with %s addressing",
                           path_style ? "path-style" : "virtual-hosted");
    }
    return ERR_OK;
}

static enum err_code check_options(const struct s3_options *o, struct err *e)
{
    if (o->max_retries < 0 || o->max_retries > RETRIES_MAX)
        return err_set(e, ERR_INVALID, "s3: max_retries must be 0..%d", RETRIES_MAX);
    if (o->connect_timeout_ms < 0 || o->timeout_ms < 0 || o->retry_base_ms < 0 ||
        o->retry_max_ms < 0)
        return err_set(e, ERR_INVALID, "s3: timeouts and backoff must not be negative");
    return check_bucket(o->bucket, o->path_style, e);
}

/* Copies the options, filling defaults for zero fields. */
static enum err_code copy_options(struct s3_client *c, const struct s3_options *o, struct err *e)
{
    c->opt = *o;
    memset(&c->opt.creds, 0, sizeof(c->opt.creds));
    if (c->opt.connect_timeout_ms == 0)
        c->opt.connect_timeout_ms = S3_DEFAULT_CONNECT_MS;
    if (c->opt.timeout_ms == 0)
        c->opt.timeout_ms = S3_DEFAULT_TIMEOUT_MS;
    if (c->opt.retry_base_ms == 0)
        c->opt.retry_base_ms = S3_DEFAULT_RETRY_BASE_MS;
    if (c->opt.retry_max_ms == 0)
        c->opt.retry_max_ms = S3_DEFAULT_RETRY_MAX_MS;
    if (c->opt.max_get_bytes == 0)
        c->opt.max_get_bytes = S3_DEFAULT_MAX_GET;
    c->region = strdup(o->region && o->region[0] ? o->region : "us-east-1");
    c->bucket = strdup(o->bucket);
    c->ca_file = dup_or_null(o->ca_file);
    c->connect_to = dup_or_null(o->connect_to);
    if (c->region == NULL || c->bucket == NULL || (o->ca_file && o->ca_file[0] && !c->ca_file) ||
        (o->connect_to && o->connect_to[0] && !c->connect_to))
        return err_set(e, ERR_NOMEM, "s3: out of memory");
    c->opt.region = c->region;
    c->opt.bucket = c->bucket;
    c->opt.ca_file = c->ca_file;
    c->opt.connect_to = c->connect_to;
    return parse_endpoint(c, o->endpoint, e);
}

struct s3_client *s3_client_new(const struct s3_options *o, struct err *e)
{
    struct s3_client *c = NULL, *res = NULL;
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK) {
        err_set(e, ERR_INTERNAL, "s3: curl_global_init failed");
        goto cleanup;
    }
    if (check_options(o, e) != ERR_OK)
        goto cleanup;
    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        err_set(e, ERR_NOMEM, "s3: out of memory");
        goto cleanup;
    }
    if (copy_options(c, o, e) != ERR_OK || make_share(c, e) != ERR_OK)
        goto cleanup;
    c->opt.endpoint = c->endpoint;
    if (s3_credentials_resolve(&o->creds, &c->creds, e) != ERR_OK)
        goto cleanup;
    c->keys = sigv4_key_cache_new(0);
    if (c->keys == NULL || RAND_bytes((unsigned char *)&c->rng, sizeof(c->rng)) != 1) {
        err_set(e, ERR_NOMEM, "s3: out of memory");
        goto cleanup;
    }
    c->rng |= 1; /* xorshift state must not be 0 */
    res = c;
    c = NULL;
cleanup:
    s3_client_destroy(c);
    return res;
}

void s3_client_destroy(struct s3_client *c)
{
    if (c == NULL)
        return;
    if (c->share != NULL)
        curl_share_cleanup(c->share);
    if (c->locks_ready) {
        for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
            pthread_mutex_destroy(&c->locks[i]);
        pthread_mutex_destroy(&c->rng_lock);
    }
    sigv4_key_cache_destroy(c->keys);
    s3_credentials_free(&c->creds);
    free(c->endpoint);
    free(c->scheme);
    free(c->authority);
    free(c->region);
    free(c->bucket);
    free(c->ca_file);
    free(c->connect_to);
    OPENSSL_cleanse(c, sizeof(*c));
    free(c);
}

const char *s3_client_bucket(const struct s3_client *c)
{
    return c->bucket;
}

const char *s3_client_region(const struct s3_client *c)
{
    return c->region;
}

const char *s3_client_endpoint(const struct s3_client *c)
{
    return c->endpoint;
}

/* ---- retries ----------------------------------------------------------------------------- */

bool s3_i_retryable(CURLcode cc, long status)
{
    switch (cc) {
    case CURLE_OK:
        return (status >= 500 && status != 501) || status == 429;
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return true;
    default:
        return false; /* our own aborts (size cap), TLS verification, bad URLs... */
    }
}

static uint64_t next_random(struct s3_client *c)
{
    pthread_mutex_lock(&c->rng_lock);
    uint64_t x = c->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    c->rng = x;
    pthread_mutex_unlock(&c->rng_lock);
    return x * 0x2545F4914F6CDD1DULL;
}

/* ---- errors ------------------------------------------------------------------------------ */

enum err_code s3_error_map(long status, const char *code)
{
    static const struct {
        const char *code;
        enum err_code err;
    } table[] = {
        {"NoSuchKey", ERR_NOT_FOUND},
        {"NoSuchBucket", ERR_NOT_FOUND},
        {"NoSuchUpload", ERR_NOT_FOUND},
        {"AccessDenied", ERR_FORBIDDEN},
        {"AllAccessDisabled", ERR_FORBIDDEN},
        {"SignatureDoesNotMatch", ERR_AUTH},
        {"InvalidAccessKeyId", ERR_AUTH},
        {"InvalidToken", ERR_AUTH},
        {"ExpiredToken", ERR_AUTH},
        {"RequestTimeTooSkewed", ERR_AUTH},
        {"AuthorizationHeaderMalformed", ERR_AUTH},
        {"BadDigest", ERR_INVALID},
        {"InvalidDigest", ERR_INVALID},
        {"XAmzContentSHA256Mismatch", ERR_INVALID},
        {"InvalidArgument", ERR_INVALID},
        {"InvalidRequest", ERR_INVALID},
        {"InvalidBucketName", ERR_INVALID},
        {"KeyTooLongError", ERR_INVALID},
        {"MetadataTooLarge", ERR_TOO_LARGE},
        {"EntityTooLarge", ERR_TOO_LARGE},
        {"BucketAlreadyOwnedByYou", ERR_CONFLICT},
        {"BucketAlreadyExists", ERR_CONFLICT},
        {"BucketNotEmpty", ERR_CONFLICT},
        {"PreconditionFailed", ERR_CONFLICT},
        {"SlowDown", ERR_BUSY},
    };
    if (status >= 500)
        return ERR_UPSTREAM;
    for (size_t i = 0; code && i < sizeof(table) / sizeof(table[0]); i++)
        if (strcmp(code, table[i].code) == 0)
            return table[i].err;
    switch (status) {
    case 404:
        return ERR_NOT_FOUND;
    case 401:
        return ERR_AUTH;
    case 403:
        return ERR_FORBIDDEN;
    case 409:
    case 412:
        return ERR_CONFLICT;
    case 413:
        return ERR_TOO_LARGE;
    case 429:
        return ERR_BUSY;
    default:
        return status >= 400 ? ERR_INVALID : ERR_UPSTREAM;
    }
}

/* Fills r's S3 fields from an error answer (XML when there is one, else the status). */
static enum err_code http_error(const struct s3_i_req *q, struct s3_i_resp *p,
                                struct s3_response *r, struct err *e)
{
    struct s3_i_error x;
    if (p->body.len == 0 || s3_i_parse_error(p->body.data, p->body.len, &x, NULL) != ERR_OK) {
        memset(&x, 0, sizeof(x));
        /* HEAD answers carry no body: name the usual code so callers can tell. */
        snprintf(x.code, sizeof(x.code), "%s",
                 p->status == 404   ? "NoSuchKey"
                 : p->status == 403 ? "AccessDenied"
                                    : "");
    }
    if (x.request_id[0] == '\0')
        snprintf(x.request_id, sizeof(x.request_id), "%s", p->request_id);
    snprintf(r->code, sizeof(r->code), "%s", x.code);
    snprintf(r->message, sizeof(r->message), "%s", x.message);
    snprintf(r->request_id, sizeof(r->request_id), "%s", x.request_id);
    enum err_code rc = s3_error_map(p->status, x.code);
    return err_set(e, rc, "s3: %s %s: HTTP %ld %s%s%s", q->method, q->key ? "object" : "bucket",
                   p->status, x.code[0] ? x.code : "(no S3 error code)", x.message[0] ? ": " : "",
                   x.message);
}

static enum err_code curl_error(const struct s3_i_req *q, CURLcode cc, struct err *e)
{
    enum err_code rc = cc == CURLE_OPERATION_TIMEDOUT ? ERR_TIMEOUT : ERR_IO;
    if (cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT_BADFILE)
        rc = ERR_UPSTREAM;
    return err_set(e, rc, "s3: %s: %s", q->method, curl_easy_strerror(cc));
}

/* The outcome of one finished attempt. */
static enum err_code attempt_result(const struct s3_i_req *q, CURLcode cc, struct s3_i_resp *p,
                                    struct s3_response *r, struct err *e)
{
    if (p->too_large)
        return err_set(e, ERR_TOO_LARGE, "s3: GET: the object is larger than the %llu-byte cap",
                       (unsigned long long)q->max_body);
    if (cc != CURLE_OK)
        return curl_error(q, cc, e);
    if (p->status >= 200 && p->status < 300)
        return ERR_OK;
    return http_error(q, p, r, e);
}

enum err_code s3_i_perform(struct s3_client *c, const struct s3_i_req *q, struct s3_i_resp *p,
                           struct s3_response *r, struct err *e)
{
    struct s3_response local;
    enum err_code rc = ERR_INTERNAL;
    if (r == NULL)
        r = &local;
    memset(r, 0, sizeof(*r));
    for (int attempt = 0;; attempt++) {
        long connects = 0;
        enum err_code pre = ERR_OK;
        s3_i_resp_free(p);
        s3_i_resp_init(p, q->max_body);
        memset(r->code, 0, sizeof(r->code));
        memset(r->message, 0, sizeof(r->message));
        CURLcode cc = s3_i_attempt(c, q, p, &connects, &pre, e);
        r->attempts = attempt + 1;
        r->new_connections += connects;
        r->status = p->status;
        snprintf(r->request_id, sizeof(r->request_id), "%s", p->request_id);
        snprintf(r->etag, sizeof(r->etag), "%s", p->etag);
        if (pre != ERR_OK)
            return pre;
        rc = attempt_result(q, cc, p, r, e);
        if (rc == ERR_OK || p->too_large || attempt >= c->opt.max_retries ||
            !s3_i_retryable(cc, p->status))
            break;
        long ms = ts_backoff_ms(c->opt.retry_base_ms, c->opt.retry_max_ms, attempt, next_random(c));
        log_msg(LOGL_DEBUG, "s3", NULL, "%s: retry %d in %ld ms after %s", q->method, attempt + 1,
                ms, e ? e->msg : "an error");
        ts_sleep_ms(ms);
    }
    return rc;
}
