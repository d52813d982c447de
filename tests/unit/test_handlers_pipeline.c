/*
 * Unit tests for the pipeline's pure parts: the manifest and failed record JSON both ways
 * (every field survives, refusals of what the writer could not have made), the presets
 * fingerprint, outcome and state names, the result JSON, h_pipeline_new's checks, records
 * refused before any S3 call, the per-upload lock and the imaging slots.
 * The S3 flow itself runs end to end in tests/integration/test_pipeline.py.
 */
#include "t.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "common/json.h"
#include "handlers/pipeline_internal.h"

#define UP "0f8fad5b-d9cb-469f-a165-70867728950e_1764000000"

/* A ready manifest with every field set, for the chat domain (two ids). */
static void sample(struct h_manifest *m)
{
    struct s3_key k;
    struct err e = {0};
    struct h_pipe_source src = {.size = 123456,
                                .etag = "d41d8cd98f00b204e9800998ecf8427e",
                                .sequencer = "0062E99A88DC407460",
                                .content_type = "image/jpeg",
                                .last_modified = 1764000100};
    snprintf(src.key, sizeof(src.key), "delete/chatroom/7/chat/9/" UP ".jpeg");
    s3_key_parse_temp(src.key, &k, &e);
    h_manifest_init(m, &k, &src);
    m->facts = (struct img_facts){.format = IMG_FMT_JPEG,
                                  .width = 4032,
                                  .height = 3024,
                                  .orientation = 6,
                                  .has_alpha = false,
                                  .frames = 1,
                                  .placeholders = true,
                                  .dominant = "#a0b1c2",
                                  .blurhash = "LEHV6nWB2yk8pyo0adR*.7kCMdnj",
                                  .thumbhash = "1QcSHQRnh493V4dIh4eXh1h4kJUI"};
    snprintf(m->origin_key, sizeof(m->origin_key), "chatroom/7/chat/9/origin/" UP ".jpeg");
    m->origin_bytes = 120000;
    snprintf(m->origin_format, sizeof(m->origin_format), "jpeg");
    m->origin_gps_removed = true;
    m->nvariants = 2;
    m->variants[0] =
        (struct h_manifest_variant){"1080", "", 1080, 810, 99000, "jpeg", "image/jpeg"};
    snprintf(m->variants[0].key, S3_KEY_MAX, "chatroom/7/chat/9/1080/" UP ".jpeg");
    m->variants[1] = (struct h_manifest_variant){"320", "", 320, 240, 9000, "webp", "image/webp"};
    snprintf(m->variants[1].key, S3_KEY_MAX, "chatroom/7/chat/9/320/" UP ".webp");
    m->nwarnings = 1;
    snprintf(m->warnings[0], H_PIPE_WARNING_MAX, "multipart_unwrapped");
    snprintf(m->presets, sizeof(m->presets), "fnv1a64:0123456789abcdef");
    snprintf(m->at, sizeof(m->at), "2026-11-24T14:46:01.234Z");
    m->processing_ms = 312;
}

TEST(manifest_round_trip_keeps_every_field)
{
    struct h_manifest m, back;
    struct err e = {0};
    sample(&m);
    char *text = h_manifest_json(&m);
    REQUIRE(text != NULL);
    CHECK_INT(h_manifest_parse(text, strlen(text), &back, &e), ERR_OK);
    CHECK(memcmp(&m, &back, sizeof(m)) == 0);
    CHECK_STR(back.ids[0], "7");
    CHECK_STR(back.ids[1], "9");
    CHECK_STR(back.source.sequencer, "0062E99A88DC407460");
    CHECK_INT(back.facts.orientation, 6);
    CHECK_STR(back.variants[1].content_type, "image/webp");
    free(text);
}

