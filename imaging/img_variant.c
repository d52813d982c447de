/*
 * img_variant.c: the decode-once variant pipeline. See img_variant.h.
 *
 * Steps: plan every preset -> decode once with vips_thumbnail_buffer at the largest size
 * needed (shrink-on-load, autorotate, ICC import/export to sRGB) -> normalise to 8-bit sRGB
 * -> keep in memory when several outputs read it -> per preset: resize, crop or pad,
 * flatten or keep alpha, encode with metadata stripped. libvips intermediates live in a
 * per-call reference pool (vips_object_local_array) released once on the way out.
 */
#include "imaging/img_variant.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <vips/vips.h>

#include "imaging/img_privacy.h"

#define POOL_BASE    8 /* base pipeline images */
#define POOL_PER_VAR 8 /* images per variant */
#define POOL_SIZE    (POOL_BASE + POOL_PER_VAR * IMG_PRESET_MAX + 8)

static int clamp_side(double v)
{
    long r = lround(v);
    return r < 1 ? 1 : (r > VIPS_MAX_COORD ? VIPS_MAX_COORD : (int)r);
}

/* Scale so the source fits inside (or covers, when `cover`) the box; 0 = unbounded side. */
static void scaled(const struct img_preset *p, int w, int h, bool cover, int *rw, int *rh)
{
    double sx = p->width ? (double)p->width / w : 0, sy = p->height ? (double)p->height / h : 0;
    bool by_x = sy == 0 || (sx != 0 && (cover ? sx >= sy : sx <= sy));
    double s = by_x ? sx : sy;
    if (!p->enlarge && s >= 1) {
        *rw = w;
        *rh = h;
        return;
    }
    *rw = by_x ? p->width : clamp_side(w * s);
    *rh = by_x ? clamp_side(h * s) : p->height;
}

void img_plan(const struct img_preset *p, int src_w, int src_h, struct img_geometry *g)
{
    switch (p->fit) {
    case IMG_FIT_COVER:
        scaled(p, src_w, src_h, true, &g->resize_w, &g->resize_h);
        g->out_w = p->width && p->width < g->resize_w ? p->width : g->resize_w;
        g->out_h = p->height && p->height < g->resize_h ? p->height : g->resize_h;
        break;
    case IMG_FIT_CONTAIN:
        scaled(p, src_w, src_h, false, &g->resize_w, &g->resize_h);
        g->out_w = p->width ? p->width : g->resize_w;
        g->out_h = p->height ? p->height : g->resize_h;
        break;
    case IMG_FIT_FILL:
        g->resize_w = p->width && (p->enlarge || p->width < src_w) ? p->width : src_w;
        g->resize_h = p->height && (p->enlarge || p->height < src_h) ? p->height : src_h;
        g->out_w = g->resize_w;
        g->out_h = g->resize_h;
        break;
    default:
        scaled(p, src_w, src_h, false, &g->resize_w, &g->resize_h);
        g->out_w = g->resize_w;
        g->out_h = g->resize_h;
        break;
    }
}

enum img_format img_output_format(enum img_out_format want, enum img_format src)
{
    switch (want) {
    case IMG_OUT_JPEG:
        return IMG_FMT_JPEG;
    case IMG_OUT_PNG:
        return IMG_FMT_PNG;
    case IMG_OUT_WEBP:
        return IMG_FMT_WEBP;
    case IMG_OUT_AVIF:
        return IMG_FMT_AVIF;
    default:
        break;
    }
    if (src == IMG_FMT_PNG || src == IMG_FMT_GIF)
        return IMG_FMT_PNG;
    if (src == IMG_FMT_WEBP)
        return IMG_FMT_WEBP;
    return IMG_FMT_JPEG; /* JPEG, HEIC, AVIF */
}

/*
 * The libjpeg scale (1, 2, 4, 8) for shrinking the display size dw x dh to fit bw x bh: the
 * largest that still leaves the image at least as large as the target, as sharp's default
 * (fastShrinkOnLoad). vips_thumbnail keeps an extra 2x margin, which costs ~1.8x the CPU here.
 */
