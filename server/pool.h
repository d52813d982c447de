/*
 * pool.h: a fixed set of worker threads fed by a bounded job queue.
 *
 * The event pipeline submits one job per S3 record; when the queue is full, submit answers
 * ERR_BUSY at once so the HTTP layer can answer 503 + Retry-After (the sender retries) instead
 * of buffering without bound. On shutdown, srv_pool_drain() stops new submissions and waits,
 * up to a deadline, for queued and running jobs to finish.
 */
#ifndef IMGSVC_SERVER_POOL_H
#define IMGSVC_SERVER_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct srv_pool;

typedef void (*srv_job_fn)(void *arg);

struct srv_pool_opts {
    size_t threads;            /* >= 1 */
    size_t depth;              /* queued (not yet running) jobs allowed, >= 1 */
    void (*thread_exit)(void); /* optional: run by each worker before it exits */
};

/* Starts the workers. NULL with a message in `e` on failure. Destroy with srv_pool_destroy. */
struct srv_pool *srv_pool_new(const struct srv_pool_opts *opts, struct err *e);

/*
 * Queues `fn(arg)`. ERR_BUSY when the queue is full, ERR_CONFLICT once draining started; in both
 * cases nothing is queued and the caller still owns `arg`. `drop(arg)` (optional) is called
 * instead of `fn` if the pool is destroyed before the job ran.
 */
enum err_code srv_pool_submit(struct srv_pool *p, srv_job_fn fn, void *arg,
                              void (*drop)(void *arg));

/* Jobs waiting (not running). */
size_t srv_pool_queued(struct srv_pool *p);
/* Jobs running now. */
size_t srv_pool_running(struct srv_pool *p);
size_t srv_pool_capacity(const struct srv_pool *p);

/*
 * Refuses new jobs and waits until the queue is empty and no job runs, or until the monotonic
 * deadline `deadline_ms` (see ts_now_mono_ms). True when everything finished.
 */
bool srv_pool_drain(struct srv_pool *p, int64_t deadline_ms);

/*
 * Stops the workers; true when every one was joined (NULL: a no-op, true). If jobs are still
 * running (a drain timed out), returns false without joining them and leaks the pool on
 * purpose: those jobs still use whatever they were given, so the caller must end the process
 * (_exit) without freeing it.
 */
bool srv_pool_destroy(struct srv_pool *p);

#endif
