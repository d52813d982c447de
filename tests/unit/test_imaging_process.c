/*
 * Unit tests for imaging/ entry points (img_process, img_info, img_resize) on small images
 * made by libvips: variant sizes and formats, the multipart policy, option errors, limits, and
 * the libvips thread the pixel work runs on (img_vips_on_worker).
 */
#include "t.h"

#include <vips/vips.h>

#include <pthread.h>

#include "imaging/img_init.h"
#include "imaging/img_process.h"
#include "imaging/img_vips_internal.h"

/* A w x h gradient JPEG (RGB), or PNG (RGBA). Caller g_free()s. */
static void *make_image(int w, int h, bool png, size_t *len)
{
    struct err e = {0};
    VipsImage *t[4] = {NULL, NULL, NULL, NULL};
    void *out = NULL;
    if (img_global_init(NULL, &e) != ERR_OK || vips_xyz(&t[0], w, h, NULL) ||
        vips_cast_uchar(t[0], &t[1], NULL) || vips_bandjoin_const1(t[1], &t[2], 128, NULL) ||
        vips_bandjoin_const1(t[2], &t[3], 200, NULL))
        goto cleanup;
    if (png ? vips_pngsave_buffer(t[3], &out, len, NULL)
            : vips_jpegsave_buffer(t[2], &out, len, NULL))
        out = NULL;
cleanup:
    for (int i = 0; i < 4; i++)
        if (t[i])
            g_object_unref(t[i]);
    return out;
}

static const struct img_preset presets[] = {
    {"big", 200, 0, IMG_FIT_INSIDE, IMG_GRAVITY_CENTRE, IMG_OUT_SAME, 80, false},
    {"sq", 50, 50, IMG_FIT_COVER, IMG_GRAVITY_ATTENTION, IMG_OUT_WEBP, 70, false},
    {"pad", 64, 64, IMG_FIT_CONTAIN, IMG_GRAVITY_CENTRE, IMG_OUT_PNG, 80, false},
};

TEST(process_makes_every_variant_facts_and_origin)
{
    size_t len = 0;
    void *jpg = make_image(300, 150, false, &len);
    REQUIRE(jpg != NULL);
    struct img_result r;
    struct img_error e = {0};
    REQUIRE(img_process(jpg, len, NULL, presets, 3, &r, &e) == ERR_OK);
    CHECK(!r.multipart_unwrapped);
    CHECK_INT(r.variants.count, 3);
    CHECK_INT(r.variants.items[0].format, IMG_FMT_JPEG);
    CHECK_INT(r.variants.items[0].width, 200);
    CHECK_INT(r.variants.items[0].height, 100);
    CHECK_INT(r.variants.items[1].format, IMG_FMT_WEBP);
    CHECK_INT(r.variants.items[1].width, 50);
    CHECK_INT(r.variants.items[1].height, 50);
    CHECK_INT(r.variants.items[2].format, IMG_FMT_PNG);
    CHECK_INT(r.variants.items[2].width, 64);
    CHECK_INT(r.variants.items[2].height, 64);
    for (int i = 0; i < 3; i++)
        CHECK_INT(img_sniff(r.variants.items[i].data, r.variants.items[i].len),
                  r.variants.items[i].format);
    CHECK_INT(r.facts.width, 300);
    CHECK_INT(r.facts.height, 150);
    CHECK(r.facts.placeholders);
    CHECK_INT(r.origin_format, IMG_FMT_JPEG);
    CHECK_INT(r.origin_len, len);
    img_result_free(&r);
    CHECK(r.origin == NULL);
    g_free(jpg);
}