static int jpeg_shrink(int dw, int dh, int bw, int bh)
{
    double f = fmin((double)dw / (bw < 1 ? 1 : bw), (double)dh / (bh < 1 ? 1 : bh));
    return f >= 8 ? 8 : f >= 4 ? 4 : f >= 2 ? 2 : 1;
}

/* Turns `im` upright by EXIF orientation `o` (in pool slots t[0..2]); `*out` is borrowed. */
static int orient(VipsImage *im, int o, bool materialise, VipsImage **t, VipsImage **out)
{
    *out = im;
    if (o <= 1 || o > 8)
        return 0;
    if (vips_copy(im, &t[0], NULL))
        return -1;
    vips_image_set_int(t[0], VIPS_META_ORIENTATION, o);
    if (vips_autorot(t[0], &t[1], NULL))
        return -1;
    *out = t[1];
    if (materialise && !(*out = t[2] = vips_image_copy_memory(t[1])))
        return -1;
    return 0;
}

/*
 * Decodes once to fit bw x bh (display orientation) as upright 8-bit sRGB: shrink-on-load,
 * ICC import and sRGB export, then EXIF orientation. JPEG is loaded with its libjpeg shrink and
 * finished by vips_thumbnail_image; other formats go through vips_thumbnail_buffer (WebP and
 * HEIF scale on load there). The rotation runs after the (smaller) image is materialised when
 * `materialise` is set (several outputs will read it), where it is a cheap in-memory transpose.
 */
static int decode_at(VipsObject *pool, const void *buf, size_t len, const struct img_probe *pr,
                     int bw, int bh, bool materialise, VipsImage **base)
{
    VipsImage **t = (VipsImage **)vips_object_local_array(pool, POOL_BASE);
    int s = pr->format == IMG_FMT_JPEG
                ? jpeg_shrink(img_probe_display_width(pr), img_probe_display_height(pr), bw, bh)
                : 1;
    bool swap = pr->orientation >= 5 && pr->orientation <= 8; /* targets as stored */
    int tw = swap ? bh : bw, th = swap ? bw : bh;
    tw = tw < 1 ? 1 : tw;
    th = th < 1 ? 1 : th;
    if (s > 1) {
        if (vips_jpegload_buffer((void *)buf, len, &t[3], "shrink", s, "access",
                                 VIPS_ACCESS_SEQUENTIAL, "fail_on", VIPS_FAIL_ON_TRUNCATED, NULL) ||
            vips_thumbnail_image(t[3], &t[0], tw, "height", th, "size", VIPS_SIZE_DOWN, "no_rotate",
                                 TRUE, NULL))
            return -1;
    } else if (vips_thumbnail_buffer((void *)buf, len, &t[0], tw, "height", th, "size",
                                     VIPS_SIZE_DOWN, "no_rotate", TRUE, "option_string",
                                     "fail_on=truncated", NULL)) {
        return -1;
    }
    VipsImage *im = t[0];
    if (vips_image_get_interpretation(im) != VIPS_INTERPRETATION_sRGB ||
        vips_image_get_format(im) != VIPS_FORMAT_UCHAR) {
        if (vips_colourspace(im, &t[1], VIPS_INTERPRETATION_sRGB, NULL) ||
            vips_cast_uchar(t[1], &t[2], NULL))
            return -1;
        im = t[2];
    }
    /* A rotation reads the image out of order, which a sequential load cannot serve: turned
     * images are materialised (after shrinking) even when only one output reads them. */
    bool turned = pr->orientation >= 2 && pr->orientation <= 8;
    if ((materialise || turned) && !(im = t[4] = vips_image_copy_memory(im)))
        return -1;
    VipsImage **r = (VipsImage **)vips_object_local_array(pool, 3);
    return orient(im, pr->orientation, materialise, r, base);
}

/* Decodes once at the size the largest plan needs. */
static int decode_base(VipsObject *pool, const void *buf, size_t len, const struct img_probe *pr,
                       const struct img_geometry *plans, int n, bool materialise, VipsImage **base)
{
    int dw = img_probe_display_width(pr), dh = img_probe_display_height(pr);
    double need = 0;
    for (int i = 0; i < n; i++) {
        double s = fmax((double)plans[i].resize_w / dw, (double)plans[i].resize_h / dh);
        need = fmax(need, s);
    }
    if (need > 1)
        need = 1; /* enlarging happens per variant, from the full-size decode */
    return decode_at(pool, buf, len, pr, (int)ceil(dw * need), (int)ceil(dh * need), materialise,
                     base);
}

