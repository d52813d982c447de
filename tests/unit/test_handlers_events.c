/*
 * Unit tests for handlers/events: the token check, the topic list, and POST /v1/events/s3 with
 * a fake request and a fake submit hook (classification, 202/200/400/401/403/413/503, what is
 * queued, and that neither the token nor a query string reaches the log).
 */
#include "t.h"

#include <fcntl.h>
#include <strings.h>
#include <unistd.h>

#include "common/log.h"
#include "common/metrics.h"
#include "handlers/events.h"

#define TOKEN "abcdefghijklmnop-0123456789"

/* ---- a fake request --------------------------------------------------------------------- */

struct fake {
    const char *auth;  /* Authorization header or NULL */
    const char *token; /* ?token= or NULL */
};

static const char *fake_lookup(void *conn, enum h_kv_kind kind, const char *name)
{
    const struct fake *f = conn;
    if (kind == H_KV_HEADER && strcasecmp(name, "Authorization") == 0)
        return f->auth;
    if (kind == H_KV_QUERY && strcmp(name, "token") == 0)
        return f->token;
    return NULL;
}

/* ---- a fake pipeline queue ---------------------------------------------------------------- */

struct queue {
    int accepted;
    int capacity;
    char keys[8][S3_EVENT_KEY_MAX + 1];
};

static enum err_code fake_submit(void *arg, const struct s3_event_record *r)
{
    struct queue *q = arg;
    if (q->accepted >= q->capacity)
        return ERR_BUSY;
    snprintf(q->keys[q->accepted], sizeof(q->keys[0]), "%s", r->key);
    q->accepted++;
    return ERR_OK;
}

static struct queue q;
static struct h_events_ctx ctx;

static void setup(const char *token, bool open, int capacity)
{
    memset(&q, 0, sizeof(q));
    q.capacity = capacity;
    memset(&ctx, 0, sizeof(ctx));
    ctx.token = token;
    ctx.allow_unauthenticated = open;
    ctx.bucket = "photos";
    ctx.prefix = "delete/";
    ctx.max_records = 3;
    ctx.retry_after_s = 7;
    ctx.topic_arns = "";
    ctx.submit = fake_submit;
    ctx.submit_arg = &q;
    metrics_reset();
    h_events_register_metrics();
}

static int post(struct fake *f, const char *body, struct h_response *resp)
{
    struct h_request req = {.method = "POST",
                            .path = "/v1/events/s3",
                            .raw_query = "",
                            .request_id = "rid-1",
                            .body = body,
                            .body_len = body ? strlen(body) : 0,
                            .route_ctx = &ctx,
                            .conn = f,
                            .lookup = fake_lookup};
    memset(resp, 0, sizeof(*resp));
    h_events_post(&req, resp);
    return resp->status;
}

static const char *aws_record(const char *bucket, const char *key, const char *name)
{
    static char doc[1024];
    snprintf(doc, sizeof(doc),
             "{\"eventVersion\":\"2.1\",\"eventSource\":\"aws:s3\",\"eventName\":\"%s\","
             "\"s3\":{\"bucket\":{\"name\":\"%s\"},\"object\":{\"key\":\"%s\",\"size\":5,"
             "\"eTag\":\"abc\",\"sequencer\":\"0A1B\"}}}",
             name, bucket, key);
    return doc;
}

static char *records(const char *a, const char *b, const char *c)
{
    char *out = malloc(4096);
    snprintf(out, 4096, "{\"Records\":[%s%s%s%s%s]}", a, b ? "," : "", b ? b : "", c ? "," : "",
             c ? c : "");
    return out;
}

#define KEY "delete/profile/42/0b0c9f8e-3b1a-4c1d-9e2f-0123456789ab_1700000000.jpeg"

/* ---- pure helpers ------------------------------------------------------------------------ */

