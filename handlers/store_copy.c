/*
 * store_copy.c: CopyObject for the embedded store (a PUT with x-amz-copy-source). See store.h.
 *
 * What S3 does, for one object of up to the store's object size: the source is
 * "[/]bucket/key" percent-encoded, in any bucket of the store; x-amz-metadata-directive COPY
 * (the default: content type, kept headers and checksum of the source) or REPLACE (those of
 * this request; the checksum stays, the bytes being the same); the four
 * x-amz-copy-source-if-* conditions (412 PreconditionFailed), with S3's precedence (a true
 * if-match wins over a false if-unmodified-since, a false if-none-match over a true
 * if-modified-since); copying an object onto itself without REPLACE is refused as S3 refuses
 * it. The answer is a <CopyObjectResult> with the new ETag (the source's: same bytes) and date;
 * the event is ObjectCreated:Copy. Object versions do not exist here: a versionId is refused.
 */
#include "handlers/store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/timeutil.h"
#include "s3/sigv4.h"

/* The decoded copy source. */
struct copy_src {
    char bucket[64];
    char key[S3_STORE_KEY_MAX + 1];
};

/* Parses x-amz-copy-source. False: the error answer is set. */
static bool parse_source(const struct h_request *req, struct h_response *resp, const char *v,
                         struct copy_src *src)
{
    struct buf d;
    struct err e = {0};
    bool ok = false;
    buf_init(&d, S3_STORE_KEY_MAX + 128);
    if (strstr(v, "?versionId=") != NULL) {
        h_s3_error(resp, req, S3E_NOT_IMPLEMENTED,
                   "Object versions are not supported by this store");
        goto cleanup;
    }
    if (*v == '/')
        v++;
    if (sigv4_uri_decode(&d, v, strlen(v)) != ERR_OK || buf_append(&d, "", 1) != ERR_OK) {
        h_s3_error(resp, req, S3E_INVALID_ARGUMENT, "Invalid copy source encoding");
        goto cleanup;
    }
    const char *slash = strchr(d.data, '/');
    size_t blen = slash ? (size_t)(slash - d.data) : 0;
    if (slash == NULL || blen == 0 || blen >= sizeof(src->bucket) || slash[1] == '\0') {
        h_s3_error(resp, req, S3E_INVALID_ARGUMENT,
                   "Copy Source must mention the source bucket and key: sourcebucket/sourcekey");
        goto cleanup;
    }
    memcpy(src->bucket, d.data, blen);
    src->bucket[blen] = '\0';
    size_t klen = strlen(slash + 1);
    if (s3_store_check_key(slash + 1, klen, &e) != ERR_OK) {
        h_s3_error(resp, req, S3E_INVALID_ARGUMENT, "Invalid copy source object key");
        goto cleanup;
    }
    memcpy(src->key, slash + 1, klen + 1);
    ok = true;
cleanup:
    buf_free(&d);
    return ok;
}

/* True when the If-Match style list `v` ("*", or ETags quoted or not, comma separated) names
 * `etag` (bare hex). */
static bool etag_listed(const char *v, const char *etag)
{
    size_t n = strlen(etag);
    while (*v != '\0') {
        v += strspn(v, " \t,");
        size_t len = strcspn(v, ",");
        size_t end = len;
        while (end > 0 && (v[end - 1] == ' ' || v[end - 1] == '\t'))
            end--;
        const char *t = v;
        if (end >= 2 && t[0] == '"' && t[end - 1] == '"') {
            t++;
            end -= 2;
        }
        if ((end == 1 && t[0] == '*') || (end == n && strncmp(t, etag, n) == 0))
            return true;
        v += len;
    }
    return false;
}

/* The x-amz-copy-source-if-* conditions against the source. False: 412 is set. */
static bool conditions_hold(const struct h_request *req, struct h_response *resp,
                            const struct s3_store_info *info)
{
    const char *im = h_header(req, "x-amz-copy-source-if-match");
    const char *inm = h_header(req, "x-amz-copy-source-if-none-match");
    time_t mtime = (time_t)(info->mtime_ms / 1000), t;
    bool ok = true;
    if (im != NULL)
        ok = etag_listed(im, info->etag);
    else if (ts_parse_http_date(h_header(req, "x-amz-copy-source-if-unmodified-since"), &t))
        ok = mtime <= t;
    if (ok && inm != NULL)
        ok = !etag_listed(inm, info->etag);
    else if (ok && ts_parse_http_date(h_header(req, "x-amz-copy-source-if-modified-since"), &t))
        ok = mtime > t;
    if (!ok)
        h_s3_error(resp, req, S3E_PRECONDITION_FAILED, NULL);
    return ok;
}

