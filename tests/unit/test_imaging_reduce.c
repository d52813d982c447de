/*
 * Unit tests for img_vips_reduce_upright (imaging/img_vips_internal.h), the downsizing step of
 * the variant pipeline: for every EXIF orientation and a few reduction factors, its output has
 * exactly the asked size and matches the plain libvips way (vips_resize with lanczos3, then
 * vips_autorot) to within rounding: PSNR >= REDUCE_MIN_PSNR_DB over the pixels.
 */
#include "t.h"

#include <math.h>

#include <vips/vips.h>

#include "imaging/img_init.h"
#include "imaging/img_vips_internal.h"

/* The transposed passes round differently from vips_reduce; a real difference (another
 * kernel, a wrong turn) is far below this: linear instead of lanczos3 gives ~37 dB here. */
#define REDUCE_MIN_PSNR_DB 45.0

/* A w x h 3-band uchar test picture with detail in both directions (in memory). */
static VipsImage *picture(int w, int h)
{
    struct err e = {0};
    VipsImage *t[6] = {NULL};
    VipsImage *out = NULL;
    if (img_global_init(NULL, &e) != ERR_OK ||
        vips_sines(&t[0], w, h, "hfreq", 7.0, "vfreq", 3.0, NULL) || vips_xyz(&t[1], w, h, NULL) ||
        vips_linear1(t[0], &t[2], 60, 128, NULL) || vips_bandjoin2(t[2], t[1], &t[3], NULL) ||
        vips_cast_uchar(t[3], &t[4], NULL))
        goto cleanup;
    out = vips_image_copy_memory(t[4]);
cleanup:
    for (int i = 0; i < 6; i++)
        if (t[i])
            g_object_unref(t[i]);
    return out;
}

static double psnr(VipsImage *a, VipsImage *b)
{
    VipsImage *d = NULL, *sq = NULL;
    double mean = -1;
    if (vips_subtract(a, b, &d, NULL) || vips_multiply(d, d, &sq, NULL) ||
        vips_avg(sq, &mean, NULL))
        mean = -1;
    if (d)
        g_object_unref(d);
    if (sq)
        g_object_unref(sq);
    return mean < 0 ? 0 : 10 * log10(255.0 * 255 / (mean > 1e-9 ? mean : 1e-9));
}

/* The reference: vips_resize to the stored size, then vips_autorot with tag o. */
static VipsImage *reference(VipsImage *in, int o, int w, int h)
{
    bool swap = o >= 5 && o <= 8;
    int sw = swap ? h : w, sh = swap ? w : h;
    VipsImage *r = NULL, *c = NULL, *out = NULL;
    if (vips_resize(in, &r, (double)sw / in->Xsize, "vscale", (double)sh / in->Ysize, NULL) == 0 &&
        vips_copy(r, &c, NULL) == 0) {
        vips_image_set_int(c, VIPS_META_ORIENTATION, o);
        if (vips_autorot(c, &out, NULL))
            out = NULL;
    }
    if (r)
        g_object_unref(r);
    if (c)
        g_object_unref(c);
    return out;
}

/* Checks one case: `in` (as stored) to w x h upright under orientation o. */
static void check_case(VipsImage *in, int o, int w, int h, bool seq)
{
    VipsObject *pool = VIPS_OBJECT(vips_image_new());
    VipsImage *got = NULL, *ref = reference(in, o, w, h);
    REQUIRE(ref != NULL);
    CHECK_INT(img_vips_reduce_upright(pool, in, o, w, h, VIPS_KERNEL_LANCZOS3, seq, &got), 0);
    REQUIRE(got != NULL);
    CHECK_INT(got->Xsize, w);
    CHECK_INT(got->Ysize, h);
    if (got->Xsize == ref->Xsize && got->Ysize == ref->Ysize) {
        double db = psnr(got, ref);
        if (db < REDUCE_MIN_PSNR_DB)
            fprintf(stderr, "orientation %d, %dx%d -> %dx%d: %.1f dB\n", o, in->Xsize, in->Ysize, w,
                    h, db);
        CHECK(db >= REDUCE_MIN_PSNR_DB);
    }
    g_object_unref(ref);
    g_object_unref(pool);
}

TEST(every_orientation_matches_resize_then_autorot)
{
    VipsImage *in = picture(403, 302);
    REQUIRE(in != NULL);
    for (int o = 1; o <= 8; o++) {
        bool swap = o >= 5;
        check_case(in, o, swap ? 160 : 216, swap ? 216 : 162, false); /* ~1.87x, as 2016->1080 */
        check_case(in, o, swap ? 120 : 160, swap ? 160 : 120, true);
    }
    g_object_unref(in);
}

TEST(large_factors_and_single_axis_and_no_change)
{
    VipsImage *in = picture(403, 302);
    REQUIRE(in != NULL);
    check_case(in, 6, 30, 40, false);   /* factor > IMG_REDUCE_MAX: vips_resize, then the turn */
    check_case(in, 1, 403, 150, false); /* vertical only */
    check_case(in, 1, 200, 302, false); /* horizontal only */
    check_case(in, 3, 403, 302, true);  /* no resize, only the turn (streamed input) */
    check_case(in, 1, 403, 302, false); /* nothing at all */
    g_object_unref(in);
}

TEST(enlarging_goes_through_vips_resize)
{
    VipsImage *in = picture(100, 80);
    REQUIRE(in != NULL);
    check_case(in, 8, 160, 250, false);
    g_object_unref(in);
}

TEST(one_and_four_band_images_turn_like_three)
{
    /* the quarter turns copy whole pixels of any size; 3-band pixels take a packed path */
    VipsImage *in = picture(403, 302), *grey = NULL, *rgba = NULL;
    REQUIRE(in != NULL);
    REQUIRE(vips_extract_band(in, &grey, 0, NULL) == 0);
    REQUIRE(vips_bandjoin_const1(in, &rgba, 200, NULL) == 0);
    for (int o = 1; o <= 8; o++) {
        bool swap = o >= 5;
        check_case(grey, o, swap ? 160 : 216, swap ? 216 : 162, false);
        check_case(rgba, o, swap ? 160 : 216, swap ? 216 : 162, true);
    }
    g_object_unref(grey);
    g_object_unref(rgba);
    g_object_unref(in);
}

TEST_MAIN()
