/*
 * limiter.h: a concurrency limit with a bounded wait queue, for expensive routes (resize).
 *
 * At most `max_running` callers hold a slot; up to `max_waiting` more wait for one, each at most
 * `max_wait_ms`. Anyone beyond that is refused at once (ERR_BUSY) so the handler answers 429 +
 * Retry-After instead of piling up work. Thread-safe.
 */
#ifndef IMGSVC_HANDLERS_LIMITER_H
#define IMGSVC_HANDLERS_LIMITER_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

struct h_limiter;

/* NULL on ERR_NOMEM or when max_running is 0. Destroy with h_limiter_destroy. */
struct h_limiter *h_limiter_new(size_t max_running, size_t max_waiting, long max_wait_ms);
void h_limiter_destroy(struct h_limiter *l);

/* Takes a slot: ERR_OK, ERR_BUSY (queue full) or ERR_TIMEOUT (waited max_wait_ms). */
enum err_code h_limiter_acquire(struct h_limiter *l);
/* Gives a slot back (only after a successful acquire). */
void h_limiter_release(struct h_limiter *l);

/*
 * A peek, taking nothing: false when every slot is held and the wait queue is full (an acquire
 * now would be refused with ERR_BUSY), true otherwise. The answer may be stale by the time the
 * caller acts on it; an admitted caller still goes through h_limiter_acquire.
 */
bool h_limiter_has_room(struct h_limiter *l);

size_t h_limiter_running(struct h_limiter *l);
size_t h_limiter_waiting(struct h_limiter *l);

#endif
