/*
 * Unit tests for the resize routes' concurrency limiter (handlers/limiter.h): acquire, refuse,
 * time out, and the h_limiter_has_room peek the server's early 429 relies on (false exactly
 * when an acquire would be refused with ERR_BUSY; the peek itself takes nothing).
 */
#include "t.h"

#include <pthread.h>
#include <time.h>

#include "handlers/limiter.h"
#include "handlers/resize.h"

static void nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

struct waiter {
    struct h_limiter *l;
    enum err_code rc;
};

static void *wait_for_slot(void *arg)
{
    struct waiter *w = arg;
    w->rc = h_limiter_acquire(w->l);
    return NULL;
}

/* Polls (no timing assertion) until `n` callers wait; false after about 30 s. */
static bool until_waiting(struct h_limiter *l, size_t n)
{
    for (int i = 0; i < 3000 && h_limiter_waiting(l) != n; i++)
        nap_ms(10);
    return h_limiter_waiting(l) == n;
}

TEST(peek_without_a_queue)
{
    struct h_limiter *l = h_limiter_new(1, 0, 1000);
    REQUIRE(l != NULL);
    CHECK(h_limiter_has_room(l));
    CHECK_INT(h_limiter_acquire(l), ERR_OK);
    CHECK(!h_limiter_has_room(l));
    CHECK_INT(h_limiter_acquire(l), ERR_BUSY); /* the peek agreed */
    CHECK_INT(h_limiter_running(l), 1);
    h_limiter_release(l);
    CHECK(h_limiter_has_room(l));
    CHECK_INT(h_limiter_running(l), 0);
    h_limiter_destroy(l);
}

TEST(peek_takes_nothing)
{
    struct h_limiter *l = h_limiter_new(2, 0, 1000);
    REQUIRE(l != NULL);
    for (int i = 0; i < 10; i++)
        CHECK(h_limiter_has_room(l));
    CHECK_INT(h_limiter_running(l), 0);
    CHECK_INT(h_limiter_waiting(l), 0);
    CHECK_INT(h_limiter_acquire(l), ERR_OK);
    CHECK(h_limiter_has_room(l)); /* one of two slots held */
    CHECK_INT(h_limiter_acquire(l), ERR_OK);
    CHECK(!h_limiter_has_room(l));
    h_limiter_release(l);
    h_limiter_release(l);
    h_limiter_destroy(l);
}

TEST(peek_counts_the_wait_queue)
{
    struct h_limiter *l = h_limiter_new(1, 1, 60000);
    REQUIRE(l != NULL);
    CHECK_INT(h_limiter_acquire(l), ERR_OK);
    CHECK(h_limiter_has_room(l)); /* slot held, queue empty: a caller could still wait */
    struct waiter w = {l, ERR_INTERNAL};
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, wait_for_slot, &w) == 0);
    REQUIRE(until_waiting(l, 1));
    CHECK(!h_limiter_has_room(l)); /* slot held and queue full */
    CHECK_INT(h_limiter_acquire(l), ERR_BUSY);
    h_limiter_release(l); /* the waiter takes the slot */
    pthread_join(t, NULL);
    CHECK_INT(w.rc, ERR_OK);
    CHECK_INT(h_limiter_running(l), 1);
    CHECK_INT(h_limiter_waiting(l), 0);
    CHECK(h_limiter_has_room(l));
    h_limiter_release(l);
    h_limiter_destroy(l);
}

TEST(waiter_times_out)
{
    struct h_limiter *l = h_limiter_new(1, 1, 50);
    REQUIRE(l != NULL);
    CHECK_INT(h_limiter_acquire(l), ERR_OK);
    CHECK_INT(h_limiter_acquire(l), ERR_TIMEOUT);
    CHECK_INT(h_limiter_waiting(l), 0);
    CHECK(h_limiter_has_room(l));
    h_limiter_release(l);
    h_limiter_destroy(l);
}

TEST(resize_admit_hook_follows_the_limiter)
{
    struct h_resize_ctx ctx = {0};
    CHECK(h_resize_admit(&ctx)); /* no limiter: always admitted */
    ctx.limiter = h_limiter_new(1, 0, 1000);
    REQUIRE(ctx.limiter != NULL);
    CHECK(h_resize_admit(&ctx));
    CHECK_INT(h_limiter_acquire(ctx.limiter), ERR_OK);
    CHECK(!h_resize_admit(&ctx));
    h_limiter_release(ctx.limiter);
    CHECK(h_resize_admit(&ctx));
    h_limiter_destroy(ctx.limiter);
}

TEST(zero_slots_is_refused)
{
    CHECK(h_limiter_new(0, 4, 1000) == NULL);
    h_limiter_destroy(NULL);
}

TEST_MAIN()