/* Resizes to exactly w x h (vips_resize, then a 1-pixel fix-up of rounding if needed). */
static int resize_exact(VipsImage *in, int w, int h, VipsImage **t, VipsImage **out)
{
    if (in->Xsize == w && in->Ysize == h) {
        *out = in;
        return 0;
    }
    double hs = (double)w / in->Xsize, vs = (double)h / in->Ysize;
    if (vips_resize(in, &t[0], hs, "vscale", vs, NULL))
        return -1;
    if (t[0]->Xsize == w && t[0]->Ysize == h) {
        *out = t[0];
        return 0;
    }
    int cw = t[0]->Xsize < w ? t[0]->Xsize : w, ch = t[0]->Ysize < h ? t[0]->Ysize : h;
    if (vips_extract_area(t[0], &t[1], 0, 0, cw, ch, NULL) ||
        vips_embed(t[1], &t[2], 0, 0, w, h, "extend", VIPS_EXTEND_COPY, NULL))
        return -1;
    *out = t[2];
    return 0;
}

/*
 * Crops (cover) or pads (contain) the resized image to the planned output box. New images go
 * into pool slots t[0..1]; `*out` is borrowed (it may be `in`).
 */
static int fit_box(VipsImage *in, const struct img_preset *p, const struct img_geometry *g,
                   bool keep_alpha, VipsImage **t, VipsImage **out)
{
    *out = in;
    if (in->Xsize == g->out_w && in->Ysize == g->out_h)
        return 0;
    int r = 0;
    if (p->fit == IMG_FIT_COVER && p->gravity == IMG_GRAVITY_ATTENTION) {
        /* attention reads the image several times: materialise the resized image first */
        if (!(t[0] = vips_image_copy_memory(in)))
            return -1;
        r = vips_smartcrop(t[0], &t[1], g->out_w, g->out_h, "interesting",
                           VIPS_INTERESTING_ATTENTION, NULL);
    } else if (p->fit == IMG_FIT_COVER)
        r = vips_extract_area(in, &t[1], (in->Xsize - g->out_w) / 2, (in->Ysize - g->out_h) / 2,
                              g->out_w, g->out_h, NULL);
    else { /* contain: pad, transparent when the output keeps alpha, white otherwise */
        VipsImage *src = in;
        if (keep_alpha && !vips_image_hasalpha(in)) {
            if (vips_bandjoin_const1(in, &t[0], 255, NULL))
                return -1;
            src = t[0];
        }
        double bg[4] = {255, 255, 255, keep_alpha ? 0 : 255};
        VipsArrayDouble *bga = vips_array_double_new(bg, src->Bands > 4 ? 4 : src->Bands);
        r = vips_gravity(src, &t[1], VIPS_COMPASS_DIRECTION_CENTRE, g->out_w, g->out_h, "extend",
                         VIPS_EXTEND_BACKGROUND, "background", bga, NULL);
        vips_area_unref(VIPS_AREA(bga));
    }
    if (r)
        return -1;
    *out = t[1];
    return 0;
}

/*
 * A copy of `in` with every metadata item removed (EXIF, XMP, IPTC, ICC, comments...). The
 * savers' "strip" option is not enough on its own: libvips 8.14's webpsave still writes EXIF.
 */
static int drop_metadata(VipsImage *in, VipsImage **out)
{
    if (vips_copy(in, out, NULL))
        return -1;
    gchar **fields = vips_image_get_fields(*out);
    for (int i = 0; fields != NULL && fields[i] != NULL; i++)
        (void)vips_image_remove(*out, fields[i]); /* FALSE for built-in fields: they stay */
    g_strfreev(fields);
    return 0;
}

