/*
 * Unit tests for imaging/ origin privacy: the in-place TIFF GPS removal (synthetic EXIF,
 * hostile offsets, random bytes) and the JPEG and PNG container rewrites.
 */
#include "t.h"

#include <vips/vips.h>

#include "imaging/img_init.h"
#include "imaging/img_privacy.h"

static void be16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void be32(uint8_t *p, uint32_t v)
{
    be16(p, v >> 16);
    be16(p + 2, v & 0xffff);
}

static void entry(uint8_t *p, unsigned tag, unsigned type, uint32_t count, uint32_t value)
{
    be16(p, tag);
    be16(p + 2, type);
    be32(p + 4, count);
    be32(p + 8, value);
}

/* Big-endian TIFF: IFD0 {Orientation=6, GPS->70, Make->"Apple"@60}; GPS IFD {Ref "N", Lat}. */
static size_t make_tiff(uint8_t *t)
{
    memset(t, 0, 128);
    memcpy(t, "MM\0*", 4);
    be32(t + 4, 8);
    be16(t + 8, 3);
    entry(t + 10, 0x0112, 3, 1, 6u << 16);
    entry(t + 22, 0x8825, 4, 1, 70);
    entry(t + 34, 0x010F, 2, 6, 60);
    be32(t + 46, 0); /* next IFD */
    memcpy(t + 60, "Apple", 6);
    be16(t + 70, 2);
    entry(t + 72, 1, 2, 2, ('N' << 24));
    entry(t + 84, 2, 5, 3, 100); /* 3 rationals = 24 bytes at 100 */
    be32(t + 96, 0);
    for (int i = 0; i < 24; i++)
        t[100 + i] = (uint8_t)(0xA0 + i);
    return 124;
}

TEST(tiff_gps_removed_in_place_orientation_kept)
{
    uint8_t t[128];
    size_t n = make_tiff(t);
    REQUIRE(img_tiff_remove_gps(t, n));
    CHECK_INT((t[8] << 8) | t[9], 2); /* IFD0 lost one entry */
    CHECK_INT((t[10] << 8) | t[11], 0x0112);
    CHECK_INT(t[18], 0);
    CHECK_INT(t[19], 6);                     /* orientation value intact */
    CHECK_INT((t[22] << 8) | t[23], 0x010F); /* Make moved into the GPS slot */
    CHECK(memcmp(t + 60, "Apple", 6) == 0);
    for (int i = 34; i < 50; i++) /* freed slot and old next-IFD position are zero */
        CHECK_INT(t[i], 0);
    for (int i = 70; i < 124; i++) /* GPS IFD and its values wiped */
        CHECK_INT(t[i], 0);
    CHECK(!img_tiff_remove_gps(t, n)); /* nothing left to remove */
}

TEST(tiff_hostile_offsets_are_bounded)
{
    uint8_t t[128];
    size_t n = make_tiff(t);
    be32(t + 30, 0xFFFFFFF0u);        /* GPS IFD far outside */
    CHECK(img_tiff_remove_gps(t, n)); /* pointer removed, nothing else touched */
    n = make_tiff(t);
    be32(t + 88, 0x40000000u); /* huge value count */
    CHECK(img_tiff_remove_gps(t, n));
    n = make_tiff(t);
    be16(t + 8, 0xFFFF); /* IFD0 count past the end */
    CHECK(!img_tiff_remove_gps(t, n));
    be32(t + 4, 120); /* IFD0 offset near the end */
    CHECK(!img_tiff_remove_gps(t, n));
    CHECK(!img_tiff_remove_gps(t, 7));
    CHECK(!img_tiff_remove_gps((uint8_t *)"II*\0\xff\xff\xff\xff", 8));
    unsigned seed = 12345;
    for (int round = 0; round < 2000; round++) { /* random bytes behind a valid header */
        uint8_t r[96];
        for (size_t i = 0; i < sizeof(r); i++) {
            seed = seed * 1103515245u + 12345u;
            r[i] = (uint8_t)(seed >> 16);
        }
        memcpy(r, round & 1 ? "II*\0" : "MM\0*", 4);
        r[4] = r[5] = r[6] = 0;
        r[round & 1 ? 4 : 7] = (uint8_t)(8 + round % 40);
        (void)img_tiff_remove_gps(r, sizeof(r)); /* ASan checks every access */
    }
}

/* A real JPEG from libvips with APP1 Exif (our TIFF), APP1 XMP and APP13 IPTC inserted. */
static uint8_t *make_jpeg(size_t *len)
{
    VipsImage *im = NULL;
    void *base = NULL;
    size_t blen = 0;
    struct err e = {0};
    if (img_global_init(NULL, &e) != ERR_OK || vips_black(&im, 16, 16, NULL) ||
        vips_jpegsave_buffer(im, &base, &blen, "strip", TRUE, NULL))
        return NULL;
    g_object_unref(im);
    uint8_t tiff[128];
    size_t tn = make_tiff(tiff);
    static const char xmp[] = "http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>GPS</x:xmpmeta>";
    static const char iptc[] = "Photoshop 3.0\0"
                               "8BIM city";
    uint8_t *out = malloc(blen + 512);
    size_t o = 0;
    memcpy(out, "\xff\xd8", 2);
    o = 2;
    out[o++] = 0xFF;
    out[o++] = 0xE1;
    be16(out + o, (unsigned)(2 + 6 + tn));
    o += 2;
    memcpy(out + o, "Exif\0\0", 6);
    o += 6;
    memcpy(out + o, tiff, tn);
    o += tn;
    out[o++] = 0xFF;
    out[o++] = 0xE1;
    be16(out + o, (unsigned)(2 + sizeof(xmp) - 1));
    o += 2;
    memcpy(out + o, xmp, sizeof(xmp) - 1);
    o += sizeof(xmp) - 1;
    out[o++] = 0xFF;
    out[o++] = 0xED;
    be16(out + o, (unsigned)(2 + sizeof(iptc) - 1));
    o += 2;
    memcpy(out + o, iptc, sizeof(iptc) - 1);
    o += sizeof(iptc) - 1;
    memcpy(out + o, (uint8_t *)base + 2, blen - 2);
    o += blen - 2;
    g_free(base);
    *len = o;
    return out;
}