TEST(token_ok_exact_match_only)
{
    CHECK(h_events_token_ok(TOKEN, TOKEN));
    CHECK(!h_events_token_ok(TOKEN, TOKEN "x"));
    CHECK(!h_events_token_ok(TOKEN, "abcdefghijklmnop-012345678"));
    CHECK(!h_events_token_ok(TOKEN, ""));
    CHECK(!h_events_token_ok(TOKEN, NULL));
    CHECK(!h_events_token_ok("", ""));
    CHECK(!h_events_token_ok(NULL, TOKEN));
}

TEST(token_valid_length_and_charset)
{
    CHECK(h_events_token_valid(TOKEN));
    CHECK(h_events_token_valid("A.b_c~d-0123456789"));
    CHECK(!h_events_token_valid("short-token-15c"));
    CHECK(!h_events_token_valid("has space in the token"));
    CHECK(!h_events_token_valid("percent%20encoded-token"));
    CHECK(!h_events_token_valid("amp&ersand-token-value"));
    CHECK(!h_events_token_valid(""));
    char long_tok[300];
    memset(long_tok, 'a', sizeof(long_tok) - 1);
    long_tok[sizeof(long_tok) - 1] = '\0';
    CHECK(!h_events_token_valid(long_tok));
    long_tok[256] = '\0';
    CHECK(h_events_token_valid(long_tok));
}

TEST(topic_list)
{
    const char *arn = "arn:aws:sns:us-east-1:123456789012:uploads";
    CHECK(h_events_topic_allowed("", arn));
    CHECK(h_events_topic_allowed(NULL, arn));
    CHECK(h_events_topic_allowed(arn, arn));
    CHECK(h_events_topic_allowed(
        "arn:aws:sns:eu-west-1:1:x, arn:aws:sns:us-east-1:123456789012:uploads ", arn));
    CHECK(!h_events_topic_allowed("arn:aws:sns:us-east-1:123456789012:uploads2", arn));
    CHECK(!h_events_topic_allowed("arn:aws:sns:us-east-1:123456789012:upload", arn));
    CHECK(!h_events_topic_allowed(arn, NULL));
}

/* ---- the handler ------------------------------------------------------------------------- */

TEST(bearer_token_queues_matching_records_and_ignores_the_rest)
{
    setup(TOKEN, false, 8);
    char rec1[1024], rec2[1024];
    snprintf(rec1, sizeof(rec1), "%s", aws_record("photos", KEY, "ObjectCreated:Put"));
    snprintf(rec2, sizeof(rec2), "%s", aws_record("other", KEY, "ObjectCreated:Put"));
    char *body =
        records(rec1, rec2, aws_record("photos", "profile/42/x.jpeg", "ObjectCreated:Put"));
    struct fake f = {"Bearer " TOKEN, NULL};
    struct h_response resp;
    CHECK_INT(post(&f, body, &resp), 202);
    CHECK_STR(resp.body, "{\"queued\":1,\"ignored\":2}");
    CHECK_INT(q.accepted, 1);
    CHECK_STR(q.keys[0], KEY);
    CHECK(metrics_get("imgsvc_events_received_total", "source=\"aws:s3\"") == 3);
    CHECK(metrics_get("imgsvc_events_ignored_total", "reason=\"other_bucket\"") == 1);
    CHECK(metrics_get("imgsvc_events_ignored_total", "reason=\"outside_prefix\"") == 1);
    h_resp_free(&resp);
    free(body);
}

TEST(query_token_and_removed_events)
{
    setup(TOKEN, false, 8);
    char *body = records(aws_record("photos", KEY, "ObjectRemoved:Delete"), NULL, NULL);
    struct fake f = {NULL, TOKEN};
    struct h_response resp;
    CHECK_INT(post(&f, body, &resp), 202);
    CHECK_STR(resp.body, "{\"queued\":0,\"ignored\":1}");
    CHECK_INT(q.accepted, 0);
    CHECK(metrics_get("imgsvc_events_ignored_total", "reason=\"not_created\"") == 1);
    h_resp_free(&resp);
    struct fake bare = {TOKEN, NULL}; /* older MinIO: the token without a scheme */
    CHECK_INT(post(&bare, body, &resp), 202);
    h_resp_free(&resp);
    free(body);
}