TEST(manifest_json_has_the_documented_names)
{
    struct h_manifest m;
    struct err e = {0};
    sample(&m);
    char *text = h_manifest_json(&m);
    REQUIRE(text != NULL);
    cJSON *root = json_parse(text, strlen(text), &e);
    REQUIRE(root != NULL);
    long long v = 0;
    CHECK(json_get_int(root, "version", &v) && v == 1);
    CHECK_STR(json_get_str(root, "status"), "ready");
    CHECK_STR(json_get_str(root, "uploadId"), UP);
    CHECK_STR(json_get_str(root, "domain"), "chat");
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(root, "ids");
    CHECK_STR(json_get_str(ids, "chatroomId"), "7");
    CHECK_STR(json_get_str(ids, "chatId"), "9");
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(root, "source");
    CHECK_STR(json_get_str(src, "lastModified"), "2025-11-24T16:01:40Z");
    CHECK_STR(json_get_str(src, "contentType"), "image/jpeg");
    const cJSON *facts = cJSON_GetObjectItemCaseSensitive(root, "facts");
    CHECK_STR(json_get_str(facts, "format"), "jpeg");
    const cJSON *ph = cJSON_GetObjectItemCaseSensitive(root, "placeholders");
    CHECK_STR(json_get_str(ph, "dominant"), "#a0b1c2");
    const cJSON *origin = cJSON_GetObjectItemCaseSensitive(root, "origin");
    bool gps = false;
    CHECK(json_get_bool(origin, "gpsRemoved", &gps) && gps);
    const cJSON *vs = cJSON_GetObjectItemCaseSensitive(root, "variants");
    CHECK_INT(cJSON_GetArraySize(vs), 2);
    CHECK_STR(json_get_str(cJSON_GetArrayItem(vs, 0), "key"), "chatroom/7/chat/9/1080/" UP ".jpeg");
    CHECK_STR(json_get_str(root, "processedAt"), "2026-11-24T14:46:01.234Z");
    CHECK(json_get_int(root, "processingMs", &v) && v == 312);
    CHECK(cJSON_GetObjectItemCaseSensitive(root, "error") == NULL);
    cJSON_Delete(root);
    free(text);
}

TEST(failed_record_round_trip)
{
    struct h_manifest m, back;
    struct err e = {0};
    struct s3_key k;
    struct h_pipe_source src = {.size = 21, .etag = "abc", .content_type = "image/jpeg"};
    snprintf(src.key, sizeof(src.key), "delete/profile/42/" UP ".jpeg");
    REQUIRE(s3_key_parse_temp(src.key, &k, &e) == ERR_OK);
    h_manifest_init(&m, &k, &src);
    m.failed = true;
    snprintf(m.error_code, sizeof(m.error_code), "unsupported_format");
    snprintf(m.error_message, sizeof(m.error_message), "not \"an\" image\n");
    snprintf(m.at, sizeof(m.at), "2026-11-24T14:46:01.234Z");
    char *text = h_manifest_json(&m);
    REQUIRE(text != NULL);
    CHECK(strstr(text, "\"status\":\"failed\"") != NULL);
    CHECK(strstr(text, "\"failedAt\":\"2026-11-24T14:46:01.234Z\"") != NULL);
    CHECK(strstr(text, "\"lastModified\":null") != NULL);
    CHECK(strstr(text, "\"variants\"") == NULL);
    CHECK_INT(h_manifest_parse(text, strlen(text), &back, &e), ERR_OK);
    CHECK(memcmp(&m, &back, sizeof(m)) == 0);
    CHECK(back.failed);
    CHECK_STR(back.error_message, "not \"an\" image\n");
    free(text);
}

