/*
 * img_vips.c: libvips helpers shared inside imaging/: opening a buffer with the loader of its
 * sniffed format only, and the downsizing step of the variant pipeline (a separable reduce whose
 * horizontal pass runs on the transposed image, see img_vips_reduce_upright), with its own quarter
 * turns: strip by strip into memory as the reduced image is produced (`turn`). See
 * img_vips_internal.h.
 */
#include "imaging/img_vips_internal.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

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

static pthread_mutex_t orc_mu = PTHREAD_MUTEX_INITIALIZER;

void img_vips_orc_lock(void)
{
    pthread_mutex_lock(&orc_mu);
}

void img_vips_orc_unlock(void)
{
    pthread_mutex_unlock(&orc_mu);
}

struct on_worker {
    void (*fn)(void *arg);
    void *arg;
};

static gpointer on_worker_main(gpointer p)
{
    struct on_worker *w = p;
    w->fn(w->arg);
    return NULL;
}

void img_vips_on_worker(void (*fn)(void *arg), void *arg)
{
    struct on_worker w = {fn, arg};
    if (vips_thread_isvips()) {
        fn(arg);
        return;
    }
    GThread *t = vips_g_thread_new("imgsvc-imaging", on_worker_main, &w);
    if (t == NULL) {
        vips_error_clear(); /* the failed start's message is not the image's */
        fn(arg);
        return;
    }
    g_thread_join(t); /* also drops the thread's reference */
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

/* Lines of the source computed and turned at a time: a few hundred KB for a phone photo. */
#define TURN_STRIP_LINES 64

/* One strip of the source being turned into the memory image `out` (see turn_rows). */
struct turn_ctx {
    VipsImage *out;
    int q;
};

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* The 3 bytes at `p` as the low bytes of a word. Reads one byte more: `p` must not be the last
 * pixel of its row. */
static inline uint64_t px3(const VipsPel *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v & 0xFFFFFFu;
}

/*
 * Writes the 3-byte pixels at `s`, `s` + lskip, ... (one source column, n rows) as a run on one
 * destination line starting at `d`, going backwards (`desc`) or forwards; four pixels per step
 * with two stores instead of eight. Returns how many pixels it wrote (a multiple of 4).
 */
static int run3(const VipsPel *s, size_t lskip, int n, VipsPel *d, bool desc)
{
    int i = 0;
    for (; i + 4 <= n; i += 4, s += 4 * lskip) {
        uint64_t a = px3(s), b = px3(s + lskip), c = px3(s + 2 * lskip), e = px3(s + 3 * lskip);
        if (desc) { /* rows i+3, i+2, i+1, i from d - 3(i+3) on */
            uint64_t lo = e | c << 24 | b << 48;
            uint32_t hi = (uint32_t)(b >> 16) | (uint32_t)a << 8;
            memcpy(d - 3 * (i + 3), &lo, 8);
            memcpy(d - 3 * (i + 3) + 8, &hi, 4);
        } else {
            uint64_t lo = a | b << 24 | c << 48;
            uint32_t hi = (uint32_t)(c >> 16) | (uint32_t)e << 8;
            memcpy(d + 3 * i, &lo, 8);
            memcpy(d + 3 * i + 8, &hi, 4);
        }
    }
    return i;
}
#endif

/*
 * Copies the source rows y0 .. y0+n-1 (`p`, `lskip` bytes apart, `w` pixels of `ps` bytes each)
 * of a w x h image into `out` turned clockwise by q (1..3) quarter turns: source (x, y) goes to
 * (h-1-y, x) for one turn, (w-1-x, h-1-y) for two, (y, w-1-x) for three. For quarter turns each
 * source column becomes a run of n pixels on one destination line, written in order.
 */
static void turn_rows(const VipsPel *p, size_t lskip, int y0, int n, int w, int h, int q, int ps,
                      VipsImage *out)
{
    ptrdiff_t ol = (ptrdiff_t)VIPS_IMAGE_SIZEOF_LINE(out);
    ptrdiff_t step = q == 1 ? -ps : q == 3 ? ps : -ol; /* from (x, y) to (x, y + 1) */
    VipsPel *base = VIPS_IMAGE_ADDR(out, 0, 0);
    for (int x = 0; x < w; x++) {
        const VipsPel *s = p + (size_t)x * ps;
        VipsPel *d = base + (q == 1   ? x * ol + (ptrdiff_t)(h - 1 - y0) * ps
                             : q == 3 ? (w - 1 - x) * ol + (ptrdiff_t)y0 * ps
                                      : (h - 1 - y0) * ol + (ptrdiff_t)(w - 1 - x) * ps);
        int i = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        if (ps == 3 && q != 2 && x < w - 1)
            i = run3(s, lskip, n, d, q == 1);
#endif
        for (; i < n; i++)
            memcpy(d + i * step, s + (size_t)i * lskip, (size_t)ps);
    }
}

/* Turns the strip `area` of the source (full width, in order), computed in `region`. */
static void turn_strip(VipsRegion *region, const VipsRect *area, const struct turn_ctx *c)
{
    VipsImage *in = region->im;
    const VipsPel *p = VIPS_REGION_ADDR(region, area->left, area->top);
    size_t lskip = VIPS_REGION_LSKIP(region);
    int ps = (int)VIPS_IMAGE_SIZEOF_PEL(in);
    /* constant pixel sizes let the compiler make each copy plain loads and stores */
    if (ps == 3)
        turn_rows(p, lskip, area->top, area->height, in->Xsize, in->Ysize, c->q, 3, c->out);
    else if (ps == 4)
        turn_rows(p, lskip, area->top, area->height, in->Xsize, in->Ysize, c->q, 4, c->out);
    else
        turn_rows(p, lskip, area->top, area->height, in->Xsize, in->Ysize, c->q, ps, c->out);
}

/* The "postclose" handler of a turned image: frees its pixels. */
static void free_pixels(VipsImage *im, gpointer pixels)
{
    (void)im;
    g_free(pixels);
}

/*
 * `*out` (t[0]) = `in` turned clockwise by `q` quarter turns, in memory. `in` is read once, top
 * to bottom (a sequential load or a lazy reduction is fine), and each strip is turned as it
 * arrives: libvips' vips_rot builds its output from a column of the input per line, pixel by
 * pixel, which costs several times more, and a lazy turn would also need the source in memory
 * first. The strips are computed on the calling thread (vips_region_prepare), not through a
 * sink: the work is sequential anyway (one libvips thread per image), and a sink would hand
 * every strip to a worker thread and back. Metadata is not carried over (outputs drop it
 * anyway).
 */
static int turn(VipsImage *in, int q, VipsImage **t, VipsImage **out)
{
    struct turn_ctx c = {.q = q % 4};
    bool odd = c.q % 2 == 1;
    *out = in;
    if (c.q == 0)
        return 0;
    int ow = odd ? in->Ysize : in->Xsize, oh = odd ? in->Xsize : in->Ysize;
    size_t size = VIPS_IMAGE_SIZEOF_PEL(in) * (size_t)ow * (size_t)oh;
    /* every byte is written below, so not zeroed (vips_image_write_prepare's memory is, by
     * vips_tracked_malloc: ~20 MB a photo for nothing); freed when the image closes */
    void *pixels = g_try_malloc(size);
    if (pixels == NULL) {
        vips_error("imgsvc", "out of memory for a %d x %d turn", ow, oh);
        return -1;
    }
    t[0] = c.out = vips_image_new_from_memory(pixels, size, ow, oh, in->Bands, in->BandFmt);
    if (c.out == NULL) {
        g_free(pixels);
        return -1;
    }
    g_signal_connect(c.out, "postclose", G_CALLBACK(free_pixels), pixels);
    c.out->Coding = in->Coding;
    c.out->Type = in->Type;
    c.out->Xres = odd ? in->Yres : in->Xres;
    c.out->Yres = odd ? in->Xres : in->Yres;
    VipsRegion *region = vips_region_new(in);
    int r = 0;
    for (int top = 0; r == 0 && top < in->Ysize; top += TURN_STRIP_LINES) {
        VipsRect area = {0, top, in->Xsize, VIPS_MIN(TURN_STRIP_LINES, in->Ysize - top)};
        r = vips_region_prepare(region, &area);
        if (r == 0)
            turn_strip(region, &area, &c);
    }
    g_object_unref(region);
    if (r)
        return -1;
    *out = c.out;
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
    if (sw != in->Xsize || sh != in->Ysize) {
        img_vips_orc_lock();
        int r = vips_resize(in, &t[0], (double)sw / in->Xsize, "vscale", (double)sh / in->Ysize,
                            "kernel", kernel, NULL);
        img_vips_orc_unlock();
        if (r)
            return -1;
    }
    a = t[0] ? t[0] : in;
    if (exact(a, sw, sh, t + 1, &a))
        return -1;
    /* a rotation reads out of order, which a sequential load cannot serve */
    if (turned && seq && !(a = t[3] = vips_image_copy_memory(a)))
        return -1;
    *out = a;
    return turned ? autorot_tag(a, o, t + 4, out) : 0;
}

/* vips_reducev under the Orc lock (its build compiles the Orc programs; the work comes later). */
static int reducev(VipsImage *in, VipsImage **out, double vshrink, VipsKernel kernel)
{
    img_vips_orc_lock();
    int r = vips_reducev(in, out, vshrink, "kernel", kernel, NULL);
    img_vips_orc_unlock();
    return r;
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
    /* pass 1, vertical as stored, streamed straight into the transpose: a quarter turn (three
     * for orientation 8, so that it is the orientation), which reads it once in order */
    VipsImage *a = in;
    if (sh != in->Ysize && reducev(in, &t[0], vs, kernel))
        return -1;
    a = t[0] ? t[0] : in;
    int first = o == 8 ? 3 : 1, q = quarter_turns(o);
    if (turn(a, first, &t[2], &a) || reducev(a, &t[3], (double)a->Ysize / sw, kernel))
        return -1;
    a = t[3];
    int left = mirrored_tag(o) ? 4 - first : q - first + 4;
    /* what is left to turn upright (into memory); mirrored orientations go back as stored, then
     * autorot */
    if (turn(a, left, &t[4], &a) || (mirrored_tag(o) && autorot_tag(a, o, t + 5, &a)))
        return -1;
    return exact(a, w, h, t + 7, out);
}
