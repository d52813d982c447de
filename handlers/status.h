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
 * 400 with the key schema's reason code (bad_id, bad_upload_id, bad_uuid, bad_ts,
 * unknown_domain, wrong_id_count, not_temp, bad_key, ...) for a bad name; 503 when no
 * pipeline runs (no S3 credentials); 502 when S3 cannot be read.
 */
#ifndef IMGSVC_HANDLERS_STATUS_H
#define IMGSVC_HANDLERS_STATUS_H

#include "handlers/auth.h"
#include "handlers/http.h"
#include "handlers/pipeline.h"

struct h_status_ctx {
    const struct h_auth *auth;   /* NULL = authentication off */
    struct h_pipeline *pipeline; /* NULL: the route answers 503 */
};

void h_uploads_status(const struct h_request *req, struct h_response *resp);

#endif