TEST(manifest_parse_refuses_what_the_writer_cannot_make)
{
    struct h_manifest m;
    struct err e = {0};
    sample(&m);
    char *good = h_manifest_json(&m);
    REQUIRE(good != NULL);
    const char *bad[] = {
        "",
        "[]",
        "{}",
        "{\"version\":2,\"status\":\"ready\"}",
        "{\"version\":1,\"status\":\"pending\"}",
        "{\"version\":1,\"status\":\"failed\",\"uploadId\":\"x\",\"domain\":\"profile\","
        "\"ids\":{\"userId\":\"1\"},\"source\":{}}",
        "{\"version\":1,\"status\":\"ready\",\"uploadId\":\"x\",\"domain\":\"nope\"}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_INT(h_manifest_parse(bad[i], strlen(bad[i]), &m, &e), ERR_INVALID);
        CHECK_STR(m.upload_id, ""); /* zeroed on error */
    }
    /* one field broken at a time in a good manifest */
    const char *edits[][2] = {
        {"\"orientation\":6", "\"orientation\":9"},  {"\"chatId\":\"9\"", "\"chat\":\"9\""},
        {"\"width\":1080", "\"width\":\"1080\""},    {"\"presets\":", "\"preset\":"},
        {"\"gpsRemoved\":true", "\"gpsRemoved\":1"},
    };
    for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
        char buf[8192];
        char *at = strstr(good, edits[i][0]);
        REQUIRE(at != NULL);
        snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - good), good, edits[i][1],
                 at + strlen(edits[i][0]));
        CHECK_INT(h_manifest_parse(buf, strlen(buf), &m, &e), ERR_INVALID);
    }
    free(good);
}

TEST(presets_fingerprint_is_stable_and_sensitive)
{
    struct img_preset_table t;
    char a[H_PIPE_FP_MAX], b[H_PIPE_FP_MAX], c[H_PIPE_FP_MAX];
    img_presets_builtin(&t);
    const struct img_domain_presets *profile = img_presets_find(&t, "profile");
    REQUIRE(profile != NULL);
    h_pipe_presets_fingerprint(profile, a);
    h_pipe_presets_fingerprint(profile, b);
    CHECK_STR(a, b);
    CHECK_INT((int)strlen(a), 24);
    CHECK(strncmp(a, "fnv1a64:", 8) == 0);
    /* chatroom has the same presets as profile: same fingerprint; feed differs */
    h_pipe_presets_fingerprint(img_presets_find(&t, "chatroom"), c);
    CHECK_STR(a, c);
    h_pipe_presets_fingerprint(img_presets_find(&t, "feed"), c);
    CHECK(strcmp(a, c) != 0);
    struct img_domain_presets changed = *profile;
    changed.presets[0].quality = 81;
    h_pipe_presets_fingerprint(&changed, c);
    CHECK(strcmp(a, c) != 0);
}

TEST(outcome_and_state_names)
{
    CHECK_STR(h_pipe_outcome_name(H_PIPE_READY), "ready");
    CHECK_STR(h_pipe_outcome_name(H_PIPE_DONE_BEFORE), "done_before");
    CHECK_STR(h_pipe_outcome_name(H_PIPE_FAILED), "failed");
    CHECK_STR(h_pipe_outcome_name(H_PIPE_IGNORED), "ignored");
    CHECK_STR(h_pipe_outcome_name(H_PIPE_RETRY), "retry");
    CHECK_STR(h_pipe_outcome_name((enum h_pipe_outcome)42), "unknown");
    CHECK_STR(h_upload_state_name(H_UPLOAD_UNKNOWN), "unknown");
    CHECK_STR(h_upload_state_name(H_UPLOAD_PENDING), "pending");
    CHECK_STR(h_upload_state_name(H_UPLOAD_READY), "ready");
    CHECK_STR(h_upload_state_name(H_UPLOAD_FAILED), "failed");
}

TEST(result_json)
{
    struct h_pipe_result r = {0};
    struct err e = {0};
    snprintf(r.key, sizeof(r.key), "delete/profile/42/" UP ".jpeg");
    snprintf(r.upload_id, sizeof(r.upload_id), UP);
    h_pipe_result_set(&r, H_PIPE_FAILED, "truncated", "ends after %d bytes", 200000);
    r.attempts = 1;
    r.ms = 12.5;
    char *text = h_pipe_result_json(&r);
    REQUIRE(text != NULL);
    cJSON *o = json_parse(text, strlen(text), &e);
    REQUIRE(o != NULL);
    long long n = 0;
    CHECK_STR(json_get_str(o, "outcome"), "failed");
    CHECK_STR(json_get_str(o, "key"), "delete/profile/42/" UP ".jpeg");
    CHECK_STR(json_get_str(o, "uploadId"), UP);
    CHECK_STR(json_get_str(o, "manifestKey"), "");
    CHECK_STR(json_get_str(o, "reason"), "truncated");
    CHECK_STR(json_get_str(o, "message"), "ends after 200000 bytes");
    CHECK(json_get_int(o, "attempts", &n) && n == 1);
    CHECK(json_get_int(o, "variants", &n) && n == 0);
    cJSON_Delete(o);
    free(text);
}

