/*
 * client_http.c: one signed S3 request over libcurl, as a list of named steps: build the path
 * and URL, sign (SigV4 header signing through the client's key cache), set the easy handle up
 * on the client's share, run it, and capture the status, the headers we use and a capped body.
 * Retries and error mapping are the caller's (client.c).
 */
#include "s3/client_internal.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/timeutil.h"

#define URL_MAX (64u * 1024u)

#ifndef IMGSVC_VERSION
#define IMGSVC_VERSION "0"
#endif

void s3_i_resp_init(struct s3_i_resp *p, uint64_t max_body)
{
    memset(p, 0, sizeof(*p));
    p->max_body = max_body;
    p->content_length = -1;
    uint64_t cap = max_body > S3_I_ERR_BODY_MAX ? max_body : S3_I_ERR_BODY_MAX;
    buf_init(&p->body, cap > SIZE_MAX / 2 ? SIZE_MAX / 2 : (size_t)cap);
}

static void free_meta(struct s3_i_resp *p)
{
    for (size_t i = 0; i < p->nmeta; i++) {
        free((char *)p->meta[i].name);
        free((char *)p->meta[i].value);
    }
    p->nmeta = 0;
}

void s3_i_resp_free(struct s3_i_resp *p)
{
    if (p == NULL)
        return;
    free_meta(p);
    buf_free(&p->body);
}

/* ---- receiving --------------------------------------------------------------------------- */

static bool ok_status(long s)
{
    return s >= 200 && s < 300;
}

static void keep_header(char *dst, size_t cap, const char *v, size_t n)
{
    snprintf(dst, cap, "%.*s", (int)(n < cap ? n : cap - 1), v);
}

static void add_meta(struct s3_i_resp *p, const char *name, size_t nn, const char *v, size_t vn)
{
    if (p->nmeta >= S3_I_META_MAX)
        return;
    char *n = strndup(name, nn), *val = strndup(v, vn);
    if (n == NULL || val == NULL) {
        free(n);
        free(val);
        return;
    }
    for (char *s = n; *s; s++)
        *s = (char)tolower((unsigned char)*s);
    p->meta[p->nmeta].name = n;
    p->meta[p->nmeta].value = val;
    p->nmeta++;
}

/* A header named name[0..nn) with value v[0..vn). Returns false to abort the transfer. */
static bool on_header(struct s3_i_resp *p, const char *name, size_t nn, const char *v, size_t vn)
{
#define IS(lit) (nn == sizeof(lit) - 1 && strncasecmp(name, lit, nn) == 0)
    if (IS("content-length")) {
        char tmp[32];
        keep_header(tmp, sizeof(tmp), v, vn);
        char *end = NULL;
        long long len = strtoll(tmp, &end, 10);
        p->content_length = (end != tmp && *end == '\0' && len >= 0) ? len : -1;
        if (!p->head && ok_status(p->status) && p->content_length >= 0 &&
            (uint64_t)p->content_length > p->max_body) {
            p->too_large = true;
            return false;
        }
    } else if (IS("etag")) {
        keep_header(p->etag, sizeof(p->etag), v, vn);
    } else if (IS("content-type")) {
        keep_header(p->content_type, sizeof(p->content_type), v, vn);
    } else if (IS("x-amz-checksum-sha256")) {
        keep_header(p->checksum_sha256, sizeof(p->checksum_sha256), v, vn);
    } else if (IS("x-amz-request-id")) {
        keep_header(p->request_id, sizeof(p->request_id), v, vn);
    } else if (IS("last-modified")) {
        char tmp[64];
        keep_header(tmp, sizeof(tmp), v, vn);
        time_t t = curl_getdate(tmp, NULL);
        p->last_modified = t > 0 ? t : 0;
    } else if (nn > 11 && strncasecmp(name, "x-amz-meta-", 11) == 0) {
        add_meta(p, name + 11, nn - 11, v, vn);
    }
#undef IS
    return true;
}

/* A new response (after 100 Continue) starts: forget the previous one's headers. */
static void reset_headers(struct s3_i_resp *p, long status)
{
    struct buf body = p->body;
    uint64_t max = p->max_body;
    bool head = p->head;
    free_meta(p);
    memset(p, 0, sizeof(*p));
    p->body = body;
    p->max_body = max;
    p->head = head;
    p->content_length = -1;
    p->status = status;
}

