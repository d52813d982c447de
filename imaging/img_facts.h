/*
 * img_facts.h: what the service tells about an image — facts and placeholders.
 *
 * Placeholders are computed from the decoded image scaled to fit 100x100 (RGBA, see
 * img_pixels in img_variant.h): BlurHash with 4x3 components (woltapp/blurhash, same
 * algorithm as the npm `blurhash` 2.x encoder), ThumbHash (evanw/thumbhash, as the npm
 * `thumbhash` encoder; shown as standard base64) and the dominant colour (the most common
 * cell of a 16x16x16 RGB histogram, ignoring fully transparent pixels, as "#rrggbb").
 */
#ifndef IMGSVC_IMAGING_IMG_FACTS_H
#define IMGSVC_IMAGING_IMG_FACTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imaging/img_probe.h"
#include "imaging/img_variant.h"

#define IMG_BLURHASH_X    4
#define IMG_BLURHASH_Y    3
#define IMG_BLURHASH_MAX  32 /* 4 + 2*(4*3-1) = 26 characters + NUL, with room */
#define IMG_THUMBHASH_MAX 25 /* bytes */
#define IMG_THUMBHASH_B64 40 /* base64 of 25 bytes (36) + NUL, with room */

struct img_facts {
    enum img_format format;
    int width; /* as displayed: after EXIF orientation */
    int height;
    int orientation; /* EXIF 1..8 of the source (1 when absent) */
    bool has_alpha;
    int frames;        /* 1 for stills; pages of an animation (only the first is used) */
    bool placeholders; /* the three fields below are filled */
    char dominant[8];  /* "#rrggbb" */
    char blurhash[IMG_BLURHASH_MAX];
    char thumbhash[IMG_THUMBHASH_B64];
};

/*
 * BlurHash of `px` with cx x cy components (1..9 each) into `out` (NUL-terminated). False when
 * the components or `outlen` are out of range, the image is empty or memory runs out.
 */
bool img_blurhash_encode(const struct img_pixels *px, int cx, int cy, char *out, size_t outlen);

/*
 * ThumbHash bytes of `px` (at most 100x100) into `out` (cap >= IMG_THUMBHASH_MAX). Returns the
 * length, 0 when the image is empty or too large.
 */
size_t img_thumbhash_encode(const struct img_pixels *px, uint8_t *out, size_t cap);

/* Standard base64 (with padding) of `n` bytes into `out`; false when `outlen` is too small. */
bool img_base64(const uint8_t *in, size_t n, char *out, size_t outlen);

/* The dominant colour of `px` (see above); black for an empty or fully transparent image. */
void img_dominant_colour(const struct img_pixels *px, uint8_t rgb[3]);

/*
 * Fills `f` from the probe (format, display size, orientation, alpha, frames) and, when `px`
 * is not NULL, the placeholders.
 */
void img_facts_fill(struct img_facts *f, const struct img_probe *p, const struct img_pixels *px);

#endif
