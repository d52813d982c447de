/*
 * img_error.c: reason names, classes and the libvips error-buffer capture. See img_error.h.
 */
#include "imaging/img_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <vips/vips.h>

static const char *const reason_names[IMG_R_COUNT] = {
    [IMG_R_NONE] = "ok",
    [IMG_R_EMPTY_BODY] = "empty_body",
    [IMG_R_UNSUPPORTED_FORMAT] = "unsupported_format",
    [IMG_R_TOO_LARGE_BYTES] = "too_large_bytes",
    [IMG_R_TOO_MANY_PIXELS] = "too_many_pixels",
    [IMG_R_DIMENSIONS_TOO_LARGE] = "dimensions_too_large",
    [IMG_R_TOO_MANY_FRAMES] = "too_many_frames",
    [IMG_R_PROGRESSIVE_TOO_LARGE] = "progressive_too_large",
    [IMG_R_CORRUPT_IMAGE] = "corrupt_image",
    [IMG_R_TRUNCATED] = "truncated",
    [IMG_R_MULTIPART_UPLOAD] = "multipart_upload",
    [IMG_R_INVALID_OPTION] = "invalid_option",
    [IMG_R_INTERNAL] = "internal",
};

static const enum err_code reason_classes[IMG_R_COUNT] = {
    [IMG_R_NONE] = ERR_OK,
    [IMG_R_EMPTY_BODY] = ERR_INVALID,
    [IMG_R_UNSUPPORTED_FORMAT] = ERR_UNSUPPORTED,
    [IMG_R_TOO_LARGE_BYTES] = ERR_TOO_LARGE,
    [IMG_R_TOO_MANY_PIXELS] = ERR_TOO_LARGE,
    [IMG_R_DIMENSIONS_TOO_LARGE] = ERR_TOO_LARGE,
    [IMG_R_TOO_MANY_FRAMES] = ERR_TOO_LARGE,
    [IMG_R_PROGRESSIVE_TOO_LARGE] = ERR_TOO_LARGE,
    [IMG_R_CORRUPT_IMAGE] = ERR_INVALID,
    [IMG_R_TRUNCATED] = ERR_INVALID,
    [IMG_R_MULTIPART_UPLOAD] = ERR_INVALID,
    [IMG_R_INVALID_OPTION] = ERR_INVALID,
    [IMG_R_INTERNAL] = ERR_INTERNAL,
};

const char *img_reason_name(enum img_reason reason)
{
    if ((int)reason < 0 || reason >= IMG_R_COUNT)
        return "unknown";
    return reason_names[reason];
}

enum err_code img_reason_class(enum img_reason reason)
{
    if ((int)reason < 0 || reason >= IMG_R_COUNT)
        return ERR_INTERNAL;
    return reason_classes[reason];
}

enum err_code img_fail(struct img_error *e, enum img_reason reason, const char *fmt, ...)
{
    enum err_code code = img_reason_class(reason);
    if (e == NULL)
        return code;
    e->code = code;
    e->reason = reason;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    if (n < 0)
        e->msg[0] = '\0';
    return code;
}

/* Words libvips' loaders use when the data ends early. */
static int looks_truncated(const char *text)
{
    static const char *const words[] = {"truncated",   "premature end", "unexpected end",
                                        "end of file", "out of data",   "not enough data"};
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (strcasestr(text, words[i]) != NULL)
            return 1;
    }
    return 0;
}

enum err_code img_fail_vips(struct img_error *e, enum img_reason fallback, const char *what)
{
    char *text = vips_error_buffer_copy(); /* copies and clears the global buffer */
    const char *t = text ? text : "";
    size_t n = strlen(t);
    while (n > 0 && (t[n - 1] == '\n' || t[n - 1] == ' '))
        n--;
    enum img_reason reason = fallback;
    if (fallback == IMG_R_CORRUPT_IMAGE && looks_truncated(t))
        reason = IMG_R_TRUNCATED;
    enum err_code code = img_fail(e, reason, "%s: %.*s", what, (int)(n > 200 ? 200 : n), t);
    g_free(text);
    return code;
}

void img_error_clear(struct img_error *e)
{
    if (e == NULL)
        return;
    e->code = ERR_OK;
    e->reason = IMG_R_NONE;
    e->msg[0] = '\0';
}
