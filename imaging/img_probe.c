/*
 * img_probe.c: header read and limit checks before any decode. See img_probe.h.
 *
 * Order: empty, byte limit, sniff, a structural check of the container (JPEG marker walk,
 * PNG IHDR/IEND) which also yields dimensions early, the limits on those, then libvips' own
 * header read through the one loader the sniffed format names (sequential access, fail on
 * truncation), and the limits again on what libvips reports.
 */
#include "imaging/img_probe.h"

#include <string.h>

#include <vips/vips.h>

#include "imaging/img_jpeg_internal.h"
#include "imaging/img_vips_internal.h"

struct img_limits img_limits_default(void)
{
    struct img_limits l = {
        .max_bytes = IMG_DEFAULT_MAX_BYTES,
        .max_pixels = IMG_DEFAULT_MAX_PIXELS,
        .max_width = IMG_DEFAULT_MAX_SIDE,
        .max_height = IMG_DEFAULT_MAX_SIDE,
        .max_frames = IMG_DEFAULT_MAX_FRAMES,
        .max_progressive_pixels = IMG_DEFAULT_MAX_PROG_PIXELS,
    };
    return l;
}

enum err_code img_limits_validate(const struct img_limits *lim, struct img_error *e)
{
    if (lim->max_bytes == 0 || lim->max_pixels == 0 || lim->max_width <= 0 ||
        lim->max_height <= 0 || lim->max_frames <= 0 || lim->max_progressive_pixels == 0)
        return img_fail(e, IMG_R_INVALID_OPTION, "every image limit must be positive");
    return ERR_OK;
}

int img_probe_display_width(const struct img_probe *p)
{
    return p->orientation >= 5 && p->orientation <= 8 ? p->height : p->width;
}

int img_probe_display_height(const struct img_probe *p)
{
    return p->orientation >= 5 && p->orientation <= 8 ? p->width : p->height;
}

enum err_code img_limits_check(const struct img_limits *lim, const struct img_probe *p,
                               struct img_error *e)
{
    uint64_t px = (uint64_t)p->width * (uint64_t)p->height;
    if (p->width <= 0 || p->height <= 0)
        return img_fail(e, IMG_R_CORRUPT_IMAGE, "image has no pixels (%dx%d)", p->width, p->height);
    if (px > lim->max_pixels)
        return img_fail(e, IMG_R_TOO_MANY_PIXELS, "image is %dx%d = %llu pixels; the limit is %llu",
                        p->width, p->height, (unsigned long long)px,
                        (unsigned long long)lim->max_pixels);
    if (p->width > lim->max_width || p->height > lim->max_height)
        return img_fail(e, IMG_R_DIMENSIONS_TOO_LARGE, "image is %dx%d; the limit is %dx%d",
                        p->width, p->height, lim->max_width, lim->max_height);
    if (p->frames > lim->max_frames)
        return img_fail(e, IMG_R_TOO_MANY_FRAMES, "image has %d frames; the limit is %d", p->frames,
                        lim->max_frames);
    if (p->format == IMG_FMT_JPEG && p->interlaced && px > lim->max_progressive_pixels)
        return img_fail(e, IMG_R_PROGRESSIVE_TOO_LARGE,
                        "progressive JPEG of %llu pixels; the limit is %llu",
                        (unsigned long long)px, (unsigned long long)lim->max_progressive_pixels);
    return ERR_OK;
}

static unsigned long be32(const unsigned char *p)
{
    return ((unsigned long)p[0] << 24) | ((unsigned long)p[1] << 16) | ((unsigned long)p[2] << 8) |
           p[3];
}

/* JPEG marker walk: dimensions and the progressive flag, truncation and missing scan data. */
static enum err_code precheck_jpeg(const unsigned char *p, size_t len, struct img_probe *out,
                                   struct img_error *e)
{
    struct img_jpeg_info ji;
    enum img_reason r = img_jpeg_walk(p, len, &ji, NULL, NULL);
    if (r == IMG_R_TRUNCATED)
        return img_fail(e, r, "JPEG data ends early (no end-of-image marker)");
    if (r != IMG_R_NONE)
        return img_fail(e, IMG_R_CORRUPT_IMAGE, "not a valid JPEG (bad or missing segments)");
    out->width = ji.width;
    out->height = ji.height;
    out->bands = ji.components;
    out->interlaced = ji.progressive;
    return ERR_OK;
}