TEST(wrong_or_missing_token_is_401_and_nothing_queued)
{
    setup(TOKEN, false, 8);
    char *body = records(aws_record("photos", KEY, "ObjectCreated:Put"), NULL, NULL);
    struct fake cases[] = {{NULL, NULL},
                           {"Bearer wrong-token-0123456789", NULL},
                           {NULL, "wrong-token-0123456789"},
                           {"Basic " TOKEN, NULL},
                           {"Bearer " TOKEN, "wrong-token-0123456789"}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct h_response resp;
        CHECK_INT(post(&cases[i], body, &resp), 401);
        CHECK(resp.body != NULL && strstr(resp.body, "\"unauthenticated\"") != NULL);
        CHECK(h_resp_get_header(&resp, "WWW-Authenticate") != NULL);
        h_resp_free(&resp);
    }
    CHECK_INT(q.accepted, 0);
    CHECK(metrics_get("imgsvc_events_rejected_total", "reason=\"missing_credentials\"") == 1);
    CHECK(metrics_get("imgsvc_events_rejected_total", "reason=\"bad_token\"") == 4);
    free(body);
}

TEST(no_token_configured_refuses_plain_events_unless_dev)
{
    char *body = records(aws_record("photos", KEY, "ObjectCreated:Put"), NULL, NULL);
    struct fake none = {NULL, NULL}, some = {"Bearer " TOKEN, NULL};
    struct h_response resp;
    setup("", false, 8);
    CHECK_INT(post(&none, body, &resp), 401);
    h_resp_free(&resp);
    CHECK_INT(post(&some, body, &resp), 401);
    h_resp_free(&resp);
    CHECK_INT(q.accepted, 0);
    setup("", true, 8);
    CHECK_INT(post(&none, body, &resp), 202);
    h_resp_free(&resp);
    CHECK_INT(post(&some, body, &resp), 202);
    h_resp_free(&resp);
    CHECK_INT(q.accepted, 2);
    free(body);
}

TEST(queue_full_is_503_with_retry_after)
{
    setup(TOKEN, false, 1);
    char rec[1024];
    snprintf(rec, sizeof(rec), "%s", aws_record("photos", KEY, "ObjectCreated:Put"));
    char *body = records(rec, rec, NULL);
    struct fake f = {"Bearer " TOKEN, NULL};
    struct h_response resp;
    CHECK_INT(post(&f, body, &resp), 503);
    CHECK_STR(h_resp_get_header(&resp, "Retry-After"), "7");
    CHECK(metrics_get("imgsvc_events_rejected_total", "reason=\"busy\"") == 1);
    h_resp_free(&resp);
    ctx.submit = NULL; /* the pipeline is not running */
    CHECK_INT(post(&f, body, &resp), 503);
    h_resp_free(&resp);
    free(body);
}

TEST(malformed_test_event_and_too_many_records)
{
    setup(TOKEN, false, 8);
    struct fake f = {"Bearer " TOKEN, NULL};
    struct h_response resp;
    const char *bad[] = {"{", "{\"Records\":3}", "[]", "{\"Records\":[{\"eventName\":1}]}", NULL};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_INT(post(&f, bad[i], &resp), 400);
        CHECK(resp.body != NULL && strstr(resp.body, "\"bad_request\"") != NULL);
        h_resp_free(&resp);
    }
    const char *test_event = "{\"Service\":\"Amazon S3\",\"Event\":\"s3:TestEvent\","
                             "\"Time\":\"2024-01-01T00:00:00.000Z\",\"Bucket\":\"photos\","
                             "\"RequestId\":\"X\",\"HostId\":\"Y\"}";
    CHECK_INT(post(&f, test_event, &resp), 200);
    CHECK(resp.body != NULL && strstr(resp.body, "\"queued\":0") != NULL);
    h_resp_free(&resp);
    char rec[1024];
    snprintf(rec, sizeof(rec), "%s", aws_record("photos", KEY, "ObjectCreated:Put"));
    char *four = malloc(8192);
    snprintf(four, 8192, "{\"Records\":[%s,%s,%s,%s]}", rec, rec, rec, rec);
    CHECK_INT(post(&f, four, &resp), 413);
    h_resp_free(&resp);
    CHECK_INT(q.accepted, 0);
    free(four);
}