static size_t header_cb(char *data, size_t size, size_t n, void *ctx)
{
    struct s3_i_resp *p = ctx;
    size_t len = size * n, ll = len;
    while (ll > 0 && (data[ll - 1] == '\n' || data[ll - 1] == '\r'))
        ll--;
    if (ll >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        const char *sp = memchr(data, ' ', ll);
        reset_headers(p, sp ? strtol(sp + 1, NULL, 10) : 0);
        return len;
    }
    const char *colon = memchr(data, ':', ll);
    if (colon == NULL)
        return len;
    const char *v = colon + 1, *end = data + ll;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    return on_header(p, data, (size_t)(colon - data), v, (size_t)(end - v)) ? len : 0;
}

static size_t write_cb(char *data, size_t size, size_t n, void *ctx)
{
    struct s3_i_resp *p = ctx;
    size_t len = size * n;
    if (!ok_status(p->status)) { /* an error document: keep its start, drop the rest */
        size_t room = p->body.len < S3_I_ERR_BODY_MAX ? S3_I_ERR_BODY_MAX - p->body.len : 0;
        if (buf_append(&p->body, data, len < room ? len : room) != ERR_OK)
            return 0;
        return len;
    }
    if ((uint64_t)p->body.len + len > p->max_body) {
        p->too_large = true;
        return 0;
    }
    return buf_append(&p->body, data, len) == ERR_OK ? len : 0;
}

struct upload {
    const char *data;
    size_t len, off;
};

static size_t read_cb(char *out, size_t size, size_t n, void *ctx)
{
    struct upload *u = ctx;
    size_t want = size * n, left = u->len - u->off;
    if (want > left)
        want = left;
    if (want > 0)
        memcpy(out, u->data + u->off, want);
    u->off += want;
    return want;
}

/* ---- building ---------------------------------------------------------------------------- */

/* The decoded request path and the host it goes to. */
static enum err_code target(const struct s3_client *c, const struct s3_i_req *q, struct buf *path,
                            struct buf *host, struct err *e)
{
    if (q->key != NULL && (q->key[0] == '\0' || strlen(q->key) > S3_KEY_BYTES_MAX))
        return err_set(e, ERR_INVALID, "s3: object keys have 1..%d bytes", S3_KEY_BYTES_MAX);
    enum err_code rc;
    if (c->opt.path_style) {
        rc = buf_printf(path, "/%s%s%s", c->bucket, q->key ? "/" : "", q->key ? q->key : "");
        if (rc == ERR_OK)
            rc = buf_append_str(host, c->authority);
    } else {
        rc = buf_printf(path, "/%s", q->key ? q->key : "");
        if (rc == ERR_OK)
            rc = buf_printf(host, "%s.%s", c->bucket, c->authority);
    }
    return rc == ERR_OK ? ERR_OK : err_set(e, rc, "s3: request path too long");
}

static enum err_code build_url(const struct s3_client *c, const struct s3_i_req *q,
                               const struct buf *path, const struct buf *host, struct buf *url)
{
    enum err_code rc = buf_printf(url, "%s://%s", c->scheme, host->data);
    if (rc == ERR_OK)
        rc = sigv4_uri_encode(url, path->data, path->len, true);
    for (size_t i = 0; rc == ERR_OK && i < q->nquery; i++) {
        const char *v = q->query[i].value ? q->query[i].value : "";
        rc = buf_append_str(url, i == 0 ? "?" : "&");
        if (rc == ERR_OK)
            rc = sigv4_uri_encode(url, q->query[i].name, strlen(q->query[i].name), false);
        if (rc == ERR_OK)
            rc = buf_append_str(url, "=");
        if (rc == ERR_OK)
            rc = sigv4_uri_encode(url, v, strlen(v), false);
    }
    return rc;
}

