/*
 * err.h: the project's one error type.
 *
 * Every fallible function returns an `enum err_code` directly (ERR_OK is 0) and, where a
 * caller wants the detail, fills a caller-supplied `struct err` with a human-readable message.
 * Only the handler layer maps codes to HTTP statuses; lower layers never know about HTTP.
 */
#ifndef IMGSVC_COMMON_ERR_H
#define IMGSVC_COMMON_ERR_H

#include <stddef.h>

enum err_code {
    ERR_OK = 0,
    ERR_NOMEM,       /* allocation failed */
    ERR_INVALID,     /* malformed or out-of-range input */
    ERR_TOO_LARGE,   /* a size limit was reached */
    ERR_NOT_FOUND,   /* the thing asked for does not exist */
    ERR_IO,          /* file or socket error */
    ERR_BUSY,        /* a bounded queue or limit is full; try again later */
    ERR_TIMEOUT,     /* a deadline passed */
    ERR_UNSUPPORTED, /* a format, method or feature we do not handle */
    ERR_AUTH,        /* missing or wrong credentials */
    ERR_FORBIDDEN,   /* authenticated but not allowed */
    ERR_CONFLICT,    /* state does not allow the operation */
    ERR_UPSTREAM,    /* a dependency (S3, a peer) failed */
    ERR_INTERNAL,    /* a bug or an impossible state */
    ERR_CODE_COUNT
};

#define ERR_MSG_MAX 256

/* A code plus a message. Zero-initialise (`struct err e = {0};`) before use. */
struct err {
    enum err_code code;
    char msg[ERR_MSG_MAX];
};

/* Stable snake_case name of a code, e.g. "too_large". Never NULL. */
const char *err_name(enum err_code code);

/*
 * Records `code` and a printf-style message in `e` (which may be NULL) and returns `code`, so
 * callers can write `return err_set(e, ERR_INVALID, "bad %s", what);`.
 */
enum err_code err_set(struct err *e, enum err_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Clears `e` back to ERR_OK with an empty message. NULL is a no-op. */
void err_clear(struct err *e);

#endif
