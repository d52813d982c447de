/*
 * test_server_lambda.c: the parts of `imgsvc process` / `imgsvc lambda` that need no network:
 * the Runtime API client's input checks, and the event runner's envelope unwrapping, bounds
 * and gate. Records name another bucket than the client's, so the pipeline answers IGNORED
 * without any S3 request (the client points at a port nothing listens on).
 */
#include "t.h"

#include <stdbool.h>

#include "handlers/pipeline.h"
#include "server/cmd_process.h"
#include "server/lambda_rt.h"

TEST(request_ids_safe_in_a_path)
{
    CHECK(srv_lrt_id_valid("8476a536-e9f4-11e8-9739-2dfe598c3fcd"));
    CHECK(srv_lrt_id_valid("a.b_c:d-e"));
    CHECK(!srv_lrt_id_valid(""));
    CHECK(!srv_lrt_id_valid("../next"));
    CHECK(!srv_lrt_id_valid("a b"));
    CHECK(!srv_lrt_id_valid("a%2F"));
    char long_id[SRV_LRT_ID_MAX + 1];
    memset(long_id, 'a', sizeof(long_id) - 1);
    long_id[SRV_LRT_ID_MAX] = '\0';
    CHECK(!srv_lrt_id_valid(long_id));
}

TEST(runtime_api_must_be_host_and_port)
{
    static const char *const bad[] = {"",      "localhost",  "localhost:", "h:0",  "h:65536",
                                      "h:12x", "http://h:1", "a b:1",      ":9001"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct err e = {0};
        struct srv_lrt *c = srv_lrt_new(bad[i], 1024, NULL, &e);
        CHECK(c == NULL);
        CHECK_INT(e.code, ERR_INVALID);
        CHECK(strstr(e.msg, "AWS_LAMBDA_RUNTIME_API") != NULL);
        srv_lrt_free(c);
    }
    static const char *const good[] = {"127.0.0.1:9001", "localhost:9001", "[::1]:9001"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        struct err e = {0};
        struct srv_lrt *c = srv_lrt_new(good[i], 1024, NULL, &e);
        CHECK(c != NULL);
        srv_lrt_free(c);
    }
    srv_lrt_free(NULL);
}

TEST(answers_refuse_unsafe_ids_and_types_before_sending)
{
    struct err e = {0};
    struct srv_lrt *c = srv_lrt_new("127.0.0.1:9", 1024, NULL, &e);
    REQUIRE(c != NULL);
    CHECK_INT(srv_lrt_respond(c, "../init/error", "{}", 2, &e), ERR_INVALID);
    CHECK_INT(srv_lrt_error(c, "a/b", "T", "m", &e), ERR_INVALID);
    CHECK_INT(srv_lrt_error(c, "id", "T\r\nX-Injected: 1", "m", &e), ERR_INVALID);
    srv_lrt_free(c);
}

/* A pipeline whose client points nowhere: only IGNORED records may be asked of it. */
struct fixture {
    struct s3_client *s3;
    struct img_preset_table presets;
    struct h_pipeline *p;
};

static bool fixture_open(struct fixture *f)
{
    struct s3_options o;
    struct err e = {0};
    memset(f, 0, sizeof(*f));
    s3_options_defaults(&o);
    o.endpoint = "http://127.0.0.1:9";
    o.bucket = "imgsvc-test";
    o.path_style = true;
    o.max_retries = 0;
    o.creds.access_key = "AKIDEXAMPLE";
    o.creds.secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    f->s3 = s3_client_new(&o, &e);
    img_presets_builtin(&f->presets);
    struct h_pipeline_cfg pc = {.s3 = f->s3,
                                .presets = &f->presets,
                                .job = img_job_opts_default(),
                                .max_object_bytes = 1 << 20,
                                .max_attempts = 1,
                                .retry_base_ms = 1,
                                .retry_max_ms = 1};
    f->p = f->s3 ? h_pipeline_new(&pc, &e) : NULL;
    return f->p != NULL;
}

static void fixture_close(struct fixture *f)
{
    h_pipeline_free(f->p);
    s3_client_destroy(f->s3);
}

#define OTHER_RECORD                                                                               \
    "{\"eventSource\":\"aws:s3\",\"eventName\":\"ObjectCreated:Put\",\"s3\":{\"bucket\":{"         \
    "\"name\":\"other-bucket\"},\"object\":{\"key\":\"delete/feed/f1/x%5Fy.jpeg\"}}}"
#define S3_DOC "{\"Records\":[" OTHER_RECORD "," OTHER_RECORD "]}"

/* Runs `doc`; returns the code, fills `o`. */
static enum err_code run(struct fixture *f, const char *doc, size_t max, srv_event_gate_fn gate,
                         struct srv_event_outcome *o, struct err *e)
{
    return srv_event_run(f->p, doc, strlen(doc), max, gate, NULL, "test", NULL, o, e);
}

/* `inner` as a JSON string literal (quotes escaped), wrapped by `pre` and `post`. */
static char *wrap(const char *pre, const char *inner, const char *post)
{
    size_t n = strlen(inner), k = 0;
    char *out = malloc(strlen(pre) + 2 * n + strlen(post) + 3);
    if (out == NULL)
        return NULL;
    k += (size_t)snprintf(out, strlen(pre) + 2, "%s\"", pre);
    for (size_t i = 0; i < n; i++) {
        if (inner[i] == '"' || inner[i] == '\\')
            out[k++] = '\\';
        out[k++] = inner[i];
    }
    snprintf(out + k, strlen(post) + 2, "\"%s", post);
    return out;
}