/* A client of bucket `bucket` at a closed port, without retries: any S3 call fails fast. */
static struct s3_client *closed_port_client(const char *bucket)
{
    struct err e = {0};
    struct s3_options o;
    s3_options_defaults(&o);
    o.endpoint = "http://127.0.0.1:9";
    o.bucket = bucket;
    o.path_style = true;
    o.max_retries = 0;
    o.creds.access_key = "AKIDEXAMPLE";
    o.creds.secret_key = "secret";
    return s3_client_new(&o, &e);
}

/* Settings with client `c` and presets `t`: 3 attempts, backoff base 10 ms, maximum 100 ms. */
static struct h_pipeline_cfg three_attempts_cfg(struct s3_client *c,
                                                const struct img_preset_table *t)
{
    return (struct h_pipeline_cfg){.s3 = c,
                                   .presets = t,
                                   .job = img_job_opts_default(),
                                   .max_object_bytes = 1 << 20,
                                   .max_attempts = 3,
                                   .retry_base_ms = 10,
                                   .retry_max_ms = 100};
}

TEST(pipeline_new_checks_its_settings)
{
    struct err e = {0};
    struct img_preset_table t;
    img_presets_builtin(&t);
    struct s3_client *c = closed_port_client("bkt");
    REQUIRE(c != NULL);
    struct h_pipeline_cfg cfg = three_attempts_cfg(c, &t);
    struct h_pipeline *p = h_pipeline_new(&cfg, &e);
    CHECK(p != NULL);
    h_pipeline_free(p);
    struct h_pipeline_cfg bad = cfg;
    bad.max_attempts = 0;
    CHECK(h_pipeline_new(&bad, &e) == NULL);
    CHECK_INT(e.code, ERR_INVALID);
    bad = cfg;
    bad.retry_max_ms = 5;
    CHECK(h_pipeline_new(&bad, &e) == NULL);
    bad = cfg;
    bad.s3 = NULL;
    CHECK(h_pipeline_new(&bad, &e) == NULL);
    h_pipeline_free(NULL);
    s3_client_destroy(c);
}

TEST(backoff_between_attempts_uses_the_pipeline_settings)
{
    /* IMGSVC_PIPELINE_RETRY_BASE_MS / _MAX_MS (here 10 / 100), not the S3 client's: full jitter
     * in [0, min(100, 10 * 2^(attempt-2))] */
    struct err e = {0};
    struct img_preset_table t;
    img_presets_builtin(&t);
    struct s3_client *c = closed_port_client("bkt");
    REQUIRE(c != NULL);
    struct h_pipeline_cfg cfg = three_attempts_cfg(c, &t);
    struct h_pipeline *p = h_pipeline_new(&cfg, &e);
    REQUIRE(p != NULL);
    CHECK_INT(h_pipe_backoff_ms(p, 1, 7), 0); /* nothing before the first attempt */
    CHECK_INT(h_pipe_backoff_ms(p, 2, 10), 10);
    CHECK_INT(h_pipe_backoff_ms(p, 2, 11), 0); /* window [0, 10] */
    CHECK_INT(h_pipe_backoff_ms(p, 3, 20), 20);
    CHECK_INT(h_pipe_backoff_ms(p, 3, 21), 0);
    CHECK_INT(h_pipe_backoff_ms(p, 5, 80), 80);
    CHECK_INT(h_pipe_backoff_ms(p, 6, 100), 100); /* 160 capped at the maximum */
    CHECK_INT(h_pipe_backoff_ms(p, 6, 101), 0);
    CHECK_INT(h_pipe_backoff_ms(p, 90, 100), 100);
    h_pipeline_free(p);
    cfg.retry_base_ms = 0; /* no wait at all */
    p = h_pipeline_new(&cfg, &e);
    REQUIRE(p != NULL);
    CHECK_INT(h_pipe_backoff_ms(p, 4, 12345), 0);
    h_pipeline_free(p);
    s3_client_destroy(c);
}

