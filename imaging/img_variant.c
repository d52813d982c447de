/*
 * img_variant.c: the decode-once variant pipeline. See img_variant.h.
 *
 * Steps: plan every preset and what each output is made from -> decode once at the largest
 * size needed (JPEG: libjpeg shrink-on-load; others: vips_thumbnail_buffer), as stored, 8-bit
 * sRGB, kept in memory only when more than one output reads it -> per preset: downsize and turn
 * upright in one step (img_vips_reduce_upright: the EXIF rotation is done on the small image),
 * from the smallest earlier result that covers it, then crop or pad, flatten or keep alpha,
 * encode with metadata stripped. libvips intermediates live in a per-call reference pool
 * (vips_object_local_array) released once on the way out.
 */
#include "imaging/img_variant.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <vips/vips.h>

#include "imaging/img_privacy.h"
#include "imaging/img_vips_internal.h"

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

/* Whether a JPEG decoded as `im` needs libvips' colour management (thumbnail's ICC import and
 * sRGB export): CMYK, an embedded profile, or more than 8 bits. Plain sRGB or grey does not. */
static bool needs_colour(VipsImage *im)
{
    VipsInterpretation in = vips_image_get_interpretation(im);
    return vips_image_get_typeof(im, VIPS_META_ICC_NAME) != 0 ||
           vips_image_get_format(im) != VIPS_FORMAT_UCHAR ||
           (in != VIPS_INTERPRETATION_sRGB && in != VIPS_INTERPRETATION_B_W);
}

/*
 * Decodes once to at least bw x bh (display orientation) as 8-bit sRGB, still as stored (the
 * EXIF orientation is applied later, to the smaller resized images). JPEG: libjpeg's
 * shrink-on-load only; the rest of the reduction is left to img_vips_reduce_upright, and
 * vips_thumbnail_image at the same size does the colour management when there is any to do.
 * Other formats: vips_thumbnail_buffer to fit (WebP and HEIF scale on load there). `keep`: the
 * base is read more than once, so it is kept in memory; otherwise it streams (`*seq`).
 */
static int decode_at(VipsObject *pool, const void *buf, size_t len, const struct img_probe *pr,
                     int bw, int bh, bool keep, VipsImage **base, bool *seq)
{
    VipsImage **t = (VipsImage **)vips_object_local_array(pool, POOL_BASE);
    int s = pr->format == IMG_FMT_JPEG
                ? jpeg_shrink(img_probe_display_width(pr), img_probe_display_height(pr), bw, bh)
                : 0;
    bool swap = pr->orientation >= 5 && pr->orientation <= 8; /* targets as stored */
    int tw = swap ? bh : bw, th = swap ? bw : bh;
    tw = tw < 1 ? 1 : tw;
    th = th < 1 ? 1 : th;
    VipsImage *im = NULL;
    if (s > 0) {
        if (vips_jpegload_buffer((void *)buf, len, &t[3], "shrink", s, "access",
                                 VIPS_ACCESS_SEQUENTIAL, "fail_on", VIPS_FAIL_ON_TRUNCATED, NULL))
            return -1;
        im = t[3];
        if (needs_colour(im)) {
            img_vips_orc_lock();
            int r = vips_thumbnail_image(t[3], &t[0], t[3]->Xsize, "height", t[3]->Ysize, "size",
                                         VIPS_SIZE_DOWN, "no_rotate", TRUE, NULL);
            img_vips_orc_unlock();
            if (r)
                return -1;
        }
    } else {
        img_vips_orc_lock();
        int r =
            vips_thumbnail_buffer((void *)buf, len, &t[0], tw, "height", th, "size", VIPS_SIZE_DOWN,
                                  "no_rotate", TRUE, "option_string", "fail_on=truncated", NULL);
        img_vips_orc_unlock();
        if (r)
            return -1;
    }
    im = t[0] ? t[0] : im;
    if (vips_image_get_interpretation(im) != VIPS_INTERPRETATION_sRGB ||
        vips_image_get_format(im) != VIPS_FORMAT_UCHAR) {
        if (vips_colourspace(im, &t[1], VIPS_INTERPRETATION_sRGB, NULL) ||
            vips_cast_uchar(t[1], &t[2], NULL))
            return -1;
        im = t[2];
    }
    *seq = !keep;
    if (keep && !(im = t[4] = vips_image_copy_memory(im)))
        return -1;
    *base = im;
    return 0;
}

