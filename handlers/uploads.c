/*
 * uploads.c: POST /v1/uploads. See uploads.h.
 *
 * A list of named steps: authenticate, parse the body, resolve the domain and ids, check the
 * owner, pick the extension, build every key of the upload, presign the PUT, answer. Every
 * refusal is a 400 with its own code and changes nothing (nothing is written anywhere).
 */
#include "handlers/uploads.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "common/buf.h"
#include "common/json.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "handlers/guard.h"
#include "s3/keys.h"

#define CHECKSUM_B64_LEN 44 /* base64 of 32 bytes */

/* What the request asked for, validated. */
struct upload_req {
    const struct s3_key_domain_desc *desc;
    const char *ids[S3_KEY_MAX_IDS];
    const char *content_type;
    const char *ext;
    long long content_length; /* -1 = not declared */
    const char *checksum;     /* NULL = not declared */
};

static bool bad(struct h_response *resp, const struct h_request *req, const char *code,
                const char *msg)
{
    h_resp_error(resp, req, 400, code, "%s", msg);
    return false;
}

/* Fills u->desc and u->ids from "domain" and "ids", in the domain's id order. */
static bool parse_domain_ids(const cJSON *body, struct upload_req *u, const struct h_request *req,
                             struct h_response *resp)
{
    const char *domain = json_get_str(body, "domain");
    u->desc = domain ? s3_key_domain_find(domain) : NULL;
    if (u->desc == NULL)
        return bad(resp, req, "unknown_domain",
                   "domain must be one of profile, feed, chatroom, chat, chat_profile");
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(body, "ids");
    char msg[256];
    if (!cJSON_IsObject(ids) || (size_t)cJSON_GetArraySize(ids) != u->desc->nids) {
        snprintf(msg, sizeof(msg), "ids must be an object with exactly %s%s%s for domain %s",
                 u->desc->id_names[0], u->desc->nids > 1 ? " and " : "",
                 u->desc->nids > 1 ? u->desc->id_names[1] : "", u->desc->name);
        return bad(resp, req, "bad_ids", msg);
    }
    for (size_t i = 0; i < u->desc->nids; i++) {
        const char *v = json_get_str(ids, u->desc->id_names[i]);
        if (v == NULL || !s3_key_id_valid(v)) {
            snprintf(msg, sizeof(msg),
                     "ids.%s must be a string of 1 to 64 characters A-Z a-z 0-9 "
                     "_ -",
                     u->desc->id_names[i]);
            return bad(resp, req, "bad_ids", msg);
        }
        u->ids[i] = v;
    }
    return true;
}

static bool checksum_ok(const char *s)
{
    if (strlen(s) != CHECKSUM_B64_LEN || s[CHECKSUM_B64_LEN - 1] != '=' ||
        s[CHECKSUM_B64_LEN - 2] == '=')
        return false;
    unsigned char out[40];
    int n = EVP_DecodeBlock(out, (const unsigned char *)s, CHECKSUM_B64_LEN);
    return n == 33; /* EVP_DecodeBlock counts the padding byte */
}

/* contentType, contentLength and checksumSha256. */
static bool parse_content(const cJSON *body, const struct h_uploads_ctx *ctx, struct upload_req *u,
                          const struct h_request *req, struct h_response *resp)
{
    char msg[256];
    u->content_type = json_get_str(body, "contentType");
    u->ext = u->content_type ? s3_key_ext_from_content_type(u->content_type) : NULL;
    if (u->ext == NULL)
        return bad(resp, req, "unsupported_content_type",
                   "contentType must be one of image/jpeg, image/png, image/webp, image/heic, "
                   "image/heif, image/avif, image/gif");
    u->content_length = -1;
    if (cJSON_GetObjectItemCaseSensitive(body, "contentLength") != NULL) {
        if (!json_get_int(body, "contentLength", &u->content_length) || u->content_length < 1)
            return bad(resp, req, "bad_content_length",
                       "contentLength must be a positive integer (bytes)");
        if (u->content_length > ctx->max_upload_bytes) {
            snprintf(msg, sizeof(msg), "contentLength %lld is over the limit of %lld bytes",
                     u->content_length, (long long)ctx->max_upload_bytes);
            return bad(resp, req, "content_length_too_large", msg);
        }
    }
    u->checksum = NULL;
    const cJSON *ck = cJSON_GetObjectItemCaseSensitive(body, "checksumSha256");
    if (ck != NULL) {
        if (!cJSON_IsString(ck) || !checksum_ok(ck->valuestring))
            return bad(resp, req, "bad_checksum",
                       "checksumSha256 must be the base64 of a 32-byte SHA-256 digest");
        u->checksum = ck->valuestring;
    }
    return true;
}

/* The extension a variant gets for a preset format and the source's extension. */
static const char *variant_ext(enum img_out_format f, const char *src_ext)
{
    switch (f) {
    case IMG_OUT_JPEG:
        return "jpeg";
    case IMG_OUT_PNG:
        return "png";
    case IMG_OUT_WEBP:
        return "webp";
    case IMG_OUT_AVIF:
        return "avif";
    case IMG_OUT_SAME:
        break;
    }
    if (strcmp(src_ext, "png") == 0 || strcmp(src_ext, "webp") == 0)
        return src_ext;
    if (strcmp(src_ext, "gif") == 0)
        return "png";
    return "jpeg";
}

