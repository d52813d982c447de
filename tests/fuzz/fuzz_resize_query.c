/*
 * fuzz_resize_query.c: the query parser of POST /v1/resize (h_resize_parse_preset,
 * handlers/resize_internal.h).
 *
 * Input: a raw query string ("w=320&h=200&fit=cover&format=webp&q=80"), split into decoded
 * arguments with sigv4_query_parse and served through the request's lookup accessor as the
 * server would. Invariants: an accepted preset passes img_preset_validate with sides within
 * IMG_PRESET_MAX_SIDE and quality 1..100; a refusal is a 400 invalid_option JSON error.
 */
#include "fuzz.h"

#include <stdbool.h>

#include "common/json.h"
#include "common/log.h"
#include "handlers/resize_internal.h"
#include "s3/sigv4.h"

struct fz_query {
    struct sigv4_pair *pairs;
    size_t n;
};

static const char *lookup(void *conn, enum h_kv_kind kind, const char *name)
{
    const struct fz_query *q = conn;
    if (kind != H_KV_QUERY)
        return NULL;
    for (size_t i = 0; i < q->n; i++)
        if (strcmp(q->pairs[i].name, name) == 0)
            return q->pairs[i].value ? q->pairs[i].value : "";
    return NULL;
}

static void check_refusal(const struct h_response *resp)
{
    struct err e = {0};
    FUZZ_CHECK(resp->status == 400);
    FUZZ_CHECK(resp->body != NULL);
    cJSON *doc = json_parse(resp->body, resp->body_len, &e);
    FUZZ_CHECK(doc != NULL);
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(doc, "error");
    const char *code = json_get_str(err, "code");
    FUZZ_CHECK(code != NULL && strcmp(code, "invalid_option") == 0);
    cJSON_Delete(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    log_set_level(LOGL_ERROR);
    char *raw = fuzz_strdup(data, size);
    struct fz_query q = {NULL, 0};
    if (sigv4_query_parse(raw, 32, &q.pairs, &q.n) == ERR_OK) {
        struct h_request req = {.method = "POST",
                                .path = "/v1/resize",
                                .raw_query = raw,
                                .request_id = "fuzz",
                                .conn = &q,
                                .lookup = lookup};
        struct h_response resp;
        struct img_preset p;
        struct img_error ie = {0};
        memset(&resp, 0, sizeof(resp));
        if (h_resize_parse_preset(&req, &resp, &p)) {
            FUZZ_CHECK(img_preset_validate(&p, &ie) == ERR_OK);
            FUZZ_CHECK(p.width >= 0 && p.width <= IMG_PRESET_MAX_SIDE);
            FUZZ_CHECK(p.height >= 0 && p.height <= IMG_PRESET_MAX_SIDE);
            FUZZ_CHECK(p.width > 0 || p.height > 0);
            FUZZ_CHECK(p.quality >= 1 && p.quality <= 100);
        } else {
            check_refusal(&resp);
        }
        h_resp_free(&resp);
    }
    free(q.pairs);
    free(raw);
    return 0;
}
