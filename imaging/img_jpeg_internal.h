/*
 * img_jpeg_internal.h: a bounds-checked walk over a JPEG's marker segments (imaging/ only).
 *
 * The walk stops at the first SOS (start of scan): everything before it is headers (APPn,
 * DQT, SOF, DHT...), everything after is entropy-coded data. Used by the probe (dimensions,
 * progressive flag, truncation) and by origin privacy (dropping and editing segments).
 */
#ifndef IMGSVC_IMAGING_IMG_JPEG_INTERNAL_H
#define IMGSVC_IMAGING_IMG_JPEG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imaging/img_error.h"

/* One header segment: bytes [off, off + len) including the FF xx marker and length field. */
struct img_jpeg_seg {
    uint8_t marker;  /* the byte after FF, e.g. 0xE1 for APP1 */
    size_t off;      /* offset of the FF byte */
    size_t len;      /* whole segment length in bytes */
    size_t data_off; /* offset of the payload (after the 2-byte length) */
    size_t data_len; /* payload bytes */
};

struct img_jpeg_info {
    int width; /* from the SOF segment */
    int height;
    int components;
    bool progressive; /* SOF2/6/10/14 */
    size_t sos_off;   /* offset of the first SOS marker */
};

/* Called for each header segment before SOS; a non-zero return stops the walk with it. */
typedef int (*img_jpeg_seg_fn)(const struct img_jpeg_seg *seg, void *ctx);

/*
 * Walks `p` (len bytes; must start with FF D8). Fills `info` and calls `fn` (may be NULL) per
 * segment. Returns IMG_R_NONE for a complete JPEG; IMG_R_TRUNCATED when the data ends inside a
 * segment or no EOI marker follows the scan; IMG_R_CORRUPT_IMAGE for a bad marker or length,
 * no SOF, zero dimensions, or no SOS (a header without image data). A non-zero return from `fn`
 * stops the walk and is returned as IMG_R_INTERNAL.
 */
enum img_reason img_jpeg_walk(const uint8_t *p, size_t len, struct img_jpeg_info *info,
                              img_jpeg_seg_fn fn, void *ctx);

#endif