/*
 * The answer is written straight into one capped buffer (no cJSON tree: building and printing
 * one cost more than the presign itself, bench/presign). Member order: uploadId, key, bucket,
 * method, url, headers, expiresAt, variants, manifest.
 */
#define ANSWER_MAX (64u * 1024u)

/* The letter of a two-character JSON escape for c ('"', '\\' and five controls), else 0. */
static char short_escape(unsigned char c)
{
    switch (c) {
    case '"':
        return '"';
    case '\\':
        return '\\';
    case '\b':
        return 'b';
    case '\f':
        return 'f';
    case '\n':
        return 'n';
    case '\r':
        return 'r';
    case '\t':
        return 't';
    default:
        return 0;
    }
}

/* Appends s as a JSON string, escaped as cJSON escapes (", \\, control characters). */
static enum err_code json_str(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    enum err_code rc = buf_append(b, "\"", 1);
    const char *run = s; /* bytes not yet appended */
    for (; rc == ERR_OK && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        char esc[6] = {'\\', short_escape(c), '0', '0', hex[c >> 4], hex[c & 15]};
        size_t n = esc[1] != 0 ? 2 : 6;
        if (n == 6)
            esc[1] = 'u';
        rc = buf_append(b, run, (size_t)(s - run));
        if (rc == ERR_OK)
            rc = buf_append(b, esc, n);
        run = s + 1;
    }
    if (rc == ERR_OK)
        rc = buf_append(b, run, (size_t)(s - run));
    return rc == ERR_OK ? buf_append(b, "\"", 1) : rc;
}

/* Appends ,"name":"value" (no comma when first). */
static enum err_code json_member(struct buf *b, bool first, const char *name, const char *value)
{
    enum err_code rc = first ? ERR_OK : buf_append(b, ",", 1);
    if (rc == ERR_OK)
        rc = json_str(b, name);
    if (rc == ERR_OK)
        rc = buf_append(b, ":", 1);
    return rc == ERR_OK ? json_str(b, value) : rc;
}

/* Appends "variants":{origin, every variant} and "manifest" for `k`. */
static bool add_keys(const struct h_uploads_ctx *ctx, struct s3_key k, const char *src_ext,
                     struct buf *out, struct err *e)
{
    char key[S3_KEY_MAX];
    k.kind = S3_KEY_ORIGIN;
    if (s3_key_build(&k, key, sizeof(key), e) != ERR_OK)
        return false;
    enum err_code rc = buf_append_str(out, ",\"variants\":{");
    if (rc == ERR_OK)
        rc = json_member(out, true, "origin", key);
    const struct img_domain_presets *dp =
        ctx->presets ? img_presets_find(ctx->presets, s3_key_domain_get(k.domain)->name) : NULL;
    for (int i = 0; rc == ERR_OK && dp != NULL && i < dp->count; i++) {
        k.kind = S3_KEY_VARIANT;
        snprintf(k.size, sizeof(k.size), "%s", dp->presets[i].name);
        snprintf(k.ext, sizeof(k.ext), "%s", variant_ext(dp->presets[i].format, src_ext));
        if (s3_key_build(&k, key, sizeof(key), e) != ERR_OK)
            return false;
        rc = json_member(out, false, dp->presets[i].name, key);
    }
    k.kind = S3_KEY_MANIFEST;
    k.size[0] = '\0';
    snprintf(k.ext, sizeof(k.ext), "json");
    if (rc == ERR_OK && s3_key_build(&k, key, sizeof(key), e) != ERR_OK)
        return false;
    if (rc == ERR_OK && (rc = buf_append(out, "}", 1)) == ERR_OK)
        rc = json_member(out, false, "manifest", key);
    if (rc != ERR_OK)
        err_set(e, rc, "the answer does not fit");
    return rc == ERR_OK;
}

