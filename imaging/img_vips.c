/*
 * img_vips.c: libvips helpers shared inside imaging/. See img_vips_internal.h.
 */
#include "imaging/img_vips_internal.h"

enum err_code img_vips_load_header(const void *buf, size_t len, enum img_format fmt,
                                   VipsImage **out, struct img_error *e)
{
    void *b = (void *)buf; /* libvips' loaders take a non-const pointer but do not write */
    int r = -1;
    *out = NULL;
    switch (fmt) {
    case IMG_FMT_JPEG:
        r = vips_jpegload_buffer(b, len, out, "access", VIPS_ACCESS_SEQUENTIAL, "fail_on",
                                 VIPS_FAIL_ON_TRUNCATED, NULL);
        break;
    case IMG_FMT_PNG:
        r = vips_pngload_buffer(b, len, out, "access", VIPS_ACCESS_SEQUENTIAL, "fail_on",
                                VIPS_FAIL_ON_TRUNCATED, NULL);
        break;
    case IMG_FMT_WEBP:
        r = vips_webpload_buffer(b, len, out, "access", VIPS_ACCESS_SEQUENTIAL, "fail_on",
                                 VIPS_FAIL_ON_TRUNCATED, NULL);
        break;
    case IMG_FMT_HEIC:
    case IMG_FMT_AVIF:
        r = vips_heifload_buffer(b, len, out, "access", VIPS_ACCESS_SEQUENTIAL, "fail_on",
                                 VIPS_FAIL_ON_TRUNCATED, NULL);
        break;
    case IMG_FMT_GIF:
        r = vips_gifload_buffer(b, len, out, "access", VIPS_ACCESS_SEQUENTIAL, "fail_on",
                                VIPS_FAIL_ON_TRUNCATED, NULL);
        break;
    default:
        return img_fail(e, IMG_R_UNSUPPORTED_FORMAT, "no loader for this format");
    }
    if (r != 0) {
        *out = NULL;
        return img_fail_vips(e, IMG_R_CORRUPT_IMAGE, "cannot read the image header");
    }
    return ERR_OK;
}
