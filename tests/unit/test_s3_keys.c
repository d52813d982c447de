/*
 * Unit tests for s3/keys: every domain and kind (failed records too) built and parsed both
 * ways, the upload id, the content-type table, and every refusal (traversal, bad ids, unknown
 * domain, wrong id count, bad uuid/ts, unknown extension, keys outside delete/).
 */
#include "t.h"

#include "s3/keys.h"

#define UP  "0f8fad5b-d9cb-469f-a165-70867728950e_1764000000"
#define UPB "0f8fad5b-d9cb-469f-a165-70867728950e"

struct good_case {
    enum s3_key_domain domain;
    const char *ids[2];
    size_t nids;
    enum s3_key_kind kind;
    const char *size;
    const char *ext;
    const char *key;
};

static const struct good_case good[] = {
    {S3_DOMAIN_PROFILE, {"42"}, 1, S3_KEY_TEMP, "", "jpeg", "delete/profile/42/" UP ".jpeg"},
    {S3_DOMAIN_PROFILE, {"42"}, 1, S3_KEY_ORIGIN, "", "jpeg", "profile/42/origin/" UP ".jpeg"},
    {S3_DOMAIN_PROFILE, {"42"}, 1, S3_KEY_VARIANT, "320", "webp", "profile/42/320/" UP ".webp"},
    {S3_DOMAIN_PROFILE, {"42"}, 1, S3_KEY_MANIFEST, "", "json", "profile/42/manifest/" UP ".json"},
    {S3_DOMAIN_PROFILE, {"42"}, 1, S3_KEY_FAILED, "", "json", "failed/profile/42/" UP ".json"},
    {S3_DOMAIN_CHAT,
     {"7", "9"},
     2,
     S3_KEY_FAILED,
     "",
     "json",
     "failed/chatroom/7/chat/9/" UP ".json"},
    {S3_DOMAIN_FEED, {"f-1_A"}, 1, S3_KEY_TEMP, "", "png", "delete/feed/f-1_A/" UP ".png"},
    {S3_DOMAIN_FEED, {"f-1_A"}, 1, S3_KEY_ORIGIN, "", "png", "feed/f-1_A/origin/" UP ".png"},
    {S3_DOMAIN_FEED,
     {"f-1_A"},
     1,
     S3_KEY_VARIANT,
     "thumb_2x",
     "avif",
     "feed/f-1_A/thumb_2x/" UP ".avif"},
    {S3_DOMAIN_FEED, {"f-1_A"}, 1, S3_KEY_MANIFEST, "", "json", "feed/f-1_A/manifest/" UP ".json"},
    {S3_DOMAIN_CHATROOM,
     {"room7"},
     1,
     S3_KEY_TEMP,
     "",
     "heic",
     "delete/chatroom/room7/" UP ".heic"},
    {S3_DOMAIN_CHATROOM,
     {"room7"},
     1,
     S3_KEY_ORIGIN,
     "",
     "heif",
     "chatroom/room7/origin/" UP ".heif"},
    {S3_DOMAIN_CHATROOM,
     {"room7"},
     1,
     S3_KEY_VARIANT,
     "chat",
     "gif",
     "chatroom/room7/chat/" UP ".gif"},
    {S3_DOMAIN_CHATROOM,
     {"room7"},
     1,
     S3_KEY_MANIFEST,
     "",
     "json",
     "chatroom/room7/manifest/" UP ".json"},
    {S3_DOMAIN_CHAT,
     {"7", "9"},
     2,
     S3_KEY_TEMP,
     "",
     "jpeg",
     "delete/chatroom/7/chat/9/" UP ".jpeg"},
    {S3_DOMAIN_CHAT,
     {"7", "9"},
     2,
     S3_KEY_ORIGIN,
     "",
     "jpeg",
     "chatroom/7/chat/9/origin/" UP ".jpeg"},
    {S3_DOMAIN_CHAT,
     {"7", "origin"},
     2,
     S3_KEY_VARIANT,
     "1080",
     "jpeg",
     "chatroom/7/chat/origin/1080/" UP ".jpeg"},
    {S3_DOMAIN_CHAT,
     {"7", "9"},
     2,
     S3_KEY_MANIFEST,
     "",
     "json",
     "chatroom/7/chat/9/manifest/" UP ".json"},
    {S3_DOMAIN_CHAT_PROFILE,
     {"7", "u1"},
     2,
     S3_KEY_TEMP,
     "",
     "png",
     "delete/chatroom/7/chat_profile/u1/" UP ".png"},
    {S3_DOMAIN_CHAT_PROFILE,
     {"7", "u1"},
     2,
     S3_KEY_ORIGIN,
     "",
     "png",
     "chatroom/7/chat_profile/u1/origin/" UP ".png"},
    {S3_DOMAIN_CHAT_PROFILE,
     {"7", "u1"},
     2,
     S3_KEY_VARIANT,
     "64",
     "webp",
     "chatroom/7/chat_profile/u1/64/" UP ".webp"},
    {S3_DOMAIN_CHAT_PROFILE,
     {"7", "u1"},
     2,
     S3_KEY_MANIFEST,
     "",
     "json",
     "chatroom/7/chat_profile/u1/manifest/" UP ".json"},
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

TEST(build_every_domain_and_kind)
{
    for (size_t i = 0; i < N(good); i++) {
        const struct good_case *c = &good[i];
        struct s3_key k;
        struct err e = {0};
        char out[S3_KEY_MAX];
        bool json = c->kind == S3_KEY_MANIFEST || c->kind == S3_KEY_FAILED;
        const char *ext = json ? "jpeg" : c->ext;
        REQUIRE(s3_key_init(&k, c->domain, c->ids, c->nids, UP, ext, &e) == ERR_OK);
        k.kind = c->kind;
        snprintf(k.size, sizeof(k.size), "%s", c->size);
        CHECK_INT(s3_key_build(&k, out, sizeof(out), &e), ERR_OK);
        CHECK_STR(out, c->key);
    }
}

TEST(parse_every_domain_and_kind)
{
    for (size_t i = 0; i < N(good); i++) {
        const struct good_case *c = &good[i];
        struct s3_key k;
        struct err e = {0};
        char again[S3_KEY_MAX];
        CHECK_INT(s3_key_parse(c->key, &k, &e), ERR_OK);
        if (e.code != ERR_OK)
            fprintf(stderr, "%s: %s\n", c->key, e.msg);
        CHECK_INT(k.domain, c->domain);
        CHECK_INT(k.kind, c->kind);
        for (size_t j = 0; j < c->nids; j++)
            CHECK_STR(k.ids[j], c->ids[j]);
        for (size_t j = c->nids; j < S3_KEY_MAX_IDS; j++)
            CHECK_STR(k.ids[j], "");
        CHECK_STR(k.upload_id, UP);
        CHECK_STR(k.size, c->size);
        CHECK_STR(k.ext, c->ext);
        CHECK_INT(s3_key_build(&k, again, sizeof(again), &e), ERR_OK);
        CHECK_STR(again, c->key);
    }
}

TEST(parse_temp_accepts_only_temp)
{
    struct s3_key k;
    struct err e = {0};
    for (size_t i = 0; i < N(good); i++) {
        enum err_code want = good[i].kind == S3_KEY_TEMP ? ERR_OK : ERR_INVALID;
        CHECK_INT(s3_key_parse_temp(good[i].key, &k, &e), want);
        if (want != ERR_OK)
            CHECK(strncmp(e.msg, "not_temp:", 9) == 0);
    }
    CHECK_INT(s3_key_parse_temp("uploads/profile/42/" UP ".jpeg", &k, &e), ERR_INVALID);
    CHECK(strncmp(e.msg, "not_temp:", 9) == 0);
    CHECK_INT(s3_key_parse_temp("Delete/profile/42/" UP ".jpeg", &k, &e), ERR_INVALID);
    CHECK(strncmp(e.msg, "not_temp:", 9) == 0);
    CHECK_INT(s3_key_parse_temp(NULL, &k, &e), ERR_INVALID);
}

TEST(domain_table_is_consistent)
{
    const char *names[] = {"profile", "feed", "chatroom", "chat", "chat_profile"};
    for (int d = 0; d < S3_DOMAIN_COUNT; d++) {
        const struct s3_key_domain_desc *desc = s3_key_domain_get((enum s3_key_domain)d);
        REQUIRE(desc != NULL);
        CHECK_INT(desc->domain, d);
        CHECK_STR(desc->name, names[d]);
        CHECK(s3_key_domain_find(names[d]) == desc);
        /* The placeholders of the template are the id names, in order. */
        const char *p = desc->path;
        for (size_t i = 0; i < desc->nids; i++) {
            char want[80];
            snprintf(want, sizeof(want), "{%s}", desc->id_names[i]);
            const char *at = strstr(p, want);
            CHECK(at != NULL);
            CHECK_INT(s3_key_id_index(desc, desc->id_names[i]), i);
            if (at != NULL)
                p = at + strlen(want);
        }
        CHECK(strchr(p, '{') == NULL);
    }
    CHECK(s3_key_domain_get(S3_DOMAIN_COUNT) == NULL);
    CHECK(s3_key_domain_find("Profile") == NULL);
    CHECK(s3_key_domain_find("") == NULL);
    CHECK(s3_key_domain_find(NULL) == NULL);
    CHECK_INT(s3_key_id_index(s3_key_domain_get(S3_DOMAIN_CHAT_PROFILE), "userId"), 1);
    CHECK_INT(s3_key_id_index(s3_key_domain_get(S3_DOMAIN_FEED), "userId"), -1);
    CHECK_STR(s3_key_kind_name(S3_KEY_MANIFEST), "manifest");
}

struct bad_case {
    const char *key;
    const char *reason;
};

static const struct bad_case bad[] = {
    /* traversal and encoding */
    {"delete/profile/../" UP ".jpeg", "bad_id"},
    {"delete/profile/./" UP ".jpeg", "bad_id"},
    {"delete/profile/%2e%2e/" UP ".jpeg", "bad_id"},
    {"delete/profile/%2E%2E/" UP ".jpeg", "bad_id"},
    {"delete/../profile/42/" UP ".jpeg", "unknown_domain"},
    {"delete/profile/42/../../feed/1/" UP ".jpeg", "wrong_id_count"},
    {"delete/profile/a.b/" UP ".jpeg", "bad_id"},
    {"delete/profile/a b/" UP ".jpeg", "bad_id"},
    {"delete/profile/a\\b/" UP ".jpeg", "bad_id"},
    {"delete/chatroom/7/chat/..%2f/" UP ".jpeg", "bad_id"},
    {"delete/profile/42/" UP ".jpeg/..", "wrong_id_count"},
    {"delete//profile/42/" UP ".jpeg", "bad_key"},
    {"delete/profile//42/" UP ".jpeg", "bad_key"},
    {"delete/profile/42/", "bad_key"},
    {"/profile/42/origin/" UP ".jpeg", "bad_key"},
    {"", "bad_key"},
    {"delete/", "bad_key"},
    {UP ".jpeg", "bad_key"},
    /* ids */
    {"delete/profile/" UP ".jpeg", "wrong_id_count"},
    {"delete/profile/ab\xc3\xa9/" UP ".jpeg", "bad_id"},
    {"delete/profile/"
     "12345678901234567890123456789012345678901234567890123456789012345/" UP ".jpeg",
     "bad_id"},
    /* domains */
    {"delete/user/42/" UP ".jpeg", "unknown_domain"},
    {"delete/Profile/42/" UP ".jpeg", "unknown_domain"},
    {"avatar/42/origin/" UP ".jpeg", "unknown_domain"},
    {"delete/profile/42/43/" UP ".jpeg", "wrong_id_count"},
    {"delete/chatroom/7/chat/" UP ".jpeg", "wrong_id_count"},
    {"delete/chatroom/7/chat/9/10/" UP ".jpeg", "wrong_id_count"},
    {"delete/chatroom/7/chatx/9/" UP ".jpeg", "wrong_id_count"},
    {"delete/profile/42/origin/" UP ".jpeg", "wrong_id_count"},
    {"profile/42/43/origin/" UP ".jpeg", "wrong_id_count"},
    {"profile/origin/" UP ".jpeg", "wrong_id_count"},
    /* upload ids */
    {"delete/profile/42/0F8FAD5B-D9CB-469F-A165-70867728950E_1764000000.jpeg", "bad_uuid"},
    {"delete/profile/42/0f8fad5b-d9cb-169f-a165-70867728950e_1764000000.jpeg", "bad_uuid"},
    {"delete/profile/42/0f8fad5b-d9cb-469f-c165-70867728950e_1764000000.jpeg", "bad_uuid"},
    {"delete/profile/42/0f8fad5bxd9cb-469f-a165-70867728950e_1764000000.jpeg", "bad_uuid"},
    {"delete/profile/42/" UPB "_.jpeg", "bad_ts"},
    {"delete/profile/42/" UPB "_0.jpeg", "bad_ts"},
    {"delete/profile/42/" UPB "_01764000000.jpeg", "bad_ts"},
    {"delete/profile/42/" UPB "_-1764000000.jpeg", "bad_ts"},
    {"delete/profile/42/" UPB "_+1764000000.jpeg", "bad_ts"},
    {"delete/profile/42/" UPB "_17640000x0.jpeg", "bad_ts"},
    {"delete/profile/42/" UPB "_253402300800.jpeg", "bad_ts"},
    {"delete/profile/42/" UPB "_9999999999999.jpeg", "bad_ts"},
    {"delete/profile/42/" UPB ".jpeg", "bad_upload_id"},
    {"delete/profile/42/" UPB "-1764000000.jpeg", "bad_upload_id"},
    {"delete/profile/42/abc_1764000000.jpeg", "bad_upload_id"},
    {"delete/profile/42/" UP, "bad_key"},
    /* extensions */
    {"delete/profile/42/" UP ".jpg", "unknown_ext"},
    {"delete/profile/42/" UP ".JPEG", "unknown_ext"},
    {"delete/profile/42/" UP ".exe", "unknown_ext"},
    {"delete/profile/42/" UP ".", "unknown_ext"},
    {"delete/profile/42/" UP ".jpeg.png", "unknown_ext"},
    {"delete/profile/42/" UP ".json", "unknown_ext"},
    {"profile/42/origin/" UP ".json", "unknown_ext"},
    {"profile/42/manifest/" UP ".jpeg", "unknown_ext"},
    {"delete/profile/42/" UP ".averyverylongext", "unknown_ext"},
    /* sizes */
    {"profile/42/Big/" UP ".jpeg", "bad_size"},
    {"profile/42/a.b/" UP ".jpeg", "bad_size"},
    {"profile/42/123456789012345678901234567890123/" UP ".jpeg", "bad_size"},
};

TEST(refusals_have_precise_reasons)
{
    for (size_t i = 0; i < N(bad); i++) {
        struct s3_key k;
        struct err e = {0};
        enum err_code rc = s3_key_parse(bad[i].key, &k, &e);
        CHECK(rc != ERR_OK);
        size_t n = strlen(bad[i].reason);
        if (strncmp(e.msg, bad[i].reason, n) != 0 || e.msg[n] != ':')
            T_FAIL("%s: got \"%s\", expected reason %s", bad[i].key, e.msg, bad[i].reason);
        CHECK_INT(k.domain, 0);
        CHECK_STR(k.upload_id, "");
        CHECK_STR(k.ids[0], "");
    }
}

TEST(overlong_key_is_refused)
{
    char key[S3_KEY_MAX + 10];
    memset(key, 'a', sizeof(key) - 1);
    key[sizeof(key) - 1] = '\0';
    struct s3_key k;
    struct err e = {0};
    CHECK_INT(s3_key_parse(key, &k, &e), ERR_INVALID);
    CHECK(strncmp(e.msg, "key_too_long:", 13) == 0);
    CHECK_INT(s3_key_parse(NULL, &k, &e), ERR_INVALID);
}

TEST(build_refuses_bad_parts)
{
    struct s3_key k;
    struct err e = {0};
    char out[S3_KEY_MAX];
    const char *one[] = {"42"}, *two[] = {"7", "9"};
    const char *dots[] = {".."}, *slash[] = {"a/b"}, *pct[] = {"%2e"}, *empty[] = {""};
    const char *big[] = {"12345678901234567890123456789012345678901234567890123456789012345"};
    const char *max[] = {"1234567890123456789012345678901234567890123456789012345678901234"};
    CHECK_INT(s3_key_init(&k, S3_DOMAIN_PROFILE, dots, 1, UP, "jpeg", &e), ERR_INVALID);
    CHECK(strncmp(e.msg, "bad_id: userId", 14) == 0);
    CHECK_INT(s3_key_init(&k, S3_DOMAIN_PROFILE, slash, 1, UP, "jpeg", &e), ERR_INVALID);
    CHECK_INT(s3_key_init(&k, S3_DOMAIN_PROFILE, pct, 1, UP, "jpeg", &e), ERR_INVALID);
    CHECK_INT(s3_key_init(&k, S3_DOMAIN_PROFILE, empty, 1, UP, "jpeg", &e), ERR_INVALID);
    CHECK_INT(s3_key_init(&k, S3_DOMAIN_PROFILE, big, 1, UP, "jpeg", &e), ERR_INVALID);
    CHECK_INT(s3_key_init(&k, S3_DOMAIN_PROFILE, max, 1, UP, "jpeg", &e), ERR_OK);
    CHECK_INT(s3_key_init(&k, S3_DOMAIN_PROFILE, two, 2, UP, "jpeg", &e), ERR_INVALID);
    CHECK(strncmp(e.msg, "wrong_id_count:", 15) == 0);
    CHECK_INT(s3_key_init(&k, S3_DOMAIN_CHAT, one, 1, UP, "jpeg", &e), ERR_INVALID);
    CHECK(strncmp(e.msg, "wrong_id_count:", 15) == 0);
    CHECK_INT(s3_key_init(&k, S3_DOMAIN_COUNT, one, 1, UP, "jpeg", &e), ERR_INVALID);
    CHECK(strncmp(e.msg, "unknown_domain:", 15) == 0);
    CHECK_INT(s3_key_init(&k, S3_DOMAIN_PROFILE, one, 1, "nope", "jpeg", &e), ERR_INVALID);
    CHECK_INT(s3_key_init(&k, S3_DOMAIN_PROFILE, one, 1, UP, "jpg", &e), ERR_UNSUPPORTED);
    CHECK(strncmp(e.msg, "unknown_ext:", 12) == 0);
    CHECK_INT(s3_key_init(&k, S3_DOMAIN_PROFILE, one, 1, UP, "json", &e), ERR_UNSUPPORTED);

    REQUIRE(s3_key_init(&k, S3_DOMAIN_PROFILE, one, 1, UP, "jpeg", &e) == ERR_OK);
    k.kind = S3_KEY_VARIANT;
    const char *sizes[] = {"", "origin", "manifest", "A1", "../x"};
    for (size_t i = 0; i < N(sizes); i++) {
        snprintf(k.size, sizeof(k.size), "%s", sizes[i]);
        CHECK_INT(s3_key_build(&k, out, sizeof(out), &e), ERR_INVALID);
        CHECK(strncmp(e.msg, "bad_size:", 9) == 0);
        CHECK_STR(out, "");
    }
    snprintf(k.size, sizeof(k.size), "320");
    CHECK_INT(s3_key_build(&k, out, 10, &e), ERR_INVALID);
    CHECK(strncmp(e.msg, "key_too_long:", 13) == 0);
    CHECK_STR(out, "");
    CHECK_INT(s3_key_build(&k, out, sizeof(out), &e), ERR_OK);
    k.kind = (enum s3_key_kind)9;
    CHECK_INT(s3_key_build(&k, out, sizeof(out), &e), ERR_INVALID);
}

TEST(failed_records_have_their_own_prefix)
{
    struct s3_key k;
    struct err e = {0};
    char out[S3_KEY_MAX];
    CHECK_STR(s3_key_kind_name(S3_KEY_FAILED), "failed");
    CHECK_INT(s3_key_parse("failed/feed/f1/" UP ".json", &k, &e), ERR_OK);
    CHECK_INT(k.kind, S3_KEY_FAILED);
    CHECK_INT(k.domain, S3_DOMAIN_FEED);
    CHECK_STR(k.ext, "json");
    /* an image extension, a kind segment, a missing path or a temp-style name are refused */
    CHECK_INT(s3_key_parse("failed/feed/f1/" UP ".jpeg", &k, &e), ERR_UNSUPPORTED);
    CHECK(strncmp(e.msg, "unknown_ext:", 12) == 0);
    CHECK_INT(s3_key_parse("failed/feed/f1/origin/" UP ".json", &k, &e), ERR_INVALID);
    CHECK_INT(s3_key_parse("failed/" UP ".json", &k, &e), ERR_INVALID);
    CHECK_INT(s3_key_parse("failed/../feed/f1/" UP ".json", &k, &e), ERR_INVALID);
    CHECK_INT(s3_key_parse_temp("failed/feed/f1/" UP ".json", &k, &e), ERR_INVALID);
    CHECK(strncmp(e.msg, "not_temp:", 9) == 0);
    /* built from a temp key of the same upload: same path, the upload id, ".json" */
    REQUIRE(s3_key_parse_temp("delete/chatroom/7/chat_profile/u1/" UP ".png", &k, &e) == ERR_OK);
    k.kind = S3_KEY_FAILED;
    CHECK_INT(s3_key_build(&k, out, sizeof(out), &e), ERR_OK);
    CHECK_STR(out, "failed/chatroom/7/chat_profile/u1/" UP ".json");
}

TEST(longest_key_fits)
{
    const char *ids[] = {"1234567890123456789012345678901234567890123456789012345678901234",
                         "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcd"};
    struct s3_key k, p;
    struct err e = {0};
    char out[S3_KEY_MAX];
    REQUIRE(s3_key_init(&k, S3_DOMAIN_CHAT_PROFILE, ids, 2,
                        "0f8fad5b-d9cb-469f-a165-70867728950e_253402300799", "webp", &e) == ERR_OK);
    k.kind = S3_KEY_VARIANT;
    snprintf(k.size, sizeof(k.size), "%s", "abcdefghijabcdefghijabcdefghijab");
    CHECK_INT(s3_key_build(&k, out, sizeof(out), &e), ERR_OK);
    CHECK_INT(s3_key_parse(out, &p, &e), ERR_OK);
    CHECK(memcmp(&k, &p, sizeof(k)) == 0);
    k.kind = S3_KEY_TEMP;
    CHECK_INT(s3_key_build(&k, out, sizeof(out), &e), ERR_OK);
    CHECK_INT(s3_key_parse_temp(out, &p, &e), ERR_OK);
    k.kind = S3_KEY_FAILED;
    CHECK_INT(s3_key_build(&k, out, sizeof(out), &e), ERR_OK);
    CHECK_INT(s3_key_parse(out, &p, &e), ERR_OK);
}

TEST(upload_id_new_and_parse)
{
    char id[S3_KEY_UPLOAD_ID_MAX], id2[S3_KEY_UPLOAD_ID_MAX], uuid[UUID_STR_LEN];
    int64_t ts = 0;
    struct err e = {0};
    REQUIRE(s3_key_upload_id_new(1764000000, id, &e) == ERR_OK);
    REQUIRE(s3_key_upload_id_new(1764000000, id2, &e) == ERR_OK);
    CHECK(strcmp(id, id2) != 0);
    CHECK_INT(strlen(id), 36 + 1 + 10);
    CHECK_STR(id + 36, "_1764000000");
    CHECK_INT(s3_key_upload_id_parse(id, uuid, &ts, &e), ERR_OK);
    CHECK_INT(ts, 1764000000);
    CHECK(uuid_v4_valid(uuid));
    CHECK(strncmp(uuid, id, 36) == 0);
    CHECK_INT(s3_key_upload_id_new(0, id, &e), ERR_INVALID);
    CHECK_STR(id, "");
    CHECK_INT(s3_key_upload_id_new(S3_KEY_TS_MAX + 1, id, &e), ERR_INVALID);
    CHECK_INT(s3_key_upload_id_new(S3_KEY_TS_MAX, id, &e), ERR_OK);
    CHECK_INT(s3_key_upload_id_parse(UPB "_1", NULL, &ts, &e), ERR_OK);
    CHECK_INT(ts, 1);
    CHECK_INT(s3_key_upload_id_parse(UP "x", NULL, NULL, &e), ERR_INVALID);
    CHECK_INT(s3_key_upload_id_parse(NULL, NULL, NULL, &e), ERR_INVALID);
}

TEST(content_types_both_ways)
{
    static const char *const pairs[][2] = {
        {"image/jpeg", "jpeg"}, {"image/png", "png"},   {"image/webp", "webp"},
        {"image/heic", "heic"}, {"image/heif", "heif"}, {"image/avif", "avif"},
        {"image/gif", "gif"},
    };
    for (size_t i = 0; i < N(pairs); i++) {
        CHECK_STR(s3_key_ext_from_content_type(pairs[i][0]), pairs[i][1]);
        CHECK_STR(s3_key_content_type_from_ext(pairs[i][1]), pairs[i][0]);
    }
    CHECK_STR(s3_key_ext_from_content_type("IMAGE/JPEG"), "jpeg");
    CHECK_STR(s3_key_ext_from_content_type(" image/png ; charset=binary"), "png");
    CHECK(s3_key_ext_from_content_type("image/jpg") == NULL);
    CHECK(s3_key_ext_from_content_type("image/svg+xml") == NULL);
    CHECK(s3_key_ext_from_content_type("image/jpegx") == NULL);
    CHECK(s3_key_ext_from_content_type("image/") == NULL);
    CHECK(s3_key_ext_from_content_type("") == NULL);
    CHECK(s3_key_ext_from_content_type(NULL) == NULL);
    CHECK(s3_key_content_type_from_ext("jpg") == NULL);
    CHECK(s3_key_content_type_from_ext("json") == NULL);
}

TEST(validators)
{
    CHECK(s3_key_id_valid("a"));
    CHECK(s3_key_id_valid("Az09_-"));
    CHECK(!s3_key_id_valid(""));
    CHECK(!s3_key_id_valid(NULL));
    CHECK(!s3_key_id_valid("a.b"));
    CHECK(!s3_key_id_valid("a/b"));
    CHECK(!s3_key_id_valid("a%b"));
    CHECK(s3_key_size_valid("320"));
    CHECK(s3_key_size_valid("thumb-2x_a"));
    CHECK(!s3_key_size_valid("Thumb"));
    CHECK(!s3_key_size_valid("origin"));
    CHECK(!s3_key_size_valid("manifest"));
    CHECK(!s3_key_size_valid(""));
}

TEST_MAIN()
