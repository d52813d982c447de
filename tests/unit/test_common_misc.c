/*
 * Unit tests for common/: errors, time formats, the retry backoff, UUIDs, JSON helpers, the
 * logger's redaction.
 */
#include "t.h"

#include <stdlib.h>

#include "common/err.h"
#include "common/json.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/uuid.h"

TEST(err_set_formats_and_returns_code)
{
    struct err e = {0};
    CHECK_INT(err_set(&e, ERR_INVALID, "bad %s %d", "thing", 7), ERR_INVALID);
    CHECK_INT(e.code, ERR_INVALID);
    CHECK_STR(e.msg, "bad thing 7");
    CHECK_INT(err_set(NULL, ERR_BUSY, "x"), ERR_BUSY);
    err_clear(&e);
    CHECK_INT(e.code, ERR_OK);
    CHECK_STR(e.msg, "");
    CHECK_STR(err_name(ERR_TOO_LARGE), "too_large");
    CHECK_STR(err_name((enum err_code)999), "unknown");
}

TEST(time_formats)
{
    char b[64];
    CHECK_INT(ts_amz(1440938160, b, sizeof(b)), 16);
    CHECK_STR(b, "20150830T123600Z");
    CHECK_INT(ts_rfc3339(1440938160, b, sizeof(b)), 20);
    CHECK_STR(b, "2015-08-30T12:36:00Z");
    ts_rfc3339_ms(1440938160123LL, b, sizeof(b));
    CHECK_STR(b, "2015-08-30T12:36:00.123Z");
    ts_http_date(1440938160, b, sizeof(b));
    CHECK_STR(b, "Sun, 30 Aug 2015 12:36:00 GMT");
    CHECK_INT(ts_amz(0, b, 5), 0);
    CHECK_STR(b, "");
}

TEST(time_parsers_are_strict)
{
    time_t t = 0;
    CHECK(ts_parse_amz("20150830T123600Z", &t));
    CHECK_INT(t, 1440938160);
    CHECK(!ts_parse_amz("20150830T123600", &t));
    CHECK(!ts_parse_amz("2015083OT123600Z", &t));
    CHECK(!ts_parse_amz("20150230T123600Z", &t)); /* 30 February */
    CHECK(!ts_parse_amz("20151330T123600Z", &t));
    CHECK(!ts_parse_amz("20150830T246000Z", &t));
    CHECK(ts_parse_amz("20160229T000000Z", &t)); /* leap year */
    CHECK(!ts_parse_amz("20150229T000000Z", &t));
    CHECK(ts_parse_rfc3339("2015-08-30T12:36:00Z", &t));
    CHECK_INT(t, 1440938160);
    CHECK(ts_parse_rfc3339("2015-08-30T12:36:00.5Z", &t));
    CHECK(!ts_parse_rfc3339("2015-08-30T12:36:00+02:00", &t));
    CHECK(!ts_parse_rfc3339("2015-08-30 12:36:00Z", &t));
    CHECK(ts_parse_http_date("Sun, 30 Aug 2015 12:36:00 GMT", &t));
    CHECK_INT(t, 1440938160);
    CHECK(!ts_parse_http_date("Sun, 30 Aug 2015 12:36:00", &t));
    CHECK(!ts_parse_http_date("Sun, 30 Aug 2015 12:36:00 GMT+1", &t));
    CHECK(!ts_parse_http_date("2015-08-30T12:36:00Z", &t));
    CHECK(!ts_parse_rfc3339("2015-08-30T12:36:00.Z", &t));
    CHECK(!ts_parse_rfc3339(NULL, &t));
}

