/*
 * strcount.h: a thread-safe counted set of strings (a multiset): each add counts one more of
 * a string, each remove one less, and a string is present while its count is above zero.
 *
 * Used by serve to know which temp keys have a pipeline job queued or running, so that the
 * reconciler does not queue the same key again. Chained hashing, one mutex; memory is one
 * small allocation per distinct string present.
 */
#ifndef IMGSVC_COMMON_STRCOUNT_H
#define IMGSVC_COMMON_STRCOUNT_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

struct strcount;

/* An empty set with `buckets` chains (rounded up to a power of two, at least 16). NULL when
 * out of memory. */
struct strcount *strcount_new(size_t buckets);
void strcount_free(struct strcount *s);

/* One more of `key`: ERR_OK, or ERR_NOMEM (nothing changed). */
enum err_code strcount_add(struct strcount *s, const char *key);
/* One less of `key` (removed at zero); a key not present is a no-op. */
void strcount_remove(struct strcount *s, const char *key);
/* How many of `key` are present (0 when none). */
size_t strcount_get(struct strcount *s, const char *key);
/* Distinct keys present. */
size_t strcount_size(struct strcount *s);

#endif
