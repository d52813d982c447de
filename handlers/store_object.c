/*
 * store_object.c: PutObject, GetObject/HeadObject (with Range) and DeleteObject for the
 * embedded store. See store.h.
 *
 * PUT checks what S3 checks before storing anything: Content-Length present, Content-MD5
 * (InvalidDigest, BadDigest), one x-amz-checksum-* header (InvalidRequest, BadDigest); the
 * SigV4 payload hash was checked by the prologue. The body is complete when the handler runs
 * (the HTTP layer buffers it), so a client that disconnects never reaches the store.
 */
#include "handlers/store_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "common/timeutil.h"
#include "s3/checksum.h"
#include "s3/store_event.h"

/* Standard headers S3 keeps with an object and returns on GET/HEAD (with x-amz-meta-*). */
static const char *const kept_headers[] = {"cache-control", "content-disposition",
                                           "content-encoding", "content-language", "expires"};

/* GET/HEAD query parameters that override a response header (presigned downloads). */
static const char *const overrides[][2] = {
    {"response-content-type", "Content-Type"},
    {"response-content-language", "Content-Language"},
    {"response-expires", "Expires"},
    {"response-cache-control", "Cache-Control"},
    {"response-content-disposition", "Content-Disposition"},
    {"response-content-encoding", "Content-Encoding"},
};

