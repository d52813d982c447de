/*
 * store_list.c: ListObjectsV2 (and v1), HeadBucket for the embedded store. See store.h.
 *
 * The continuation token is opaque to clients: base64url of one flag byte ('k' after a key, 'p'
 * after a common prefix) followed by the last key or prefix returned.
 */
#include "handlers/store_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/timeutil.h"

#define MAX_KEYS_DEFAULT 1000
#define TOKEN_MAX        4096

struct list_req {
    bool v2;
    bool url;
    const char *prefix, *delimiter, *start_after, *token, *marker;
    size_t max_keys;
    char *after; /* decoded marker */
    bool after_is_prefix;
};

/* base64url without padding of flag + s. */
static char *token_encode(char flag, const char *s)
{
    size_t n = strlen(s) + 1;
    unsigned char *raw = malloc(n);
    char *out = malloc(4 * ((n + 2) / 3) + 1);
    if (raw == NULL || out == NULL) {
        free(raw);
        free(out);
        return NULL;
    }
    raw[0] = (unsigned char)flag;
    memcpy(raw + 1, s, n - 1);
    int len = EVP_EncodeBlock((unsigned char *)out, raw, (int)n);
    free(raw);
    for (int i = 0; i < len; i++)
        out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
    while (len > 0 && out[len - 1] == '=')
        out[--len] = '\0';
    return out;
}

/* Decodes a token into lr->after; false when it is not one of ours. */
static bool token_decode(const char *t, struct list_req *lr)
{
    size_t n = strlen(t);
    if (n == 0 || n > TOKEN_MAX)
        return false;
    char *b = malloc(n + 4);
    unsigned char *raw = malloc(n + 4);
    bool ok = false;
    if (b == NULL || raw == NULL)
        goto cleanup;
    for (size_t i = 0; i < n; i++) {
        char c = t[i] == '-' ? '+' : t[i] == '_' ? '/' : t[i];
        if (c == '+' || c == '/' || c == '=' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
            (c >= '0' && c <= '9'))
            b[i] = c;
        else
            goto cleanup;
    }
    size_t m = n;
    while (m % 4 != 0)
        b[m++] = '=';
    int len = EVP_DecodeBlock(raw, (unsigned char *)b, (int)m);
    if (len < 1)
        goto cleanup;
    while (len > 0 && m > 0 && b[--m] == '=')
        len--;
    if (len < 1 || (raw[0] != 'k' && raw[0] != 'p') || memchr(raw, 0, (size_t)len) != NULL)
        goto cleanup;
    lr->after_is_prefix = raw[0] == 'p';
    /* raw is not NUL-terminated: copy exactly len - 1 bytes (no strndup, which may read on) */
    lr->after = malloc((size_t)len);
    if (lr->after == NULL)
        goto cleanup;
    memcpy(lr->after, raw + 1, (size_t)len - 1);
    lr->after[len - 1] = '\0';
    ok = true;
cleanup:
    free(b);
    free(raw);
    return ok;
}

/* Reads and checks the listing's query parameters. */
static bool list_params(const struct h_request *req, struct h_response *resp, struct list_req *lr)
{
    const char *lt = h_query(req, "list-type");
    const char *enc = h_query(req, "encoding-type");
    const char *mk = h_query(req, "max-keys");
    lr->v2 = lt != NULL && strcmp(lt, "2") == 0;
    if (lt != NULL && !lr->v2) {
        h_s3_error(resp, req, S3E_INVALID_ARGUMENT, "Invalid List Type specified in Request");
        return false;
    }
    if (enc != NULL && strcmp(enc, "url") != 0) {
        h_s3_error(resp, req, S3E_INVALID_ARGUMENT, "Invalid Encoding Method specified in Request");
        return false;
    }
    lr->url = enc != NULL;
    lr->prefix = h_query(req, "prefix");
    lr->delimiter = h_query(req, "delimiter");
    lr->max_keys = MAX_KEYS_DEFAULT;
    if (mk != NULL) {
        char *end = NULL;
        errno = 0;
        long long v = strtoll(mk, &end, 10);
        if (errno != 0 || end == mk || *end != '\0' || v < 0) {
            h_s3_error(resp, req, S3E_INVALID_ARGUMENT,
                       "Provided max-keys not an integer or "
                       "within integer range");
            return false;
        }
        lr->max_keys = v < MAX_KEYS_DEFAULT ? (size_t)v : MAX_KEYS_DEFAULT;
    }
    lr->start_after = lr->v2 ? h_query(req, "start-after") : NULL;
    lr->token = lr->v2 ? h_query(req, "continuation-token") : NULL;
    lr->marker = lr->v2 ? NULL : h_query(req, "marker");
    if (lr->token != NULL && !token_decode(lr->token, lr)) {
        h_s3_error(resp, req, S3E_INVALID_ARGUMENT, "The continuation token provided is incorrect");
        return false;
    }
    return true;
}

/* <name>text</name>, URL-encoded when asked. */
static enum err_code elem(struct buf *b, const char *name, const char *text, bool url)
{
    if (!url)
        return h_xml_elem(b, name, text);
    struct buf t;
    buf_init(&t, H_STORE_XML_MAX);
    enum err_code rc = h_store_url_encode(&t, text ? text : "");
    if (rc == ERR_OK)
        rc = h_xml_elem(b, name, t.data ? t.data : "");
    buf_free(&t);
    return rc;
}