TEST(backoff_full_jitter_bounds)
{
    /* Full jitter: 0..min(max, base * 2^n), inclusive. */
    CHECK_INT(ts_backoff_ms(100, 5000, 0, 0), 0);
    CHECK_INT(ts_backoff_ms(100, 5000, 0, 100), 100);
    CHECK_INT(ts_backoff_ms(100, 5000, 0, 101), 0);
    CHECK_INT(ts_backoff_ms(100, 5000, 1, 200), 200);
    CHECK_INT(ts_backoff_ms(100, 5000, 2, 400), 400);
    CHECK_INT(ts_backoff_ms(100, 5000, 10, 5000), 5000); /* capped */
    CHECK_INT(ts_backoff_ms(100, 5000, 60, 5000), 5000); /* no overflow at huge attempts */
    CHECK_INT(ts_backoff_ms(100, 5000, 1000, UINT64_MAX), (long)(UINT64_MAX % 5001));
    CHECK_INT(ts_backoff_ms(0, 5000, 3, 77), 0);
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    for (int attempt = 0; attempt < 12; attempt++) {
        long ceiling = 100L << attempt;
        if (ceiling > 5000)
            ceiling = 5000;
        long lo = ceiling, hi = 0;
        for (int i = 0; i < 2000; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            long ms = ts_backoff_ms(100, 5000, attempt, x);
            if (ms < 0 || ms > ceiling)
                T_FAIL("attempt %d: %ld outside [0, %ld]", attempt, ms, ceiling);
            lo = ms < lo ? ms : lo;
            hi = ms > hi ? ms : hi;
        }
        /* The jitter spreads over the whole window (2000 draws). */
        CHECK(lo <= ceiling / 10);
        CHECK(hi >= ceiling - ceiling / 10);
    }
}

TEST(uuid_v4_shape_and_uniqueness)
{
    char a[UUID_STR_LEN], b[UUID_STR_LEN];
    REQUIRE(uuid_v4(a) == ERR_OK);
    REQUIRE(uuid_v4(b) == ERR_OK);
    CHECK(uuid_v4_valid(a));
    CHECK(uuid_v4_valid(b));
    CHECK(strcmp(a, b) != 0);
    CHECK_INT(a[14], '4');
    CHECK(!uuid_v4_valid("00000000-0000-1000-8000-000000000000")); /* version 1 */
    CHECK(!uuid_v4_valid("00000000-0000-4000-c000-000000000000")); /* wrong variant */
    CHECK(!uuid_v4_valid("00000000-0000-4000-8000-00000000000A")); /* uppercase */
    CHECK(!uuid_v4_valid("00000000-0000-4000-8000-0000000000"));
    CHECK(uuid_v4_valid("00000000-0000-4000-8000-000000000000"));
}

TEST(json_parse_whole_input_only)
{
    struct err e = {0};
    cJSON *v = json_parse("{\"a\":\"x\",\"n\":42,\"b\":true} \n", 27, &e);
    REQUIRE(v != NULL);
    CHECK_STR(json_get_str(v, "a"), "x");
    long long n = 0;
    CHECK(json_get_int(v, "n", &n));
    CHECK_INT(n, 42);
    bool b = false;
    CHECK(json_get_bool(v, "b", &b));
    CHECK(b);
    CHECK(json_get_str(v, "n") == NULL);
    CHECK(!json_get_int(v, "a", &n));
    cJSON_Delete(v);
    CHECK(json_parse("{\"a\":1} x", 9, &e) == NULL);
    CHECK_INT(e.code, ERR_INVALID);
    CHECK(json_parse("{\"a\":", 5, &e) == NULL);
    CHECK(strstr(e.msg, "malformed JSON") != NULL);
    CHECK(json_parse("", 0, &e) == NULL);
    v = json_parse("{\"f\":1.5}", 9, &e);
    REQUIRE(v != NULL);
    CHECK(!json_get_int(v, "f", &n)); /* not an integer */
    cJSON_Delete(v);
}

/* json_parse over a whole string literal. */
static cJSON *parse_lit(const char *s, struct err *e)
{
    return json_parse(s, strlen(s), e);
}

