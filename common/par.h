/*
 * par.h: run a few independent calls at once, one thread each, and wait for all of them.
 *
 * For a handful of blocking calls (S3 requests of one upload) whose waits should overlap, not
 * for CPU work. The first call runs on the caller's thread; when a thread cannot be started,
 * its call runs on the caller's thread too, so every call always runs exactly once.
 */
#ifndef IMGSVC_COMMON_PAR_H
#define IMGSVC_COMMON_PAR_H

#include <stddef.h>

#define PAR_MAX 16 /* calls per par_run; more run on the caller's thread, one after another */

/* Calls fn(ctx, i) for every i in 0..n-1, concurrently, and returns when all have returned. */
void par_run(void (*fn)(void *ctx, size_t i), void *ctx, size_t n);

#endif
