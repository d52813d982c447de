/*
 * client_ops.c: the S3 operations (GET, PUT, HEAD, DELETE, CopyObject, ListObjectsV2,
 * CreateBucket) on top
 * of s3_i_perform: each one assembles its request (headers, query), runs it and turns the
 * answer into the public result types of s3/client.h.
 */
#include "s3/client_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#define PUT_HEADERS_MAX (S3_I_META_MAX + 5)

void s3_object_info_free(struct s3_object_info *info)
{
    if (info == NULL)
        return;
    for (size_t i = 0; i < info->nmeta; i++) {
        free((char *)info->meta[i].name);
        free((char *)info->meta[i].value);
    }
    free(info->meta);
    info->meta = NULL;
    info->nmeta = 0;
}

/* Moves the response's headers into `info` (size from Content-Length or the body). */
static enum err_code fill_info(struct s3_i_resp *p, uint64_t size, struct s3_object_info *info,
                               struct err *e)
{
    memset(info, 0, sizeof(*info));
    info->size = size;
    snprintf(info->etag, sizeof(info->etag), "%s", p->etag);
    snprintf(info->content_type, sizeof(info->content_type), "%s", p->content_type);
    snprintf(info->checksum_sha256, sizeof(info->checksum_sha256), "%s", p->checksum_sha256);
    info->last_modified = p->last_modified;
    if (p->nmeta == 0)
        return ERR_OK;
    info->meta = calloc(p->nmeta, sizeof(*info->meta));
    if (info->meta == NULL)
        return err_set(e, ERR_NOMEM, "s3: out of memory");
    memcpy(info->meta, p->meta, p->nmeta * sizeof(*info->meta));
    info->nmeta = p->nmeta;
    p->nmeta = 0; /* ownership moved */
    return ERR_OK;
}

enum err_code s3_client_get(struct s3_client *c, const char *key, uint64_t max_bytes, char **data,
                            size_t *len, struct s3_object_info *info, struct s3_response *r,
                            struct err *e)
{
    struct s3_i_resp p;
    struct s3_i_req q = {.method = "GET", .key = key};
    q.max_body = max_bytes ? max_bytes : c->opt.max_get_bytes;
    s3_i_resp_init(&p, q.max_body);
    *data = NULL;
    *len = 0;
    if (info)
        memset(info, 0, sizeof(*info));
    enum err_code rc = s3_i_perform(c, &q, &p, r, e);
    if (rc != ERR_OK)
        goto cleanup;
    if (info && (rc = fill_info(&p, p.body.len, info, e)) != ERR_OK)
        goto cleanup;
    *data = buf_take(&p.body, len);
    if (*data == NULL) {
        s3_object_info_free(info);
        rc = err_set(e, ERR_NOMEM, "s3: out of memory");
    }
cleanup:
    s3_i_resp_free(&p);
    return rc;
}

enum err_code s3_client_head(struct s3_client *c, const char *key, struct s3_object_info *info,
                             struct s3_response *r, struct err *e)
{
    struct s3_i_resp p;
    struct s3_i_req q = {.method = "HEAD", .key = key, .head = true, .max_body = 0};
    s3_i_resp_init(&p, 0);
    memset(info, 0, sizeof(*info));
    enum err_code rc = s3_i_perform(c, &q, &p, r, e);
    if (rc == ERR_OK)
        rc = fill_info(&p, p.content_length > 0 ? (uint64_t)p.content_length : 0, info, e);
    s3_i_resp_free(&p);
    return rc;
}

enum err_code s3_client_delete(struct s3_client *c, const char *key, struct s3_response *r,
                               struct err *e)
{
    struct s3_i_resp p;
    struct s3_i_req q = {.method = "DELETE", .key = key, .max_body = S3_I_ERR_BODY_MAX};
    s3_i_resp_init(&p, q.max_body);
    enum err_code rc = s3_i_perform(c, &q, &p, r, e);
    s3_i_resp_free(&p);
    return rc;
}

/* ---- PUT --------------------------------------------------------------------------------- */

/* A header value we may send: printable ASCII or UTF-8, no control characters (no CR/LF
 * injection), at most 2 KiB. */
static bool header_value_ok(const char *v)
{
    size_t n = 0;
    for (const unsigned char *s = (const unsigned char *)v; *s; s++, n++)
        if ((*s < 0x20 && *s != '\t') || *s == 0x7F)
            return false;
    return n <= 2048;
}