/* Presigns the PUT of `key` and appends "url", "headers" and "expiresAt". */
static bool presign(const struct h_uploads_ctx *ctx, const struct upload_req *u, const char *key,
                    time_t now, int64_t lifetime, struct buf *out, struct err *e)
{
    char len_text[32], expires_at[32];
    struct sigv4_pair hdrs[3];
    size_t nh = 0;
    hdrs[nh++] = (struct sigv4_pair){"Content-Type", u->content_type};
    if (u->content_length >= 0) {
        snprintf(len_text, sizeof(len_text), "%lld", u->content_length);
        hdrs[nh++] = (struct sigv4_pair){"Content-Length", len_text};
    }
    if (u->checksum != NULL)
        hdrs[nh++] = (struct sigv4_pair){"x-amz-checksum-sha256", u->checksum};
    struct sigv4_params p = {.creds = ctx->creds,
                             .region = ctx->region,
                             .service = "s3",
                             .time = now,
                             .expires = lifetime,
                             .cache = ctx->key_cache};
    struct sigv4_s3_presign o = {.method = "PUT",
                                 .scheme = ctx->public_scheme,
                                 .host = ctx->public_host,
                                 .virtual_hosted = ctx->virtual_hosted,
                                 .bucket = ctx->bucket,
                                 .key = key,
                                 .headers = hdrs,
                                 .nheaders = nh};
    char *url = NULL;
    if (sigv4_s3_presign_url(&p, &o, &url, NULL, e) != ERR_OK)
        return false;
    enum err_code rc = json_member(out, false, "url", url);
    free(url);
    if (rc == ERR_OK)
        rc = buf_append_str(out, ",\"headers\":{");
    for (size_t i = 0; rc == ERR_OK && i < nh; i++)
        rc = json_member(out, i == 0, hdrs[i].name, hdrs[i].value);
    if (rc == ERR_OK)
        rc = buf_append(out, "}", 1);
    ts_rfc3339(now + (time_t)lifetime, expires_at, sizeof(expires_at));
    if (rc == ERR_OK)
        rc = json_member(out, false, "expiresAt", expires_at);
    if (rc != ERR_OK)
        err_set(e, rc, "the answer does not fit");
    return rc == ERR_OK;
}

/* Builds the keys and the presigned URL into the answer's JSON text (the caller frees it);
 * NULL on failure. */
static char *make_answer(const struct h_uploads_ctx *ctx, const struct upload_req *u, time_t now,
                         int64_t lifetime, size_t *len, struct err *e)
{
    char upload_id[S3_KEY_UPLOAD_ID_MAX], key[S3_KEY_MAX], *text = NULL;
    struct s3_key k;
    struct buf out;
    buf_init(&out, ANSWER_MAX);
    if (s3_key_upload_id_new((int64_t)now, upload_id, e) != ERR_OK ||
        s3_key_init(&k, u->desc->domain, u->ids, u->desc->nids, upload_id, u->ext, e) != ERR_OK ||
        s3_key_build(&k, key, sizeof(key), e) != ERR_OK)
        goto cleanup;
    enum err_code rc = buf_append(&out, "{", 1);
    if (rc == ERR_OK && ((rc = json_member(&out, true, "uploadId", upload_id)) != ERR_OK ||
                         (rc = json_member(&out, false, "key", key)) != ERR_OK ||
                         (rc = json_member(&out, false, "bucket", ctx->bucket)) != ERR_OK ||
                         (rc = json_member(&out, false, "method", "PUT")) != ERR_OK)) {
        err_set(e, rc, "the answer does not fit");
        goto cleanup;
    }
    if (rc != ERR_OK || !presign(ctx, u, key, now, lifetime, &out, e) ||
        !add_keys(ctx, k, u->ext, &out, e))
        goto cleanup;
    if ((rc = buf_append(&out, "}", 1)) != ERR_OK || (text = buf_take(&out, len)) == NULL)
        err_set(e, rc ? rc : ERR_NOMEM, "the answer does not fit");
cleanup:
    buf_free(&out);
    return text;
}

void h_uploads_create(const struct h_request *req, struct h_response *resp)
{
    const struct h_uploads_ctx *ctx = req->route_ctx;
    struct h_auth_principal who;
    struct err e = {0};
    struct upload_req u = {0};
    cJSON *body = NULL;
    if (!h_guard(req, resp, ctx->auth, &who))
        goto cleanup;
    body = json_parse(req->body, req->body_len, &e);
    if (body == NULL || !cJSON_IsObject(body)) {
        bad(resp, req, "malformed_json", body ? "the body must be a JSON object" : e.msg);
        goto cleanup;
    }
    if (!parse_domain_ids(body, &u, req, resp) || !parse_content(body, ctx, &u, req, resp))
        goto cleanup;
    if (!h_guard_owner(req, resp, h_auth_check_owner(&who, u.desc->domain, u.ids, u.desc->nids, &e),
                       &e))
        goto cleanup;
    if (ctx->creds.access_key == NULL || ctx->creds.access_key[0] == '\0') {
        h_resp_error(resp, req, 503, "storage_not_configured",
                     "no S3 credentials are configured for presigning");
        goto cleanup;
    }
    time_t now = time(NULL);
    int64_t lifetime = ctx->expires_s;
    if (ctx->creds_expire_at > 0 && ctx->creds_expire_at - (int64_t)now < lifetime)
        lifetime = ctx->creds_expire_at - (int64_t)now;
    if (lifetime < 1) {
        h_resp_error(resp, req, 503, "credentials_expired",
                     "the S3 credentials used for presigning have expired");
        goto cleanup;
    }
    size_t len = 0;
    char *answer = make_answer(ctx, &u, now, lifetime, &len, &e);
    if (answer == NULL) {
        log_msg(LOGL_ERROR, "uploads", req->request_id, "presign failed: %s", e.msg);
        h_resp_error(resp, req, 500, "internal", "the upload could not be prepared");
        goto cleanup;
    }
    h_resp_take(resp, 201, "application/json", answer, len);
cleanup:
    cJSON_Delete(body);
}
