/*
 * Unit tests for s3/sns_fetch: settings checks and the URL rule applied before any fetch (the
 * fetches themselves, TLS and the cache are exercised by tests/integration/test_events.py
 * against a local HTTPS server with a test CA).
 */
#include "t.h"

#include "s3/sns_fetch.h"

static struct s3_sns_fetcher *fetcher(void)
{
    struct s3_sns_fetch_opts o = {.cert_hosts = "sns.*.amazonaws.com",
                                  .connect_to = "sns.us-east-1.amazonaws.com:443:127.0.0.1:1, "
                                                "sns.eu-west-1.amazonaws.com:443:127.0.0.1:1",
                                  .timeout_ms = 500,
                                  .max_bytes = 4096,
                                  .cache_entries = 2};
    struct err e = {0};
    return s3_sns_fetcher_new(&o, &e);
}

TEST(new_checks_settings)
{
    struct err e = {0};
    struct s3_sns_fetch_opts o = {
        .cert_hosts = "", .timeout_ms = 1, .max_bytes = 1, .cache_entries = 1};
    CHECK(s3_sns_fetcher_new(&o, &e) == NULL);
    CHECK_INT(e.code, ERR_INVALID);
    o.cert_hosts = "sns.*.amazonaws.com";
    o.cache_entries = 0;
    CHECK(s3_sns_fetcher_new(&o, &e) == NULL);
    o.cache_entries = 1;
    struct s3_sns_fetcher *f = s3_sns_fetcher_new(&o, &e);
    CHECK(f != NULL);
    s3_sns_fetcher_free(f);
    s3_sns_fetcher_free(NULL);
}

TEST(cert_url_rule_before_any_fetch)
{
    struct s3_sns_fetcher *f = fetcher();
    REQUIRE(f != NULL);
    const char *bad[] = {"http://sns.us-east-1.amazonaws.com/SimpleNotificationService-1.pem",
                         "https://sns.us-east-1.amazonaws.com.evil.com/x.pem",
                         "https://example.com/x.pem",
                         "https://sns.us-east-1.amazonaws.com/x.pem.txt",
                         "https://sns.us-east-1.amazonaws.com:444/x.pem",
                         "https://a@sns.us-east-1.amazonaws.com/x.pem",
                         "ftp://sns.us-east-1.amazonaws.com/x.pem",
                         ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct err e = {0};
        char *pem = (char *)"untouched";
        size_t len = 7;
        CHECK_INT(s3_sns_fetcher_cert(f, bad[i], &pem, &len, &e), ERR_FORBIDDEN);
        CHECK(pem == NULL);
        CHECK_INT(len, 0);
    }
    CHECK_INT(s3_sns_fetcher_fetches(f), 0);
    s3_sns_fetcher_free(f);
}

TEST(confirm_url_rule_before_any_fetch)
{
    struct s3_sns_fetcher *f = fetcher();
    REQUIRE(f != NULL);
    struct err e = {0};
    CHECK_INT(s3_sns_fetcher_confirm(f, "https://evil.example.com/?Action=ConfirmSubscription", &e),
              ERR_FORBIDDEN);
    CHECK_INT(s3_sns_fetcher_confirm(f, "http://sns.us-east-1.amazonaws.com/?Action=x", &e),
              ERR_FORBIDDEN);
    CHECK_INT(s3_sns_fetcher_fetches(f), 0);
    s3_sns_fetcher_free(f);
}

/* An allowed URL pinned to a closed port: one fetch tried, ERR_UPSTREAM, nothing cached. */
TEST(unreachable_cert_is_upstream_error_and_not_cached)
{
    struct s3_sns_fetcher *f = fetcher();
    REQUIRE(f != NULL);
    for (int i = 0; i < 2; i++) {
        struct err e = {0};
        char *pem = NULL;
        size_t len = 0;
        CHECK_INT(
            s3_sns_fetcher_cert(f, "https://sns.us-east-1.amazonaws.com/c.pem", &pem, &len, &e),
            ERR_UPSTREAM);
        CHECK(pem == NULL);
        CHECK(strstr(e.msg, "c.pem") == NULL); /* messages never carry the URL */
    }
    CHECK_INT(s3_sns_fetcher_fetches(f), 2);
    s3_sns_fetcher_free(f);
}

TEST_MAIN()