/* An SNS envelope whose certificate URL breaks the rule: 403 before any fetch. */
TEST(sns_cert_url_refused_before_fetch)
{
    setup("", false, 8);
    struct s3_sns_fetch_opts o = {"sns.*.amazonaws.com", NULL, NULL, 1000, 65536, 4};
    struct err e = {0};
    ctx.sns = s3_sns_fetcher_new(&o, &e);
    REQUIRE(ctx.sns != NULL);
    const char *urls[] = {"http://sns.us-east-1.amazonaws.com/cert.pem",
                          "https://evil.example.com/cert.pem",
                          "https://sns.us-east-1.amazonaws.com/cert.txt",
                          "https://sns.us-east-1.amazonaws.com:8443/cert.pem",
                          "https://user@sns.us-east-1.amazonaws.com/cert.pem"};
    struct fake f = {NULL, NULL};
    for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
        char body[2048];
        snprintf(body, sizeof(body),
                 "{\"Type\":\"Notification\",\"MessageId\":\"m\",\"TopicArn\":\"arn:t\","
                 "\"Message\":\"{}\",\"Timestamp\":\"2024-01-01T00:00:00Z\","
                 "\"SignatureVersion\":\"1\",\"Signature\":\"AAAA\",\"SigningCertURL\":\"%s\"}",
                 urls[i]);
        struct h_response resp;
        CHECK_INT(post(&f, body, &resp), 403);
        h_resp_free(&resp);
    }
    CHECK_INT(s3_sns_fetcher_fetches(ctx.sns), 0);
    CHECK(metrics_get("imgsvc_events_rejected_total", "reason=\"cert_url\"") == 5);
    ctx.topic_arns = "arn:aws:sns:us-east-1:1:mine";
    struct h_response resp;
    CHECK_INT(post(&f,
                   "{\"Type\":\"Notification\",\"MessageId\":\"m\",\"TopicArn\":\"arn:t\","
                   "\"Message\":\"{}\",\"Timestamp\":\"t\",\"SignatureVersion\":\"1\","
                   "\"Signature\":\"AAAA\",\"SigningCertURL\":"
                   "\"https://sns.us-east-1.amazonaws.com/c.pem\"}",
                   &resp),
              403);
    h_resp_free(&resp);
    CHECK_INT(s3_sns_fetcher_fetches(ctx.sns), 0);
    CHECK_INT(q.accepted, 0);
    s3_sns_fetcher_free(ctx.sns);
    ctx.sns = NULL;
}

TEST(token_never_logged)
{
    char path[] = "/tmp/imgsvc-events-log-XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    log_set_fd(fd);
    setup(TOKEN, false, 0);
    char *body = records(aws_record("photos", KEY, "ObjectCreated:Put"), NULL, NULL);
    struct fake cases[] = {{"Bearer " TOKEN, NULL}, {NULL, TOKEN}, {"Bearer " TOKEN "x", NULL}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct h_response resp;
        post(&cases[i], body, &resp);
        h_resp_free(&resp);
    }
    log_set_fd(2);
    char text[16384];
    ssize_t n = pread(fd, text, sizeof(text) - 1, 0);
    close(fd);
    unlink(path);
    REQUIRE(n > 0);
    text[n] = '\0';
    CHECK(strstr(text, "delivery refused") != NULL); /* the log was captured */
    CHECK(strstr(text, "abcdefghijklmnop") == NULL);
    free(body);
}

TEST_MAIN()
