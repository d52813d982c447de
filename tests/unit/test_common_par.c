/*
 * Unit tests for par_run: every call runs exactly once, the calls overlap (each of the first
 * PAR_MAX waits until all of them have started), and more than PAR_MAX calls still all run.
 */
#include "t.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "common/par.h"

struct meet {
    size_t n;            /* calls that must all be running before any returns */
    atomic_int started;  /* calls started */
    atomic_int runs[64]; /* runs of each index */
    atomic_int met;      /* calls that saw all n started */
};

/* Waits (up to 10 s, so a broken par_run fails instead of hanging) for `n` calls to start. */
static void meet_call(void *ctx, size_t i)
{
    struct meet *m = ctx;
    atomic_fetch_add(&m->runs[i], 1);
    if (i >= m->n)
        return;
    atomic_fetch_add(&m->started, 1);
    for (int spin = 0; spin < 10000; spin++) {
        if ((size_t)atomic_load(&m->started) >= m->n) {
            atomic_fetch_add(&m->met, 1);
            return;
        }
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
}

TEST(calls_overlap_and_each_runs_once)
{
    static struct meet m = {.n = 5};
    par_run(meet_call, &m, 5);
    for (int i = 0; i < 5; i++)
        CHECK_INT(atomic_load(&m.runs[i]), 1);
    CHECK_INT(atomic_load(&m.met), 5); /* all five were running at the same time */
}

TEST(more_than_the_threads_all_run)
{
    static struct meet m = {.n = PAR_MAX};
    par_run(meet_call, &m, PAR_MAX + 7);
    for (int i = 0; i < PAR_MAX + 7; i++)
        CHECK_INT(atomic_load(&m.runs[i]), 1);
    CHECK_INT(atomic_load(&m.met), PAR_MAX);
}

TEST(zero_and_one_call)
{
    static struct meet m = {.n = 1};
    par_run(meet_call, &m, 0);
    CHECK_INT(atomic_load(&m.runs[0]), 0);
    par_run(meet_call, &m, 1);
    CHECK_INT(atomic_load(&m.runs[0]), 1);
    CHECK_INT(atomic_load(&m.met), 1);
}

TEST_MAIN()
