/*
 * Unit tests for imaging/ presets: built-in defaults, the strict presets-file parser, the
 * geometry planner and the output-format policy.
 */
#include "t.h"

#include "imaging/img_preset.h"
#include "imaging/img_variant.h"

static enum err_code parse(const char *json, struct img_preset_table *t, struct img_error *e)
{
    return img_presets_parse(json, strlen(json), t, e);
}

TEST(builtin_presets_per_domain)
{
    struct img_preset_table t;
    img_presets_builtin(&t);
    const char *domains[] = {"profile", "feed", "chatroom", "chat", "chat_profile"};
    for (int i = 0; i < 5; i++) {
        const struct img_domain_presets *d = img_presets_find(&t, domains[i]);
        REQUIRE(d != NULL);
        CHECK(d->count >= 2);
        for (int k = 0; k < d->count; k++) {
            struct img_error e = {0};
            CHECK_INT(img_preset_validate(&d->presets[k], &e), ERR_OK);
            CHECK(!d->presets[k].enlarge);
        }
    }
    const struct img_domain_presets *feed = img_presets_find(&t, "feed");
    CHECK_STR(feed->presets[0].name, "1080");
    CHECK_INT(feed->presets[0].fit, IMG_FIT_INSIDE);
    CHECK_INT(feed->presets[0].format, IMG_OUT_JPEG);
    CHECK_INT(feed->presets[0].quality, 80);
    const struct img_domain_presets *profile = img_presets_find(&t, "profile");
    CHECK_INT(profile->presets[0].width, 640);
    CHECK_INT(profile->presets[0].height, 640);
    CHECK_INT(profile->presets[0].fit, IMG_FIT_COVER);
    CHECK(img_presets_find(&t, "nope") == NULL);
}

TEST(presets_file_replaces_named_domains_only)
{
    struct img_preset_table t;
    struct img_error e = {0};
    REQUIRE(parse("{\"feed\":[{\"name\":\"big\",\"width\":2048,\"height\":2048,"
                  "\"fit\":\"contain\",\"gravity\":\"attention\",\"format\":\"webp\","
                  "\"quality\":70,\"enlarge\":true},{\"name\":\"s\",\"height\":100}]}",
                  &t, &e) == ERR_OK);
    const struct img_domain_presets *feed = img_presets_find(&t, "feed");
    REQUIRE(feed != NULL);
    CHECK_INT(feed->count, 2);
    CHECK_STR(feed->presets[0].name, "big");
    CHECK_INT(feed->presets[0].fit, IMG_FIT_CONTAIN);
    CHECK_INT(feed->presets[0].gravity, IMG_GRAVITY_ATTENTION);
    CHECK_INT(feed->presets[0].format, IMG_OUT_WEBP);
    CHECK_INT(feed->presets[0].quality, 70);
    CHECK(feed->presets[0].enlarge);
    CHECK_INT(feed->presets[1].width, 0);
    CHECK_INT(feed->presets[1].height, 100);
    CHECK_INT(feed->presets[1].quality, 80);
    CHECK_INT(img_presets_find(&t, "profile")->count, 3); /* untouched */
}

TEST(presets_file_errors_are_strict)
{
    static const char *const bad[] = {
        "[]",
        "{\"pets\":[{\"name\":\"a\",\"width\":1}]}",
        "{\"feed\":[]}",
        "{\"feed\":[{\"width\":1}]}",
        "{\"feed\":[{\"name\":\"a b\",\"width\":1}]}",
        "{\"feed\":[{\"name\":\"Thumb\",\"width\":1}]}",
        "{\"feed\":[{\"name\":\"origin\",\"width\":1}]}",
        "{\"feed\":[{\"name\":\"manifest\",\"width\":1}]}",
        "{\"feed\":[{\"name\":\"a\"}]}",
        "{\"feed\":[{\"name\":\"a\",\"width\":-1}]}",
        "{\"feed\":[{\"name\":\"a\",\"width\":20000}]}",
        "{\"feed\":[{\"name\":\"a\",\"width\":1.5}]}",
        "{\"feed\":[{\"name\":\"a\",\"width\":\"100\"}]}",
        "{\"feed\":[{\"name\":\"a\",\"width\":100,\"fit\":\"cover\"}]}",
        "{\"feed\":[{\"name\":\"a\",\"width\":100,\"fit\":\"squash\"}]}",
        "{\"feed\":[{\"name\":\"a\",\"width\":100,\"format\":\"tiff\"}]}",
        "{\"feed\":[{\"name\":\"a\",\"width\":100,\"quality\":0}]}",
        "{\"feed\":[{\"name\":\"a\",\"width\":100,\"quality\":101}]}",
        "{\"feed\":[{\"name\":\"a\",\"width\":100,\"enlarge\":1}]}",
        "{\"feed\":[{\"name\":\"a\",\"width\":100,\"colour\":\"red\"}]}",
        "{\"feed\":[{\"name\":\"a\",\"width\":100},{\"name\":\"a\",\"width\":50}]}",
        "{\"feed\":[{\"name\":\"a\",\"width\":100}]} trailing",
        "{\"feed\":[1,2,3,4,5,6,7,8,9]}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct img_preset_table t;
        struct img_error e = {0};
        img_presets_builtin(&t);
        if (parse(bad[i], &t, &e) != ERR_INVALID)
            T_FAIL("accepted: %s", bad[i]);
        CHECK_INT(e.reason, IMG_R_INVALID_OPTION);
        CHECK(e.msg[0] != '\0');
        CHECK_INT(img_presets_find(&t, "feed")->count, 3); /* unchanged on error */
    }
}

