/*
 * test_s3_client.c: the S3 client's pure parts: credentials (explicit values and the shared
 * credentials file), retry classification, S3 error mapping, option checks.
 * The network paths are tested against Ceph RGW in tests/s3client.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "s3/client_internal.h"
#include "s3/credentials.h"
#include "t.h"

static const char *const creds_file = "# comment\n"
                                      "; another comment\n"
                                      "[default]\n"
                                      "aws_access_key_id = AKIDDEFAULT\n"
                                      "aws_secret_access_key=secretdefault\n"
                                      "\n"
                                      "[dev]\r\n"
                                      "  aws_access_key_id   =   AKIDDEV   \r\n"
                                      "AWS_Secret_Access_Key = sec=ret/with+chars\r\n"
                                      "aws_session_token = tok\r\n"
                                      "region = eu-west-1\r\n"
                                      "s3 =\n"
                                      "    addressing_style = path\n"
                                      "[profile named]\n"
                                      "aws_access_key_id = AKIDNAMED\n"
                                      "aws_secret_access_key = one\n"
                                      "aws_secret_access_key = two\n"
                                      "[nokeys]\n"
                                      "region = us-east-1\n"
                                      "[halfkeys]\n"
                                      "aws_access_key_id = AKIDHALF\n"
                                      "[legacy]\n"
                                      "aws_access_key_id=AKIDLEGACY\n"
                                      "aws_secret_access_key=s\n"
                                      "aws_security_token=oldtok\n"
                                      "[emptytoken]\n"
                                      "aws_access_key_id=A\n"
                                      "aws_secret_access_key=S\n"
                                      "aws_session_token=\n";

static enum err_code parse_profile(const char *profile, struct s3_credentials *c)
{
    struct err e = {0};
    return s3_credentials_parse(creds_file, strlen(creds_file), profile, c, &e);
}

TEST(credentials_default_profile)
{
    struct s3_credentials c;
    REQUIRE(parse_profile(NULL, &c) == ERR_OK);
    CHECK_STR(c.access_key, "AKIDDEFAULT");
    CHECK_STR(c.secret_key, "secretdefault");
    CHECK(c.session_token == NULL);
    s3_credentials_free(&c);
    REQUIRE(parse_profile("default", &c) == ERR_OK);
    CHECK_STR(c.access_key, "AKIDDEFAULT");
    s3_credentials_free(&c);
    s3_credentials_free(NULL);
}

TEST(credentials_named_profiles)
{
    struct s3_credentials c;
    /* Indented key lines at the start of a section are nested-block lines: skipped. */
    REQUIRE(parse_profile("dev", &c) == ERR_INVALID);
    REQUIRE(parse_profile("named", &c) == ERR_OK);
    CHECK_STR(c.access_key, "AKIDNAMED");
    CHECK_STR(c.secret_key, "two"); /* the last value wins */
    s3_credentials_free(&c);
    REQUIRE(parse_profile("legacy", &c) == ERR_OK);
    CHECK_STR(c.session_token, "oldtok");
    s3_credentials_free(&c);
    REQUIRE(parse_profile("emptytoken", &c) == ERR_OK);
    CHECK(c.session_token == NULL);
    s3_credentials_free(&c);
}

TEST(credentials_crlf_and_case)
{
    const char *f = "[dev]\r\naws_access_key_id   =   AKIDDEV   \r\n"
                    "AWS_Secret_Access_Key = sec=ret/with+chars\r\naws_session_token = tok\r\n";
    struct s3_credentials c;
    struct err e = {0};
    REQUIRE(s3_credentials_parse(f, strlen(f), "dev", &c, &e) == ERR_OK);
    CHECK_STR(c.access_key, "AKIDDEV");
    CHECK_STR(c.secret_key, "sec=ret/with+chars");
    CHECK_STR(c.session_token, "tok");
    s3_credentials_free(&c);
}

TEST(credentials_refusals)
{
    struct s3_credentials c;
    struct err e = {0};
    CHECK_INT(parse_profile("absent", &c), ERR_NOT_FOUND);
    CHECK_INT(parse_profile("nokeys", &c), ERR_INVALID);
    CHECK_INT(parse_profile("halfkeys", &c), ERR_INVALID);
    CHECK(c.access_key == NULL); /* nothing leaks out of a refusal */
    /* A section name is matched exactly: "Default" is not "default". */
    const char *f = "[Default]\naws_access_key_id=a\naws_secret_access_key=b\n";
    CHECK_INT(s3_credentials_parse(f, strlen(f), "default", &c, &e), ERR_NOT_FOUND);
    CHECK(strstr(e.msg, "b") == NULL || strstr(e.msg, "aws_secret") == NULL);
    CHECK_INT(s3_credentials_parse("", 0, NULL, &c, &e), ERR_NOT_FOUND);
}