/* The <CopyObjectResult> answer. */
static void copy_result(const struct h_request *req, struct h_response *resp,
                        const struct s3_store_info *info)
{
    struct buf b;
    char date[40];
    buf_init(&b, H_STORE_XML_MAX);
    ts_rfc3339_ms(info->mtime_ms, date, sizeof(date));
    if (buf_printf(&b,
                   H_STORE_XML_DECL "<CopyObjectResult xmlns=\"" H_STORE_XML_NS "\">"
                                    "<LastModified>%s</LastModified><ETag>&quot;%s&quot;</ETag>"
                                    "</CopyObjectResult>",
                   date, info->etag) != ERR_OK) {
        buf_free(&b);
        h_store_failed(req, resp, ERR_NOMEM, &(struct err){ERR_NOMEM, "out of memory"});
        return;
    }
    size_t len = 0;
    char *text = buf_take(&b, &len);
    h_resp_take(resp, 200, "application/xml", text, len);
}

void h_store_object_copy(const struct h_request *req, struct h_response *resp)
{
    struct h_store_req sr;
    struct copy_src src;
    struct h_store_kept k;
    struct s3_store_obj *obj = NULL;
    struct s3_store_info sinfo = {0}, info = {0};
    struct err e = {0};
    char *data = NULL;
    if (!h_store_begin(req, resp, &sr))
        return;
    const char *dir = h_header(req, "x-amz-metadata-directive");
    bool replace = dir != NULL && strcmp(dir, "REPLACE") == 0;
    if (dir != NULL && !replace && strcmp(dir, "COPY") != 0) {
        h_s3_error(resp, req, S3E_INVALID_ARGUMENT, "Unknown metadata directive.");
        return;
    }
    if (req->body_len > 0) {
        h_s3_error(resp, req, S3E_INVALID_REQUEST, "A copy request takes no body.");
        return;
    }
    if (!parse_source(req, resp, h_header(req, "x-amz-copy-source"), &src))
        return;
    if (!replace && strcmp(src.bucket, sr.bucket) == 0 && strcmp(src.key, sr.key) == 0) {
        h_s3_error(resp, req, S3E_INVALID_REQUEST,
                   "This copy request is illegal because it is trying to copy an object to "
                   "itself without changing the object's metadata, storage class, website "
                   "redirect location or encryption attributes.");
        return;
    }
    memset(&k, 0, sizeof(k));
    if (replace) {
        req->each(req->conn, H_KV_HEADER, h_store_keep_header, &k);
        if (k.overflow) {
            h_s3_error(resp, req, S3E_METADATA_TOO_LARGE, NULL);
            return;
        }
    }
    enum err_code rc = s3_store_obj_open(sr.ctx->store, src.bucket, src.key, &obj, &sinfo, &e);
    if (rc != ERR_OK) {
        if (rc == ERR_NOT_FOUND)
            h_s3_error(resp, req,
                       s3_store_bucket_exists(sr.ctx->store, src.bucket) ? S3E_NO_SUCH_KEY
                                                                         : S3E_NO_SUCH_BUCKET,
                       NULL);
        else
            h_store_failed(req, resp, rc, &e);
        return;
    }
    if (!conditions_hold(req, resp, &sinfo))
        goto cleanup;
    data = malloc(sinfo.size ? (size_t)sinfo.size : 1);
    if (data == NULL)
        rc = err_set(&e, ERR_NOMEM, "out of memory for a copy of %llu bytes",
                     (unsigned long long)sinfo.size);
    else
        rc = s3_store_obj_read(obj, 0, data, (size_t)sinfo.size, &e);
    if (rc != ERR_OK) {
        h_store_failed(req, resp, rc == ERR_NOMEM ? ERR_NOMEM : ERR_IO, &e);
        goto cleanup;
    }
    struct s3_store_put p = {
        .bucket = sr.bucket,
        .key = sr.key,
        .data = data,
        .len = (size_t)sinfo.size,
        .content_type = replace ? h_header(req, "Content-Type") : sinfo.content_type,
        .headers = replace ? k.v : sinfo.headers,
        .nheaders = replace ? k.n : sinfo.nheaders,
        .checksum_algo = sinfo.checksum_algo[0] ? sinfo.checksum_algo : NULL,
        .checksum = sinfo.checksum_algo[0] ? sinfo.checksum : NULL,
    };
    rc = s3_store_put(sr.ctx->store, &p, &info, &e);
    if (rc != ERR_OK) {
        h_store_failed(req, resp, rc, &e);
        goto cleanup;
    }
    h_store_emit_event(req, &sr, &info, "ObjectCreated:Copy");
    copy_result(req, resp, &info);
cleanup:
    free(data);
    s3_store_info_free(&info);
    s3_store_info_free(&sinfo);
    s3_store_obj_close(obj);
}
