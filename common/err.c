/*
 * err.c: names for error codes and the message setter. See err.h.
 */
#include "common/err.h"

#include <stdarg.h>
#include <stdio.h>

static const char *const names[ERR_CODE_COUNT] = {
    [ERR_OK] = "ok",
    [ERR_NOMEM] = "out_of_memory",
    [ERR_INVALID] = "invalid",
    [ERR_TOO_LARGE] = "too_large",
    [ERR_NOT_FOUND] = "not_found",
    [ERR_IO] = "io_error",
    [ERR_BUSY] = "busy",
    [ERR_TIMEOUT] = "timeout",
    [ERR_UNSUPPORTED] = "unsupported",
    [ERR_AUTH] = "unauthenticated",
    [ERR_FORBIDDEN] = "forbidden",
    [ERR_CONFLICT] = "conflict",
    [ERR_UPSTREAM] = "upstream_error",
    [ERR_INTERNAL] = "internal",
};

const char *err_name(enum err_code code)
{
    if ((int)code < 0 || code >= ERR_CODE_COUNT || names[code] == NULL)
        return "unknown";
    return names[code];
}

enum err_code err_set(struct err *e, enum err_code code, const char *fmt, ...)
{
    if (e == NULL)
        return code;
    e->code = code;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    if (n < 0)
        e->msg[0] = '\0';
    return code;
}

void err_clear(struct err *e)
{
    if (e == NULL)
        return;
    e->code = ERR_OK;
    e->msg[0] = '\0';
}
