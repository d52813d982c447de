/*
 * pool.c: worker threads and a bounded ring of jobs. See pool.h.
 */
#include "server/pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/timeutil.h"

struct job {
    srv_job_fn fn;
    void (*drop)(void *arg);
    void *arg;
};

struct srv_pool {
    pthread_mutex_t mu;
    pthread_cond_t work; /* a job was queued or stop was set */
    pthread_cond_t idle; /* a job finished */
    struct job *ring;
    size_t cap, head, count;
    size_t running;
    bool draining, stop;
    pthread_t *threads;
    size_t nthreads;
    void (*thread_exit)(void);
};

static void *worker(void *arg)
{
    struct srv_pool *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->count == 0 && !p->stop)
            pthread_cond_wait(&p->work, &p->mu);
        if (p->stop)
            break;
        struct job j = p->ring[p->head];
        p->head = (p->head + 1) % p->cap;
        p->count--;
        p->running++;
        pthread_mutex_unlock(&p->mu);
        j.fn(j.arg);
        pthread_mutex_lock(&p->mu);
        p->running--;
        pthread_cond_broadcast(&p->idle);
    }
    pthread_mutex_unlock(&p->mu);
    if (p->thread_exit != NULL)
        p->thread_exit();
    return NULL;
}

struct srv_pool *srv_pool_new(const struct srv_pool_opts *opts, struct err *e)
{
    if (opts->threads == 0 || opts->depth == 0) {
        err_set(e, ERR_INVALID, "worker pool needs at least one thread and one queue slot");
        return NULL;
    }
    struct srv_pool *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return err_set(e, ERR_NOMEM, "out of memory"), NULL;
    p->ring = calloc(opts->depth, sizeof(*p->ring));
    p->threads = calloc(opts->threads, sizeof(*p->threads));
    if (p->ring == NULL || p->threads == NULL) {
        free(p->ring);
        free(p->threads);
        free(p);
        return err_set(e, ERR_NOMEM, "out of memory"), NULL;
    }
    p->cap = opts->depth;
    p->thread_exit = opts->thread_exit;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->idle, NULL);
    for (size_t i = 0; i < opts->threads; i++) {
        if (pthread_create(&p->threads[i], NULL, worker, p) != 0) {
            err_set(e, ERR_INTERNAL, "cannot start worker thread %zu", i);
            srv_pool_destroy(p);
            return NULL;
        }
        p->nthreads++;
    }
    return p;
}

enum err_code srv_pool_submit(struct srv_pool *p, srv_job_fn fn, void *arg, void (*drop)(void *arg))
{
    enum err_code rc = ERR_OK;
    pthread_mutex_lock(&p->mu);
    if (p->draining || p->stop) {
        rc = ERR_CONFLICT;
    } else if (p->count >= p->cap) {
        rc = ERR_BUSY;
    } else {
        p->ring[(p->head + p->count) % p->cap] = (struct job){fn, drop, arg};
        p->count++;
        pthread_cond_signal(&p->work);
    }
    pthread_mutex_unlock(&p->mu);
    return rc;
}

size_t srv_pool_queued(struct srv_pool *p)
{
    pthread_mutex_lock(&p->mu);
    size_t n = p->count;
    pthread_mutex_unlock(&p->mu);
    return n;
}

size_t srv_pool_running(struct srv_pool *p)
{
    pthread_mutex_lock(&p->mu);
    size_t n = p->running;
    pthread_mutex_unlock(&p->mu);
    return n;
}

size_t srv_pool_capacity(const struct srv_pool *p)
{
    return p->cap;
}

bool srv_pool_drain(struct srv_pool *p, int64_t deadline_ms)
{
    pthread_mutex_lock(&p->mu);
    p->draining = true;
    while (p->count > 0 || p->running > 0) {
        int64_t now_mono = ts_now_mono_ms();
        if (now_mono >= deadline_ms)
            break;
        /* condvars use the realtime clock by default: convert the remaining time */
        int64_t wait_ms = deadline_ms - now_mono;
        if (wait_ms > 200)
            wait_ms = 200;
        struct timespec ts = ts_realtime_in(wait_ms);
        pthread_cond_timedwait(&p->idle, &p->mu, &ts);
    }
    bool done = p->count == 0 && p->running == 0;
    pthread_mutex_unlock(&p->mu);
    return done;
}

bool srv_pool_destroy(struct srv_pool *p)
{
    if (p == NULL)
        return true;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    bool busy = p->running > 0;
    while (p->count > 0) { /* jobs that never ran */
        struct job j = p->ring[p->head];
        p->head = (p->head + 1) % p->cap;
        p->count--;
        if (j.drop != NULL)
            j.drop(j.arg);
    }
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    if (busy)
        return false; /* a job overran the shutdown deadline; the process exits without it */
    for (size_t i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->idle);
    pthread_mutex_destroy(&p->mu);
    free(p->ring);
    free(p->threads);
    free(p);
    return true;
}