TEST(jpeg_origin_keeps_scan_drops_xmp_iptc_and_gps)
{
    size_t len = 0;
    uint8_t *j = make_jpeg(&len);
    REQUIRE(j != NULL);
    uint8_t *out = NULL;
    size_t out_len = 0;
    struct img_privacy_report rep;
    struct img_error e = {0};
    REQUIRE(img_origin_strip_location(j, len, IMG_FMT_JPEG, &out, &out_len, &rep, &e) == ERR_OK);
    CHECK(rep.gps_removed);
    CHECK(rep.xmp_removed);
    CHECK(rep.iptc_removed);
    CHECK(memmem(out, out_len, "xmpmeta", 7) == NULL);
    CHECK(memmem(out, out_len, "Photoshop", 9) == NULL);
    CHECK(memmem(out, out_len, "Exif\0\0MM", 8) != NULL);
    CHECK(memmem(out, out_len, "Apple", 5) != NULL);
    const uint8_t *sos_in = memmem(j, len, "\xff\xda", 2),
                  *sos_out = memmem(out, out_len, "\xff\xda", 2);
    REQUIRE(sos_in != NULL && sos_out != NULL);
    CHECK_INT(len - (size_t)(sos_in - j), out_len - (size_t)(sos_out - out));
    CHECK(memcmp(sos_in, sos_out, len - (size_t)(sos_in - j)) == 0);
    VipsImage *im = NULL; /* still a JPEG libvips decodes */
    CHECK(vips_jpegload_buffer(out, out_len, &im, NULL) == 0 && im->Xsize == 16);
    if (im)
        g_object_unref(im);
    free(out);
    CHECK_INT(img_origin_strip_location(j, len / 2, IMG_FMT_JPEG, &out, &out_len, &rep, &e),
              ERR_INVALID); /* truncated: refused, no output */
    CHECK(out == NULL);
    free(j);
}

TEST(png_exif_chunk_edited_with_valid_crc)
{
    struct err ie = {0};
    REQUIRE(img_global_init(NULL, &ie) == ERR_OK);
    VipsImage *im = NULL;
    void *png = NULL;
    size_t plen = 0;
    REQUIRE(vips_black(&im, 8, 8, NULL) == 0);
    REQUIRE(vips_pngsave_buffer(im, &png, &plen, "strip", TRUE, NULL) == 0);
    g_object_unref(im);
    uint8_t tiff[128];
    size_t tn = make_tiff(tiff);
    static const char xmp[] = "XML:com.adobe.xmp\0\0\0\0\0<x:xmpmeta/>";
    size_t cap = plen + 512, o = 33; /* signature + IHDR */
    uint8_t *p = malloc(cap);
    memcpy(p, png, 33);
    be32(p + o, (uint32_t)tn);
    memcpy(p + o + 4, "eXIf", 4);
    memcpy(p + o + 8, tiff, tn);
    memset(p + o + 8 + tn, 0, 4); /* CRC is recomputed only when edited: any value here */
    o += 12 + tn;
    be32(p + o, (uint32_t)(sizeof(xmp) - 1));
    memcpy(p + o + 4, "iTXt", 4);
    memcpy(p + o + 8, xmp, sizeof(xmp) - 1);
    memset(p + o + 8 + sizeof(xmp) - 1, 0, 4);
    o += 12 + sizeof(xmp) - 1;
    memcpy(p + o, (uint8_t *)png + 33, plen - 33);
    o += plen - 33;
    g_free(png);
    uint8_t *out = NULL;
    size_t out_len = 0;
    struct img_privacy_report rep;
    struct img_error e = {0};
    REQUIRE(img_origin_strip_location(p, o, IMG_FMT_PNG, &out, &out_len, &rep, &e) == ERR_OK);
    CHECK(rep.gps_removed);
    CHECK(rep.xmp_removed);
    CHECK_INT(out_len, o - (12 + sizeof(xmp) - 1));
    CHECK(memmem(out, out_len, "xmpmeta", 7) == NULL);
    /* eXIf CRC over type + data, as PNG defines it */
    const uint8_t *c = out + 33 + 8 + tn;
    CHECK(c[0] != 0 || c[1] != 0 || c[2] != 0 || c[3] != 0);
    im = NULL;
    CHECK(vips_pngload_buffer(out, out_len, &im, "fail_on", VIPS_FAIL_ON_WARNING, NULL) == 0 &&
          vips_image_get_width(im) == 8);
    if (im)
        g_object_unref(im);
    free(out);
    free(p);
}

TEST(gif_and_unknown_formats)
{
    uint8_t *out = NULL;
    size_t out_len = 0;
    struct img_error e = {0};
    CHECK_INT(img_origin_strip_location("GIF89a....", 10, IMG_FMT_GIF, &out, &out_len, NULL, &e),
              ERR_OK);
    CHECK_INT(out_len, 10);
    free(out);
    CHECK_INT(img_origin_strip_location("abc", 3, IMG_FMT_UNKNOWN, &out, &out_len, NULL, &e),
              ERR_UNSUPPORTED);
    CHECK_INT(img_origin_strip_location("RIFF\xff\xff\xff\x7fWEBP", 12, IMG_FMT_WEBP, &out,
                                        &out_len, NULL, &e),
              ERR_INVALID);
}

TEST_MAIN()
