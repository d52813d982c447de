/*
 * img_variant.h: decode once, make every preset's variant.
 *
 * The source is decoded a single time, with shrink-on-load, at the smallest size that still
 * serves the largest preset, colour converted to 8-bit sRGB. Every variant is derived from that
 * one image or from a larger variant already made (lanczos3), with EXIF orientation applied.
 * Outputs carry no metadata at all (no EXIF, XMP, IPTC, GPS, ICC: libvips "strip"); alpha is
 * kept for PNG, WebP and AVIF and flattened onto white for JPEG.
 *
 * Policies: HEIC and AVIF sources become JPEG when a preset says "same"; GIF sources become
 * PNG. Animated GIF/WebP: only the first frame is used (variants are stills).
 */
#ifndef IMGSVC_IMAGING_IMG_VARIANT_H
#define IMGSVC_IMAGING_IMG_VARIANT_H

#include <stddef.h>
#include <stdint.h>

#include "imaging/img_error.h"
#include "imaging/img_preset.h"
#include "imaging/img_probe.h"

/* Planned geometry of one preset: resize to resize_w x resize_h, then crop/pad to out_w x out_h. */
struct img_geometry {
    int resize_w;
    int resize_h;
    int out_w;
    int out_h;
};

/*
 * Plans preset `p` for a source of src_w x src_h (display orientation). Pure. Never enlarges
 * unless p->enlarge; a cover crop never exceeds the resized image; contain always pads to
 * exactly width x height.
 */
void img_plan(const struct img_preset *p, int src_w, int src_h, struct img_geometry *g);

/* The encoded format for `want` given the source format (see the policy above). */
enum img_format img_output_format(enum img_out_format want, enum img_format src);

struct img_variant {
    char name[IMG_PRESET_NAME_MAX];
    enum img_format format;
    int width;
    int height;
    void *data; /* encoded bytes, owned by the containing img_variants */
    size_t len;
};

struct img_variants {
    int count;
    struct img_variant items[IMG_PRESET_MAX];
};

/* A small RGBA image (8 bits per sample, rows packed) for placeholders. */
struct img_pixels {
    int width;
    int height;
    uint8_t *rgba; /* width * height * 4 bytes; free with img_pixels_free */
};

/* Largest side of the placeholder image made by img_variants_make (ThumbHash's maximum). */
#define IMG_PLACEHOLDER_SIDE 100

/*
 * Makes one variant per preset (n = 1..IMG_PRESET_MAX) from the image in `buf`, which must have
 * passed img_probe (whose result is `probe`). When `thumb` is not NULL it also receives the
 * decoded image scaled to fit IMG_PLACEHOLDER_SIDE, as RGBA, for placeholders and facts.
 * Borrows `buf`. On success `out` owns the encoded bytes (free with img_variants_free);
 * on failure `out` is empty and `e` says why (corrupt_image, truncated, invalid_option,
 * internal).
 */
enum err_code img_variants_make(const void *buf, size_t len, const struct img_probe *probe,
                                const struct img_preset *presets, int n, struct img_variants *out,
                                struct img_pixels *thumb, struct img_error *e);

/*
 * Decodes `buf` (which passed img_probe, giving `probe`) once, shrunk to fit IMG_PLACEHOLDER_SIDE,
 * into RGBA `px` (free with img_pixels_free). For facts without variants. Borrows `buf`.
 */
enum err_code img_placeholder_pixels(const void *buf, size_t len, const struct img_probe *probe,
                                     struct img_pixels *px, struct img_error *e);

/* Frees every variant's bytes and empties `v`. NULL is a no-op. */
void img_variants_free(struct img_variants *v);

/* Frees the pixels and zeroes `p`. NULL is a no-op. */
void img_pixels_free(struct img_pixels *p);

#endif