TEST(multipart_envelope_recovered_or_refused)
{
    size_t len = 0;
    void *jpg = make_image(64, 64, false, &len);
    REQUIRE(jpg != NULL);
    static const char head[] = "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; "
                               "filename=\"a.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n";
    static const char tail[] = "\r\n--XyZ--\r\n";
    size_t n = sizeof(head) - 1 + len + sizeof(tail) - 1;
    char *body = malloc(n);
    memcpy(body, head, sizeof(head) - 1);
    memcpy(body + sizeof(head) - 1, jpg, len);
    memcpy(body + sizeof(head) - 1 + len, tail, sizeof(tail) - 1);
    struct img_result r;
    struct img_error e = {0};
    REQUIRE(img_process(body, n, NULL, presets, 1, &r, &e) == ERR_OK);
    CHECK(r.multipart_unwrapped);
    CHECK_INT(r.origin_len, len); /* the origin is the image, not the envelope */
    img_result_free(&r);
    struct img_job_opts o = img_job_opts_default();
    o.recover_multipart = false;
    CHECK_INT(img_process(body, n, &o, presets, 1, &r, &e), ERR_INVALID);
    CHECK_STR(img_reason_name(e.reason), "multipart_upload");
    CHECK_INT(r.variants.count, 0);
    free(body);
    g_free(jpg);
}

TEST(info_and_resize)
{
    size_t len = 0;
    void *png = make_image(120, 80, true, &len);
    REQUIRE(png != NULL);
    struct img_facts f;
    struct img_error e = {0};
    bool un = true;
    REQUIRE(img_info(png, len, NULL, &f, &un, &e) == ERR_OK);
    CHECK(!un);
    CHECK_INT(f.format, IMG_FMT_PNG);
    CHECK_INT(f.width, 120);
    CHECK(f.has_alpha);
    CHECK_INT(strlen(f.blurhash), 28);
    struct img_preset p = {"r", 60, 60, IMG_FIT_FILL, IMG_GRAVITY_CENTRE, IMG_OUT_AVIF, 50, false};
    struct img_variants v;
    REQUIRE(img_resize(png, len, NULL, &p, &v, NULL, &e) == ERR_OK);
    CHECK_INT(v.count, 1);
    CHECK_INT(v.items[0].width, 60);
    CHECK_INT(v.items[0].height, 60);
    CHECK_INT(img_sniff(v.items[0].data, v.items[0].len), IMG_FMT_AVIF);
    img_variants_free(&v);
    p.quality = 0;
    CHECK_INT(img_resize(png, len, NULL, &p, &v, NULL, &e), ERR_INVALID);
    CHECK_STR(img_reason_name(e.reason), "invalid_option");
    g_free(png);
}

TEST(limits_from_options)
{
    size_t len = 0;
    void *jpg = make_image(300, 200, false, &len);
    REQUIRE(jpg != NULL);
    struct img_job_opts o = img_job_opts_default();
    struct img_result r;
    struct img_error e = {0};
    o.limits.max_pixels = 300 * 200 - 1;
    CHECK_INT(img_process(jpg, len, &o, presets, 1, &r, &e), ERR_TOO_LARGE);
    CHECK_STR(img_reason_name(e.reason), "too_many_pixels");
    o = img_job_opts_default();
    o.limits.max_width = 299;
    CHECK_INT(img_process(jpg, len, &o, presets, 1, &r, &e), ERR_TOO_LARGE);
    CHECK_STR(img_reason_name(e.reason), "dimensions_too_large");
    o = img_job_opts_default();
    o.limits.max_bytes = len - 1;
    CHECK_INT(img_process(jpg, len, &o, presets, 1, &r, &e), ERR_TOO_LARGE);
    CHECK_STR(img_reason_name(e.reason), "too_large_bytes");
    o = img_job_opts_default();
    o.limits.max_frames = 0;
    CHECK_INT(img_process(jpg, len, &o, presets, 1, &r, &e), ERR_INVALID);
    CHECK_INT(img_process(jpg, len, NULL, presets, 0, &r, &e), ERR_INVALID);
    g_free(jpg);
}

