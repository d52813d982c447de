/*
 * Unit tests for s3/events: the AWS, Ceph RGW and MinIO shapes, test events, refusals,
 * key decoding and sequencer order.
 */
#include "t.h"

#include "s3/events.h"

static const char aws_event[] =
    "{\"Records\":[{\"eventVersion\":\"2.1\",\"eventSource\":\"aws:s3\",\"awsRegion\":"
    "\"us-west-2\",\"eventTime\":\"1970-01-01T00:00:00.000Z\",\"eventName\":\"ObjectCreated:Put\","
    "\"userIdentity\":{\"principalId\":\"AIDAJDPLRKLG7UEXAMPLE\"},\"s3\":{\"s3SchemaVersion\":"
    "\"1.0\",\"configurationId\":\"testConfigRule\",\"bucket\":{\"name\":\"mybucket\","
    "\"arn\":\"arn:aws:s3:::mybucket\"},\"object\":{\"key\":\"delete/feed/1/red+flower%2B1.jpg\","
    "\"size\":1024,\"eTag\":\"d41d8cd98f00b204e9800998ecf8427e\",\"versionId\":"
    "\"096fKKXTRTtl3on89fVO."
    "nfljtsv6qko\",\"sequencer\":\"0055AED6DCD90281E5\"}}}]}";

static const char ceph_event[] =
    "{\"Records\":[{\"eventVersion\":\"2.2\",\"eventSource\":\"ceph:s3\",\"awsRegion\":\"\","
    "\"eventTime\":\"2026-11-24T10:00:00.000Z\",\"eventName\":\"ObjectCreated:Put\",\"s3\":{"
    "\"bucket\":{\"name\":\"imgsvc\"},\"object\":{\"key\":\"delete/feed/1/a+b 0%.jpg\",\"size\":7,"
    "\"eTag\":\"abc\",\"sequencer\":\"1A2B\",\"metadata\":[],\"tags\":[]}},\"opaqueData\":\"\"}]}";

static const char minio_event[] =
    "{\"EventName\":\"s3:ObjectCreated:Put\",\"Key\":\"imgsvc/delete/feed/1/a b.jpg\","
    "\"Records\":[{\"eventVersion\":\"2.0\",\"eventSource\":\"minio:s3\",\"awsRegion\":\"\","
    "\"eventName\":\"s3:ObjectCreated:Put\",\"s3\":{\"bucket\":{\"name\":\"imgsvc\"},"
    "\"object\":{\"key\":\"delete%2Ffeed%2F1%2Fa+b.jpg\",\"size\":3,\"eTag\":\"\\\"e1\\\"\","
    "\"sequencer\":\"17A\"}}}]}";

TEST(aws_key_is_url_decoded)
{
    struct s3_event_batch b;
    struct err e = {0};
    REQUIRE(s3_events_parse(aws_event, sizeof(aws_event) - 1, 10, &b, &e) == ERR_OK);
    REQUIRE(b.count == 1);
    const struct s3_event_record *r = &b.records[0];
    CHECK_INT(r->source, S3_EVSRC_AWS);
    CHECK_STR(r->event_name, "ObjectCreated:Put");
    CHECK_STR(r->bucket, "mybucket");
    CHECK_STR(r->key, "delete/feed/1/red flower+1.jpg");
    CHECK_INT(r->size, 1024);
    CHECK_STR(r->etag, "d41d8cd98f00b204e9800998ecf8427e");
    CHECK_STR(r->sequencer, "0055AED6DCD90281E5");
    CHECK(s3_event_is_created(r));
    CHECK(!b.test_event);
    s3_event_batch_free(&b);
}

TEST(ceph_key_is_taken_as_written)
{
    struct s3_event_batch b;
    struct err e = {0};
    REQUIRE(s3_events_parse(ceph_event, sizeof(ceph_event) - 1, 10, &b, &e) == ERR_OK);
    REQUIRE(b.count == 1);
    CHECK_INT(b.records[0].source, S3_EVSRC_CEPH);
    CHECK_STR(b.records[0].key, "delete/feed/1/a+b 0%.jpg");
    CHECK_STR(b.records[0].bucket, "imgsvc");
    s3_event_batch_free(&b);
}

TEST(minio_prefix_and_escaped_key)
{
    struct s3_event_batch b;
    struct err e = {0};
    REQUIRE(s3_events_parse(minio_event, sizeof(minio_event) - 1, 10, &b, &e) == ERR_OK);
    REQUIRE(b.count == 1);
    CHECK_INT(b.records[0].source, S3_EVSRC_MINIO);
    CHECK_STR(b.records[0].event_name, "ObjectCreated:Put");
    CHECK_STR(b.records[0].key, "delete/feed/1/a b.jpg");
    CHECK_STR(b.records[0].etag, "e1");
    s3_event_batch_free(&b);
}

