/*
 * img_vips.c: libvips helpers shared inside imaging/: opening a buffer with the loader of its
 * sniffed format only, and the downsizing step of the variant pipeline (a separable reduce whose
 * horizontal pass runs on the transposed image, see img_vips_reduce_upright). See
 * img_vips_internal.h.
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

/* The rotation that makes EXIF orientation `o` upright, for the pure turns 1, 3, 6 and 8. */
static int quarter_turns(int o)
{
    return o == 6 ? 1 : o == 3 ? 2 : o == 8 ? 3 : 0;
}

static bool mirrored_tag(int o)
{
    return o == 2 || o == 4 || o == 5 || o == 7;
}

static const VipsAngle angles[4] = {VIPS_ANGLE_D0, VIPS_ANGLE_D90, VIPS_ANGLE_D180,
                                    VIPS_ANGLE_D270};

/* `*out` = `in` turned clockwise by `q` quarter turns (t[0]), or `in` itself when q is 0. */
static int turn(VipsImage *in, int q, VipsImage **t, VipsImage **out)
{
    *out = in;
    if (q % 4 == 0)
        return 0;
    if (vips_rot(in, t, angles[q % 4], NULL))
        return -1;
    *out = *t;
    return 0;
}

/* `*out` = `in` made upright by vips_autorot with tag `o` (t[0..1]). */
static int autorot_tag(VipsImage *in, int o, VipsImage **t, VipsImage **out)
{
    if (vips_copy(in, &t[0], NULL))
        return -1;
    vips_image_set_int(t[0], VIPS_META_ORIENTATION, o);
    if (vips_autorot(t[0], &t[1], NULL))
        return -1;
    *out = t[1];
    return 0;
}

/* Exactly w x h: a one-pixel rounding difference is cropped or edge-extended (t[0..1]). */
static int exact(VipsImage *in, int w, int h, VipsImage **t, VipsImage **out)
{
    *out = in;
    if (in->Xsize == w && in->Ysize == h)
        return 0;
    int cw = in->Xsize < w ? in->Xsize : w, ch = in->Ysize < h ? in->Ysize : h;
    if (vips_extract_area(in, &t[0], 0, 0, cw, ch, NULL) ||
        vips_embed(t[0], &t[1], 0, 0, w, h, "extend", VIPS_EXTEND_COPY, NULL))
        return -1;
    *out = t[1];
    return 0;
}

/* The general case: vips_resize as stored, then the orientation (slots t[0..4]). */
static int resize_then_turn(VipsImage *in, int o, int sw, int sh, VipsKernel kernel, bool seq,
                            VipsImage **t, VipsImage **out)
{
    VipsImage *a = in;
    bool turned = o >= 2 && o <= 8;
    if ((sw != in->Xsize || sh != in->Ysize) &&
        vips_resize(in, &t[0], (double)sw / in->Xsize, "vscale", (double)sh / in->Ysize, "kernel",
                    kernel, NULL))
        return -1;
    a = t[0] ? t[0] : in;
    if (exact(a, sw, sh, t + 1, &a))
        return -1;
    /* a rotation reads out of order, which a sequential load cannot serve */
    if (turned && seq && !(a = t[3] = vips_image_copy_memory(a)))
        return -1;
    *out = a;
    return turned ? autorot_tag(a, o, t + 4, out) : 0;
}

int img_vips_reduce_upright(VipsObject *pool, VipsImage *in, int o, int w, int h, VipsKernel kernel,
                            bool seq, VipsImage **out)
{
    VipsImage **t = (VipsImage **)vips_object_local_array(pool, 12);
    bool swap = o >= 5 && o <= 8;
    int sw = swap ? h : w, sh = swap ? w : h; /* the target as stored */
    double hs = (double)in->Xsize / sw, vs = (double)in->Ysize / sh;
    if (vips_image_get_format(in) != VIPS_FORMAT_UCHAR || hs < 1 || vs < 1 || hs > IMG_REDUCE_MAX ||
        vs > IMG_REDUCE_MAX || sw == in->Xsize)
        return resize_then_turn(in, o, sw, sh, kernel, seq, t + 6, out);
    /* pass 1, vertical as stored; kept in memory when the source streams (the turn below
     * reads it out of order) */
    VipsImage *a = in;
    if (sh != in->Ysize && vips_reducev(in, &t[0], vs, "kernel", kernel, NULL))
        return -1;
    a = t[0] ? t[0] : in;
    if (seq && !(a = t[1] = vips_image_copy_memory(a)))
        return -1;
    /* transpose: a quarter turn (three for orientation 8, so that it is the orientation) */
    int first = o == 8 ? 3 : 1, q = quarter_turns(o);
    if (turn(a, first, &t[2], &a) ||
        vips_reducev(a, &t[3], (double)a->Ysize / sw, "kernel", kernel, NULL))
        return -1;
    a = t[3];
    int left = mirrored_tag(o) ? 4 - first : q - first + 4;
    /* libvips turns a region pixel by pixel: reading a lazy turn of a lazy turn in narrow strips
     * (as the encoder does) costs several times more than turning an image in memory */
    if (left % 4 != 0 && !(a = t[9] = vips_image_copy_memory(a)))
        return -1;
    /* what is left to turn upright; mirrored orientations go back as stored, then autorot */
    if (turn(a, left, &t[4], &a) || (mirrored_tag(o) && autorot_tag(a, o, t + 5, &a)))
        return -1;
    return exact(a, w, h, t + 7, out);
}