TEST(two_steps_give_what_process_gives)
{
    size_t len = 0;
    void *jpg = make_image(300, 150, false, &len);
    REQUIRE(jpg != NULL);
    struct img_result one, two;
    struct img_prepared prep;
    struct img_error e = {0};
    REQUIRE(img_process(jpg, len, NULL, presets, 3, &one, &e) == ERR_OK);
    REQUIRE(img_process_begin(jpg, len, NULL, &prep, &two, &e) == ERR_OK);
    /* the origin exists after the first step, before any decode */
    CHECK(two.origin != NULL);
    CHECK(two.origin_len == one.origin_len && memcmp(two.origin, one.origin, one.origin_len) == 0);
    CHECK_INT(two.variants.count, 0);
    REQUIRE(img_process_finish(&prep, NULL, presets, 3, &two, &e) == ERR_OK);
    CHECK_INT(two.variants.count, 3);
    for (int i = 0; i < 3 && i < two.variants.count; i++)
        CHECK(two.variants.items[i].len == one.variants.items[i].len &&
              memcmp(two.variants.items[i].data, one.variants.items[i].data,
                     one.variants.items[i].len) == 0);
    CHECK(strcmp(two.facts.blurhash, one.facts.blurhash) == 0);
    img_result_free(&one);
    img_result_free(&two);
    /* a body the probe refuses fails in the first step, with nothing made */
    REQUIRE(img_process_begin("not an image", 12, NULL, &prep, &two, &e) != ERR_OK);
    CHECK(two.origin == NULL);
    CHECK_INT(e.reason, IMG_R_UNSUPPORTED_FORMAT);
    g_free(jpg);
}

/* Where img_vips_on_worker ran its function. */
struct where {
    bool isvips;
    pthread_t thread;
};

static void note_thread(void *arg)
{
    struct where *w = arg;
    w->isvips = vips_thread_isvips();
    w->thread = pthread_self();
}

/* img_process on a JPEG from a libvips thread (where img_vips_on_worker runs it in place). */
struct from_vips {
    const void *jpg;
    size_t len;
    struct img_result res;
    enum err_code rc;
    struct where inner;
    pthread_t self;
};

static gpointer process_on_vips_thread(gpointer arg)
{
    struct from_vips *f = arg;
    struct img_error e = {0};
    f->self = pthread_self();
    img_vips_on_worker(note_thread, &f->inner);
    f->rc = img_process(f->jpg, f->len, NULL, presets, 3, &f->res, &e);
    return NULL;
}

TEST(pixel_work_runs_on_a_libvips_thread_with_the_same_bytes)
{
    size_t len = 0;
    void *jpg = make_image(300, 150, false, &len);
    REQUIRE(jpg != NULL);
    /* from a thread of ours: on a new libvips thread, and back here once it has ended */
    struct where w = {0};
    img_vips_on_worker(note_thread, &w);
    CHECK(w.isvips);
    CHECK(!pthread_equal(w.thread, pthread_self()));
    CHECK(!vips_thread_isvips());
    /* from a libvips thread: in place, and the outputs are the bytes a thread of ours gets */
    struct img_result here;
    struct img_error e = {0};
    REQUIRE(img_process(jpg, len, NULL, presets, 3, &here, &e) == ERR_OK);
    struct from_vips f = {.jpg = jpg, .len = len, .rc = ERR_INTERNAL};
    GThread *t = vips_g_thread_new("test", process_on_vips_thread, &f);
    REQUIRE(t != NULL);
    g_thread_join(t);
    CHECK(f.inner.isvips);
    CHECK(pthread_equal(f.inner.thread, f.self));
    REQUIRE(f.rc == ERR_OK);
    CHECK_INT(f.res.variants.count, here.variants.count);
    for (int i = 0; i < here.variants.count && i < f.res.variants.count; i++)
        CHECK(f.res.variants.items[i].len == here.variants.items[i].len &&
              memcmp(f.res.variants.items[i].data, here.variants.items[i].data,
                     here.variants.items[i].len) == 0);
    CHECK(strcmp(f.res.facts.blurhash, here.facts.blurhash) == 0);
    img_result_free(&here);
    img_result_free(&f.res);
    g_free(jpg);
}

TEST_MAIN()