/* PNG: IHDR must come first (dimensions), an IEND chunk must close the file. */
static enum err_code precheck_png(const unsigned char *p, size_t len, struct img_probe *out,
                                  struct img_error *e)
{
    if (len < 33 || be32(p + 8) != 13 || memcmp(p + 12, "IHDR", 4) != 0)
        return img_fail(e, IMG_R_CORRUPT_IMAGE, "not a valid PNG (no IHDR chunk)");
    unsigned long w = be32(p + 16), h = be32(p + 20);
    if (w == 0 || h == 0 || w > 0x7fffffffUL || h > 0x7fffffffUL)
        return img_fail(e, IMG_R_CORRUPT_IMAGE, "PNG has invalid dimensions");
    out->width = (int)w;
    out->height = (int)h;
    out->interlaced = p[28] == 1;
    size_t tail = len < 4096 ? len : 4096;
    if (memmem(p + len - tail, tail, "IEND", 4) == NULL)
        return img_fail(e, IMG_R_TRUNCATED, "PNG data ends early (no IEND chunk)");
    return ERR_OK;
}

static enum err_code precheck(const unsigned char *p, size_t len, struct img_probe *out,
                              struct img_error *e)
{
    out->frames = 1;
    out->orientation = 1;
    if (out->format == IMG_FMT_JPEG)
        return precheck_jpeg(p, len, out, e);
    if (out->format == IMG_FMT_PNG)
        return precheck_png(p, len, out, e);
    return ERR_OK;
}

static int meta_int(VipsImage *im, const char *name, int dflt)
{
    int v = dflt;
    if (vips_image_get_typeof(im, name) != 0 && vips_image_get_int(im, name, &v) != 0) {
        vips_error_clear();
        v = dflt;
    }
    return v;
}

static void read_vips_header(VipsImage *im, struct img_probe *out)
{
    out->width = vips_image_get_width(im);
    out->height = vips_image_get_page_height(im);
    out->bands = vips_image_get_bands(im);
    out->frames = meta_int(im, VIPS_META_N_PAGES, 1);
    if (out->frames < 1)
        out->frames = 1;
    out->orientation = meta_int(im, VIPS_META_ORIENTATION, 1);
    if (out->orientation < 1 || out->orientation > 8)
        out->orientation = 1;
    out->interlaced = out->interlaced || meta_int(im, "interlaced", 0) != 0;
    out->has_alpha = vips_image_hasalpha(im) != 0;
}

enum err_code img_probe(const void *buf, size_t len, const struct img_limits *lim,
                        struct img_probe *out, struct img_error *e)
{
    enum err_code rc = ERR_OK;
    VipsImage *im = NULL;
    struct img_limits dflt = img_limits_default();
    if (lim == NULL)
        lim = &dflt;
    memset(out, 0, sizeof(*out));
    if (buf == NULL || len == 0)
        return img_fail(e, IMG_R_EMPTY_BODY, "the body is empty; send the image bytes");
    if (len > lim->max_bytes)
        return img_fail(e, IMG_R_TOO_LARGE_BYTES, "image is %zu bytes; the limit is %zu", len,
                        lim->max_bytes);
    out->format = img_sniff(buf, len);
    if (out->format == IMG_FMT_UNKNOWN)
        return img_fail(e, IMG_R_UNSUPPORTED_FORMAT,
                        "not a JPEG, PNG, WebP, HEIC, AVIF or GIF image");
    if ((rc = precheck(buf, len, out, e)) != ERR_OK)
        goto cleanup;
    if (out->width > 0 && (rc = img_limits_check(lim, out, e)) != ERR_OK)
        goto cleanup;
    if ((rc = img_vips_load_header(buf, len, out->format, &im, e)) != ERR_OK)
        goto cleanup;
    read_vips_header(im, out);
    rc = img_limits_check(lim, out, e);
cleanup:
    if (im != NULL)
        g_object_unref(im);
    return rc;
}
