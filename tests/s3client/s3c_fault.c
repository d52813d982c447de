/*
 * s3c_fault.c: the S3 client's failure paths against tests/s3client/fault_server.py, a tiny
 * local stand-in that answers 503, 429, 403, garbage, slow, reset and chunked replies on
 * demand and counts the requests it gets. Each TEST is its own ctest case (no RGW needed).
 */
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "common/buf.h"
#include "s3/client.h"
#include "s3/sigv4.h"
#include "s3c_common.h"
#include "t.h"

extern char **environ;

/* ---- the fault server -------------------------------------------------------------------- */

struct fault {
    pid_t pid;
    int port;
};

/* Starts the fault server (HTTPS with a fresh certificate in tls_dir when non-NULL; its path
 * goes to cert[0..cap)). */
static bool fault_start_tls(struct fault *f, const char *tls_dir, char *cert, size_t cap)
{
    char script[1024];
    int fds[2];
    snprintf(script, sizeof(script), "%s/tests/s3client/fault_server.py",
             env_or("IMGSVC_SOURCE_DIR", "."));
    if (pipe(fds) != 0)
        return false;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    char *argv[] = {"python3", script, tls_dir ? "--tls" : NULL, (char *)tls_dir, NULL};
    int rc = posix_spawnp(&f->pid, "python3", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    FILE *in = fdopen(fds[0], "r");
    f->port = 0;
    if (rc == 0 && in && fscanf(in, "%d", &f->port) != 1)
        f->port = 0;
    if (rc == 0 && in && tls_dir) {
        int ch = fgetc(in); /* the newline after the port */
        if (ch != '\n' || fgets(cert, (int)cap, in) == NULL)
            f->port = 0;
        else
            cert[strcspn(cert, "\n")] = '\0';
    }
    if (in)
        fclose(in);
    return rc == 0 && f->port > 0;
}

static bool fault_start(struct fault *f)
{
    return fault_start_tls(f, NULL, NULL, 0);
}

static void fault_stop(struct fault *f)
{
    if (f->pid > 0) {
        kill(f->pid, SIGTERM);
        waitpid(f->pid, NULL, 0);
    }
}

static size_t sink(char *p, size_t s, size_t n, void *ctx)
{
    struct buf *b = ctx;
    return buf_append(b, p, s * n) == ERR_OK ? s * n : 0;
}

/* How many requests the fault server saw for the path of `key` in bucket imgsvc-test. */
static long fault_count(const struct fault *f, const char *key)
{
    char url[1024];
    struct buf b;
    buf_init(&b, 64);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/__count/imgsvc-test/%s", f->port, key);
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    long n = curl_easy_perform(h) == CURLE_OK && b.data ? strtol(b.data, NULL, 10) : -1;
    curl_easy_cleanup(h);
    buf_free(&b);
    return n;
}

static struct s3_client *fault_client(const struct fault *f, int max_retries, long timeout_ms)
{
    struct s3_options o;
    char ep[64];
    struct err e = {0};
    base_options(&o);
    snprintf(ep, sizeof(ep), "http://127.0.0.1:%d", f->port);
    o.endpoint = ep;
    o.max_retries = max_retries;
    o.timeout_ms = timeout_ms;
    return s3_client_new(&o, &e);
}

TEST(retry_503_twice_then_ok)
{
    struct fault f;
    REQUIRE(fault_start(&f));
    struct s3_client *c = fault_client(&f, 3, 10000);
    struct s3_response r;
    struct err e = {0};
    char *got = NULL;
    size_t len = 0;
    CHECK_INT(s3_client_get(c, "fail503x2/obj", 0, &got, &len, NULL, &r, &e), ERR_OK);
    CHECK_STR(got, "hello from the fault server\n");
    CHECK_INT(r.attempts, 3);
    CHECK_INT(fault_count(&f, "fail503x2/obj"), 3);
    free(got);
    s3_client_destroy(c);
    fault_stop(&f);
}

TEST(retry_cap_on_persistent_503)
{
    struct fault f;
    REQUIRE(fault_start(&f));
    struct s3_client *c = fault_client(&f, 2, 10000);
    struct s3_response r;
    struct err e = {0};
    CHECK_INT(s3_client_put(c, "always503/obj", "x", 1, NULL, &r, &e), ERR_UPSTREAM);
    CHECK_INT(r.attempts, 3);
    CHECK_INT(r.status, 503);
    CHECK_STR(r.code, "ServiceUnavailable");
    CHECK_INT(fault_count(&f, "always503/obj"), 3);
    s3_client_destroy(c);
    fault_stop(&f);
}

TEST(retry_429_then_ok)
{
    struct fault f;
    REQUIRE(fault_start(&f));
    struct s3_client *c = fault_client(&f, 3, 10000);
    struct s3_response r;
    struct err e = {0};
    CHECK_INT(s3_client_delete(c, "throttle/obj", &r, &e), ERR_OK);
    CHECK_INT(r.attempts, 2);
    CHECK_INT(fault_count(&f, "throttle/obj"), 2);
    s3_client_destroy(c);
    fault_stop(&f);
}

TEST(no_retry_on_4xx)
{
    struct fault f;
    REQUIRE(fault_start(&f));
    struct s3_client *c = fault_client(&f, 3, 10000);
    struct s3_response r;
    struct err e = {0};
    char *got = NULL;
    size_t len = 0;
    CHECK_INT(s3_client_get(c, "forbidden/obj", 0, &got, &len, NULL, &r, &e), ERR_FORBIDDEN);
    CHECK_STR(r.code, "AccessDenied");
    CHECK_INT(r.attempts, 1);
    CHECK_INT(fault_count(&f, "forbidden/obj"), 1);
    /* A 400 whose body is not XML: mapped by status, no S3 code, not retried. */
    CHECK_INT(s3_client_get(c, "garbage/obj", 0, &got, &len, NULL, &r, &e), ERR_INVALID);
    CHECK_STR(r.code, "");
    CHECK_INT(fault_count(&f, "garbage/obj"), 1);
    s3_client_destroy(c);
    fault_stop(&f);
}

TEST(retry_after_timeout)
{
    struct fault f;
    REQUIRE(fault_start(&f));
    struct s3_client *c = fault_client(&f, 3, 2000);
    struct s3_response r;
    struct err e = {0};
    char *got = NULL;
    size_t len = 0;
    /* The first attempt times out (the server waits 5 s); a later one gets the answer. */
    CHECK_INT(s3_client_get(c, "slow/obj", 0, &got, &len, NULL, &r, &e), ERR_OK);
    CHECK_STR(got, "hello from the fault server\n");
    CHECK(r.attempts >= 2);
    free(got);
    s3_client_destroy(c);
    /* Without retries the timeout is reported as such. */
    c = fault_client(&f, 0, 2000);
    CHECK_INT(s3_client_get(c, "slow/other", 0, &got, &len, NULL, &r, &e), ERR_TIMEOUT);
    CHECK_INT(r.attempts, 1);
    s3_client_destroy(c);
    fault_stop(&f);
}

TEST(retry_after_connection_reset)
{
    struct fault f;
    REQUIRE(fault_start(&f));
    struct s3_client *c = fault_client(&f, 2, 10000);
    struct s3_response r;
    struct err e = {0};
    char *got = NULL;
    size_t len = 0;
    CHECK_INT(s3_client_get(c, "reset/obj", 0, &got, &len, NULL, &r, &e), ERR_OK);
    CHECK_INT(r.attempts, 2);
    CHECK_INT(fault_count(&f, "reset/obj"), 2);
    free(got);
    s3_client_destroy(c);
    fault_stop(&f);
}

TEST(connection_refused_retried_then_io)
{
    struct fault f;
    REQUIRE(fault_start(&f));
    fault_stop(&f); /* its port is now (almost certainly) closed */
    struct s3_client *c = fault_client(&f, 2, 2000);
    struct s3_response r;
    struct err e = {0};
    char *got = NULL;
    size_t len = 0;
    CHECK_INT(s3_client_get(c, "any", 0, &got, &len, NULL, &r, &e), ERR_IO);
    CHECK_INT(r.attempts, 3);
    CHECK_INT(r.status, 0);
    s3_client_destroy(c);
}

TEST(checksum_sha256_mismatch)
{
    /* Ceph RGW 16 ignores x-amz-checksum-sha256, so the fault server plays AWS S3 here. */
    struct fault f;
    REQUIRE(fault_start(&f));
    struct s3_client *c = fault_client(&f, 3, 10000);
    struct s3_response r;
    struct err e = {0};
    unsigned char d[32];
    char b64[64];
    EVP_Digest("other bytes", 11, d, NULL, EVP_sha256(), NULL);
    EVP_EncodeBlock((unsigned char *)b64, d, 32);
    struct s3_put_opts po = {.checksum_sha256 = b64};
    CHECK_INT(s3_client_put(c, "checksum/a", "the bytes", 9, &po, &r, &e), ERR_INVALID);
    CHECK_INT(r.status, 400);
    CHECK_STR(r.code, "BadDigest");
    CHECK_INT(r.attempts, 1);
    struct s3_put_opts good = {.compute_checksum_sha256 = true};
    CHECK_INT(s3_client_put(c, "checksum/b", "the bytes", 9, &good, &r, &e), ERR_OK);
    CHECK_INT(fault_count(&f, "checksum/a"), 1);
    s3_client_destroy(c);
    fault_stop(&f);
}

TEST(streaming_cap_without_length)
{
    struct fault f;
    REQUIRE(fault_start(&f));
    struct s3_client *c = fault_client(&f, 3, 10000);
    struct s3_response r;
    struct err e = {0};
    char *got = NULL;
    size_t len = 0;
    CHECK_INT(s3_client_get(c, "chunked/obj", 5000, &got, &len, NULL, &r, &e), ERR_TOO_LARGE);
    CHECK(got == NULL);
    CHECK_INT(r.attempts, 1);
    CHECK_INT(s3_client_get(c, "chunked/obj", 10000, &got, &len, NULL, &r, &e), ERR_OK);
    CHECK_INT(len, 10000);
    free(got);
    s3_client_destroy(c);
    fault_stop(&f);
}

TEST(wire_encoding_and_signed_headers)
{
    struct fault f;
    REQUIRE(fault_start(&f));
    struct s3_options o;
    char ep[64], host[64];
    struct err e = {0};
    base_options(&o);
    snprintf(ep, sizeof(ep), "http://127.0.0.1:%d", f.port);
    snprintf(host, sizeof(host), "Host: 127.0.0.1:%d\n", f.port);
    o.endpoint = ep;
    o.creds.session_token = "session-token-123";
    struct s3_client *c = s3_client_new(&o, &e);
    REQUIRE(c != NULL);
    char *got = NULL;
    size_t len = 0;
    /* The key is encoded once on the wire, '/' kept; the session token is sent and signed. */
    REQUIRE(s3_client_get(c, "echo/a b+c%~/\xC3\xBC$", 0, &got, &len, NULL, NULL, &e) == ERR_OK);
    CHECK(strstr(got, "GET /imgsvc-test/echo/a%20b%2Bc%25~/%C3%BC%24 HTTP/1.1\n") == got);
    CHECK(strstr(got, host) != NULL);
    CHECK(strstr(got, "X-Amz-Security-Token: session-token-123\n") != NULL);
    CHECK(strstr(got, "x-amz-content-sha256: " SIGV4_EMPTY_SHA256 "\n") != NULL);
    CHECK(strstr(got, "Authorization: AWS4-HMAC-SHA256 Credential=IMGSVCTESTACCESSKEY0/") != NULL);
    CHECK(strstr(got, "SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,") !=
          NULL);
    free(got);
    s3_client_destroy(c);
    fault_stop(&f);
}

TEST(header_injection_refused)
{
    struct fault f;
    REQUIRE(fault_start(&f));
    struct s3_client *c = fault_client(&f, 3, 10000);
    struct err e = {0};
    struct s3_meta bad[] = {{"a", "x\r\nX-Evil: 1"}};
    struct s3_put_opts po = {.meta = bad, .nmeta = 1};
    CHECK_INT(s3_client_put(c, "echo/inject", "x", 1, &po, NULL, &e), ERR_INVALID);
    struct s3_meta badname[] = {{"a b", "x"}};
    po.meta = badname;
    CHECK_INT(s3_client_put(c, "echo/inject", "x", 1, &po, NULL, &e), ERR_INVALID);
    struct s3_put_opts ct = {.content_type = "image/png\nX-Evil: 1"};
    CHECK_INT(s3_client_put(c, "echo/inject", "x", 1, &ct, NULL, &e), ERR_INVALID);
    CHECK_INT(fault_count(&f, "echo/inject"), 0);
    s3_client_destroy(c);
    fault_stop(&f);
}

TEST(https_verifies_the_certificate)
{
    char dir[] = "/tmp/s3c-tlsXXXXXX", cert[1024] = "", ep[64], path[1100];
    REQUIRE(mkdtemp(dir) != NULL);
    struct fault f;
    REQUIRE(fault_start_tls(&f, dir, cert, sizeof(cert)));
    struct s3_options o;
    struct err e = {0};
    struct s3_response r;
    base_options(&o);
    snprintf(ep, sizeof(ep), "https://127.0.0.1:%d", f.port);
    o.endpoint = ep;
    /* The system CAs do not know this self-signed certificate: refused, never retried. */
    struct s3_client *c = s3_client_new(&o, &e);
    REQUIRE(c != NULL);
    char *got = NULL;
    size_t len = 0;
    CHECK_INT(s3_client_get(c, "plain/obj", 0, &got, &len, NULL, &r, &e), ERR_UPSTREAM);
    CHECK_INT(r.attempts, 1);
    CHECK_INT(r.status, 0);
    s3_client_destroy(c);
    /* With the certificate as the CA bundle the same request succeeds. */
    o.ca_file = cert;
    c = s3_client_new(&o, &e);
    REQUIRE(c != NULL);
    CHECK_INT(s3_client_get(c, "plain/obj", 0, &got, &len, NULL, &r, &e), ERR_OK);
    CHECK_STR(got, "hello from the fault server\n");
    free(got);
    s3_client_destroy(c);
    fault_stop(&f);
    snprintf(path, sizeof(path), "%s/cert.pem", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/key.pem", dir);
    unlink(path);
    rmdir(dir);
}

TEST_MAIN()
