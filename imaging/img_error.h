/*
 * img_error.h: why imaging refused or failed, as a stable code a client can act on.
 *
 * Every imaging call that can refuse input fills a caller-supplied `struct img_error`: the
 * project-wide `enum err_code` (ERR_UNSUPPORTED, ERR_TOO_LARGE, ERR_INVALID, ...) for the
 * handler layer's HTTP mapping, plus an `enum img_reason` whose snake_case name
 * (img_reason_name) is the stable API error code, and a human-readable message.
 */
#ifndef IMGSVC_IMAGING_IMG_ERROR_H
#define IMGSVC_IMAGING_IMG_ERROR_H

#include "common/err.h"

enum img_reason {
    IMG_R_NONE = 0,              /* "ok" */
    IMG_R_EMPTY_BODY,            /* zero bytes */
    IMG_R_UNSUPPORTED_FORMAT,    /* magic bytes are not JPEG/PNG/WebP/HEIC/AVIF/GIF */
    IMG_R_TOO_LARGE_BYTES,       /* more bytes than img_limits.max_bytes */
    IMG_R_TOO_MANY_PIXELS,       /* width*height above img_limits.max_pixels */
    IMG_R_DIMENSIONS_TOO_LARGE,  /* width or height above img_limits.max_width/max_height */
    IMG_R_TOO_MANY_FRAMES,       /* more pages/frames than img_limits.max_frames */
    IMG_R_PROGRESSIVE_TOO_LARGE, /* progressive JPEG above img_limits.max_progressive_pixels */
    IMG_R_CORRUPT_IMAGE,         /* the bytes do not form a valid image */
    IMG_R_TRUNCATED,             /* the image data ends early */
    IMG_R_MULTIPART_UPLOAD,      /* a multipart/form-data envelope, not raw image bytes */
    IMG_R_INVALID_OPTION,        /* a bad preset or request option */
    IMG_R_INTERNAL,              /* libvips or memory failure not caused by the input */
    IMG_R_COUNT
};

#define IMG_ERR_MSG_MAX 256

/* Zero-initialise before use (`struct img_error e = {0};`). */
struct img_error {
    enum err_code code;     /* project error class (ERR_OK when no error) */
    enum img_reason reason; /* stable reason; img_reason_name() gives the API code */
    char msg[IMG_ERR_MSG_MAX];
};

/* Stable snake_case code of a reason, e.g. "too_many_pixels". Never NULL. */
const char *img_reason_name(enum img_reason reason);

/* The err_code class a reason belongs to (e.g. IMG_R_TOO_MANY_PIXELS -> ERR_TOO_LARGE). */
enum err_code img_reason_class(enum img_reason reason);

/*
 * Records `reason` (its class as the code) and a printf-style message in `e` (may be NULL).
 * Returns the class so callers can `return img_fail(e, IMG_R_TRUNCATED, "...")`.
 */
enum err_code img_fail(struct img_error *e, enum img_reason reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Records a libvips failure: copies libvips' global error buffer at once (and clears it) into
 * `e`, classifying it as truncated, corrupt_image or `fallback`. `what` names the step.
 */
enum err_code img_fail_vips(struct img_error *e, enum img_reason fallback, const char *what);

/* Clears `e` to no error. NULL is a no-op. */
void img_error_clear(struct img_error *e);

#endif
