/*
 * Unit tests for the worker pool: every job runs, the queue bound, drain and drop.
 */
#include "t.h"

#include <stdatomic.h>
#include <time.h>

#include "common/timeutil.h"
#include "server/pool.h"

static atomic_int ran;
static atomic_int dropped;
static atomic_bool release;

static void count_job(void *arg)
{
    (void)arg;
    atomic_fetch_add(&ran, 1);
}

static void blocking_job(void *arg)
{
    (void)arg;
    while (!atomic_load(&release)) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    atomic_fetch_add(&ran, 1);
}

static void drop_job(void *arg)
{
    (void)arg;
    atomic_fetch_add(&dropped, 1);
}

TEST(every_job_runs_and_drain_waits)
{
    atomic_store(&ran, 0);
    struct err e = {0};
    struct srv_pool_opts o = {4, 1000, NULL};
    struct srv_pool *p = srv_pool_new(&o, &e);
    REQUIRE(p != NULL);
    for (int i = 0; i < 500; i++)
        CHECK_INT(srv_pool_submit(p, count_job, NULL, NULL), ERR_OK);
    CHECK(srv_pool_drain(p, ts_now_mono_ms() + 10000));
    CHECK_INT(atomic_load(&ran), 500);
    CHECK_INT(srv_pool_submit(p, count_job, NULL, NULL), ERR_CONFLICT);
    srv_pool_destroy(p);
}

TEST(full_queue_is_busy_and_unrun_jobs_are_dropped)
{
    atomic_store(&ran, 0);
    atomic_store(&dropped, 0);
    atomic_store(&release, false);
    struct err e = {0};
    struct srv_pool_opts o = {1, 2, NULL};
    struct srv_pool *p = srv_pool_new(&o, &e);
    REQUIRE(p != NULL);
    CHECK_INT(srv_pool_submit(p, blocking_job, NULL, drop_job), ERR_OK);
    while (srv_pool_running(p) == 0) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    CHECK_INT(srv_pool_submit(p, count_job, NULL, drop_job), ERR_OK);
    CHECK_INT(srv_pool_submit(p, count_job, NULL, drop_job), ERR_OK);
    CHECK_INT(srv_pool_submit(p, count_job, NULL, drop_job), ERR_BUSY);
    CHECK_INT(srv_pool_queued(p), 2);
    CHECK_INT(srv_pool_capacity(p), 2);
    CHECK(!srv_pool_drain(p, ts_now_mono_ms() + 50)); /* the blocking job holds it */
    atomic_store(&release, true);
    CHECK(srv_pool_drain(p, ts_now_mono_ms() + 10000));
    CHECK_INT(atomic_load(&ran), 3);
    CHECK_INT(atomic_load(&dropped), 0);
    srv_pool_destroy(p);
}

TEST(invalid_options_refused)
{
    struct err e = {0};
    struct srv_pool_opts o = {0, 1, NULL};
    CHECK(srv_pool_new(&o, &e) == NULL);
    CHECK_INT(e.code, ERR_INVALID);
    srv_pool_destroy(NULL);
}

TEST_MAIN()