TEST(credentials_resolve_explicit_first)
{
    struct s3_credentials_source src = {.access_key = "AKIDENV",
                                        .secret_key = "envsecret",
                                        .session_token = "envtoken",
                                        .file = "/nonexistent/credentials"};
    struct s3_credentials c;
    struct err e = {0};
    REQUIRE(s3_credentials_resolve(&src, &c, &e) == ERR_OK);
    CHECK_STR(c.access_key, "AKIDENV");
    CHECK_STR(c.secret_key, "envsecret");
    CHECK_STR(c.session_token, "envtoken");
    s3_credentials_free(&c);
    src.secret_key = "";
    CHECK_INT(s3_credentials_resolve(&src, &c, &e), ERR_INVALID);
}

TEST(credentials_resolve_file)
{
    char dir[] = "/tmp/s3credsXXXXXX";
    REQUIRE(mkdtemp(dir) != NULL);
    char path[256], awsdir[256];
    snprintf(awsdir, sizeof(awsdir), "%s/.aws", dir);
    snprintf(path, sizeof(path), "%s/.aws/credentials", dir);
    REQUIRE(mkdir(awsdir, 0700) == 0);
    FILE *f = fopen(path, "w");
    REQUIRE(f != NULL);
    fputs(creds_file, f);
    fclose(f);
    struct s3_credentials c;
    struct err e = {0};
    /* The default file under HOME, the default profile. */
    struct s3_credentials_source src = {.home = dir};
    REQUIRE(s3_credentials_resolve(&src, &c, &e) == ERR_OK);
    CHECK_STR(c.access_key, "AKIDDEFAULT");
    s3_credentials_free(&c);
    /* An explicit file and profile. */
    struct s3_credentials_source named = {.file = path, .profile = "named"};
    REQUIRE(s3_credentials_resolve(&named, &c, &e) == ERR_OK);
    CHECK_STR(c.access_key, "AKIDNAMED");
    s3_credentials_free(&c);
    /* No file: ERR_NOT_FOUND naming what to set. */
    struct s3_credentials_source none = {.file = "/nonexistent/x/credentials"};
    CHECK_INT(s3_credentials_resolve(&none, &c, &e), ERR_NOT_FOUND);
    CHECK(strstr(e.msg, "AWS_ACCESS_KEY_ID") != NULL);
    unlink(path);
    rmdir(awsdir);
    rmdir(dir);
}

