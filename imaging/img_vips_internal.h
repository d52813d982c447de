/*
 * img_vips_internal.h: libvips helpers shared inside imaging/ (not part of its API).
 */
#ifndef IMGSVC_IMAGING_IMG_VIPS_INTERNAL_H
#define IMGSVC_IMAGING_IMG_VIPS_INTERNAL_H

#include <stdbool.h>
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

/* Largest reduction factor per axis img_vips_reduce_upright does with its own passes; beyond
 * it vips_resize (an integer box shrink first) is cheaper than that many kernel taps. */
#define IMG_REDUCE_MAX 3.0

/*
 * Downsizes the 8-bit image `in` (as stored) to exactly w x h as displayed after EXIF
 * orientation `o` (1..8; anything else is 1), with `kernel`, and turns it upright.
 *
 * Why not vips_resize + vips_autorot: libvips 8.14 reduces vertically with a vectorised (Orc)
 * loop but horizontally with a scalar one several times slower per tap, and rotating the large
 * image costs as much again. So: reducev as stored, a quarter turn, reducev again (the stored
 * horizontal axis), then whatever turn is left; for orientations 6 and 8 the transpose is the
 * orientation itself, so turned photos cost no extra rotation. Larger factors than
 * IMG_REDUCE_MAX, enlargements, other band formats and single-axis reductions go through
 * vips_resize (then the orientation). The kernel is the same either way, so the pixels match
 * vips_resize's to within rounding.
 *
 * The quarter turns read their source once, top to bottom, and write the turned pixels into a
 * new memory image as each strip arrives, so `*out` is in memory whenever a turn was needed.
 * `seq`: `in` is a sequential load that can be read top to bottom only once (only the
 * vips_resize path cares: it is kept in memory before vips_autorot there). New images belong to
 * `pool`; `*out` is borrowed from it (or is `in`). Returns 0, or -1 with the libvips error buffer
 * set.
 */
int img_vips_reduce_upright(VipsObject *pool, VipsImage *in, int o, int w, int h, VipsKernel kernel,
                            bool seq, VipsImage **out);

/*
 * The lock around every libvips call of imaging/ that builds operations with Orc programs
 * (reduce, resize, thumbnail, smartcrop) or frees them (the unref of a call's image pool).
 * liborc 0.4.33 (Debian 12) takes its global lock when it allocates JIT code but not when it
 * frees it, so one thread freeing while another allocates corrupts its code list (seen as a
 * SEGV in orc_code_free under ASan with two images at once). Builds and frees are short; the
 * pixel work (sinks, region computations) runs outside the lock.
 */
void img_vips_orc_lock(void);
void img_vips_orc_unlock(void);

/*
 * Runs fn(arg) on a libvips thread: a new one, joined before this returns, unless the caller is
 * one already (or no thread can be started: then here, with the same result, only slower).
 * libvips keeps its per-thread region buffer caches for its own threads only; on any other
 * thread a pipeline pulled with vips_region_prepare (img_vips_reduce_upright's turns) mallocs,
 * zeroes and frees every stage's buffer for every strip: ~1,700 allocations and ~300 MB zeroed
 * per 12 MP photo, 5-8 % of its imaging CPU (docs/imaging.md). The thread's caches are freed
 * when it ends.
 */
void img_vips_on_worker(void (*fn)(void *arg), void *arg);

#endif
