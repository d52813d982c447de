/*
 * store.c: the embedded S3 store's request prologue (authentication exactly as S3 through
 * s3/sigv4.h), CORS (preflight and response headers) and ListBuckets. See store.h.
 *
 * The object and listing operations live in store_object.c and store_list.c; errors and XML in
 * store_xml.c.
 */
#include "handlers/store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "common/timeutil.h"

#define MAX_REQ_HEADERS 96 /* more request headers are refused */
#define MAX_QUERY_PAIRS 64 /* more query parameters are refused */
#define CORS_VARY       "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"

struct hdr_list {
    struct sigv4_pair v[MAX_REQ_HEADERS];
    size_t n;
    bool overflow;
};

static bool collect_header(void *ctx, const char *name, const char *value)
{
    struct hdr_list *l = ctx;
    if (l->n == MAX_REQ_HEADERS) {
        l->overflow = true;
        return false;
    }
    l->v[l->n++] = (struct sigv4_pair){name, value ? value : ""};
    return true;
}

static enum err_code lookup_key(void *arg, const char *access_key, struct sigv4_credentials *out)
{
    const struct h_store_ctx *ctx = arg;
    if (ctx->access_key == NULL || ctx->access_key[0] == '\0' ||
        strcmp(access_key, ctx->access_key) != 0)
        return ERR_NOT_FOUND;
    out->access_key = ctx->access_key;
    out->secret_key = ctx->secret_key;
    out->session_token = NULL;
    return ERR_OK;
}

static int verdict_status(enum sigv4_verdict v)
{
    return v == SIGV4_SIGNATURE_MISMATCH || v == SIGV4_ACCESS_DENIED ||
                   v == SIGV4_INVALID_ACCESS_KEY || v == SIGV4_TIME_SKEWED
               ? 403
               : 400;
}