/* Decodes once at the size the largest plan needs. */
static int decode_base(VipsObject *pool, const void *buf, size_t len, const struct img_probe *pr,
                       const struct img_geometry *plans, int n, bool keep, VipsImage **base,
                       bool *seq)
{
    int dw = img_probe_display_width(pr), dh = img_probe_display_height(pr);
    double need = 0;
    for (int i = 0; i < n; i++) {
        double s = fmax((double)plans[i].resize_w / dw, (double)plans[i].resize_h / dh);
        need = fmax(need, s);
    }
    if (need > 1)
        need = 1; /* enlarging happens per variant, from the full-size decode */
    return decode_at(pool, buf, len, pr, (int)ceil(dw * need), (int)ceil(dh * need), keep, base,
                     seq);
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
        img_vips_orc_lock();
        r = vips_smartcrop(t[0], &t[1], g->out_w, g->out_h, "interesting",
                           VIPS_INTERESTING_ATTENTION, NULL);
        img_vips_orc_unlock();
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

/* What an output is made from: the decoded base (as stored: `orient` still to apply; `seq` when
 * it streams from the loader) or an earlier variant's resized image (upright, in memory). */
struct source {
    VipsImage *im;
    int orient;
    bool seq;
};

/* libvips' and sharp's default kernel, for every reduction: cheaper ones (linear, mitchell) save
 * ~10 ms a photo but lose ~9 dB PSNR at 1080 against a full-resolution lanczos3 reference
 * (docs/imaging.md), a visible softening. */
#define VARIANT_KERNEL VIPS_KERNEL_LANCZOS3

/*
 * Makes one variant from `src`. When `made` is not NULL the resized (pre-crop) image is kept in
 * memory there, so smaller presets can be derived from it instead of from the larger base.
 */
static int make_one(VipsObject *pool, const struct source *src, const struct img_preset *p,
                    const struct img_geometry *g, enum img_format fmt, VipsImage **made,
                    struct img_variant *v)
{
    VipsImage **t = (VipsImage **)vips_object_local_array(pool, POOL_PER_VAR);
    VipsImage *a = NULL, *b = NULL;
    bool keep_alpha = fmt != IMG_FMT_JPEG;
    if (img_vips_reduce_upright(pool, src->im, src->orient, g->resize_w, g->resize_h,
                                VARIANT_KERNEL, src->seq, &a))
        return -1;
    /* kept for later outputs: in memory, unless it already is (the base, when not streamed) */
    if (made != NULL && (a != src->im || src->seq) && !(a = t[7] = vips_image_copy_memory(a)))
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

/* The placeholder size for a dw x dh (display) image: fits IMG_PLACEHOLDER_SIDE, never larger. */
static void thumb_size(int dw, int dh, int *w, int *h)
{
    double s =
        fmin(1.0, fmin((double)IMG_PLACEHOLDER_SIDE / dw, (double)IMG_PLACEHOLDER_SIDE / dh));
    *w = clamp_side(dw * s);
    *h = clamp_side(dh * s);
}

/* `src` scaled to w x h, upright, as packed RGBA bytes for placeholders. */
static int make_thumb(VipsObject *pool, const struct source *src, int w, int h,
                      struct img_pixels *px)
{
    VipsImage **t = (VipsImage **)vips_object_local_array(pool, 2);
    VipsImage *a = NULL;
    if (img_vips_reduce_upright(pool, src->im, src->orient, w, h, VARIANT_KERNEL, src->seq, &a))
        return -1;
    if (!vips_image_hasalpha(a)) {
        if (vips_bandjoin_const1(a, &t[0], 255, NULL))
            return -1;
        a = t[0];
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
 * Which image plan i (or, with i == n, the placeholder of tw x th) is made from: -1 for the
 * decoded base, or the smallest earlier resized image that covers it (not a stretched "fill"
 * one, whose aspect differs; not one enlarged beyond the source dw x dh). Deriving 320 from 640
 * rather than from 1080 keeps every resize small.
 */
static int pick_source(const struct img_preset *presets, const struct img_geometry *plans, int i,
                       int w, int h, int dw, int dh)
{
    int best = -1;
    double best_area = (double)dw * dh;
    for (int j = 0; j < i; j++) {
        const struct img_geometry *g = &plans[j];
        double area = (double)g->resize_w * g->resize_h;
        if (presets[j].fit == IMG_FIT_FILL || g->resize_w < w || g->resize_h < h ||
            area >= best_area)
            continue;
        best = j;
        best_area = area;
    }
    return best;
}

/* Sources of every plan (from[0..n-1]) and of the placeholder (from[n]; -2 when none), and
 * how many outputs read each resized image (reads[0..n-1]) and the base (*base_reads). */
static void plan_sources(const struct img_preset *presets, const struct img_geometry *plans, int n,
                         const struct img_probe *pr, bool thumb, int *from, int *reads,
                         int *base_reads)
{
    int dw = img_probe_display_width(pr), dh = img_probe_display_height(pr), tw = 0, th = 0;
    *base_reads = 0;
    for (int i = 0; i <= n; i++) {
        if (i < n)
            reads[i] = 0;
        if (i == n && !thumb) {
            from[n] = -2;
            break;
        }
        if (i == n)
            thumb_size(dw, dh, &tw, &th);
        from[i] = i < n
                      ? pick_source(presets, plans, i, plans[i].resize_w, plans[i].resize_h, dw, dh)
                      : pick_source(presets, plans, n, tw, th, dw, dh);
        if (from[i] < 0)
            (*base_reads)++;
        else
            reads[from[i]]++;
    }
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

static enum err_code variants_make(const void *buf, size_t len, const struct img_probe *probe,
                                   const struct img_preset *presets, int n,
                                   struct img_variants *out, struct img_pixels *thumb,
                                   struct img_error *e)
{
    enum err_code rc = ERR_OK;
    struct img_geometry plans[IMG_PRESET_MAX];
    int from[IMG_PRESET_MAX + 1], reads[IMG_PRESET_MAX], base_reads = 0;
    VipsObject *pool = NULL;
    VipsImage *made[IMG_PRESET_MAX] = {NULL};
    struct source base = {.orient = probe->orientation};
    memset(out, 0, sizeof(*out));
    if (thumb != NULL)
        memset(thumb, 0, sizeof(*thumb));
    if ((rc = plan_all(probe, presets, n, plans, e)) != ERR_OK)
        return rc;
    plan_sources(presets, plans, n, probe, thumb != NULL, from, reads, &base_reads);
    pool = VIPS_OBJECT(vips_image_new());
    if (decode_base(pool, buf, len, probe, plans, n, base_reads > 1, &base.im, &base.seq)) {
        rc = img_fail_vips(e, IMG_R_CORRUPT_IMAGE, "cannot decode the image");
        goto cleanup;
    }
    for (int i = 0; i < n; i++, out->count++) {
        enum img_format fmt = img_output_format(presets[i].format, probe->format);
        struct source mine = {.im = from[i] < 0 ? NULL : made[from[i]], .orient = 1};
        if (make_one(pool, from[i] < 0 ? &base : &mine, &presets[i], &plans[i], fmt,
                     reads[i] > 0 ? &made[i] : NULL, &out->items[i])) {
            rc = img_fail_vips(e, IMG_R_CORRUPT_IMAGE, "cannot make the variants");
            goto cleanup;
        }
    }
    if (thumb != NULL) {
        int tw = 0, th = 0;
        struct source mine = {.im = from[n] < 0 ? NULL : made[from[n]], .orient = 1};
        thumb_size(img_probe_display_width(probe), img_probe_display_height(probe), &tw, &th);
        if (make_thumb(pool, from[n] < 0 ? &base : &mine, tw, th, thumb)) {
            rc = img_fail_vips(e, IMG_R_INTERNAL, "cannot make the placeholder image");
            goto cleanup;
        }
    }
cleanup:
    if (rc != ERR_OK) {
        img_variants_free(out);
        img_pixels_free(thumb);
    }
    img_vips_orc_lock(); /* frees the calls' Orc programs */
    g_object_unref(pool);
    img_vips_orc_unlock();
    return rc;
}

static enum err_code placeholder_pixels(const void *buf, size_t len, const struct img_probe *probe,
                                        struct img_pixels *px, struct img_error *e)
{
    enum err_code rc = ERR_OK;
    VipsObject *pool = VIPS_OBJECT(vips_image_new());
    struct source base = {.orient = probe->orientation};
    int tw = 0, th = 0;
    memset(px, 0, sizeof(*px));
    thumb_size(img_probe_display_width(probe), img_probe_display_height(probe), &tw, &th);
    if (decode_at(pool, buf, len, probe, tw, th, false, &base.im, &base.seq) ||
        make_thumb(pool, &base, tw, th, px))
        rc = img_fail_vips(e, IMG_R_CORRUPT_IMAGE, "cannot decode the image");
    img_vips_orc_lock(); /* frees the calls' Orc programs */
    g_object_unref(pool);
    img_vips_orc_unlock();
    return rc;
}

/* The two entry points' arguments and answer, for img_vips_on_worker. */
struct call {
    const void *buf;
    size_t len;
    const struct img_probe *probe;
    const struct img_preset *presets;
    int n;
    struct img_variants *out;
    struct img_pixels *px;
    struct img_error *e;
    enum err_code rc;
};

static void call_variants_make(void *arg)
{
    struct call *c = arg;
    c->rc = variants_make(c->buf, c->len, c->probe, c->presets, c->n, c->out, c->px, c->e);
}

static void call_placeholder_pixels(void *arg)
{
    struct call *c = arg;
    c->rc = placeholder_pixels(c->buf, c->len, c->probe, c->px, c->e);
}

enum err_code img_variants_make(const void *buf, size_t len, const struct img_probe *probe,
                                const struct img_preset *presets, int n, struct img_variants *out,
                                struct img_pixels *thumb, struct img_error *e)
{
    struct call c = {buf, len, probe, presets, n, out, thumb, e, ERR_OK};
    img_vips_on_worker(call_variants_make, &c);
    return c.rc;
}

enum err_code img_placeholder_pixels(const void *buf, size_t len, const struct img_probe *probe,
                                     struct img_pixels *px, struct img_error *e)
{
    struct call c = {buf, len, probe, NULL, 0, NULL, px, e, ERR_OK};
    img_vips_on_worker(call_placeholder_pixels, &c);
    return c.rc;
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