TEST(credentials_from_env)
{
    setenv("AWS_ACCESS_KEY_ID", "AKIDFROMENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "s", 1);
    setenv("AWS_PROFILE", "p", 1);
    struct s3_credentials_source src;
    s3_credentials_source_from_env(&src);
    CHECK_STR(src.access_key, "AKIDFROMENV");
    CHECK_STR(src.secret_key, "s");
    CHECK_STR(src.profile, "p");
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    unsetenv("AWS_PROFILE");
}

TEST(retry_classification)
{
    CHECK(s3_i_retryable(CURLE_OK, 500));
    CHECK(s3_i_retryable(CURLE_OK, 502));
    CHECK(s3_i_retryable(CURLE_OK, 503));
    CHECK(s3_i_retryable(CURLE_OK, 504));
    CHECK(s3_i_retryable(CURLE_OK, 429));
    CHECK(!s3_i_retryable(CURLE_OK, 200));
    CHECK(!s3_i_retryable(CURLE_OK, 204));
    CHECK(!s3_i_retryable(CURLE_OK, 301));
    /* 501 NotImplemented: the store lacks the feature; asking again changes nothing */
    const long no[] = {400, 401, 403, 404, 405, 409, 411, 412, 413, 416, 501};
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        if (s3_i_retryable(CURLE_OK, no[i]))
            T_FAIL("HTTP %ld must not be retried", no[i]);
    CHECK(s3_i_retryable(CURLE_OPERATION_TIMEDOUT, 0));
    CHECK(s3_i_retryable(CURLE_COULDNT_CONNECT, 0));
    CHECK(s3_i_retryable(CURLE_COULDNT_RESOLVE_HOST, 0));
    CHECK(s3_i_retryable(CURLE_RECV_ERROR, 0));
    CHECK(s3_i_retryable(CURLE_SEND_ERROR, 0));
    CHECK(s3_i_retryable(CURLE_GOT_NOTHING, 0));
    CHECK(s3_i_retryable(CURLE_PARTIAL_FILE, 200));
    /* Our own size-cap abort, TLS verification and bad URLs are final. */
    CHECK(!s3_i_retryable(CURLE_WRITE_ERROR, 200));
    CHECK(!s3_i_retryable(CURLE_PEER_FAILED_VERIFICATION, 0));
    CHECK(!s3_i_retryable(CURLE_URL_MALFORMAT, 0));
    CHECK(!s3_i_retryable(CURLE_ABORTED_BY_CALLBACK, 0));
}

TEST(error_mapping)
{
    CHECK_INT(s3_error_map(404, "NoSuchKey"), ERR_NOT_FOUND);
    CHECK_INT(s3_error_map(404, "NoSuchBucket"), ERR_NOT_FOUND);
    CHECK_INT(s3_error_map(403, "AccessDenied"), ERR_FORBIDDEN);
    CHECK_INT(s3_error_map(403, "SignatureDoesNotMatch"), ERR_AUTH);
    CHECK_INT(s3_error_map(403, "InvalidAccessKeyId"), ERR_AUTH);
    CHECK_INT(s3_error_map(403, "RequestTimeTooSkewed"), ERR_AUTH);
    CHECK_INT(s3_error_map(400, "ExpiredToken"), ERR_AUTH);
    CHECK_INT(s3_error_map(400, "BadDigest"), ERR_INVALID);
    CHECK_INT(s3_error_map(400, "XAmzContentSHA256Mismatch"), ERR_INVALID);
    CHECK_INT(s3_error_map(400, "EntityTooLarge"), ERR_TOO_LARGE);
    CHECK_INT(s3_error_map(409, "BucketAlreadyOwnedByYou"), ERR_CONFLICT);
    CHECK_INT(s3_error_map(503, "SlowDown"), ERR_UPSTREAM);
    CHECK_INT(s3_error_map(500, "InternalError"), ERR_UPSTREAM);
    CHECK_INT(s3_error_map(500, NULL), ERR_UPSTREAM);
    /* Unknown codes fall back on the status. */
    CHECK_INT(s3_error_map(404, ""), ERR_NOT_FOUND);
    CHECK_INT(s3_error_map(403, "SomethingNew"), ERR_FORBIDDEN);
    CHECK_INT(s3_error_map(429, NULL), ERR_BUSY);
    CHECK_INT(s3_error_map(412, NULL), ERR_CONFLICT);
    CHECK_INT(s3_error_map(400, "Whatever"), ERR_INVALID);
}

static struct s3_client *try_new(const char *endpoint, const char *bucket, bool path_style,
                                 struct err *e)
{
    struct s3_options o;
    s3_options_defaults(&o);
    o.endpoint = endpoint;
    o.bucket = bucket;
    o.path_style = path_style;
    o.creds.access_key = "AKID";
    o.creds.secret_key = "secret";
    return s3_client_new(&o, e);
}

TEST(options_defaults_and_checks)
{
    struct s3_options o;
    s3_options_defaults(&o);
    CHECK_STR(o.region, "us-east-1");
    CHECK_INT(o.connect_timeout_ms, S3_DEFAULT_CONNECT_MS);
    CHECK_INT(o.timeout_ms, S3_DEFAULT_TIMEOUT_MS);
    CHECK_INT(o.max_retries, 3);
    CHECK(o.max_get_bytes == S3_DEFAULT_MAX_GET);
    CHECK(!o.path_style);
    struct err e = {0};
    struct s3_client *c = try_new(NULL, "my-bucket", false, &e);
    REQUIRE(c != NULL);
    CHECK_STR(s3_client_endpoint(c), "https://s3.us-east-1.amazonaws.com");
    CHECK_STR(s3_client_bucket(c), "my-bucket");
    CHECK_STR(s3_client_region(c), "us-east-1");
    s3_client_destroy(c);
    c = try_new("http://127.0.0.1:80/", "b_c.d", true, &e);
    REQUIRE(c != NULL);
    CHECK_STR(s3_client_endpoint(c), "http://127.0.0.1"); /* default port dropped */
    s3_client_destroy(c);
    c = try_new("https://[::1]:9000", "bucket", true, &e);
    REQUIRE(c != NULL);
    CHECK_STR(s3_client_endpoint(c), "https://[::1]:9000");
    s3_client_destroy(c);
    s3_client_destroy(NULL);
}

TEST(options_refused)
{
    struct err e = {0};
    const char *endpoints[] = {"ftp://x",       "127.0.0.1:7480", "http://",
                               "http://h/path", "http://user@h",  "http://h x"};
    for (size_t i = 0; i < sizeof(endpoints) / sizeof(endpoints[0]); i++) {
        struct s3_client *c = try_new(endpoints[i], "bucket", true, &e);
        if (c != NULL) {
            T_FAIL("endpoint %s accepted", endpoints[i]);
            s3_client_destroy(c);
        }
        CHECK_INT(e.code, ERR_INVALID);
    }
    /* Bucket names: too short, and not DNS-safe for virtual-hosted addressing. */
    CHECK(try_new(NULL, "ab", true, &e) == NULL);
    CHECK(try_new(NULL, NULL, true, &e) == NULL);
    CHECK(try_new(NULL, "my.bucket", false, &e) == NULL);
    CHECK(try_new(NULL, "My-Bucket", false, &e) == NULL);
    CHECK_INT(e.code, ERR_INVALID);
    /* No credentials anywhere. */
    struct s3_options o;
    s3_options_defaults(&o);
    o.bucket = "bucket";
    o.creds.file = "/nonexistent/credentials";
    CHECK(s3_client_new(&o, &e) == NULL);
    CHECK_INT(e.code, ERR_NOT_FOUND);
    o.creds.file = NULL;
    o.creds.access_key = "AKID";
    o.creds.secret_key = "s";
    o.max_retries = 11;
    CHECK(s3_client_new(&o, &e) == NULL);
    CHECK_INT(e.code, ERR_INVALID);
    o.max_retries = -1;
    CHECK(s3_client_new(&o, &e) == NULL);
    CHECK_INT(e.code, ERR_INVALID);
}

TEST_MAIN()