/* Header-signed requests vouch for the body's SHA-256: check it. */
static bool check_payload(const struct h_request *req, struct h_response *resp,
                          const struct h_store_req *sr)
{
    const char *claimed = h_header(req, "x-amz-content-sha256");
    if (claimed != NULL && strncmp(claimed, "STREAMING-", 10) == 0) {
        bool known = strcmp(claimed, "STREAMING-UNSIGNED-PAYLOAD-TRAILER") == 0 ||
                     strcmp(claimed, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD") == 0;
        if (known && strcmp(req->method, "PUT") == 0)
            return true; /* decoded and checked by the PUT handler */
        h_s3_error(resp, req, S3E_NOT_IMPLEMENTED,
                   "this aws-chunked (STREAMING-*) mode is not supported by this store");
        return false;
    }
    if (sr->auth.payload_hash[0] == '\0')
        return true;
    char got[SIGV4_HEX_LEN + 1];
    sigv4_sha256_hex(req->body ? req->body : "", req->body_len, got);
    if (strcmp(got, sr->auth.payload_hash) != 0) {
        h_s3_error(resp, req, S3E_CONTENT_SHA256_MISMATCH, NULL);
        return false;
    }
    return true;
}

static bool authenticate(const struct h_request *req, struct h_response *resp,
                         struct h_store_req *sr)
{
    struct hdr_list *hl = calloc(1, sizeof(*hl));
    struct sigv4_pair *q = NULL;
    size_t nq = 0;
    struct err e = {0};
    bool ok = false;
    if (hl == NULL) {
        h_s3_error(resp, req, S3E_INTERNAL, NULL);
        goto cleanup;
    }
    req->each(req->conn, H_KV_HEADER, collect_header, hl);
    if (hl->overflow) {
        h_s3_error(resp, req, S3E_HEADERS_TOO_LARGE, NULL);
        goto cleanup;
    }
    enum err_code rc = sigv4_query_parse(req->raw_query, MAX_QUERY_PAIRS, &q, &nq);
    if (rc != ERR_OK) {
        h_s3_error(resp, req, rc == ERR_NOMEM ? S3E_INTERNAL : S3E_INVALID_URI, NULL);
        goto cleanup;
    }
    const struct h_store_ctx *ctx = sr->ctx;
    struct sigv4_verify_params p = {.region = ctx->region,
                                    .service = "s3",
                                    .now = ctx->now ? ctx->now() : time(NULL),
                                    .rules = SIGV4_RULES_S3,
                                    .lookup = lookup_key,
                                    .lookup_ctx = (void *)ctx,
                                    .cache = ctx->key_cache};
    struct sigv4_verify_request vr = {req->method, req->path, q, nq, hl->v, hl->n, NULL};
    if (sigv4_verify(&p, &vr, &sr->auth, &e) != ERR_OK) {
        log_msg(LOGL_WARN, "store", req->request_id, "cannot verify the signature: %s", e.msg);
        h_s3_error(resp, req, e.code == ERR_TOO_LARGE ? S3E_HEADERS_TOO_LARGE : S3E_INTERNAL, NULL);
        goto cleanup;
    }
    if (sr->auth.verdict != SIGV4_OK) {
        h_s3_error_code(resp, req, verdict_status(sr->auth.verdict),
                        sigv4_verdict_code(sr->auth.verdict), sr->auth.message);
        goto cleanup;
    }
    ok = check_payload(req, resp, sr);
cleanup:
    free(hl);
    free(q);
    return ok;
}

bool h_store_begin(const struct h_request *req, struct h_response *resp, struct h_store_req *sr)
{
    memset(sr, 0, sizeof(*sr));
    sr->ctx = req->route_ctx;
    sr->bucket = h_param(req, "bucket");
    sr->key = h_param(req, "key");
    (void)h_resp_header(resp, "x-amz-request-id", req->request_id);
    h_store_cors_headers(sr->ctx, req, resp);
    if (!authenticate(req, resp, sr))
        return false;
    struct err e = {0};
    if (sr->key != NULL) {
        enum err_code rc = s3_store_check_key(sr->key, strlen(sr->key), &e);
        if (rc != ERR_OK) {
            h_s3_error(resp, req, rc == ERR_TOO_LARGE ? S3E_KEY_TOO_LONG : S3E_INVALID_ARGUMENT,
                       rc == ERR_TOO_LARGE ? NULL : e.msg);
            return false;
        }
    }
    if (sr->bucket == NULL || !s3_store_bucket_exists(sr->ctx->store, sr->bucket)) {
        h_s3_error(resp, req, S3E_NO_SUCH_BUCKET, NULL);
        return false;
    }
    return true;
}

/* ---- CORS -------------------------------------------------------------------------------- */

/* Matches `s` against a pattern with at most one '*' (case-sensitive, as S3 origins). */
static bool wild_match(const char *pat, size_t pn, const char *s, bool ci)
{
    const char *star = memchr(pat, '*', pn);
    size_t sn = strlen(s);
    int (*cmp)(const char *, const char *, size_t) = ci ? strncasecmp : strncmp;
    if (star == NULL)
        return pn == sn && cmp(pat, s, pn) == 0;
    size_t pre = (size_t)(star - pat), post = pn - pre - 1;
    return sn >= pre + post && cmp(pat, s, pre) == 0 && cmp(star + 1, s + sn - post, post) == 0;
}

/* True when `item` matches an entry of the comma-separated `list`; *star tells whether the
 * matching entry was exactly "*". */
static bool list_match(const char *list, const char *item, bool ci, bool *star)
{
    const char *p = list;
    while (p != NULL && *p != '\0') {
        while (*p == ' ' || *p == ',')
            p++;
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        while (n > 0 && p[n - 1] == ' ')
            n--;
        if (n > 0 && wild_match(p, n, item, ci)) {
            if (star != NULL)
                *star = n == 1 && p[0] == '*';
            return true;
        }
        p = end;
    }
    return false;
}

/* Every comma-separated header of `requested` is allowed. */
static bool headers_allowed(const char *allowed, const char *requested)
{
    char one[256];
    const char *p = requested;
    while (p != NULL && *p != '\0') {
        while (*p == ' ' || *p == ',')
            p++;
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        while (n > 0 && p[n - 1] == ' ')
            n--;
        if (n >= sizeof(one))
            return false;
        snprintf(one, sizeof(one), "%.*s", (int)n, p);
        if (n > 0 && !list_match(allowed, one, true, NULL))
            return false;
        p = end;
    }
    return true;
}

/* Adds the headers of an allowed CORS request. */
static void cors_allow(const struct h_store_ctx *ctx, struct h_response *resp, const char *origin,
                       bool any)
{
    char methods[256] = "", age[32];
    const char *p = ctx->cors.methods ? ctx->cors.methods : "";
    size_t o = 0;
    for (; *p != '\0' && o + 3 < sizeof(methods); p++) {
        if (*p == ' ')
            continue;
        methods[o++] = *p;
        if (*p == ',')
            methods[o++] = ' ';
    }
    methods[o] = '\0';
    (void)h_resp_header(resp, "Access-Control-Allow-Origin", any ? "*" : origin);
    (void)h_resp_header(resp, "Access-Control-Allow-Methods", methods);
    if (ctx->cors.expose != NULL && ctx->cors.expose[0] != '\0')
        (void)h_resp_header(resp, "Access-Control-Expose-Headers", ctx->cors.expose);
    if (ctx->cors.max_age_s >= 0) {
        snprintf(age, sizeof(age), "%ld", ctx->cors.max_age_s);
        (void)h_resp_header(resp, "Access-Control-Max-Age", age);
    }
    (void)h_resp_header(resp, "Vary", CORS_VARY);
}

void h_store_cors_headers(const struct h_store_ctx *ctx, const struct h_request *req,
                          struct h_response *resp)
{
    const char *origin = h_header(req, "Origin");
    bool any = false;
    if (origin == NULL || ctx->cors.origins == NULL || ctx->cors.origins[0] == '\0')
        return;
    const char *method = strcmp(req->method, "HEAD") == 0 ? "HEAD" : req->method;
    if (list_match(ctx->cors.origins, origin, false, &any) &&
        list_match(ctx->cors.methods ? ctx->cors.methods : "", method, false, NULL))
        cors_allow(ctx, resp, origin, any);
}

void h_store_options(const struct h_request *req, struct h_response *resp)
{
    const struct h_store_ctx *ctx = req->route_ctx;
    const char *bucket = h_param(req, "bucket");
    const char *origin = h_header(req, "Origin");
    const char *method = h_header(req, "Access-Control-Request-Method");
    const char *hdrs = h_header(req, "Access-Control-Request-Headers");
    bool any = false;
    (void)h_resp_header(resp, "x-amz-request-id", req->request_id);
    if (bucket == NULL || !s3_store_bucket_exists(ctx->store, bucket)) {
        h_s3_error(resp, req, S3E_NO_SUCH_BUCKET, NULL);
        return;
    }
    if (ctx->cors.origins == NULL || ctx->cors.origins[0] == '\0') {
        h_s3_error(resp, req, S3E_CORS_DISABLED, NULL);
        return;
    }
    if (origin == NULL || method == NULL) {
        h_s3_error(resp, req, S3E_BAD_REQUEST, NULL);
        return;
    }
    if (!list_match(ctx->cors.origins, origin, false, &any) ||
        !list_match(ctx->cors.methods ? ctx->cors.methods : "", method, false, NULL) ||
        (hdrs != NULL && !headers_allowed(ctx->cors.headers ? ctx->cors.headers : "", hdrs))) {
        h_s3_error(resp, req, S3E_CORS_FORBIDDEN, NULL);
        return;
    }
    cors_allow(ctx, resp, origin, any);
    if (hdrs != NULL && hdrs[0] != '\0')
        (void)h_resp_header(resp, "Access-Control-Allow-Headers", hdrs);
    h_resp_take(resp, 200, NULL, NULL, 0);
}

/* ---- ListBuckets ------------------------------------------------------------------------- */

void h_store_list_buckets(const struct h_request *req, struct h_response *resp)
{
    struct h_store_req sr;
    memset(&sr, 0, sizeof(sr));
    sr.ctx = req->route_ctx;
    (void)h_resp_header(resp, "x-amz-request-id", req->request_id);
    h_store_cors_headers(sr.ctx, req, resp);
    if (!authenticate(req, resp, &sr))
        return;
    struct buf b;
    buf_init(&b, H_STORE_XML_MAX);
    char when[32];
    ts_rfc3339_ms(0, when, sizeof(when));
    enum err_code rc = buf_append_str(
        &b, H_STORE_XML_DECL "<ListAllMyBucketsResult xmlns=\"" H_STORE_XML_NS "\"><Owner>");
    if (rc == ERR_OK)
        rc = h_xml_elem(&b, "ID", sr.ctx->access_key);
    if (rc == ERR_OK)
        rc = h_xml_elem(&b, "DisplayName", sr.ctx->access_key);
    if (rc == ERR_OK)
        rc = buf_append_str(&b, "</Owner><Buckets><Bucket>");
    if (rc == ERR_OK)
        rc = h_xml_elem(&b, "Name", sr.ctx->bucket);
    if (rc == ERR_OK)
        rc = h_xml_elem(&b, "CreationDate", when);
    if (rc == ERR_OK)
        rc = buf_append_str(&b, "</Bucket></Buckets></ListAllMyBucketsResult>");
    size_t len = 0;
    char *body = rc == ERR_OK ? buf_take(&b, &len) : NULL;
    buf_free(&b);
    if (body == NULL)
        h_s3_error(resp, req, S3E_INTERNAL, NULL);
    else
        h_resp_take(resp, 200, "application/xml", body, len);
}
