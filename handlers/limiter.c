/*
 * limiter.c: concurrency limit with a bounded wait queue. See limiter.h.
 */
#include "handlers/limiter.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "common/timeutil.h"

struct h_limiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t running, waiting, max_running, max_waiting;
    long max_wait_ms;
};

struct h_limiter *h_limiter_new(size_t max_running, size_t max_waiting, long max_wait_ms)
{
    if (max_running == 0)
        return NULL;
    struct h_limiter *l = calloc(1, sizeof(*l));
    if (l == NULL)
        return NULL;
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    l->max_running = max_running;
    l->max_waiting = max_waiting;
    l->max_wait_ms = max_wait_ms;
    return l;
}

void h_limiter_destroy(struct h_limiter *l)
{
    if (l == NULL)
        return;
    pthread_cond_destroy(&l->cv);
    pthread_mutex_destroy(&l->mu);
    free(l);
}

enum err_code h_limiter_acquire(struct h_limiter *l)
{
    enum err_code rc = ERR_OK;
    pthread_mutex_lock(&l->mu);
    if (l->running >= l->max_running) {
        if (l->waiting >= l->max_waiting) {
            pthread_mutex_unlock(&l->mu);
            return ERR_BUSY;
        }
        struct timespec deadline = ts_realtime_in(l->max_wait_ms);
        l->waiting++;
        while (l->running >= l->max_running && rc == ERR_OK) {
            if (pthread_cond_timedwait(&l->cv, &l->mu, &deadline) != 0 &&
                l->running >= l->max_running)
                rc = ERR_TIMEOUT;
        }
        l->waiting--;
    }
    if (rc == ERR_OK)
        l->running++;
    pthread_mutex_unlock(&l->mu);
    return rc;
}

void h_limiter_release(struct h_limiter *l)
{
    pthread_mutex_lock(&l->mu);
    if (l->running > 0)
        l->running--;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

bool h_limiter_has_room(struct h_limiter *l)
{
    pthread_mutex_lock(&l->mu);
    bool room = l->running < l->max_running || l->waiting < l->max_waiting;
    pthread_mutex_unlock(&l->mu);
    return room;
}

size_t h_limiter_running(struct h_limiter *l)
{
    pthread_mutex_lock(&l->mu);
    size_t n = l->running;
    pthread_mutex_unlock(&l->mu);
    return n;
}

size_t h_limiter_waiting(struct h_limiter *l)
{
    pthread_mutex_lock(&l->mu);
    size_t n = l->waiting;
    pthread_mutex_unlock(&l->mu);
    return n;
}