TEST(records_not_for_us_are_ignored_without_s3)
{
    /* the client points at a closed port: any S3 call would end in retry, not ignored */
    struct err e = {0};
    struct img_preset_table t;
    img_presets_builtin(&t);
    struct s3_client *c = closed_port_client("mine");
    REQUIRE(c != NULL);
    struct h_pipeline_cfg cfg = {.s3 = c,
                                 .presets = &t,
                                 .job = img_job_opts_default(),
                                 .max_object_bytes = 1 << 20,
                                 .max_attempts = 2,
                                 .retry_base_ms = 0,
                                 .retry_max_ms = 0};
    struct h_pipeline *p = h_pipeline_new(&cfg, &e);
    REQUIRE(p != NULL);
    struct s3_event_record r = {
        .source = S3_EVSRC_AWS, .event_name = "ObjectCreated:Put", .bucket = "mine", .size = 10};
    struct h_pipe_result out;
    const struct {
        const char *bucket, *event, *key, *reason;
        enum h_pipe_outcome outcome;
    } cases[] = {
        {"other", "ObjectCreated:Put", "delete/profile/42/" UP ".jpeg", "other_bucket",
         H_PIPE_IGNORED},
        {"mine", "ObjectRemoved:Delete", "delete/profile/42/" UP ".jpeg", "not_created",
         H_PIPE_IGNORED},
        {"mine", "ObjectCreated:Put", "profile/42/320/" UP ".jpeg", "not_temp", H_PIPE_IGNORED},
        {"mine", "ObjectCreated:Put", "delete/profile/a.b/" UP ".jpeg", "bad_id", H_PIPE_IGNORED},
        {"mine", "ObjectCreated:Put", "delete/nope/1/" UP ".jpeg", "unknown_domain",
         H_PIPE_IGNORED},
        /* a good key reaches S3, which is not there: transient, attempts exhausted */
        {"mine", "ObjectCreated:Put", "delete/profile/42/" UP ".jpeg", "io_error", H_PIPE_RETRY},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(r.bucket, sizeof(r.bucket), "%s", cases[i].bucket);
        snprintf(r.event_name, sizeof(r.event_name), "%s", cases[i].event);
        snprintf(r.key, sizeof(r.key), "%s", cases[i].key);
        CHECK_INT(h_pipeline_handle_record(p, &r, &out), ERR_OK);
        CHECK_INT(out.outcome, cases[i].outcome);
        CHECK_STR(out.reason, cases[i].reason);
        CHECK_STR(out.key, cases[i].key);
    }
    CHECK_INT(out.attempts, 2);
    CHECK_STR(out.upload_id, UP);
    CHECK_INT(h_pipeline_handle_key(p, "delete/profile/42/x.jpeg", &out), ERR_OK);
    CHECK_INT(out.outcome, H_PIPE_IGNORED);
    CHECK_STR(out.reason, "bad_upload_id");
    h_pipeline_free(p);
    s3_client_destroy(c);
}

/* Shared by lock_serialises_one_upload's threads. */
struct lock_race {
    struct h_pipeline *p;
    atomic_int holders; /* threads inside the lock of "a" at once */
    atomic_int max_holders;
    atomic_int done;
};