bool h_store_keep_header(void *arg, const char *name, const char *value)
{
    struct h_store_kept *k = arg;
    bool keep = strncasecmp(name, "x-amz-meta-", 11) == 0;
    for (size_t i = 0; !keep && i < sizeof(kept_headers) / sizeof(kept_headers[0]); i++)
        keep = strcasecmp(name, kept_headers[i]) == 0;
    if (!keep || value == NULL || strcasecmp(value, "aws-chunked") == 0)
        return true;
    if (k->n == S3_STORE_HEADERS_MAX || strlen(name) >= sizeof(k->names[0])) {
        k->overflow = true;
        return false;
    }
    size_t i = 0;
    for (; name[i] != '\0'; i++)
        k->names[k->n][i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
    k->names[k->n][i] = '\0';
    k->v[k->n] = (struct s3_store_header){k->names[k->n], (char *)value};
    k->n++;
    return true;
}

/* Content-MD5: InvalidDigest when malformed, BadDigest when it does not match. */
static bool check_md5(const struct h_request *req, struct h_response *resp, const char *data,
                      size_t len)
{
    const char *md5 = h_header(req, "Content-MD5");
    char got[S3_CK_B64_MAX];
    if (md5 == NULL)
        return true;
    if (!s3_checksum_valid(S3_CK_MD5, md5)) {
        h_s3_error(resp, req, S3E_INVALID_DIGEST, NULL);
        return false;
    }
    s3_checksum_b64(S3_CK_MD5, data, len, got);
    if (strcmp(got, md5) != 0) {
        h_s3_error(resp, req, S3E_BAD_DIGEST, NULL);
        return false;
    }
    return true;
}

/* The value of checksum header `a`: from the headers or an aws-chunked trailer. */
static const char *checksum_value(const struct h_request *req, const struct h_store_chunked *ch,
                                  enum s3_checksum_algo a)
{
    const char *v = h_header(req, s3_checksum_header(a));
    if (v == NULL && ch->trailer_name[0] != '\0' &&
        strcasecmp(ch->trailer_name, s3_checksum_header(a)) == 0)
        v = ch->trailer_value;
    return v;
}

/* x-amz-checksum-*: at most one, well-formed, matching. Fills *algo and `val`. */
static bool check_checksum(const struct h_request *req, struct h_response *resp,
                           const struct h_store_chunked *ch, const char *data, size_t len,
                           enum s3_checksum_algo *algo, char val[S3_CK_B64_MAX])
{
    char msg[160], got[S3_CK_B64_MAX];
    *algo = S3_CK_NONE;
    for (int a = S3_CK_CRC32; a < S3_CK_MD5; a++) {
        const char *v = checksum_value(req, ch, (enum s3_checksum_algo)a);
        if (v == NULL)
            continue;
        if (*algo != S3_CK_NONE) {
            h_s3_error(resp, req, S3E_INVALID_REQUEST,
                       "Expecting a single x-amz-checksum- header. Multiple checksum Types are "
                       "not allowed.");
            return false;
        }
        *algo = (enum s3_checksum_algo)a;
        if (!s3_checksum_valid(*algo, v)) {
            snprintf(msg, sizeof(msg), "Value for %s header is invalid.",
                     s3_checksum_header(*algo));
            h_s3_error(resp, req, S3E_INVALID_REQUEST, msg);
            return false;
        }
        memcpy(val, v, strlen(v) + 1); /* valid base64 of at most 32 bytes: fits */
    }
    const char *sdk = h_header(req, "x-amz-sdk-checksum-algorithm");
    if (sdk != NULL && *algo == S3_CK_NONE) {
        h_s3_error(resp, req, S3E_INVALID_REQUEST,
                   "x-amz-sdk-checksum-algorithm specified, but no corresponding "
                   "x-amz-checksum-* or x-amz-trailer headers were found.");
        return false;
    }
    if (*algo == S3_CK_NONE)
        return true;
    s3_checksum_b64(*algo, data, len, got);
    if (strcmp(got, val) != 0) {
        snprintf(msg, sizeof(msg), "The %s you specified did not match the calculated checksum.",
                 s3_checksum_name(*algo));
        h_s3_error(resp, req, S3E_BAD_DIGEST, msg);
        return false;
    }
    return true;
}

void h_store_emit_event(const struct h_request *req, const struct h_store_req *sr,
                        const struct s3_store_info *info, const char *name)
{
    struct h_store_ctx *ctx = sr->ctx;
    const char *prefix = ctx->event_prefix ? ctx->event_prefix : "";
    if (ctx->on_event == NULL || strncmp(sr->key, prefix, strlen(prefix)) != 0)
        return;
    char seq[S3_EVENT_SEQUENCER_LEN + 1];
    int64_t now_ms = ts_now_realtime_ms();
    s3_store_event_sequencer(&ctx->sequencer, now_ms * 1000000, seq);
    struct s3_store_event ev = {
        name, ctx->region, sr->bucket,      sr->key,     info->size,     info->etag,
        seq,  now_ms,      ctx->access_key, req->remote, req->request_id};
    size_t len = 0;
    char *js = s3_store_event_json(&ev, &len);
    if (js == NULL) {
        log_msg(LOGL_ERROR, "store", req->request_id, "out of memory building an event");
        return;
    }
    ctx->on_event(ctx->event_arg, js, len);
    free(js);
}

void h_store_failed(const struct h_request *req, struct h_response *resp, enum err_code rc,
                    const struct err *e)
{
    if (rc == ERR_NOT_FOUND) {
        h_s3_error(resp, req, S3E_NO_SUCH_BUCKET, NULL);
        return;
    }
    if (rc == ERR_TOO_LARGE) {
        h_s3_error(resp, req, S3E_METADATA_TOO_LARGE, NULL);
        return;
    }
    log_msg(LOGL_ERROR, "store", req->request_id, "%s", e->msg);
    h_s3_error(resp, req, S3E_INTERNAL, NULL);
}

/* The body to store: as sent, or decoded from aws-chunked. False: the answer is set. */
static bool put_body(const struct h_request *req, struct h_response *resp,
                     const struct h_store_req *sr, struct h_store_chunked *ch)
{
    memset(ch, 0, sizeof(*ch));
    if (h_store_is_chunked(req))
        return h_store_dechunk(req, resp, sr->ctx, ch);
    if (h_header(req, "Content-Length") == NULL) {
        h_s3_error(resp, req, S3E_MISSING_CONTENT_LENGTH, NULL);
        return false;
    }
    return true;
}

void h_store_object_put(const struct h_request *req, struct h_response *resp)
{
    if (h_header(req, "x-amz-copy-source") != NULL) {
        h_store_object_copy(req, resp);
        return;
    }
    struct h_store_req sr;
    struct h_store_chunked ch;
    struct h_store_kept k;
    enum s3_checksum_algo algo = S3_CK_NONE;
    char ck[S3_CK_B64_MAX] = "", etag[40];
    struct s3_store_info info = {0};
    struct err e = {0};
    if (!h_store_begin(req, resp, &sr) || !put_body(req, resp, &sr, &ch))
        return;
    const char *data = ch.data ? ch.data : req->body ? req->body : "";
    size_t len = ch.data ? ch.len : req->body_len;
    memset(&k, 0, sizeof(k));
    if (!check_md5(req, resp, data, len) || !check_checksum(req, resp, &ch, data, len, &algo, ck))
        goto cleanup;
    req->each(req->conn, H_KV_HEADER, h_store_keep_header, &k);
    if (k.overflow) {
        h_s3_error(resp, req, S3E_METADATA_TOO_LARGE, NULL);
        goto cleanup;
    }
    struct s3_store_put p = {sr.bucket,
                             sr.key,
                             data,
                             len,
                             h_header(req, "Content-Type"),
                             k.v,
                             k.n,
                             algo != S3_CK_NONE ? s3_checksum_name(algo) : NULL,
                             algo != S3_CK_NONE ? ck : NULL};
    enum err_code rc = s3_store_put(sr.ctx->store, &p, &info, &e);
    if (rc != ERR_OK) {
        h_store_failed(req, resp, rc, &e);
        goto cleanup;
    }
    snprintf(etag, sizeof(etag), "\"%s\"", info.etag);
    (void)h_resp_header(resp, "ETag", etag);
    if (algo != S3_CK_NONE)
        (void)h_resp_header(resp, s3_checksum_header(algo), ck);
    h_store_emit_event(req, &sr, &info, "ObjectCreated:Put");
    s3_store_info_free(&info);
    h_resp_take(resp, 200, NULL, NULL, 0);
cleanup:
    free(ch.data);
}

enum range_kind { RANGE_NONE, RANGE_OK, RANGE_UNSATISFIABLE };

static bool parse_u64(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    if (n == 0 || n > 19)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return true;
}

/* Range: bytes=a-b | a- | -n (one range; anything else is ignored, as S3 does). */
static enum range_kind parse_range(const char *h, uint64_t size, uint64_t *off, uint64_t *len)
{
    if (h == NULL || strncmp(h, "bytes=", 6) != 0 || strchr(h, ',') != NULL)
        return RANGE_NONE;
    const char *r = h + 6, *dash = strchr(r, '-');
    uint64_t a = 0, b = 0;
    if (dash == NULL)
        return RANGE_NONE;
    if (dash == r) { /* suffix */
        if (!parse_u64(dash + 1, strlen(dash + 1), &b))
            return RANGE_NONE;
        if (b == 0 || size == 0)
            return RANGE_UNSATISFIABLE;
        *len = b < size ? b : size;
        *off = size - *len;
        return RANGE_OK;
    }
    if (!parse_u64(r, (size_t)(dash - r), &a))
        return RANGE_NONE;
    bool open = dash[1] == '\0';
    if (!open && (!parse_u64(dash + 1, strlen(dash + 1), &b) || b < a))
        return RANGE_NONE;
    if (a >= size)
        return RANGE_UNSATISFIABLE;
    if (open || b >= size)
        b = size - 1;
    *off = a;
    *len = b - a + 1;
    return RANGE_OK;
}

/* The object's headers on a GET/HEAD answer. */
static void object_headers(const struct h_request *req, struct h_response *resp,
                           const struct s3_store_info *info, bool full)
{
    char etag[40], date[64];
    snprintf(etag, sizeof(etag), "\"%s\"", info->etag);
    ts_http_date((time_t)(info->mtime_ms / 1000), date, sizeof(date));
    (void)h_resp_header(resp, "ETag", etag);
    (void)h_resp_header(resp, "Last-Modified", date);
    (void)h_resp_header(resp, "Accept-Ranges", "bytes");
    const char *ct = h_query(req, "response-content-type");
    (void)h_resp_header(resp, "Content-Type", ct ? ct : info->content_type);
    for (size_t i = 1; i < sizeof(overrides) / sizeof(overrides[0]); i++) {
        const char *v = h_query(req, overrides[i][0]);
        if (v != NULL)
            (void)h_resp_header(resp, overrides[i][1], v);
    }
    for (size_t i = 0; i < info->nheaders; i++) {
        bool overridden = false;
        for (size_t j = 1; j < sizeof(overrides) / sizeof(overrides[0]); j++)
            overridden |= strcasecmp(info->headers[i].name, overrides[j][1]) == 0 &&
                          h_query(req, overrides[j][0]) != NULL;
        if (!overridden)
            (void)h_resp_header(resp, info->headers[i].name, info->headers[i].value);
    }
    const char *mode = h_header(req, "x-amz-checksum-mode");
    if (full && mode != NULL && strcasecmp(mode, "ENABLED") == 0 && info->checksum_algo[0]) {
        enum s3_checksum_algo a = s3_checksum_from_name(info->checksum_algo);
        if (a != S3_CK_NONE)
            (void)h_resp_header(resp, s3_checksum_header(a), info->checksum);
    }
}

/* Reads [off, off+len) into a new body; HEAD gets a zeroed buffer of the same length (never
 * sent; it only sets Content-Length). NULL with `e` set on failure. */
static char *read_body(struct s3_store_obj *obj, bool head, uint64_t off, uint64_t len,
                       struct err *e)
{
    char *body = head ? calloc(1, (size_t)len + 1) : malloc((size_t)len + 1);
    if (body == NULL) {
        err_set(e, ERR_NOMEM, "out of memory for %" PRIu64 " bytes", len);
        return NULL;
    }
    if (!head && s3_store_obj_read(obj, off, body, (size_t)len, e) != ERR_OK) {
        free(body);
        return NULL;
    }
    return body;
}

void h_store_object_get(const struct h_request *req, struct h_response *resp)
{
    struct h_store_req sr;
    struct s3_store_obj *obj = NULL;
    struct s3_store_info info = {0};
    struct err e = {0};
    if (!h_store_begin(req, resp, &sr))
        return;
    enum err_code rc = s3_store_obj_open(sr.ctx->store, sr.bucket, sr.key, &obj, &info, &e);
    if (rc != ERR_OK) {
        if (rc == ERR_NOT_FOUND)
            h_s3_error(resp, req, S3E_NO_SUCH_KEY, NULL);
        else
            h_store_failed(req, resp, rc, &e);
        return;
    }
    uint64_t off = 0, len = info.size;
    char cr[96];
    enum range_kind rk = parse_range(h_header(req, "Range"), info.size, &off, &len);
    if (rk == RANGE_UNSATISFIABLE) {
        snprintf(cr, sizeof(cr), "bytes */%" PRIu64, info.size);
        (void)h_resp_header(resp, "Content-Range", cr);
        h_s3_error(resp, req, S3E_INVALID_RANGE, NULL);
        goto cleanup;
    }
    char *body = read_body(obj, strcmp(req->method, "HEAD") == 0, off, len, &e);
    if (body == NULL) {
        h_store_failed(req, resp, ERR_IO, &e);
        goto cleanup;
    }
    object_headers(req, resp, &info, rk == RANGE_NONE);
    if (rk == RANGE_OK) {
        snprintf(cr, sizeof(cr), "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, off, off + len - 1,
                 info.size);
        (void)h_resp_header(resp, "Content-Range", cr);
    }
    h_resp_take(resp, rk == RANGE_OK ? 206 : 200, NULL, body, (size_t)len);
cleanup:
    s3_store_obj_close(obj);
    s3_store_info_free(&info);
}

void h_store_object_delete(const struct h_request *req, struct h_response *resp)
{
    struct h_store_req sr;
    struct err e = {0};
    if (!h_store_begin(req, resp, &sr))
        return;
    enum err_code rc = s3_store_delete(sr.ctx->store, sr.bucket, sr.key, &e);
    if (rc != ERR_OK) {
        h_store_failed(req, resp, rc, &e);
        return;
    }
    h_resp_take(resp, 204, NULL, NULL, 0);
}
