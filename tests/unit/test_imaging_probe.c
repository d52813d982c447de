/*
 * Unit tests for imaging/ sniffing, the JPEG marker walk, limits and the init-time blocking,
 * on synthetic bytes (the corpus tests live in tests/imaging).
 */
#include "t.h"

#include <vips/vips.h>

#include "imaging/img_init.h"
#include "imaging/img_jpeg_internal.h"
#include "imaging/img_probe.h"

static void init(void)
{
    struct err e = {0};
    if (img_global_init(NULL, &e) != ERR_OK) {
        fprintf(stderr, "img_global_init: %s\n", e.msg);
        exit(1);
    }
}

/* A real 8x8 grey baseline JPEG made by libvips. Caller g_free()s. */
static void *make_jpeg(size_t *len, int w, int h, bool progressive)
{
    VipsImage *im = NULL;
    void *out = NULL;
    if (vips_black(&im, w, h, NULL) == 0) {
        if (vips_jpegsave_buffer(im, &out, len, "interlace", progressive, NULL) != 0)
            out = NULL;
    }
    if (im)
        g_object_unref(im);
    return out;
}

TEST(sniff_magic_bytes)
{
    CHECK_INT(img_sniff("\xff\xd8\xff\xe0", 4), IMG_FMT_JPEG);
    CHECK_INT(img_sniff("\x89PNG\r\n\x1a\n....", 12), IMG_FMT_PNG);
    CHECK_INT(img_sniff("GIF89a....", 10), IMG_FMT_GIF);
    CHECK_INT(img_sniff("GIF87a....", 10), IMG_FMT_GIF);
    CHECK_INT(img_sniff("RIFF\0\0\0\0WEBPVP8 ", 16), IMG_FMT_WEBP);
    CHECK_INT(img_sniff("RIFF\0\0\0\0WAVEfmt ", 16), IMG_FMT_UNKNOWN);
    CHECK_INT(img_sniff("<svg xmlns=", 11), IMG_FMT_UNKNOWN);
    CHECK_INT(img_sniff("%PDF-1.4", 8), IMG_FMT_UNKNOWN);
    CHECK_INT(img_sniff("", 0), IMG_FMT_UNKNOWN);
    CHECK_INT(img_sniff(NULL, 10), IMG_FMT_UNKNOWN);
    CHECK_INT(img_sniff("\xff\xd8", 2), IMG_FMT_UNKNOWN);
}

TEST(sniff_heif_brands)
{
    static const unsigned char heic[] = "\0\0\0\x18"
                                        "ftypheic\0\0\0\0mif1heic";
    static const unsigned char avif[] = "\0\0\0\x1c"
                                        "ftypavif\0\0\0\0mif1miafavif";
    static const unsigned char mif1_avif[] = "\0\0\0\x18"
                                             "ftypmif1\0\0\0\0avifmiaf";
    static const unsigned char mp4[] = "\0\0\0\x18"
                                       "ftypisom\0\0\0\0isomavc1";
    static const unsigned char big_box[] = "\0\0\x10\0"
                                           "ftypheic\0\0\0\0mif1heic";
    CHECK_INT(img_sniff(heic, 24), IMG_FMT_HEIC);
    CHECK_INT(img_sniff(avif, 28), IMG_FMT_AVIF);
    CHECK_INT(img_sniff(mif1_avif, 24), IMG_FMT_AVIF);
    CHECK_INT(img_sniff(mp4, 24), IMG_FMT_UNKNOWN);
    CHECK_INT(img_sniff(big_box, 24), IMG_FMT_UNKNOWN); /* box longer than the data */
}

TEST(format_names_round_trip)
{
    for (int f = IMG_FMT_JPEG; f < IMG_FMT_COUNT; f++)
        CHECK_INT(img_format_parse(img_format_name((enum img_format)f)), f);
    CHECK_INT(img_format_parse("jpg"), IMG_FMT_JPEG);
    CHECK_INT(img_format_parse("svg"), IMG_FMT_UNKNOWN);
    CHECK_STR(img_format_mime(IMG_FMT_AVIF), "image/avif");
    CHECK_STR(img_format_ext(IMG_FMT_JPEG), "jpg");
}

TEST(jpeg_walk_reads_sof_and_detects_truncation)
{
    init();
    size_t len = 0;
    unsigned char *j = make_jpeg(&len, 24, 16, false);
    REQUIRE(j != NULL);
    struct img_jpeg_info ji;
    CHECK_INT(img_jpeg_walk(j, len, &ji, NULL, NULL), IMG_R_NONE);
    CHECK_INT(ji.width, 24);
    CHECK_INT(ji.height, 16);
    CHECK(!ji.progressive);
    CHECK_INT(img_jpeg_walk(j, len - 2, &ji, NULL, NULL), IMG_R_TRUNCATED);
    for (size_t cut = 2; cut < len - 2; cut += 7) { /* every prefix is refused, never read past */
        enum img_reason r = img_jpeg_walk(j, cut, &ji, NULL, NULL);
        CHECK(r == IMG_R_TRUNCATED || r == IMG_R_CORRUPT_IMAGE);
    }
    g_free(j);
}