static enum err_code sign(struct s3_client *c, const struct s3_i_req *q, const struct buf *path,
                          const struct buf *host, const char *payload_hash,
                          struct sigv4_header_auth *auth, struct err *e)
{
    enum err_code rc;
    struct sigv4_pair *hs = calloc(q->nheaders + 1, sizeof(*hs));
    if (hs == NULL)
        return err_set(e, ERR_NOMEM, "s3: out of memory");
    hs[0] = (struct sigv4_pair){"host", host->data};
    if (q->nheaders > 0)
        memcpy(hs + 1, q->headers, q->nheaders * sizeof(*hs));
    struct sigv4_params sp = {
        .creds = {c->creds.access_key, c->creds.secret_key, c->creds.session_token},
        .region = c->region,
        .service = "s3",
        .time = c->opt.clock ? c->opt.clock(c->opt.clock_ctx) : time(NULL),
        .rules = SIGV4_RULES_S3,
        .add_content_sha256 = true,
        .cache = c->keys,
    };
    struct sigv4_request req = {
        .method = q->method,
        .path = path->data,
        .query = q->query,
        .nquery = q->nquery,
        .headers = hs,
        .nheaders = q->nheaders + 1,
        .payload_hash = payload_hash,
    };
    rc = sigv4_sign_headers(&sp, &req, auth, NULL, e);
    free(hs);
    return rc;
}

/* Appends "Name: value" to *list. */
static enum err_code add_header(struct curl_slist **list, const char *name, const char *value)
{
    char line[SIGV4_TOKEN_MAX + 256];
    int n = snprintf(line, sizeof(line), "%s: %s", name, value);
    if (n < 0 || (size_t)n >= sizeof(line))
        return ERR_TOO_LARGE;
    struct curl_slist *l = curl_slist_append(*list, line);
    if (l == NULL)
        return ERR_NOMEM;
    *list = l;
    return ERR_OK;
}

/* Under Lambda (AWS_LAMBDA_FUNCTION_NAME set), the invocation's trace header that `imgsvc lambda`
 * exports as _X_AMZN_TRACE_ID, as the AWS SDKs send it (recursion detection, X-Ray); NULL
 * otherwise or when it is not plain printable ASCII of at most 1024 bytes. It is not signed
 * (like the SDKs: a tracer may rewrite it in transit). Read per request: the loop sets it only
 * between invocations, when no request is in flight. */
static const char *lambda_trace_header(void)
{
    const char *fn = getenv("AWS_LAMBDA_FUNCTION_NAME");
    const char *t = getenv("_X_AMZN_TRACE_ID");
    if (fn == NULL || fn[0] == '\0' || t == NULL || t[0] == '\0' || strlen(t) > 1024)
        return NULL;
    for (const char *s = t; *s != '\0'; s++) {
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            return NULL;
    }
    return t;
}

static enum err_code header_list(const struct s3_i_req *q, const struct buf *host,
                                 const struct sigv4_header_auth *auth, struct curl_slist **list)
{
    enum err_code rc = add_header(list, "Host", host->data);
    for (size_t i = 0; rc == ERR_OK && i < q->nheaders; i++)
        rc = add_header(list, q->headers[i].name, q->headers[i].value);
    if (rc == ERR_OK)
        rc = add_header(list, "Authorization", auth->authorization);
    if (rc == ERR_OK)
        rc = add_header(list, "X-Amz-Date", auth->amz_date);
    if (rc == ERR_OK && auth->content_sha256)
        rc = add_header(list, "x-amz-content-sha256", auth->content_sha256);
    if (rc == ERR_OK && auth->security_token)
        rc = add_header(list, "X-Amz-Security-Token", auth->security_token);
    const char *trace = lambda_trace_header();
    if (rc == ERR_OK && trace != NULL)
        rc = add_header(list, "X-Amzn-Trace-Id", trace);
    struct curl_slist *l = rc == ERR_OK ? curl_slist_append(*list, "Expect:") : NULL;
    l = l ? curl_slist_append(l, "Accept:") : NULL;
    if (l != NULL)
        *list = l;
    return rc != ERR_OK ? rc : l ? ERR_OK : ERR_NOMEM;
}

/* Everything an easy handle needs that is not per-request data. */
static bool setup_common(CURL *h, struct s3_client *c, struct curl_slist *connect_to)
{
    bool ok =
        curl_easy_setopt(h, CURLOPT_SHARE, c->share) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->opt.connect_timeout_ms) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->opt.timeout_ms) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_USERAGENT, "imgsvc/" IMGSVC_VERSION) == CURLE_OK;
    if (ok && c->ca_file)
        ok = curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file) == CURLE_OK;
    if (ok && connect_to)
        ok = curl_easy_setopt(h, CURLOPT_CONNECT_TO, connect_to) == CURLE_OK;
    return ok;
}