TEST(test_event_has_no_records)
{
    const char t[] = "{\"Service\":\"Amazon S3\",\"Event\":\"s3:TestEvent\",\"Time\":"
                     "\"2014-10-13T15:57:02.089Z\",\"Bucket\":\"b\",\"RequestId\":\"5582815E\","
                     "\"HostId\":\"8cLeGAmw\"}";
    struct s3_event_batch b;
    struct err e = {0};
    REQUIRE(s3_events_parse(t, sizeof(t) - 1, 10, &b, &e) == ERR_OK);
    CHECK(b.test_event);
    CHECK_INT(b.count, 0);
    s3_event_batch_free(&b);
}

TEST(other_events_parse_but_are_not_created)
{
    const char d[] = "{\"Records\":[{\"eventSource\":\"aws:s3\",\"eventName\":"
                     "\"ObjectRemoved:Delete\",\"s3\":{\"bucket\":{\"name\":\"b\"},\"object\":"
                     "{\"key\":\"k\"}}}]}";
    struct s3_event_batch b;
    struct err e = {0};
    REQUIRE(s3_events_parse(d, sizeof(d) - 1, 10, &b, &e) == ERR_OK);
    CHECK(!s3_event_is_created(&b.records[0]));
    CHECK_INT(b.records[0].size, -1);
    s3_event_batch_free(&b);
}

static void refused(const char *json, enum err_code want, const char *needle)
{
    struct s3_event_batch b;
    struct err e = {0};
    enum err_code rc = s3_events_parse(json, strlen(json), 2, &b, &e);
    if (rc != want)
        T_FAIL("%s: got %d, want %d (%s)", json, rc, want, e.msg);
    else if (strstr(e.msg, needle) == NULL)
        T_FAIL("%s: message \"%s\" lacks \"%s\"", json, e.msg, needle);
    CHECK(b.records == NULL);
}

TEST(malformed_notifications_are_refused)
{
    refused("not json", ERR_INVALID, "malformed JSON");
    refused("[]", ERR_INVALID, "not a JSON object");
    refused("{}", ERR_INVALID, "no Records");
    refused("{\"Records\":{}}", ERR_INVALID, "no Records");
    refused("{\"Records\":[1]}", ERR_INVALID, "not an object");
    refused("{\"Records\":[{\"eventName\":\"ObjectCreated:Put\"}]}", ERR_INVALID, "s3.bucket");
    refused("{\"Records\":[{\"s3\":{\"bucket\":{\"name\":\"b\"},\"object\":{\"key\":\"k\"}}}]}",
            ERR_INVALID, "eventName");
    refused("{\"Records\":[{\"eventName\":\"x\",\"s3\":{\"bucket\":{\"name\":\"b\"},"
            "\"object\":{}}}]}",
            ERR_INVALID, "no s3.object.key");
    refused("{\"Records\":[{\"eventSource\":\"aws:s3\",\"eventName\":\"x\",\"s3\":{\"bucket\":"
            "{\"name\":\"b\"},\"object\":{\"key\":\"a%zz\"}}}]}",
            ERR_INVALID, "URL-encoded");
    refused("{\"Records\":[{\"eventSource\":\"aws:s3\",\"eventName\":\"x\",\"s3\":{\"bucket\":"
            "{\"name\":\"b\"},\"object\":{\"key\":\"a%00\"}}}]}",
            ERR_INVALID, "URL-encoded");
    refused("{\"Records\":[{},{},{}]}", ERR_TOO_LARGE, "limit is 2");
}

TEST(overlong_key_is_refused)
{
    char json[3000];
    char key[1100];
    memset(key, 'k', 1025);
    key[1025] = '\0';
    snprintf(json, sizeof(json),
             "{\"Records\":[{\"eventSource\":\"ceph:s3\",\"eventName\":\"x\",\"s3\":{\"bucket\":"
             "{\"name\":\"b\"},\"object\":{\"key\":\"%s\"}}}]}",
             key);
    refused(json, ERR_INVALID, "longer than");
}

TEST(key_decode)
{
    char out[16];
    CHECK(s3_event_key_decode("a+b%20c%2b", out, sizeof(out)));
    CHECK_STR(out, "a b c+");
    CHECK(!s3_event_key_decode("%", out, sizeof(out)));
    CHECK(!s3_event_key_decode("%4", out, sizeof(out)));
    CHECK(!s3_event_key_decode("0123456789abcdef", out, sizeof(out)));
    CHECK(s3_event_key_decode("0123456789abcde", out, sizeof(out)));
}

TEST(sequencer_order)
{
    CHECK(s3_event_sequencer_cmp("0055AED6DCD90281E5", "0055AED6DCD90281E6") < 0);
    CHECK(s3_event_sequencer_cmp("FF", "0100") < 0); /* padded: 00FF < 0100 */
    CHECK(s3_event_sequencer_cmp("0100", "FF") > 0);
    CHECK_INT(s3_event_sequencer_cmp("00ab", "AB"), 0);
    CHECK(s3_event_sequencer_cmp("", "0") < 0);
    CHECK_INT(s3_event_sequencer_cmp("", ""), 0);
}

TEST_MAIN()