static enum err_code xml_head(struct buf *b, const char *bucket, const struct list_req *lr,
                              const struct s3_store_list_result *r, char *next)
{
    enum err_code rc =
        buf_append_str(b, H_STORE_XML_DECL "<ListBucketResult xmlns=\"" H_STORE_XML_NS "\">");
    if (rc == ERR_OK)
        rc = h_xml_elem(b, "Name", bucket);
    if (rc == ERR_OK)
        rc = elem(b, "Prefix", lr->prefix ? lr->prefix : "", lr->url);
    if (rc == ERR_OK && lr->v2 && lr->token)
        rc = h_xml_elem(b, "ContinuationToken", lr->token);
    if (rc == ERR_OK && next != NULL)
        rc = lr->v2 ? h_xml_elem(b, "NextContinuationToken", next)
                    : elem(b, "NextMarker", next, lr->url);
    if (rc == ERR_OK && !lr->v2)
        rc = elem(b, "Marker", lr->marker ? lr->marker : "", lr->url);
    if (rc == ERR_OK && lr->v2)
        rc = buf_printf(b, "<KeyCount>%zu</KeyCount>", r->ncontents + r->nprefixes);
    if (rc == ERR_OK)
        rc = buf_printf(b, "<MaxKeys>%zu</MaxKeys>", lr->max_keys);
    if (rc == ERR_OK && lr->delimiter)
        rc = elem(b, "Delimiter", lr->delimiter, lr->url);
    if (rc == ERR_OK && lr->url)
        rc = buf_append_str(b, "<EncodingType>url</EncodingType>");
    if (rc == ERR_OK)
        rc = buf_printf(b, "<IsTruncated>%s</IsTruncated>", r->truncated ? "true" : "false");
    if (rc == ERR_OK && lr->start_after)
        rc = elem(b, "StartAfter", lr->start_after, lr->url);
    return rc;
}

static enum err_code xml_body(struct buf *b, const struct list_req *lr,
                              const struct s3_store_list_result *r)
{
    enum err_code rc = ERR_OK;
    char when[40];
    for (size_t i = 0; i < r->ncontents && rc == ERR_OK; i++) {
        const struct s3_store_list_entry *c = &r->contents[i];
        ts_rfc3339_ms(c->mtime_ms, when, sizeof(when));
        rc = buf_append_str(b, "<Contents>");
        if (rc == ERR_OK)
            rc = elem(b, "Key", c->key, lr->url);
        if (rc == ERR_OK)
            rc = buf_printf(b,
                            "<LastModified>%s</LastModified><ETag>&quot;%s&quot;</ETag>"
                            "<Size>%" PRIu64 "</Size><StorageClass>STANDARD</StorageClass>"
                            "</Contents>",
                            when, c->etag, c->size);
    }
    for (size_t i = 0; i < r->nprefixes && rc == ERR_OK; i++) {
        rc = buf_append_str(b, "<CommonPrefixes>");
        if (rc == ERR_OK)
            rc = elem(b, "Prefix", r->prefixes[i], lr->url);
        if (rc == ERR_OK)
            rc = buf_append_str(b, "</CommonPrefixes>");
    }
    if (rc == ERR_OK)
        rc = buf_append_str(b, "</ListBucketResult>");
    return rc;
}

static void list_objects(const struct h_request *req, struct h_response *resp,
                         const struct h_store_req *sr)
{
    struct list_req lr = {0};
    struct s3_store_list_result r = {0};
    struct buf b;
    char *next = NULL;
    struct err e = {0};
    buf_init(&b, H_STORE_XML_MAX);
    if (!list_params(req, resp, &lr))
        goto cleanup;
    const char *after = lr.after;
    if (after == NULL || (lr.start_after && strcmp(lr.start_after, after) > 0))
        after = lr.v2 ? lr.start_after : lr.marker;
    struct s3_store_list_params p = {lr.prefix, lr.delimiter, after,
                                     after == lr.after && lr.after_is_prefix, lr.max_keys};
    if (s3_store_list(sr->ctx->store, sr->bucket, &p, &r, &e) != ERR_OK) {
        h_s3_error(resp, req, S3E_INTERNAL, NULL);
        goto cleanup;
    }
    if (r.truncated && r.last != NULL) {
        /* v1 gives NextMarker only with a delimiter (clients use the last key otherwise) */
        if (lr.v2)
            next = token_encode(r.last_is_prefix ? 'p' : 'k', r.last);
        else if (lr.delimiter != NULL)
            next = strdup(r.last);
        if ((lr.v2 || lr.delimiter != NULL) && next == NULL) {
            h_s3_error(resp, req, S3E_INTERNAL, NULL);
            goto cleanup;
        }
    }
    if (xml_head(&b, sr->bucket, &lr, &r, next) != ERR_OK || xml_body(&b, &lr, &r) != ERR_OK) {
        h_s3_error(resp, req, S3E_INTERNAL, NULL);
        goto cleanup;
    }
    size_t len = 0;
    char *body = buf_take(&b, &len);
    if (body == NULL)
        h_s3_error(resp, req, S3E_INTERNAL, NULL);
    else
        h_resp_take(resp, 200, "application/xml", body, len);
cleanup:
    buf_free(&b);
    free(next);
    free(lr.after);
    s3_store_list_result_free(&r);
}

void h_store_bucket_get(const struct h_request *req, struct h_response *resp)
{
    struct h_store_req sr;
    if (!h_store_begin(req, resp, &sr))
        return;
    if (strcmp(req->method, "HEAD") == 0) {
        (void)h_resp_header(resp, "x-amz-bucket-region", sr.ctx->region);
        h_resp_take(resp, 200, NULL, NULL, 0);
        return;
    }
    list_objects(req, resp, &sr);
}