static bool setup_request(CURL *h, const struct s3_i_req *q, const char *url,
                          struct curl_slist *headers, struct upload *up, struct s3_i_resp *p)
{
    bool ok = curl_easy_setopt(h, CURLOPT_URL, url) == CURLE_OK &&
              curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers) == CURLE_OK &&
              curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb) == CURLE_OK &&
              curl_easy_setopt(h, CURLOPT_HEADERDATA, p) == CURLE_OK &&
              curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb) == CURLE_OK &&
              curl_easy_setopt(h, CURLOPT_WRITEDATA, p) == CURLE_OK;
    if (ok && q->upload)
        ok = curl_easy_setopt(h, CURLOPT_UPLOAD, 1L) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_READDATA, up) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)q->body_len) == CURLE_OK;
    if (ok && q->head)
        ok = curl_easy_setopt(h, CURLOPT_NOBODY, 1L) == CURLE_OK;
    if (ok && strcmp(q->method, "GET") != 0 && strcmp(q->method, "HEAD") != 0 &&
        !(q->upload && strcmp(q->method, "PUT") == 0))
        ok = curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, q->method) == CURLE_OK;
    return ok;
}

static const char *payload_hash(const struct s3_client *c, const struct s3_i_req *q,
                                char hex[SIGV4_HEX_LEN + 1])
{
    if (!q->upload || q->body_len == 0)
        return SIGV4_EMPTY_SHA256;
    if (c->opt.unsigned_payload && strcmp(c->scheme, "https") == 0)
        return SIGV4_UNSIGNED;
    if (q->payload_hash != NULL)
        return q->payload_hash;
    sigv4_sha256_hex(q->body, q->body_len, hex);
    return hex;
}

CURLcode s3_i_attempt(struct s3_client *c, const struct s3_i_req *q, struct s3_i_resp *p,
                      long *connects, enum err_code *rc, struct err *e)
{
    CURLcode cc = CURLE_ABORTED_BY_CALLBACK;
    struct buf path, host, url;
    struct sigv4_header_auth auth;
    struct curl_slist *headers = NULL, *connect_to = NULL;
    struct upload up = {q->body, q->body_len, 0};
    char hex[SIGV4_HEX_LEN + 1];
    CURL *h = NULL;
    memset(&auth, 0, sizeof(auth));
    buf_init(&path, URL_MAX);
    buf_init(&host, 1024);
    buf_init(&url, URL_MAX);
    *connects = 0;
    p->head = q->head;
    *rc = target(c, q, &path, &host, e);
    if (*rc != ERR_OK)
        goto cleanup;
    if (build_url(c, q, &path, &host, &url) != ERR_OK) {
        *rc = err_set(e, ERR_TOO_LARGE, "s3: URL too long");
        goto cleanup;
    }
    *rc = sign(c, q, &path, &host, payload_hash(c, q, hex), &auth, e);
    if (*rc != ERR_OK)
        goto cleanup;
    if ((*rc = header_list(q, &host, &auth, &headers)) != ERR_OK) {
        err_set(e, *rc, "s3: building the request headers failed");
        goto cleanup;
    }
    if (c->connect_to && (connect_to = curl_slist_append(NULL, c->connect_to)) == NULL) {
        *rc = err_set(e, ERR_NOMEM, "s3: out of memory");
        goto cleanup;
    }
    h = curl_easy_init();
    if (h == NULL || !setup_common(h, c, connect_to) ||
        !setup_request(h, q, url.data, headers, &up, p)) {
        *rc = err_set(e, ERR_INTERNAL, "s3: setting up libcurl failed");
        goto cleanup;
    }
    cc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, connects);
    if (p->status == 0)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &p->status);
cleanup:
    curl_easy_cleanup(h);
    curl_slist_free_all(headers);
    curl_slist_free_all(connect_to);
    sigv4_header_auth_free(&auth);
    buf_free(&path);
    buf_free(&host);
    buf_free(&url);
    return cc;
}
