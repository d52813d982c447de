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

/* Adds origin, every variant and the manifest key of `k` to `variants`. */
static bool add_keys(const struct h_uploads_ctx *ctx, struct s3_key k, const char *src_ext,
                     cJSON *variants, char manifest[S3_KEY_MAX], struct err *e)
{
    char key[S3_KEY_MAX];
    k.kind = S3_KEY_ORIGIN;
    if (s3_key_build(&k, key, sizeof(key), e) != ERR_OK)
        return false;
    cJSON_AddStringToObject(variants, "origin", key);
    const struct img_domain_presets *dp =
        ctx->presets ? img_presets_find(ctx->presets, s3_key_domain_get(k.domain)->name) : NULL;
    for (int i = 0; dp != NULL && i < dp->count; i++) {
        k.kind = S3_KEY_VARIANT;
        snprintf(k.size, sizeof(k.size), "%s", dp->presets[i].name);
        snprintf(k.ext, sizeof(k.ext), "%s", variant_ext(dp->presets[i].format, src_ext));
        if (s3_key_build(&k, key, sizeof(key), e) != ERR_OK)
            return false;
        cJSON_AddStringToObject(variants, dp->presets[i].name, key);
    }
    k.kind = S3_KEY_MANIFEST;
    k.size[0] = '\0';
    snprintf(k.ext, sizeof(k.ext), "json");
    return s3_key_build(&k, manifest, S3_KEY_MAX, e) == ERR_OK;
}

/* Presigns the PUT of `key` and fills the url, headers and expiresAt of `out`. */
static bool presign(const struct h_uploads_ctx *ctx, const struct upload_req *u, const char *key,
                    time_t now, int64_t lifetime, cJSON *out, struct err *e)
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
    cJSON_AddStringToObject(out, "url", url);
    free(url);
    cJSON *h = cJSON_AddObjectToObject(out, "headers");
    for (size_t i = 0; i < nh; i++)
        cJSON_AddStringToObject(h, hdrs[i].name, hdrs[i].value);
    ts_rfc3339(now + (time_t)lifetime, expires_at, sizeof(expires_at));
    cJSON_AddStringToObject(out, "expiresAt", expires_at);
    return true;
}

/* Builds the keys and the presigned URL into a new response object; NULL on failure. */
static cJSON *make_answer(const struct h_uploads_ctx *ctx, const struct upload_req *u, time_t now,
                          int64_t lifetime, struct err *e)
{
    char upload_id[S3_KEY_UPLOAD_ID_MAX], key[S3_KEY_MAX], manifest[S3_KEY_MAX];
    struct s3_key k;
    if (s3_key_upload_id_new((int64_t)now, upload_id, e) != ERR_OK ||
        s3_key_init(&k, u->desc->domain, u->ids, u->desc->nids, upload_id, u->ext, e) != ERR_OK ||
        s3_key_build(&k, key, sizeof(key), e) != ERR_OK)
        return NULL;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "uploadId", upload_id);
    cJSON_AddStringToObject(o, "key", key);
    cJSON_AddStringToObject(o, "bucket", ctx->bucket);
    cJSON_AddStringToObject(o, "method", "PUT");
    cJSON *variants = cJSON_CreateObject();
    if (!presign(ctx, u, key, now, lifetime, o, e) ||
        !add_keys(ctx, k, u->ext, variants, manifest, e)) {
        cJSON_Delete(variants);
        cJSON_Delete(o);
        return NULL;
    }
    cJSON_AddItemToObject(o, "variants", variants);
    cJSON_AddStringToObject(o, "manifest", manifest);
    return o;
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
    cJSON *answer = make_answer(ctx, &u, now, lifetime, &e);
    if (answer == NULL) {
        log_msg(LOGL_ERROR, "uploads", req->request_id, "presign failed: %s", e.msg);
        h_resp_error(resp, req, 500, "internal", "the upload could not be prepared");
        goto cleanup;
    }
    h_resp_json(resp, 201, answer);
cleanup:
    cJSON_Delete(body);
}
