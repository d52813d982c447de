/*
 * Unit tests for server/reconciler: the thread runs its first pass at once, counts a failed
 * listing as an error, and stops when asked in the middle of a long interval (a stop that
 * waited for the interval would hang this test past its ctest timeout). Also the argument
 * parsing of `imgsvc reprocess` (server/cmd_reprocess).
 */
#include "t.h"

#include <unistd.h>

#include "common/metrics.h"
#include "server/cmd_reprocess.h"
#include "server/reconciler.h"

static enum err_code never_submit(void *arg, const struct s3_event_record *r)
{
    (void)arg, (void)r;
    return ERR_INTERNAL;
}

/* A client of an endpoint where nothing listens (port 1), without retries. */
static struct s3_client *dead_client(void)
{
    struct s3_options o;
    s3_options_defaults(&o);
    o.endpoint = "http://127.0.0.1:1";
    o.bucket = "imgsvc";
    o.path_style = true;
    o.max_retries = 0;
    o.connect_timeout_ms = 1000;
    o.creds.access_key = "AKIDTEST";
    o.creds.secret_key = "secret-test-key";
    struct err e = {0};
    struct s3_client *c = s3_client_new(&o, &e);
    if (c == NULL)
        T_FAIL("s3_client_new: %s", e.msg);
    return c;
}

TEST(bad_options_are_refused)
{
    struct err e = {0};
    struct srv_reconciler_opts o = {0};
    CHECK(srv_reconciler_start(&o, &e) == NULL);
    CHECK_INT(e.code, ERR_INVALID);
    srv_reconciler_stop(NULL);
}

TEST(first_pass_at_once_then_stops_mid_interval)
{
    struct s3_client *c = dead_client();
    REQUIRE(c != NULL);
    struct srv_reconciler_opts o = {c, 3600, 0, 100, never_submit, NULL};
    struct err e = {0};
    struct srv_reconciler *r = srv_reconciler_start(&o, &e);
    REQUIRE(r != NULL);
    while (metrics_get("imgsvc_reconciler_runs_total", NULL) < 1)
        usleep(10000); /* the first pass fails fast: connection refused */
    srv_reconciler_stop(r);
    CHECK_INT(metrics_get("imgsvc_reconciler_runs_total", NULL), 1);
    CHECK_INT(metrics_get("imgsvc_reconciler_errors_total", NULL), 1);
    CHECK_INT(metrics_get("imgsvc_reconciler_found_total", NULL), 0);
    s3_client_destroy(c);
}

/* ---- imgsvc reprocess arguments ---- */

static int parse(struct srv_reprocess_args *a, int argc, const char *const *argv)
{
    return srv_reprocess_parse_args(argc, (char **)argv, a);
}

TEST(reprocess_args)
{
    struct srv_reprocess_args a;
    const char *all[] = {"--prefix", "profile/42/", "--force", "--dry-run", "--concurrency", "8"};
    CHECK_INT(parse(&a, 6, all), -1);
    CHECK_STR(a.prefix, "profile/42/");
    CHECK(a.force && a.dry_run);
    CHECK_INT(a.concurrency, 8);
    const char *just[] = {"--prefix", "feed/"};
    CHECK_INT(parse(&a, 2, just), -1);
    CHECK(!a.force && !a.dry_run);
    CHECK_INT(a.concurrency, 0);
    const char *help[] = {"--help"};
    CHECK_INT(parse(&a, 1, help), 0);
}

TEST(reprocess_args_refused)
{
    struct srv_reprocess_args a;
    const char *none[] = {"--force"};
    CHECK_INT(parse(&a, 1, none), 2); /* --prefix is required */
    const char *dangling[] = {"--prefix"};
    CHECK_INT(parse(&a, 1, dangling), 2);
    const char *twice[] = {"--prefix", "feed/", "--prefix", "profile/"};
    CHECK_INT(parse(&a, 4, twice), 2);
    const char *bad[][3] = {{"--prefix", "feed/", "--concurrency"},
                            {"--concurrency", "0", "--prefix"},
                            {"--concurrency", "65", "--prefix"},
                            {"--concurrency", "2x", "--prefix"},
                            {"--prefix", "feed/", "--bogus"}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *argv[] = {bad[i][0], bad[i][1], bad[i][2], "feed/"};
        if (parse(&a, 4, argv) != 2)
            T_FAIL("case %zu accepted", i);
    }
}

TEST_MAIN()