TEST(jpeg_walk_header_only_is_corrupt)
{
    /* SOI, SOF0 claiming 65500x65500, EOI: no scan data at all (like hostile/header-bomb.jpg) */
    static const unsigned char bomb[] = {0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 0x08, 0xFF,
                                         0xDC, 0xFF, 0xDC, 0x03, 0x01, 0x22, 0x00, 0x02,
                                         0x11, 0x01, 0x03, 0x11, 0x01, 0xFF, 0xD9};
    struct img_jpeg_info ji;
    CHECK_INT(img_jpeg_walk(bomb, sizeof(bomb), &ji, NULL, NULL), IMG_R_CORRUPT_IMAGE);
    static const unsigned char badlen[] = {0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x01, 0xFF, 0xD9};
    CHECK_INT(img_jpeg_walk(badlen, sizeof(badlen), &ji, NULL, NULL), IMG_R_CORRUPT_IMAGE);
    static const unsigned char longseg[] = {0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF, 0x00, 0x00};
    CHECK_INT(img_jpeg_walk(longseg, sizeof(longseg), &ji, NULL, NULL), IMG_R_TRUNCATED);
}

TEST(limits_each_have_their_reason)
{
    struct img_limits l = img_limits_default();
    struct img_error e = {0};
    struct img_probe p = {IMG_FMT_JPEG, 12000, 9000, 3, 1, 1, false, false};
    CHECK_INT(img_limits_check(&l, &p, &e), ERR_OK); /* 108 MP phone photo */
    p.width = p.height = 40000;
    CHECK_INT(img_limits_check(&l, &p, &e), ERR_TOO_LARGE);
    CHECK_STR(img_reason_name(e.reason), "too_many_pixels");
    p.width = 40000;
    p.height = 100;
    CHECK_INT(img_limits_check(&l, &p, &e), ERR_TOO_LARGE);
    CHECK_STR(img_reason_name(e.reason), "dimensions_too_large");
    p.width = 100;
    p.frames = 101;
    CHECK_INT(img_limits_check(&l, &p, &e), ERR_TOO_LARGE);
    CHECK_STR(img_reason_name(e.reason), "too_many_frames");
    p.frames = 1;
    p.width = 9000;
    p.height = 6000;
    p.interlaced = true;
    CHECK_INT(img_limits_check(&l, &p, &e), ERR_TOO_LARGE);
    CHECK_STR(img_reason_name(e.reason), "progressive_too_large");
    l.max_frames = 0;
    CHECK_INT(img_limits_validate(&l, &e), ERR_INVALID);
}

TEST(probe_reads_header_and_applies_byte_limit)
{
    init();
    size_t len = 0;
    unsigned char *j = make_jpeg(&len, 64, 48, true);
    REQUIRE(j != NULL);
    struct img_probe p;
    struct img_error e = {0};
    REQUIRE(img_probe(j, len, NULL, &p, &e) == ERR_OK);
    CHECK_INT(p.format, IMG_FMT_JPEG);
    CHECK_INT(p.width, 64);
    CHECK_INT(p.height, 48);
    CHECK_INT(p.frames, 1);
    CHECK_INT(p.orientation, 1);
    CHECK(p.interlaced);
    CHECK(!p.has_alpha);
    struct img_limits l = img_limits_default();
    l.max_bytes = len - 1;
    CHECK_INT(img_probe(j, len, &l, &p, &e), ERR_TOO_LARGE);
    CHECK_STR(img_reason_name(e.reason), "too_large_bytes");
    CHECK_INT(img_probe(j, 0, NULL, &p, &e), ERR_INVALID);
    CHECK_STR(img_reason_name(e.reason), "empty_body");
    CHECK_INT(img_probe("not an image at all", 19, NULL, &p, &e), ERR_UNSUPPORTED);
    CHECK_STR(img_reason_name(e.reason), "unsupported_format");
    g_free(j);
}

TEST(untrusted_loaders_are_blocked)
{
    init();
    CHECK(img_operation_is_blocked("svgload_buffer"));
    CHECK(img_operation_is_blocked("pdfload_buffer"));
    CHECK(img_operation_is_blocked("magickload_buffer"));
    CHECK(img_operation_is_blocked("tiffload_buffer"));
    CHECK(img_operation_is_blocked("vipsload_source"));
    CHECK(!img_operation_is_blocked("jpegload_buffer"));
    CHECK(!img_operation_is_blocked("pngload_buffer"));
    CHECK(!img_operation_is_blocked("webpload_buffer"));
    CHECK(!img_operation_is_blocked("heifload_buffer"));
    CHECK(!img_operation_is_blocked("gifload_buffer"));
    CHECK_INT(vips_cache_get_max(), 0);
}

TEST_MAIN()