/* Encodes with every piece of metadata stripped. `*data` is g_malloc'd by libvips. */
static int encode(VipsImage *in, enum img_format fmt, int q, void **data, size_t *len)
{
    switch (fmt) {
    case IMG_FMT_PNG:
        return vips_pngsave_buffer(in, data, len, "strip", TRUE, "compression", 6, NULL);
    case IMG_FMT_WEBP:
        if (vips_webpsave_buffer(in, data, len, "strip", TRUE, "Q", q, NULL))
            return -1;
        if (img_webp_strip_metadata(*data, len, NULL) != ERR_OK) {
            vips_error("imgsvc", "cannot strip metadata from the WebP output");
            return -1;
        }
        return 0;
    case IMG_FMT_AVIF:
        return vips_heifsave_buffer(in, data, len, "strip", TRUE, "Q", q, "compression",
                                    VIPS_FOREIGN_HEIF_COMPRESSION_AV1, "effort", 2, NULL);
    default:
        return vips_jpegsave_buffer(in, data, len, "strip", TRUE, "Q", q, "optimize_coding", TRUE,
                                    NULL);
    }
}

/*
 * Makes one variant from `src`. When `made` is not NULL the resized (pre-crop) image is kept in
 * memory there, so smaller presets can be derived from it instead of from the larger base.
 */
static int make_one(VipsObject *pool, VipsImage *src, const struct img_preset *p,
                    const struct img_geometry *g, enum img_format fmt, VipsImage **made,
                    struct img_variant *v)
{
    VipsImage **t = (VipsImage **)vips_object_local_array(pool, POOL_PER_VAR);
    VipsImage *a = NULL, *b = NULL;
    bool keep_alpha = fmt != IMG_FMT_JPEG;
    if (resize_exact(src, g->resize_w, g->resize_h, t, &a))
        return -1;
    if (made != NULL && a != src && !(a = t[7] = vips_image_copy_memory(a)))
        return -1;
    if (made != NULL)
        *made = a;
    if (fit_box(a, p, g, keep_alpha, t + 3, &b))
        return -1;
    if (!keep_alpha && vips_image_hasalpha(b)) {
        double white[3] = {255, 255, 255};
        VipsArrayDouble *bg = vips_array_double_new(white, 3);
        int r = vips_flatten(b, &t[5], "background", bg, NULL);
        vips_area_unref(VIPS_AREA(bg));
        if (r)
            return -1;
        b = t[5];
    }
    if (drop_metadata(b, &t[6]))
        return -1;
    b = t[6];
    snprintf(v->name, sizeof(v->name), "%s", p->name);
    v->format = fmt;
    v->width = b->Xsize;
    v->height = b->Ysize;
    return encode(b, fmt, p->quality, &v->data, &v->len);
}

/* The decoded image scaled to fit IMG_PLACEHOLDER_SIDE, as packed RGBA bytes. */
static int make_thumb(VipsObject *pool, VipsImage *base, struct img_pixels *px)
{
    VipsImage **t = (VipsImage **)vips_object_local_array(pool, 4);
    VipsImage *a = NULL;
    double s = fmin(1.0, fmin((double)IMG_PLACEHOLDER_SIDE / base->Xsize,
                              (double)IMG_PLACEHOLDER_SIDE / base->Ysize));
    int w = clamp_side(base->Xsize * s), h = clamp_side(base->Ysize * s);
    if (resize_exact(base, w, h, t, &a))
        return -1;
    if (!vips_image_hasalpha(a)) {
        if (vips_bandjoin_const1(a, &t[3], 255, NULL))
            return -1;
        a = t[3];
    }
    if (a->Bands != 4)
        return -1;
    size_t size = 0;
    px->rgba = vips_image_write_to_memory(a, &size);
    if (px->rgba == NULL || size != (size_t)w * h * 4) {
        img_pixels_free(px);
        return -1;
    }
    px->width = w;
    px->height = h;
    return 0;
}

/*
 * The smallest image already in memory that covers plan i: the base, or the resized image of an
 * earlier preset (not a stretched "fill" one, whose aspect differs). Deriving 320 from 640
 * rather than from 1080 keeps every resize small.
 */