static void *lock_worker(void *arg)
{
    struct lock_race *r = arg;
    for (int i = 0; i < 200; i++) {
        if (h_pipe_lock(r->p, "a") != ERR_OK)
            return NULL;
        int now = atomic_fetch_add(&r->holders, 1) + 1;
        int seen = atomic_load(&r->max_holders);
        while (now > seen && !atomic_compare_exchange_weak(&r->max_holders, &seen, now)) {
        }
        sched_yield();
        atomic_fetch_sub(&r->holders, 1);
        h_pipe_unlock(r->p, "a");
        /* another name is never held up by "a" */
        if (h_pipe_lock(r->p, "b") == ERR_OK)
            h_pipe_unlock(r->p, "b");
    }
    atomic_fetch_add(&r->done, 1);
    return NULL;
}

TEST(lock_serialises_one_upload)
{
    struct err e = {0};
    struct img_preset_table t;
    img_presets_builtin(&t);
    struct s3_client *c = closed_port_client("bkt");
    REQUIRE(c != NULL);
    struct h_pipeline_cfg cfg = {.s3 = c,
                                 .presets = &t,
                                 .job = img_job_opts_default(),
                                 .max_object_bytes = 1 << 20,
                                 .max_attempts = 1};
    struct lock_race r = {.p = h_pipeline_new(&cfg, &e)};
    REQUIRE(r.p != NULL);
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        REQUIRE(pthread_create(&th[i], NULL, lock_worker, &r) == 0);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    CHECK_INT(atomic_load(&r.done), 4);
    CHECK_INT(atomic_load(&r.max_holders), 1);
    CHECK_INT((int)r.p->ninflight, 0);
    h_pipeline_free(r.p);
    s3_client_destroy(c);
}

/* Shared by imaging_slots_bound_the_decodes' threads. */
struct slot_race {
    struct h_pipeline *p;
    atomic_int inside; /* threads holding a slot at once */
    atomic_int max_inside;
    atomic_int done;
};

static void *slot_worker(void *arg)
{
    struct slot_race *r = arg;
    for (int i = 0; i < 200; i++) {
        h_pipe_imaging_enter(r->p);
        int now = atomic_fetch_add(&r->inside, 1) + 1;
        int seen = atomic_load(&r->max_inside);
        while (now > seen && !atomic_compare_exchange_weak(&r->max_inside, &seen, now)) {
        }
        sched_yield();
        atomic_fetch_sub(&r->inside, 1);
        h_pipe_imaging_leave(r->p);
    }
    atomic_fetch_add(&r->done, 1);
    return NULL;
}

TEST(imaging_slots_bound_the_decodes)
{
    struct err e = {0};
    struct img_preset_table t;
    img_presets_builtin(&t);
    struct s3_client *c = closed_port_client("bkt");
    REQUIRE(c != NULL);
    for (int slots = 1; slots <= 2; slots++) {
        struct h_pipeline_cfg cfg = {.s3 = c,
                                     .presets = &t,
                                     .job = img_job_opts_default(),
                                     .max_object_bytes = 1 << 20,
                                     .max_attempts = 1,
                                     .imaging_slots = slots};
        struct slot_race r = {.p = h_pipeline_new(&cfg, &e)};
        REQUIRE(r.p != NULL);
        pthread_t th[6];
        for (int i = 0; i < 6; i++)
            REQUIRE(pthread_create(&th[i], NULL, slot_worker, &r) == 0);
        for (int i = 0; i < 6; i++)
            pthread_join(th[i], NULL);
        CHECK_INT(atomic_load(&r.done), 6);
        CHECK(atomic_load(&r.max_inside) >= 1 && atomic_load(&r.max_inside) <= slots);
        CHECK_INT(r.p->imaging, 0);
        h_pipeline_free(r.p);
    }
    {
        struct h_pipeline_cfg bad = {.s3 = c,
                                     .presets = &t,
                                     .job = img_job_opts_default(),
                                     .max_object_bytes = 1 << 20,
                                     .max_attempts = 1,
                                     .imaging_slots = -1};
        CHECK(h_pipeline_new(&bad, &e) == NULL);
    }
    s3_client_destroy(c);
}

TEST_MAIN()