static bool meta_name_ok(const char *n)
{
    if (n == NULL || n[0] == '\0' || strlen(n) > 128)
        return false;
    for (; *n; n++)
        if (!((*n >= 'a' && *n <= 'z') || (*n >= 'A' && *n <= 'Z') || (*n >= '0' && *n <= '9') ||
              *n == '-' || *n == '_'))
            return false;
    return true;
}

static void base64_digest(const EVP_MD *md, const void *body, size_t len, char out[S3_CHECKSUM_MAX])
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dn = 0;
    EVP_Digest(body, len, d, &dn, md, NULL);
    EVP_EncodeBlock((unsigned char *)out, d, (int)dn);
}

/* Storage for one PUT's headers. */
struct put_headers {
    struct sigv4_pair h[PUT_HEADERS_MAX];
    size_t n;
    char md5[S3_CHECKSUM_MAX], sha[S3_CHECKSUM_MAX];
    char *names[S3_I_META_MAX];
    size_t nnames;
};

static enum err_code add(struct put_headers *ph, const char *name, const char *value, struct err *e)
{
    if (!header_value_ok(value))
        return err_set(e, ERR_INVALID, "s3: PUT: bad value for header %s", name);
    ph->h[ph->n++] = (struct sigv4_pair){name, value};
    return ERR_OK;
}

static enum err_code add_meta(struct put_headers *ph, const struct s3_put_opts *o, struct err *e)
{
    size_t total = 0;
    if (o->nmeta > S3_I_META_MAX)
        return err_set(e, ERR_TOO_LARGE, "s3: PUT: more than %d metadata entries", S3_I_META_MAX);
    for (size_t i = 0; i < o->nmeta; i++) {
        const char *name = o->meta[i].name, *value = o->meta[i].value ? o->meta[i].value : "";
        if (!meta_name_ok(name))
            return err_set(e, ERR_INVALID, "s3: PUT: metadata names are [A-Za-z0-9_-]{1,128}");
        total += strlen(name) + strlen(value);
        size_t len = strlen(name) + 12;
        char *full = malloc(len);
        if (full == NULL)
            return err_set(e, ERR_NOMEM, "s3: out of memory");
        snprintf(full, len, "x-amz-meta-%s", name);
        ph->names[ph->nnames++] = full;
        if (add(ph, full, value, e) != ERR_OK)
            return ERR_INVALID;
    }
    if (total > S3_META_MAX_BYTES)
        return err_set(e, ERR_TOO_LARGE, "s3: PUT: metadata over %d bytes", S3_META_MAX_BYTES);
    return ERR_OK;
}

static enum err_code put_headers(struct put_headers *ph, const struct s3_put_opts *o,
                                 const void *body, size_t len, struct err *e)
{
    enum err_code rc =
        add(ph, "Content-Type", o->content_type ? o->content_type : "application/octet-stream", e);
    if (rc == ERR_OK && (o->content_md5 || o->compute_md5)) {
        if (o->content_md5 == NULL)
            base64_digest(EVP_md5(), body, len, ph->md5);
        rc = add(ph, "Content-MD5", o->content_md5 ? o->content_md5 : ph->md5, e);
    }
    if (rc == ERR_OK && (o->checksum_sha256 || o->compute_checksum_sha256)) {
        if (o->checksum_sha256 == NULL)
            base64_digest(EVP_sha256(), body, len, ph->sha);
        rc = add(ph, "x-amz-checksum-sha256", o->checksum_sha256 ? o->checksum_sha256 : ph->sha, e);
    }
    if (rc == ERR_OK && o->cache_control)
        rc = add(ph, "Cache-Control", o->cache_control, e);
    if (rc == ERR_OK)
        rc = add_meta(ph, o, e);
    return rc;
}

enum err_code s3_client_put(struct s3_client *c, const char *key, const void *body, size_t len,
                            const struct s3_put_opts *o, struct s3_response *r, struct err *e)
{
    static const struct s3_put_opts none;
    struct put_headers ph;
    struct s3_i_resp p;
    memset(&ph, 0, sizeof(ph));
    s3_i_resp_init(&p, S3_I_ERR_BODY_MAX);
    if (r)
        memset(r, 0, sizeof(*r));
    enum err_code rc = put_headers(&ph, o ? o : &none, body, len, e);
    if (rc != ERR_OK)
        goto cleanup;
    struct s3_i_req q = {.method = "PUT",
                         .key = key,
                         .headers = ph.h,
                         .nheaders = ph.n,
                         .body = body,
                         .body_len = len,
                         .payload_hash = o ? o->payload_sha256 : NULL,
                         .upload = true,
                         .max_body = S3_I_ERR_BODY_MAX};
    rc = s3_i_perform(c, &q, &p, r, e);
cleanup:
    for (size_t i = 0; i < ph.nnames; i++)
        free(ph.names[i]);
    s3_i_resp_free(&p);
    return rc;
}