static VipsImage *pick_source(VipsImage *base, VipsImage *const *made,
                              const struct img_preset *presets, const struct img_geometry *plans,
                              int i)
{
    VipsImage *best = base;
    for (int j = 0; j < i; j++) {
        VipsImage *m = made[j];
        if (m == NULL || presets[j].fit == IMG_FIT_FILL || m->Xsize < plans[i].resize_w ||
            m->Ysize < plans[i].resize_h)
            continue;
        if ((double)m->Xsize * m->Ysize < (double)best->Xsize * best->Ysize)
            best = m;
    }
    return best;
}

static enum err_code plan_all(const struct img_probe *probe, const struct img_preset *presets,
                              int n, struct img_geometry *plans, struct img_error *e)
{
    if (n < 1 || n > IMG_PRESET_MAX)
        return img_fail(e, IMG_R_INVALID_OPTION, "1..%d presets per call", IMG_PRESET_MAX);
    int dw = img_probe_display_width(probe), dh = img_probe_display_height(probe);
    if (dw < 1 || dh < 1)
        return img_fail(e, IMG_R_CORRUPT_IMAGE, "image has no pixels");
    for (int i = 0; i < n; i++) {
        enum err_code rc = img_preset_validate(&presets[i], e);
        if (rc != ERR_OK)
            return rc;
        img_plan(&presets[i], dw, dh, &plans[i]);
    }
    return ERR_OK;
}

enum err_code img_variants_make(const void *buf, size_t len, const struct img_probe *probe,
                                const struct img_preset *presets, int n, struct img_variants *out,
                                struct img_pixels *thumb, struct img_error *e)
{
    enum err_code rc = ERR_OK;
    struct img_geometry plans[IMG_PRESET_MAX];
    VipsObject *pool = NULL;
    VipsImage *base = NULL, *made[IMG_PRESET_MAX] = {NULL};
    memset(out, 0, sizeof(*out));
    if (thumb != NULL)
        memset(thumb, 0, sizeof(*thumb));
    if ((rc = plan_all(probe, presets, n, plans, e)) != ERR_OK)
        return rc;
    pool = VIPS_OBJECT(vips_image_new());
    bool many = n > 1 || thumb != NULL;
    if (decode_base(pool, buf, len, probe, plans, n, many, &base)) {
        rc = img_fail_vips(e, IMG_R_CORRUPT_IMAGE, "cannot decode the image");
        goto cleanup;
    }
    for (int i = 0; i < n; i++, out->count++) {
        enum img_format fmt = img_output_format(presets[i].format, probe->format);
        VipsImage *src = pick_source(base, made, presets, plans, i);
        if (make_one(pool, src, &presets[i], &plans[i], fmt, many ? &made[i] : NULL,
                     &out->items[i])) {
            rc = img_fail_vips(e, IMG_R_CORRUPT_IMAGE, "cannot make the variants");
            goto cleanup;
        }
    }
    if (thumb != NULL && make_thumb(pool, base, thumb)) {
        rc = img_fail_vips(e, IMG_R_INTERNAL, "cannot make the placeholder image");
        goto cleanup;
    }
cleanup:
    if (rc != ERR_OK) {
        img_variants_free(out);
        img_pixels_free(thumb);
    }
    g_object_unref(pool);
    return rc;
}

enum err_code img_placeholder_pixels(const void *buf, size_t len, const struct img_probe *probe,
                                     struct img_pixels *px, struct img_error *e)
{
    enum err_code rc = ERR_OK;
    VipsObject *pool = VIPS_OBJECT(vips_image_new());
    VipsImage *base = NULL;
    memset(px, 0, sizeof(*px));
    if (decode_at(pool, buf, len, probe, IMG_PLACEHOLDER_SIDE, IMG_PLACEHOLDER_SIDE, false,
                  &base) ||
        make_thumb(pool, base, px))
        rc = img_fail_vips(e, IMG_R_CORRUPT_IMAGE, "cannot decode the image");
    g_object_unref(pool);
    return rc;
}

void img_variants_free(struct img_variants *v)
{
    if (v == NULL)
        return;
    for (int i = 0; i < v->count && i < IMG_PRESET_MAX; i++)
        g_free(v->items[i].data);
    memset(v, 0, sizeof(*v));
}

void img_pixels_free(struct img_pixels *p)
{
    if (p == NULL)
        return;
    g_free(p->rgba);
    memset(p, 0, sizeof(*p));
}
