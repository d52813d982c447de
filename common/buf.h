/*
 * buf.h: a growable byte buffer with a hard cap (after curl's dynbuf).
 *
 * Appends fail with ERR_TOO_LARGE once `max` would be exceeded, so no caller can forget a size
 * limit. The contents are always NUL-terminated (the NUL is not counted in `len` and does not
 * count toward `max`), so text can be used in place.
 */
#ifndef IMGSVC_COMMON_BUF_H
#define IMGSVC_COMMON_BUF_H

#include <stddef.h>

#include "common/err.h"

#define BUF_WARN_UNUSED __attribute__((warn_unused_result))

struct buf {
    char *data; /* NULL until the first append */
    size_t len; /* bytes in use */
    size_t cap; /* bytes allocated (excluding the terminating NUL slot) */
    size_t max; /* hard maximum for len */
};

/* Prepares an empty buffer that may grow to `max` bytes. Allocates nothing. */
void buf_init(struct buf *b, size_t max);

/* Appends `n` bytes. ERR_TOO_LARGE past the cap (the buffer is unchanged), ERR_NOMEM. */
enum err_code buf_append(struct buf *b, const void *p, size_t n) BUF_WARN_UNUSED;

/* Appends a NUL-terminated string. */
enum err_code buf_append_str(struct buf *b, const char *s) BUF_WARN_UNUSED;

/* Appends printf-style text. */
enum err_code buf_printf(struct buf *b, const char *fmt, ...) BUF_WARN_UNUSED
    __attribute__((format(printf, 2, 3)));

/* Empties the buffer but keeps its allocation. */
void buf_reset(struct buf *b);

/*
 * Hands the contents to the caller (who frees them with free()) and leaves the buffer empty.
 * Returns an allocated empty string when nothing was appended; NULL only on ERR_NOMEM.
 * `len` (optional) receives the length.
 */
char *buf_take(struct buf *b, size_t *len);

/* Frees the contents. The buffer may be reused after buf_init. */
void buf_free(struct buf *b);

#endif
