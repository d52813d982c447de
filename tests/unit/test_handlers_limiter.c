/*
 * Unit tests for the resize routes' concurrency limiter (handlers/limiter.h): acquire, refuse,
 * time out, and the h_limiter_has_room peek the server's early 429 relies on (false exactly
 * when an acquire would be refused with ERR_BUSY; the peek itself takes nothing), and the
 * routes' admit hook built on it (authentication first, then the limit).
 */
#include "t.h"

#include <pthread.h>
#include <stdio.h>
#include <strings.h>
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

/* Headers of a fake request: only X-Api-Key. */
static const char *key_lookup(void *conn, enum h_kv_kind kind, const char *name)
{
    return kind == H_KV_HEADER && strcasecmp(name, "X-Api-Key") == 0 ? conn : NULL;
}

/* h_resize_admit on a request carrying `key` (NULL = none); the status it refused with, or 0. */
static int admit_status(struct h_resize_ctx *ctx, const char *key, char *code, size_t cap)
{
    struct h_request req = {.method = "POST",
                            .path = "/v1/resize",
                            .request_id = "t",
                            .route_ctx = ctx,
                            .conn = (void *)key,
                            .lookup = key_lookup};
    struct h_response resp = {0};
    bool ok = h_resize_admit(&req, &resp);
    int st = ok ? 0 : resp.status;
    snprintf(code, cap, "%s", resp.error_code ? resp.error_code : "");
    const char *retry = NULL, *www = NULL;
    for (size_t i = 0; i < resp.nheaders; i++) {
        if (strcasecmp(resp.headers[i].name, "Retry-After") == 0)
            retry = resp.headers[i].value;
        if (strcasecmp(resp.headers[i].name, "WWW-Authenticate") == 0)
            www = resp.headers[i].value;
    }
    CHECK(st == 429 ? retry != NULL && strcmp(retry, "1") == 0 : retry == NULL);
    CHECK(st == 401 ? www != NULL : www == NULL);
    h_resp_free(&resp);
    return st;
}

TEST(resize_admit_hook_follows_the_limiter)
{
    struct h_resize_ctx ctx = {0};
    char code[64];
    CHECK_INT(admit_status(&ctx, NULL, code, sizeof(code)), 0); /* no limiter, no auth */
    ctx.limiter = h_limiter_new(1, 0, 1000);
    REQUIRE(ctx.limiter != NULL);
    CHECK_INT(admit_status(&ctx, NULL, code, sizeof(code)), 0);
    CHECK_INT(h_limiter_acquire(ctx.limiter), ERR_OK);
    CHECK_INT(admit_status(&ctx, NULL, code, sizeof(code)), 429);
    CHECK_STR(code, "too_many_requests");
    h_limiter_release(ctx.limiter);
    CHECK_INT(admit_status(&ctx, NULL, code, sizeof(code)), 0);
    h_limiter_destroy(ctx.limiter);
}

/* With authentication on, bad credentials are refused as such even while every slot is taken:
 * the 401 comes first, and only a caller let in can be told to come back later. */
TEST(resize_admit_hook_authenticates_before_the_limit)
{
    struct h_auth_options o;
    h_auth_options_default(&o);
    o.api_keys = "limiter-test-key-0123456789abcdef";
    struct err e = {0};
    struct h_resize_ctx ctx = {.auth = h_auth_new(&o, &e), .limiter = h_limiter_new(1, 0, 1000)};
    REQUIRE(ctx.auth != NULL && ctx.limiter != NULL);
    char code[64];
    CHECK_INT(admit_status(&ctx, "limiter-test-key-0123456789abcdef", code, sizeof(code)), 0);
    CHECK_INT(admit_status(&ctx, NULL, code, sizeof(code)), 401);
    CHECK_STR(code, "unauthenticated");
    CHECK_INT(h_limiter_acquire(ctx.limiter), ERR_OK);
    CHECK_INT(admit_status(&ctx, "not-the-key-0123456789abcdef0000", code, sizeof(code)), 401);
    CHECK_STR(code, "unauthenticated");
    CHECK_INT(admit_status(&ctx, NULL, code, sizeof(code)), 401);
    CHECK_INT(admit_status(&ctx, "limiter-test-key-0123456789abcdef", code, sizeof(code)), 429);
    CHECK_STR(code, "too_many_requests");
    h_limiter_release(ctx.limiter);
    h_limiter_destroy(ctx.limiter);
    h_auth_destroy((struct h_auth *)ctx.auth);
}

TEST(zero_slots_is_refused)
{
    CHECK(h_limiter_new(0, 4, 1000) == NULL);
    h_limiter_destroy(NULL);
}

TEST_MAIN()