static void plan(const char *fit, int w, int h, bool enlarge, int sw, int sh, int rw, int rh,
                 int ow, int oh)
{
    struct img_preset p = {.name = "t", .width = w, .height = h, .quality = 80, .enlarge = enlarge};
    struct img_geometry g;
    REQUIRE(img_fit_parse(fit, &p.fit));
    img_plan(&p, sw, sh, &g);
    if (g.resize_w != rw || g.resize_h != rh || g.out_w != ow || g.out_h != oh)
        T_FAIL("%s %dx%d of %dx%d: got %dx%d -> %dx%d, want %dx%d -> %dx%d", fit, w, h, sw, sh,
               g.resize_w, g.resize_h, g.out_w, g.out_h, rw, rh, ow, oh);
}

TEST(plan_geometry_per_fit)
{
    plan("inside", 1080, 0, false, 4032, 3024, 1080, 810, 1080, 810);
    plan("inside", 1080, 0, false, 3024, 4032, 1080, 1440, 1080, 1440);
    plan("inside", 1080, 1080, false, 3024, 4032, 810, 1080, 810, 1080);
    plan("inside", 0, 100, false, 4032, 3024, 133, 100, 133, 100);
    plan("inside", 1080, 0, false, 480, 480, 480, 480, 480, 480); /* never enlarged */
    plan("inside", 1080, 0, true, 480, 480, 1080, 1080, 1080, 1080);
    plan("cover", 640, 640, false, 4032, 3024, 853, 640, 640, 640);
    plan("cover", 640, 640, false, 3024, 4032, 640, 853, 640, 640);
    plan("cover", 640, 640, false, 480, 300, 480, 300, 480, 300);
    plan("contain", 300, 300, false, 4032, 3024, 300, 225, 300, 300);
    plan("contain", 300, 300, false, 1, 1, 1, 1, 300, 300);
    plan("fill", 200, 100, false, 4032, 3024, 200, 100, 200, 100);
    plan("fill", 200, 100, false, 150, 50, 150, 50, 150, 50);
    plan("inside", 1, 0, false, 4032, 3, 1, 1, 1, 1); /* never below one pixel */
}

TEST(output_format_policy)
{
    CHECK_INT(img_output_format(IMG_OUT_SAME, IMG_FMT_JPEG), IMG_FMT_JPEG);
    CHECK_INT(img_output_format(IMG_OUT_SAME, IMG_FMT_PNG), IMG_FMT_PNG);
    CHECK_INT(img_output_format(IMG_OUT_SAME, IMG_FMT_WEBP), IMG_FMT_WEBP);
    CHECK_INT(img_output_format(IMG_OUT_SAME, IMG_FMT_HEIC), IMG_FMT_JPEG);
    CHECK_INT(img_output_format(IMG_OUT_SAME, IMG_FMT_AVIF), IMG_FMT_JPEG);
    CHECK_INT(img_output_format(IMG_OUT_SAME, IMG_FMT_GIF), IMG_FMT_PNG);
    CHECK_INT(img_output_format(IMG_OUT_AVIF, IMG_FMT_JPEG), IMG_FMT_AVIF);
    enum img_out_format f;
    CHECK(img_out_format_parse("jpg", &f) && f == IMG_OUT_JPEG);
    enum img_gravity g;
    CHECK(img_gravity_parse("center", &g) && g == IMG_GRAVITY_CENTRE);
    CHECK(!img_fit_parse("Cover", &(enum img_fit){0}));
}

TEST_MAIN()
