/*
 * status.h: GET /v1/uploads/{uploadId}, where an upload stands, from S3 alone.
 *
 * The upload is named by the path's upload id plus either `key` (the temp key POST /v1/uploads
 * returned) or `domain` and the domain's id names as query arguments
 * (?domain=profile&userId=42, ?domain=chat&chatroomId=7&chatId=9). Authentication and the
 * owner rule are those of POST /v1/uploads. Answer 200:
 *   {"uploadId":"...","status":"pending"|"ready"|"failed"|"unknown",
 *    "manifest":{...the manifest...}   (ready),
 *    "error":{"code":"...","message":"..."}   (failed)}
 * With ?urls=1 (or true) a ready answer also carries short-lived presigned GET URLs: "url" in
 * manifest.origin and in each manifest.variants[] entry, and "urlsExpireAt" (RFC 3339), signed
 * like the upload URLs (status_urls.c) with the lifetime ctx->url_expires_s.
 * 400 with the key schema's reason code (bad_id, bad_upload_id, bad_uuid, bad_ts,
 * unknown_domain, wrong_id_count, not_temp, bad_key, ...) for a bad name; 503 when no
 * pipeline runs (no S3 credentials); 502 when S3 cannot be read.
 */
#ifndef IMGSVC_HANDLERS_STATUS_H
#define IMGSVC_HANDLERS_STATUS_H

#include <stdint.h>
#include <time.h>

#include "handlers/auth.h"
#include "handlers/http.h"
#include "handlers/pipeline.h"
#include "handlers/uploads.h"

struct h_status_ctx {
    const struct h_auth *auth;           /* NULL = authentication off */
    struct h_pipeline *pipeline;         /* NULL: the route answers 503 */
    const struct h_uploads_ctx *presign; /* signer of ?urls=1 (borrowed); NULL: 503 for urls */
    int64_t url_expires_s;               /* lifetime of those GET URLs, 1..604800 */
};

void h_uploads_status(const struct h_request *req, struct h_response *resp);

/*
 * Adds a presigned GET "url" to answer.manifest.origin and to every answer.manifest.variants[]
 * entry that has a "key", and "urlsExpireAt" to `answer`. Signed with pc's credentials, endpoint
 * and addressing at time `now` for `lifetime` seconds (shortened to the credentials' expiry).
 * Borrows everything; the strings added belong to `answer`. (status_urls.c)
 */
enum err_code h_status_add_urls(const struct h_uploads_ctx *pc, int64_t lifetime, time_t now,
                                cJSON *answer, struct err *e);

#endif
