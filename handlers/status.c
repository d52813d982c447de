/*
 * status.c: GET /v1/uploads/{uploadId}. See status.h.
 *
 * Named steps: authenticate, resolve the upload's key parts from the query (key, or domain and
 * ids), check the owner, ask h_pipeline_status, answer. The manifest or failed record is S3's
 * text, parsed again so the answer embeds it as an object.
 */
#include "handlers/status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/json.h"
#include "common/log.h"
#include "handlers/guard.h"
#include "s3/keys.h"

/* The reason code at the start of a key module message ("bad_id: ..."), as a static string. */
static const char *key_code(const struct err *e)
{
    static const char *const codes[] = {
        "unknown_domain", "bad_id",   "wrong_id_count", "bad_upload_id", "bad_uuid",     "bad_ts",
        "unknown_ext",    "bad_size", "bad_key",        "not_temp",      "key_too_long",
    };
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        size_t n = strlen(codes[i]);
        if (strncmp(e->msg, codes[i], n) == 0 && e->msg[n] == ':')
            return codes[i];
    }
    return "bad_key";
}

/* Fills `k` from ?domain=&<ids> and the upload id. False with a 400 in `resp`. */
static bool key_from_ids(const struct h_request *req, struct h_response *resp, const char *uid,
                         struct s3_key *k)
{
    struct err e = {0};
    const char *domain = h_query(req, "domain");
    const struct s3_key_domain_desc *d = domain != NULL ? s3_key_domain_find(domain) : NULL;
    const char *ids[S3_KEY_MAX_IDS] = {NULL, NULL};
    if (d == NULL) {
        h_resp_error(resp, req, 400, "unknown_domain",
                     "give key, or domain (profile, feed, chatroom, chat, chat_profile) and ids");
        return false;
    }
    for (size_t i = 0; i < d->nids; i++) {
        ids[i] = h_query(req, d->id_names[i]);
        if (ids[i] == NULL || !s3_key_id_valid(ids[i])) {
            h_resp_error(resp, req, 400, "bad_id",
                         "%s must be 1 to 64 characters A-Z a-z 0-9 _ - for domain %s",
                         d->id_names[i], d->name);
            return false;
        }
    }
    /* any image extension: status finds the temp by listing, whatever its extension */
    if (s3_key_init(k, d->domain, ids, d->nids, uid, "jpeg", &e) != ERR_OK) {
        h_resp_error(resp, req, 400, key_code(&e), "%s", e.msg);
        return false;
    }
    k->ext[0] = '\0';
    return true;
}

/* Fills `k` from ?key= (a temp key) or the domain and ids. False with a 400 in `resp`. */
static bool resolve(const struct h_request *req, struct h_response *resp, struct s3_key *k)
{
    struct err e = {0};
    const char *uid = h_param(req, "uploadId");
    const char *key = h_query(req, "key");
    if (s3_key_upload_id_parse(uid, NULL, NULL, &e) != ERR_OK) {
        h_resp_error(resp, req, 400, key_code(&e), "%s", e.msg);
        return false;
    }
    if (key == NULL)
        return key_from_ids(req, resp, uid, k);
    if (s3_key_parse_temp(key, k, &e) != ERR_OK) {
        h_resp_error(resp, req, 400, key_code(&e), "%s", e.msg);
        return false;
    }
    if (strcmp(k->upload_id, uid) != 0) {
        h_resp_error(resp, req, 400, "bad_upload_id", "the key is not the upload's temp key");
        return false;
    }
    return true;
}

/* The answer body for `state` and the record text (may be NULL). */
static cJSON *answer(const char *uid, enum h_upload_state state, const char *text)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *rec = text != NULL ? cJSON_Parse(text) : NULL;
    if (o == NULL || !cJSON_AddStringToObject(o, "uploadId", uid) ||
        !cJSON_AddStringToObject(o, "status", h_upload_state_name(state)))
        goto fail;
    if (state == H_UPLOAD_READY && rec != NULL) {
        cJSON_AddItemToObject(o, "manifest", rec);
        rec = NULL;
    } else if (state == H_UPLOAD_FAILED && rec != NULL) {
        cJSON *er = cJSON_DetachItemFromObjectCaseSensitive(rec, "error");
        if (er != NULL)
            cJSON_AddItemToObject(o, "error", er);
    }
    cJSON_Delete(rec);
    return o;
fail:
    cJSON_Delete(rec);
    cJSON_Delete(o);
    return NULL;
}

/* ?urls=1 or ?urls=true. */
static bool want_urls(const struct h_request *req)
{
    const char *v = h_query(req, "urls");
    return v != NULL && (strcmp(v, "1") == 0 || strcmp(v, "true") == 0);
}

/* Adds the presigned GET URLs to `o`; on failure answers an error, deletes `o`, false. */
static bool add_urls(const struct h_status_ctx *ctx, const struct h_request *req,
                     struct h_response *resp, cJSON *o)
{
    struct err e = {0};
    const struct h_uploads_ctx *pc = ctx->presign;
    if (pc == NULL || pc->creds.access_key == NULL || pc->creds.access_key[0] == '\0') {
        h_resp_error(resp, req, 503, "storage_not_configured",
                     "no S3 credentials are configured for presigning");
    } else if (h_status_add_urls(pc, ctx->url_expires_s, time(NULL), o, &e) != ERR_OK) {
        log_msg(LOGL_WARN, "status", req->request_id, "presign of variants: %s", e.msg);
        if (e.code == ERR_INVALID)
            h_resp_error(resp, req, 503, "credentials_expired", "%s", e.msg);
        else
            h_resp_error(resp, req, 500, "internal", "the variant URLs could not be signed");
    } else {
        return true;
    }
    cJSON_Delete(o);
    return false;
}

void h_uploads_status(const struct h_request *req, struct h_response *resp)
{
    const struct h_status_ctx *ctx = req->route_ctx;
    struct h_auth_principal who;
    struct err e = {0};
    struct s3_key k;
    enum h_upload_state state = H_UPLOAD_UNKNOWN;
    char *text = NULL;
    memset(&k, 0, sizeof(k));
    if (!h_guard(req, resp, ctx->auth, &who) || !resolve(req, resp, &k))
        goto cleanup;
    const struct s3_key_domain_desc *d = s3_key_domain_get(k.domain);
    const char *ids[S3_KEY_MAX_IDS] = {k.ids[0], k.ids[1]};
    if (!h_guard_owner(req, resp, h_auth_check_owner(&who, k.domain, ids, d->nids, &e), &e))
        goto cleanup;
    if (ctx->pipeline == NULL) {
        h_resp_error(resp, req, 503, "storage_not_configured", "no S3 storage is configured");
        goto cleanup;
    }
    if (h_pipeline_status(ctx->pipeline, &k, &state, &text, &e) != ERR_OK) {
        log_msg(LOGL_WARN, "status", req->request_id, "status of %s: %s", k.upload_id, e.msg);
        h_resp_error(resp, req, 502, "storage_unavailable", "the storage could not be read");
        goto cleanup;
    }
    cJSON *o = answer(k.upload_id, state, text);
    if (o == NULL) {
        h_resp_error(resp, req, 500, "internal", "out of memory");
        goto cleanup;
    }
    if (state == H_UPLOAD_READY && want_urls(req) && !add_urls(ctx, req, resp, o))
        goto cleanup;
    h_resp_header(resp, "Cache-Control", "no-store");
    h_resp_json(resp, 200, o);
cleanup:
    free(text);
}