/* ---- CopyObject -------------------------------------------------------------------------- */

/* The copy's answer (a 2xx): its ETag into r, or the <Error> it carries. */
static enum err_code copy_answer(const struct s3_i_resp *p, struct s3_response *r, struct err *e)
{
    char etag[S3_ETAG_MAX];
    bool failed = false;
    struct s3_i_error x;
    struct err pe = {0};
    enum err_code rc =
        s3_i_parse_copy(p->body.data ? p->body.data : "", p->body.len, etag, &failed, &x, &pe);
    if (rc != ERR_OK)
        return err_set(e, ERR_UPSTREAM, "s3: CopyObject: unreadable answer (%s)", pe.msg);
    if (failed) {
        if (r) {
            snprintf(r->code, sizeof(r->code), "%s", x.code);
            snprintf(r->message, sizeof(r->message), "%s", x.message);
        }
        rc = strcmp(x.code, "InternalError") == 0 ? ERR_UPSTREAM : s3_error_map(p->status, x.code);
        if (rc == ERR_OK)
            rc = ERR_UPSTREAM;
        return err_set(e, rc, "s3: CopyObject failed during the copy: %s%s%s", x.code,
                       x.message[0] ? ": " : "", x.message);
    }
    if (r)
        snprintf(r->etag, sizeof(r->etag), "%s", etag);
    return ERR_OK;
}

enum err_code s3_client_copy(struct s3_client *c, const char *src_key, const char *key,
                             const struct s3_copy_opts *o, struct s3_response *r, struct err *e)
{
    static const struct s3_copy_opts none;
    struct put_headers ph;
    struct s3_i_resp p;
    struct buf src;
    o = o ? o : &none;
    memset(&ph, 0, sizeof(ph));
    buf_init(&src, S3_KEY_BYTES_MAX * 3 + 256);
    s3_i_resp_init(&p, S3_I_ERR_BODY_MAX);
    if (r)
        memset(r, 0, sizeof(*r));
    enum err_code rc = ERR_INVALID;
    if (src_key == NULL || src_key[0] == '\0') {
        err_set(e, ERR_INVALID, "s3: CopyObject: no source key");
        goto cleanup;
    }
    /* "/bucket/key", the key percent-encoded as in a path */
    if (buf_printf(&src, "/%s/", c->bucket) != ERR_OK ||
        sigv4_uri_encode(&src, src_key, strlen(src_key), true) != ERR_OK ||
        buf_append(&src, "", 1) != ERR_OK) {
        rc = err_set(e, ERR_INVALID, "s3: CopyObject: source key too long");
        goto cleanup;
    }
    rc = add(&ph, "x-amz-copy-source", src.data, e);
    if (rc == ERR_OK && o->if_match)
        rc = add(&ph, "x-amz-copy-source-if-match", o->if_match, e);
    if (rc == ERR_OK && o->replace_metadata) {
        struct s3_put_opts po = {.content_type = o->content_type,
                                 .cache_control = o->cache_control};
        rc = add(&ph, "x-amz-metadata-directive", "REPLACE", e);
        if (rc == ERR_OK)
            rc = put_headers(&ph, &po, NULL, 0, e);
    }
    if (rc != ERR_OK)
        goto cleanup;
    struct s3_i_req q = {.method = "PUT",
                         .key = key,
                         .headers = ph.h,
                         .nheaders = ph.n,
                         .upload = true,
                         .max_body = S3_I_ERR_BODY_MAX};
    rc = s3_i_perform(c, &q, &p, r, e);
    if (rc == ERR_OK)
        rc = copy_answer(&p, r, e);
cleanup:
    for (size_t i = 0; i < ph.nnames; i++)
        free(ph.names[i]);
    buf_free(&src);
    s3_i_resp_free(&p);
    return rc;
}

/* ---- ListObjectsV2 ----------------------------------------------------------------------- */

