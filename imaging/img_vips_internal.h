/*
 * img_vips_internal.h: libvips helpers shared inside imaging/ (not part of its API).
 */
#ifndef IMGSVC_IMAGING_IMG_VIPS_INTERNAL_H
#define IMGSVC_IMAGING_IMG_VIPS_INTERNAL_H

#include <stddef.h>

#include <vips/vips.h>

#include "imaging/img_error.h"
#include "imaging/img_probe.h"

/*
 * Opens `buf` with the loader of `fmt` only (never libvips' own guess), sequential access,
 * failing on truncation. Reads the header; pixels are decoded only when the image is used.
 * Borrows `buf`, which must outlive `*out`; caller unrefs `*out`. On failure fills `e`
 * (truncated or corrupt_image) and returns its class.
 */
enum err_code img_vips_load_header(const void *buf, size_t len, enum img_format fmt,
                                   VipsImage **out, struct img_error *e);

#endif
