/*
 * img_probe.h: what an upload is, and whether we are willing to decode it.
 *
 * img_sniff() names the format from magic bytes alone (never a file name or declared type).
 * img_probe() reads only the header (libvips, sequential access, no pixel decoded) and checks
 * every limit in `struct img_limits` before anyone decodes: bytes, pixels, width/height,
 * frames and the size of progressive JPEGs (whose decoder buffers the whole image).
 */
#ifndef IMGSVC_IMAGING_IMG_PROBE_H
#define IMGSVC_IMAGING_IMG_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imaging/img_error.h"

enum img_format {
    IMG_FMT_UNKNOWN = 0,
    IMG_FMT_JPEG,
    IMG_FMT_PNG,
    IMG_FMT_WEBP,
    IMG_FMT_HEIC, /* HEIF with HEVC (or generic HEIF brands) */
    IMG_FMT_AVIF, /* HEIF with AV1: ftyp brand avif/avis */
    IMG_FMT_GIF,
    IMG_FMT_COUNT
};

/* "jpeg", "png", "webp", "heic", "avif", "gif" ("unknown" otherwise). Never NULL. */
const char *img_format_name(enum img_format f);
/* "image/jpeg", ... ("application/octet-stream" for unknown). Never NULL. */
const char *img_format_mime(enum img_format f);
/* File extension without dot: "jpg", "png", "webp", "heic", "avif", "gif". Never NULL. */
const char *img_format_ext(enum img_format f);
/* Parses a name as img_format_name prints it (also "jpg"); IMG_FMT_UNKNOWN otherwise. */
enum img_format img_format_parse(const char *name);

/* The format named by the magic bytes of `buf`, or IMG_FMT_UNKNOWN. Reads at most 256 bytes. */
enum img_format img_sniff(const void *buf, size_t len);

/* Limits checked before decoding. Every field must be > 0; see img_limits_default. */
struct img_limits {
    size_t max_bytes;                /* default 64 MiB (IMG_DEFAULT_MAX_BYTES) */
    uint64_t max_pixels;             /* width*height of a frame; default 120,000,000 */
    int max_width;                   /* default 32768 */
    int max_height;                  /* default 32768 */
    int max_frames;                  /* pages/frames in the file; default 100 */
    uint64_t max_progressive_pixels; /* progressive JPEG width*height; default 50,000,000 */
};

#define IMG_DEFAULT_MAX_BYTES       ((size_t)64 * 1024 * 1024)
#define IMG_DEFAULT_MAX_PIXELS      120000000ULL
#define IMG_DEFAULT_MAX_SIDE        32768
#define IMG_DEFAULT_MAX_FRAMES      100
#define IMG_DEFAULT_MAX_PROG_PIXELS 50000000ULL

/*
 * The documented defaults: 108 MP phone photos (12000x9000) pass; a 40000x40000 pixel flood
 * does not; a progressive JPEG (whose libjpeg decoder keeps every DCT coefficient, about
 * 2 bytes per sample) is held to 50 MP so one decode stays near 150 MB.
 */
struct img_limits img_limits_default(void);

/* Checks `lim` itself: ERR_INVALID (reason invalid_option) when a field is zero or negative. */
enum err_code img_limits_validate(const struct img_limits *lim, struct img_error *e);

/* Header facts of an image. Dimensions are as stored (before EXIF orientation). */
struct img_probe {
    enum img_format format;
    int width;       /* of the first frame */
    int height;      /* of the first frame */
    int bands;       /* samples per pixel, alpha included */
    int frames;      /* pages / frames (1 for a still image) */
    int orientation; /* EXIF orientation 1..8 (1 when absent) */
    bool interlaced; /* progressive JPEG, Adam7 PNG, interlaced GIF */
    bool has_alpha;  /* an alpha channel is present */
};

/* Width and height after EXIF orientation is applied (swapped for orientations 5..8). */
int img_probe_display_width(const struct img_probe *p);
int img_probe_display_height(const struct img_probe *p);

/*
 * Sniffs `buf` and reads its header, then applies `lim` (NULL = defaults). Borrows `buf`;
 * decodes no pixel. On success fills `out` and returns ERR_OK; otherwise returns the class
 * and fills `e` with the reason: empty_body, too_large_bytes, unsupported_format,
 * truncated, corrupt_image, too_many_pixels, dimensions_too_large, too_many_frames,
 * progressive_too_large. Needs img_global_init.
 */
enum err_code img_probe(const void *buf, size_t len, const struct img_limits *lim,
                        struct img_probe *out, struct img_error *e);

/* Applies `lim` to already-read header facts (the limit step of img_probe). */
enum err_code img_limits_check(const struct img_limits *lim, const struct img_probe *p,
                               struct img_error *e);

#endif
