/*
 * fuzz_uploads_body.c: the JSON body of POST /v1/uploads, through the real handler
 * (h_uploads_create, handlers/uploads.h) with authentication off and fixed presigning
 * credentials.
 *
 * Input: a request body. Invariants: the answer is 201 or a 400 JSON error (never a 5xx); a
 * 201 names a temp key that s3_key_parse_temp accepts, whose upload id is the answer's
 * uploadId, and a PUT URL on the configured endpoint and bucket.
 */
#include "fuzz.h"

#include <stdbool.h>

#include "common/json.h"
#include "common/log.h"
#include "handlers/uploads.h"
#include "s3/keys.h"

#define FZ_URL_PREFIX "https://s3.example.com/photos/delete/"

static void check_created(const struct h_response *resp)
{
    struct err e = {0};
    struct s3_key k;
    cJSON *doc = json_parse(resp->body, resp->body_len, &e);
    FUZZ_CHECK(doc != NULL);
    const char *key = json_get_str(doc, "key"), *id = json_get_str(doc, "uploadId");
    const char *url = json_get_str(doc, "url");
    FUZZ_CHECK(key != NULL && id != NULL && url != NULL);
    FUZZ_CHECK(s3_key_parse_temp(key, &k, &e) == ERR_OK);
    FUZZ_CHECK(strcmp(k.upload_id, id) == 0);
    FUZZ_CHECK(strncmp(url, FZ_URL_PREFIX, strlen(FZ_URL_PREFIX)) == 0);
    cJSON_Delete(doc);
}

static void check_refused(const struct h_response *resp)
{
    struct err e = {0};
    FUZZ_CHECK(resp->status == 400);
    cJSON *doc = json_parse(resp->body, resp->body_len, &e);
    FUZZ_CHECK(doc != NULL);
    FUZZ_CHECK(json_get_str(cJSON_GetObjectItemCaseSensitive(doc, "error"), "code") != NULL);
    cJSON_Delete(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct img_preset_table presets;
    static int init;
    if (size > 64 * 1024)
        return 0;
    if (!init) {
        img_presets_builtin(&presets);
        log_set_level(LOGL_ERROR);
        init = 1;
    }
    struct h_uploads_ctx ctx = {
        .presets = &presets,
        .creds = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL},
        .region = "us-east-1",
        .bucket = "photos",
        .public_scheme = "https",
        .public_host = "s3.example.com",
        .expires_s = 900,
        .max_upload_bytes = 50 * 1024 * 1024};
    char *body = fuzz_strdup(data, size);
    struct h_request req = {.method = "POST",
                            .path = "/v1/uploads",
                            .raw_query = "",
                            .request_id = "fuzz",
                            .body = size ? body : NULL,
                            .body_len = size,
                            .route_ctx = &ctx};
    struct h_response resp;
    memset(&resp, 0, sizeof(resp));
    h_uploads_create(&req, &resp);
    FUZZ_CHECK(resp.body != NULL);
    if (resp.status == 201)
        check_created(&resp);
    else
        check_refused(&resp);
    h_resp_free(&resp);
    free(body);
    return 0;
}