TEST(json_parse_refuses_a_member_twice)
{
    struct err e = {0};
    CHECK(parse_lit("{\"a\":1,\"b\":2,\"a\":3}", &e) == NULL);
    CHECK_INT(e.code, ERR_INVALID);
    CHECK(strstr(e.msg, "member \"a\" more than once") != NULL);
    /* at any depth, in objects inside arrays too */
    CHECK(parse_lit("{\"x\":{\"ids\":{\"u\":\"1\",\"u\":\"2\"}}}", &e) == NULL);
    CHECK(strstr(e.msg, "\"u\"") != NULL);
    CHECK(parse_lit("[{\"k\":1},{\"k\":1,\"k\":1}]", &e) == NULL);
    CHECK(parse_lit("{\"\":1,\"\":2}", &e) == NULL); /* the empty name too */
    /* the same name in different objects, names differing in case, an escape spelling of
     * another name: all distinct members */
    cJSON *v =
        parse_lit("{\"k\":{\"k\":1},\"l\":[{\"k\":2},{\"k\":3}],\"K\":4,\"k\\u0031\":5}", &e);
    REQUIRE(v != NULL);
    CHECK_INT(cJSON_GetArraySize(v), 4);
    cJSON_Delete(v);
    /* "a" and "\u0061" are the same name once decoded */
    CHECK(parse_lit("{\"a\":1,\"\\u0061\":2}", &e) == NULL);
    /* many members: found wherever they are (sorted, not compared pairwise) */
    char big[40000];
    size_t n = 0;
    big[n++] = '{';
    for (int i = 0; i < 3000; i++)
        n += (size_t)snprintf(big + n, sizeof(big) - n, "%s\"m%d\":%d", i ? "," : "", i, i);
    n += (size_t)snprintf(big + n, sizeof(big) - n, "}");
    v = json_parse(big, n, &e);
    REQUIRE(v != NULL);
    cJSON_Delete(v);
    n--; /* the same object with its first member again at the end */
    n += (size_t)snprintf(big + n, sizeof(big) - n, ",\"m0\":0}");
    CHECK(json_parse(big, n, &e) == NULL);
    CHECK(strstr(e.msg, "\"m0\"") != NULL);
}

TEST(log_line_is_json_with_required_fields)
{
    cJSON *f = cJSON_CreateObject();
    cJSON_AddNumberToObject(f, "status", 200);
    char *line = log_format_line(LOGL_WARN, "http", "rid-1", "hello \"x\"", f);
    REQUIRE(line != NULL);
    size_t n = strlen(line);
    CHECK(n > 0 && line[n - 1] == '\n');
    cJSON *o = cJSON_Parse(line);
    REQUIRE(o != NULL);
    CHECK_STR(json_get_str(o, "level"), "warn");
    CHECK_STR(json_get_str(o, "subsys"), "http");
    CHECK_STR(json_get_str(o, "requestId"), "rid-1");
    CHECK_STR(json_get_str(o, "msg"), "hello \"x\"");
    time_t t;
    char ts[64];
    snprintf(ts, sizeof(ts), "%s", json_get_str(o, "ts"));
    CHECK(ts_parse_rfc3339(ts, &t));
    long long st = 0;
    CHECK(json_get_int(o, "status", &st));
    CHECK_INT(st, 200);
    cJSON_Delete(o);
    free(line);
}

TEST(log_redacts_secret_fields)
{
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "authorization", "Bearer abc");
    cJSON_AddStringToObject(f, "X-Amz-Signature", "deadbeef");
    cJSON_AddStringToObject(f, "secretAccessKey", "wJalr");
    cJSON_AddStringToObject(f, "sessionToken", "FQoG");
    cJSON_AddStringToObject(f, "path", "/healthz");
    char *line = log_format_line(LOGL_INFO, "t", NULL, "m", f);
    REQUIRE(line != NULL);
    CHECK(strstr(line, "abc") == NULL);
    CHECK(strstr(line, "deadbeef") == NULL);
    CHECK(strstr(line, "wJalr") == NULL);
    CHECK(strstr(line, "FQoG") == NULL);
    CHECK(strstr(line, "\"path\":\"/healthz\"") != NULL);
    CHECK(strstr(line, "[redacted]") != NULL);
    free(line);
}

TEST(log_level_parsing)
{
    enum log_level l = LOGL_INFO;
    CHECK(log_level_parse("debug", &l));
    CHECK_INT(l, LOGL_DEBUG);
    CHECK(log_level_parse("ERROR", &l));
    CHECK_INT(l, LOGL_ERROR);
    CHECK(!log_level_parse("verbose", &l));
    CHECK(!log_level_parse(NULL, &l));
}

TEST_MAIN()
