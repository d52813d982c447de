/*
 * Unit tests for imaging/ placeholders: BlurHash and ThumbHash against vectors computed with
 * the npm reference encoders (blurhash 2.0.5, thumbhash 0.1.1) on the same synthetic pixels,
 * base64, dominant colour and the facts filler.
 */
#include "t.h"

#include "imaging/img_facts.h"

/* The pattern the vectors were computed on (see the node one-liner in the commit message). */
static void pattern(uint8_t *px, int w, int h, bool alpha)
{
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            uint8_t *p = px + 4 * (x + y * w);
            p[0] = (uint8_t)((x * 37 + y * 11) & 255);
            p[1] = (uint8_t)((x * 7 + y * 53) & 255);
            p[2] = (uint8_t)((x * x + y * 3) & 255);
            p[3] = alpha ? (uint8_t)((x * 30 + y * 20) & 255) : 255;
        }
    }
}

TEST(blurhash_matches_npm_reference)
{
    uint8_t rgba[8 * 6 * 4];
    struct img_pixels px = {8, 6, rgba};
    char out[IMG_BLURHASH_MAX];
    pattern(rgba, 8, 6, false);
    REQUIRE(img_blurhash_encode(&px, 4, 3, out, sizeof(out)));
    CHECK_STR(out, "LTGS2]B$13}:+MIrXP#VL:nRt4Vd");
    CHECK(!img_blurhash_encode(&px, 10, 3, out, sizeof(out)));
    CHECK(!img_blurhash_encode(&px, 4, 3, out, 10));
}

TEST(thumbhash_matches_npm_reference)
{
    uint8_t rgba[8 * 6 * 4], th[IMG_THUMBHASH_MAX];
    char b64[IMG_THUMBHASH_B64];
    struct img_pixels px = {8, 6, rgba};
    pattern(rgba, 8, 6, false);
    size_t n = img_thumbhash_encode(&px, th, sizeof(th));
    REQUIRE(n > 0);
    REQUIRE(img_base64(th, n, b64, sizeof(b64)));
    CHECK_STR(b64, "lAoKNZARS3lTeZeAd7h4ZQdlQbH3");
    pattern(rgba, 8, 6, true);
    n = img_thumbhash_encode(&px, th, sizeof(th));
    REQUIRE(n > 0);
    REQUIRE(img_base64(th, n, b64, sizeof(b64)));
    CHECK_STR(b64, "GDuGFIgYMz+jiaDIiDALNIgPkmbCZXmWCA==");
    struct img_pixels big = {101, 1, rgba};
    CHECK_INT(img_thumbhash_encode(&big, th, sizeof(th)), 0);
}

TEST(base64_padding)
{
    char out[16];
    CHECK(img_base64((const uint8_t *)"f", 1, out, sizeof(out)));
    CHECK_STR(out, "Zg==");
    CHECK(img_base64((const uint8_t *)"fo", 2, out, sizeof(out)));
    CHECK_STR(out, "Zm8=");
    CHECK(img_base64((const uint8_t *)"foobar", 6, out, sizeof(out)));
    CHECK_STR(out, "Zm9vYmFy");
    CHECK(!img_base64((const uint8_t *)"foobar", 6, out, 8));
}

TEST(dominant_colour_picks_most_common_cell)
{
    uint8_t rgba[10 * 4];
    struct img_pixels px = {10, 1, rgba};
    for (int i = 0; i < 10; i++) {
        uint8_t *p = rgba + 4 * i;
        p[0] = i < 6 ? 250 : 10; /* six reddish, four dark */
        p[1] = i < 6 ? 3 : 10;
        p[2] = i < 6 ? 1 : 10;
        p[3] = 255;
    }
    uint8_t rgb[3];
    img_dominant_colour(&px, rgb);
    CHECK_INT(rgb[0], 248);
    CHECK_INT(rgb[1], 8);
    CHECK_INT(rgb[2], 8);
    for (int i = 0; i < 6; i++)
        rgba[4 * i + 3] = 0; /* transparent pixels do not count */
    img_dominant_colour(&px, rgb);
    CHECK_INT(rgb[0], 8);
}

TEST(facts_fill_uses_display_orientation)
{
    struct img_probe p = {IMG_FMT_JPEG, 4032, 3024, 3, 1, 6, false, false};
    uint8_t rgba[8 * 6 * 4];
    struct img_pixels px = {8, 6, rgba};
    struct img_facts f;
    pattern(rgba, 8, 6, false);
    img_facts_fill(&f, &p, &px);
    CHECK_INT(f.width, 3024);
    CHECK_INT(f.height, 4032);
    CHECK_INT(f.orientation, 6);
    CHECK(f.placeholders);
    CHECK_INT(strlen(f.blurhash), 28);
    CHECK_INT(f.dominant[0], '#');
    img_facts_fill(&f, &p, NULL);
    CHECK(!f.placeholders);
    CHECK_STR(f.blurhash, "");
}

TEST_MAIN()
