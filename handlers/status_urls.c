/*
 * status_urls.c: presigned GET URLs for a ready upload's objects (GET /v1/uploads/{uploadId}
 * ?urls=1). See status.h.
 *
 * Variants live in the bucket, which is private: a browser or an app can only fetch them with a
 * signature. The status answer signs a short-lived GET for the origin and every variant with
 * the same credentials, endpoint and addressing as the upload URLs (struct h_uploads_ctx), so
 * the URLs work wherever the upload URL worked.
 */
#include "handlers/status.h"

#include <stdlib.h>
#include <string.h>

#include "common/timeutil.h"

/* Presigns a GET of the "key" member of `obj` and adds it as "url". Objects without a key are
 * left alone. */
static enum err_code add_url(const struct h_uploads_ctx *pc, const struct sigv4_params *p,
                             cJSON *obj, struct err *e)
{
    const cJSON *key = cJSON_GetObjectItemCaseSensitive(obj, "key");
    char *url = NULL;
    enum err_code rc = ERR_OK;
    if (!cJSON_IsString(key) || key->valuestring == NULL)
        goto cleanup;
    struct sigv4_s3_presign o = {.method = "GET",
                                 .scheme = pc->public_scheme,
                                 .host = pc->public_host,
                                 .virtual_hosted = pc->virtual_hosted,
                                 .bucket = pc->bucket,
                                 .key = key->valuestring};
    rc = sigv4_s3_presign_url(p, &o, &url, NULL, e);
    if (rc != ERR_OK)
        goto cleanup;
    if (cJSON_AddStringToObject(obj, "url", url) == NULL)
        rc = err_set(e, ERR_NOMEM, "out of memory");
cleanup:
    free(url);
    return rc;
}

enum err_code h_status_add_urls(const struct h_uploads_ctx *pc, int64_t lifetime, time_t now,
                                cJSON *answer, struct err *e)
{
    char expires_at[32];
    enum err_code rc = ERR_OK;
    cJSON *m = cJSON_GetObjectItemCaseSensitive(answer, "manifest");
    cJSON *variants = cJSON_GetObjectItemCaseSensitive(m, "variants");
    cJSON *v = NULL;
    if (pc->creds_expire_at > 0 && pc->creds_expire_at - (int64_t)now < lifetime)
        lifetime = pc->creds_expire_at - (int64_t)now;
    if (lifetime < 1)
        return err_set(e, ERR_INVALID, "the S3 credentials used for presigning have expired");
    struct sigv4_params p = {.creds = pc->creds,
                             .region = pc->region,
                             .service = "s3",
                             .time = now,
                             .expires = lifetime,
                             .cache = pc->key_cache};
    rc = add_url(pc, &p, cJSON_GetObjectItemCaseSensitive(m, "origin"), e);
    cJSON_ArrayForEach(v, variants)
    {
        if (rc == ERR_OK)
            rc = add_url(pc, &p, v, e);
    }
    ts_rfc3339(now + (time_t)lifetime, expires_at, sizeof(expires_at));
    if (rc == ERR_OK && cJSON_AddStringToObject(answer, "urlsExpireAt", expires_at) == NULL)
        rc = err_set(e, ERR_NOMEM, "out of memory");
    return rc;
}
