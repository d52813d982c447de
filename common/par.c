/*
 * par.c: see par.h.
 */
#include "common/par.h"

#include <pthread.h>
#include <stdbool.h>

struct par_call {
    void (*fn)(void *ctx, size_t i);
    void *ctx;
    size_t i;
};

static void *par_thread(void *arg)
{
    struct par_call *c = arg;
    c->fn(c->ctx, c->i);
    return NULL;
}

void par_run(void (*fn)(void *ctx, size_t i), void *ctx, size_t n)
{
    struct par_call calls[PAR_MAX];
    pthread_t threads[PAR_MAX];
    bool started[PAR_MAX] = {false};
    size_t nthreads = n > PAR_MAX ? PAR_MAX : n;
    for (size_t i = 1; i < nthreads; i++) {
        calls[i] = (struct par_call){.fn = fn, .ctx = ctx, .i = i};
        started[i] = pthread_create(&threads[i], NULL, par_thread, &calls[i]) == 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || i >= nthreads || !started[i])
            fn(ctx, i);
    }
    for (size_t i = 1; i < nthreads; i++) {
        if (started[i])
            pthread_join(threads[i], NULL);
    }
}