TEST(envelopes_unwrap_to_the_same_records)
{
    struct fixture f;
    REQUIRE(fixture_open(&f));
    char *sqs = wrap("{\"Records\":[{\"eventSource\":\"aws:sqs\",\"body\":", S3_DOC, "}]}");
    char *lsns =
        wrap("{\"Records\":[{\"EventSource\":\"aws:sns\",\"Sns\":{\"Message\":", S3_DOC, "}}]}");
    char *http_sns = wrap("{\"Type\":\"Notification\",\"MessageId\":\"m\",\"TopicArn\":\"arn:t\","
                          "\"Timestamp\":\"2026-11-24T12:00:00.000Z\",\"SignatureVersion\":\"1\","
                          "\"Signature\":\"AA==\",\"SigningCertURL\":\"https://x/c.pem\","
                          "\"Message\":",
                          S3_DOC, "}");
    REQUIRE(sqs != NULL && lsns != NULL && http_sns != NULL);
    const char *docs[] = {S3_DOC, sqs, lsns, http_sns};
    for (size_t i = 0; i < 4; i++) {
        struct srv_event_outcome o;
        struct err e = {0};
        CHECK_INT(run(&f, docs[i], 10, NULL, &o, &e), ERR_OK);
        CHECK_INT((long)o.count, 2);
        CHECK_INT((long)o.records, 2);
        for (size_t j = 0; j < o.count; j++) {
            CHECK_INT(o.results[j].outcome, H_PIPE_IGNORED);
            CHECK_STR(o.results[j].key, "delete/feed/f1/x_y.jpeg");
        }
        char *json = srv_event_results_json(&o);
        CHECK(json != NULL && strncmp(json, "{\"results\":[{\"outcome\":\"ignored\"", 32) == 0);
        free(json);
        srv_event_outcome_free(&o);
    }
    free(sqs);
    free(lsns);
    free(http_sns);
    fixture_close(&f);
}

TEST(malformed_documents_run_nothing)
{
    struct fixture f;
    REQUIRE(fixture_open(&f));
    static const char *const bad[] = {"",
                                      "[",
                                      "{\"Records\":5}",
                                      "{\"Records\":[{\"body\":\"nope\"}]}",
                                      "{\"Records\":[{\"Sns\":{}}]}",
                                      "{\"Records\":[" OTHER_RECORD ",{\"body\":\"{}\"}]}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct srv_event_outcome o;
        struct err e = {0};
        CHECK_INT(run(&f, bad[i], 10, NULL, &o, &e), ERR_INVALID);
        CHECK_INT((long)o.count, 0);
        CHECK(strncmp(e.msg, "event:", 6) == 0);
        srv_event_outcome_free(&o);
    }
    struct srv_event_outcome o;
    struct err e = {0};
    CHECK_INT(run(&f, S3_DOC, 1, NULL, &o, &e), ERR_TOO_LARGE);
    CHECK_INT((long)o.count, 0);
    srv_event_outcome_free(&o);
    fixture_close(&f);
}

TEST(envelopes_nest_at_most_the_limit)
{
    struct fixture f;
    REQUIRE(fixture_open(&f));
    char *doc = strdup(S3_DOC);
    for (int depth = 1; depth <= SRV_EVENT_MAX_DEPTH + 1 && doc; depth++) {
        char *next = wrap("{\"Records\":[{\"body\":", doc, "}]}");
        free(doc);
        doc = next;
        REQUIRE(doc != NULL);
        struct srv_event_outcome o;
        struct err e = {0};
        enum err_code rc = run(&f, doc, 10, NULL, &o, &e);
        CHECK_INT(rc, depth <= SRV_EVENT_MAX_DEPTH ? ERR_OK : ERR_INVALID);
        srv_event_outcome_free(&o);
    }
    free(doc);
    fixture_close(&f);
}

static bool gate_closed(void *arg)
{
    (void)arg;
    return false;
}

TEST(a_closed_gate_starts_no_record_and_test_events_have_none)
{
    struct fixture f;
    REQUIRE(fixture_open(&f));
    struct srv_event_outcome o;
    struct err e = {0};
    CHECK_INT(run(&f, S3_DOC, 10, gate_closed, &o, &e), ERR_TIMEOUT);
    CHECK_INT((long)o.count, 0);
    CHECK_INT((long)o.records, 2);
    CHECK(strstr(e.msg, "2 of 2 records not started") != NULL);
    srv_event_outcome_free(&o);
    const char *test_event = "{\"Service\":\"Amazon S3\",\"Event\":\"s3:TestEvent\","
                             "\"Time\":\"2026-11-24T12:00:00.000Z\",\"Bucket\":\"b\"}";
    CHECK_INT(run(&f, test_event, 10, gate_closed, &o, &e), ERR_OK);
    CHECK(o.test_event);
    char *json = srv_event_results_json(&o);
    CHECK_STR(json, "{\"results\":[],\"testEvent\":true}");
    free(json);
    srv_event_outcome_free(&o);
    fixture_close(&f);
}

TEST_MAIN()
