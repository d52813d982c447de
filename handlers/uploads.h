/*
 * uploads.h: POST /v1/uploads, the presign API the mobile app calls before uploading.
 *
 * Body: {"domain":"profile","ids":{"userId":"42"},"contentType":"image/jpeg",
 *        "contentLength":123456 (optional), "checksumSha256":"<base64>" (optional)}
 * Answer 201: {uploadId, key, method:"PUT", url, headers:{...exactly what the client must
 * send...}, expiresAt, variants:{origin:<key>, <size>:<key>...}, manifest:<key>}.
 * Content-Type is always signed; contentLength makes Content-Length signed (S3 enforces the
 * exact size); checksumSha256 makes x-amz-checksum-sha256 signed (S3 refuses a body that
 * differs, which catches a multipart/form-data upload at upload time).
 */
#ifndef IMGSVC_HANDLERS_UPLOADS_H
#define IMGSVC_HANDLERS_UPLOADS_H

#include <stdbool.h>
#include <stdint.h>

#include "handlers/auth.h"
#include "handlers/http.h"
#include "imaging/img_preset.h"
#include "s3/sigv4.h"

struct h_uploads_ctx {
    const struct h_auth *auth;              /* NULL = authentication off */
    const struct img_preset_table *presets; /* variant names per domain */
    struct sigv4_credentials creds;         /* presigning credentials (borrowed) */
    int64_t creds_expire_at;                /* Unix seconds; 0 = not known */
    const char *region;
    const char *bucket;
    const char *public_scheme;         /* "https" or "http" */
    const char *public_host;           /* host[:port] the phone reaches S3 by */
    bool virtual_hosted;               /* bucket.host/key instead of host/bucket/key */
    int64_t expires_s;                 /* URL lifetime, 1..604800 */
    int64_t max_upload_bytes;          /* largest declared contentLength */
    struct sigv4_key_cache *key_cache; /* optional */
};

void h_uploads_create(const struct h_request *req, struct h_response *resp);

#endif