enum err_code s3_client_list(struct s3_client *c, const struct s3_list_opts *o,
                             struct s3_list_page *page, struct s3_response *r, struct err *e)
{
    struct sigv4_pair qp[7];
    size_t n = 0;
    char maxkeys[16];
    struct s3_i_resp p;
    memset(page, 0, sizeof(*page));
    s3_i_resp_init(&p, S3_XML_BODY_MAX);
    qp[n++] = (struct sigv4_pair){"list-type", "2"};
    qp[n++] = (struct sigv4_pair){"encoding-type", "url"};
    if (o && o->prefix)
        qp[n++] = (struct sigv4_pair){"prefix", o->prefix};
    if (o && o->delimiter)
        qp[n++] = (struct sigv4_pair){"delimiter", o->delimiter};
    if (o && o->continuation_token)
        qp[n++] = (struct sigv4_pair){"continuation-token", o->continuation_token};
    if (o && o->start_after)
        qp[n++] = (struct sigv4_pair){"start-after", o->start_after};
    enum err_code rc = ERR_OK;
    if (o && (o->max_keys < 0 || o->max_keys > S3_LIST_MAX_KEYS))
        rc = err_set(e, ERR_INVALID, "s3: list: max_keys must be 1..%d", S3_LIST_MAX_KEYS);
    if (rc == ERR_OK && o && o->max_keys > 0) {
        snprintf(maxkeys, sizeof(maxkeys), "%d", o->max_keys);
        qp[n++] = (struct sigv4_pair){"max-keys", maxkeys};
    }
    struct s3_i_req q = {
        .method = "GET", .key = NULL, .query = qp, .nquery = n, .max_body = S3_XML_BODY_MAX};
    if (rc == ERR_OK)
        rc = s3_i_perform(c, &q, &p, r, e);
    if (rc == ERR_OK)
        rc = s3_i_parse_list(p.body.data ? p.body.data : "", p.body.len, page, e);
    s3_i_resp_free(&p);
    return rc;
}

/* Calls fn for every entry and prefix of a page; false when fn asked to stop. */
static bool walk_page(const struct s3_list_page *pg, s3_list_fn fn, void *ctx)
{
    for (size_t i = 0; i < pg->nentries; i++)
        if (!fn(ctx, &pg->entries[i], NULL))
            return false;
    for (size_t i = 0; i < pg->nprefixes; i++)
        if (!fn(ctx, NULL, pg->common_prefixes[i]))
            return false;
    return true;
}

enum err_code s3_client_list_each(struct s3_client *c, const struct s3_list_opts *o,
                                  size_t max_pages, s3_list_fn fn, void *ctx, size_t *pages,
                                  struct s3_response *r, struct err *e)
{
    struct s3_list_opts cur = o ? *o : (struct s3_list_opts){0};
    struct s3_list_page pg = {0};
    char *token = NULL;
    size_t count = 0;
    enum err_code rc = ERR_OK;
    for (;;) {
        if (max_pages > 0 && count >= max_pages) {
            rc = err_set(e, ERR_TOO_LARGE, "s3: list: more than %zu pages", max_pages);
            break;
        }
        rc = s3_client_list(c, &cur, &pg, r, e);
        if (rc != ERR_OK)
            break;
        count++;
        if (!walk_page(&pg, fn, ctx) || !pg.truncated)
            break;
        if (token && strcmp(token, pg.next_token) == 0) {
            rc = err_set(e, ERR_UPSTREAM, "s3: list: the continuation token did not advance");
            break;
        }
        free(token);
        token = pg.next_token; /* keep it for the next request */
        pg.next_token = NULL;
        cur.continuation_token = token;
        cur.start_after = NULL; /* only meaningful on the first page */
        s3_list_page_free(&pg);
    }
    s3_list_page_free(&pg);
    free(token);
    if (pages)
        *pages = count;
    return rc;
}

/* ---- CreateBucket ------------------------------------------------------------------------ */

enum err_code s3_client_create_bucket(struct s3_client *c, struct s3_response *r, struct err *e)
{
    char body[256];
    size_t len = 0;
    struct s3_i_resp p;
    s3_i_resp_init(&p, S3_I_ERR_BODY_MAX);
    if (strcmp(c->region, "us-east-1") != 0) {
        int n = snprintf(body, sizeof(body),
                         "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/"
                         "2006-03-01/\"><LocationConstraint>%s</LocationConstraint>"
                         "</CreateBucketConfiguration>",
                         c->region);
        len = n > 0 && (size_t)n < sizeof(body) ? (size_t)n : 0;
    }
    struct s3_i_req q = {.method = "PUT",
                         .key = NULL,
                         .body = body,
                         .body_len = len,
                         .upload = true,
                         .max_body = S3_I_ERR_BODY_MAX};
    enum err_code rc = s3_i_perform(c, &q, &p, r, e);
    s3_i_resp_free(&p);
    return rc;
}
