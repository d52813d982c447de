/*
 * test_s3_store.c: the embedded store's filesystem backend (s3/store.h), its checksums
 * (s3/checksum.h) and its event records (s3/store_event.h).
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "s3/checksum.h"
#include "s3/store.h"
#include "s3/store_event.h"
#include "s3/store_internal.h"
#include "t.h"

static char dir[256];

static void rm_rf(const char *path)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", path);
}

static struct s3_store *open_store(bool fresh)
{
    if (fresh) {
        snprintf(dir, sizeof(dir), "/tmp/imgsvc-store-test-XXXXXX");
        if (mkdtemp(dir) == NULL)
            return NULL;
    }
    struct s3_store_opts o = {dir, 1024 * 1024, false};
    struct err e = {0};
    struct s3_store *s = s3_store_open(&o, &e);
    if (s == NULL)
        fprintf(stderr, "open: %s\n", e.msg);
    else if (s3_store_bucket_create(s, "bkt", &e) != ERR_OK)
        fprintf(stderr, "bucket: %s\n", e.msg);
    return s;
}

static void close_store(struct s3_store *s)
{
    s3_store_close(s);
    rm_rf(dir);
}

static enum err_code put(struct s3_store *s, const char *key, const char *data)
{
    struct s3_store_put p = {.bucket = "bkt", .key = key, .data = data, .len = strlen(data)};
    struct err e = {0};
    return s3_store_put(s, &p, NULL, &e);
}

/* Reads the whole object into a static buffer; NULL when absent. */
static const char *get(struct s3_store *s, const char *key)
{
    static char out[4096];
    struct s3_store_obj *obj = NULL;
    struct s3_store_info info;
    struct err e = {0};
    if (s3_store_obj_open(s, "bkt", key, &obj, &info, &e) != ERR_OK)
        return NULL;
    enum err_code rc = info.size < sizeof(out)
                           ? s3_store_obj_read(obj, 0, out, (size_t)info.size, &e)
                           : ERR_TOO_LARGE;
    out[rc == ERR_OK ? info.size : 0] = '\0';
    s3_store_obj_close(obj);
    s3_store_info_free(&info);
    return rc == ERR_OK ? out : NULL;
}

static size_t count_files(const char *sub)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, sub);
    DIR *d = opendir(path);
    size_t n = 0;
    struct dirent *de;
    while (d != NULL && (de = readdir(d)) != NULL)
        n += de->d_name[0] != '.';
    if (d != NULL)
        closedir(d);
    return n;
}

TEST(key_and_key_slash_child_both_exist)
{
    struct s3_store *s = open_store(true);
    REQUIRE(s != NULL);
    CHECK_INT(put(s, "a", "first"), ERR_OK);
    CHECK_INT(put(s, "a/b", "second"), ERR_OK);
    CHECK_INT(put(s, "a/", "third"), ERR_OK);
    CHECK_INT(put(s, "a//b", "fourth"), ERR_OK);
    CHECK_STR(get(s, "a"), "first");
    CHECK_STR(get(s, "a/b"), "second");
    CHECK_STR(get(s, "a/"), "third");
    CHECK_STR(get(s, "a//b"), "fourth");
    close_store(s);
}

TEST(keys_with_any_bytes_round_trip_and_survive_reopen)
{
    struct s3_store *s = open_store(true);
    REQUIRE(s != NULL);
    const char *keys[] = {"sp ace+plus%25/é/\x01\x7f", "~!*'();:@&=+$,?#[]", "\xff\xfe"};
    char longkey[S3_STORE_KEY_MAX + 1];
    memset(longkey, 'k', S3_STORE_KEY_MAX);
    longkey[S3_STORE_KEY_MAX] = '\0';
    for (size_t i = 0; i < 3; i++)
        CHECK_INT(put(s, keys[i], keys[i]), ERR_OK);
    CHECK_INT(put(s, longkey, "long"), ERR_OK);
    s3_store_close(s);
    s = open_store(false); /* the index is rebuilt from the files */
    REQUIRE(s != NULL);
    for (size_t i = 0; i < 3; i++)
        CHECK_STR(get(s, keys[i]), keys[i]);
    CHECK_STR(get(s, longkey), "long");
    struct s3_store_list_params p = {.max_keys = 100};
    struct s3_store_list_result r;
    struct err e = {0};
    REQUIRE(s3_store_list(s, "bkt", &p, &r, &e) == ERR_OK);
    CHECK_INT(r.ncontents, 4);
    s3_store_list_result_free(&r);
    close_store(s);
}

TEST(traversal_and_bad_keys_are_refused)
{
    struct err e = {0};
    char longkey[S3_STORE_KEY_MAX + 2];
    memset(longkey, 'k', sizeof(longkey) - 1);
    longkey[sizeof(longkey) - 1] = '\0';
    CHECK_INT(s3_store_check_key("../etc/passwd", 13, &e), ERR_INVALID);
    CHECK_INT(s3_store_check_key("a/../../b", 9, &e), ERR_INVALID);
    CHECK_INT(s3_store_check_key("a/..", 4, &e), ERR_INVALID);
    CHECK_INT(s3_store_check_key("./a", 3, &e), ERR_INVALID);
    CHECK_INT(s3_store_check_key("a\\..\\b", 6, &e), ERR_INVALID);
    CHECK_INT(s3_store_check_key("a\0b", 3, &e), ERR_INVALID);
    CHECK_INT(s3_store_check_key("", 0, &e), ERR_INVALID);
    CHECK_INT(s3_store_check_key(longkey, strlen(longkey), &e), ERR_TOO_LARGE);
    CHECK_INT(s3_store_check_key("a..b/..c/d..", 12, &e), ERR_OK);
    CHECK_INT(s3_store_check_key("/leading//double/", 17, &e), ERR_OK);
    struct s3_store *s = open_store(true);
    REQUIRE(s != NULL);
    CHECK_INT(put(s, "../escape", "x"), ERR_INVALID);
    CHECK_INT(put(s, longkey, "x"), ERR_TOO_LARGE);
    CHECK(access("/tmp/escape", F_OK) != 0);
    CHECK(!s3_store_bucket_exists(s, "other"));
    CHECK(!s3_store_bucket_name_ok("../x"));
    CHECK(!s3_store_bucket_name_ok("Upper"));
    CHECK(s3_store_bucket_name_ok("my-bucket.1"));
    CHECK_INT(s3_store_bucket_create(s, "..", &e), ERR_INVALID);
    close_store(s);
}

TEST(metadata_is_kept_beside_the_object)
{
    struct s3_store *s = open_store(true);
    REQUIRE(s != NULL);
    struct s3_store_header hs[] = {{"x-amz-meta-color", "blue"}, {"cache-control", "no-cache"}};
    struct s3_store_put p = {"bkt", "m", "hello", 5, "image/png", hs, 2, "CRC32", "NhCmhg=="};
    struct s3_store_info info;
    struct err e = {0};
    REQUIRE(s3_store_put(s, &p, &info, &e) == ERR_OK);
    CHECK_STR(info.etag, "5d41402abc4b2a76b9719d911017c592"); /* MD5("hello") */
    s3_store_info_free(&info);
    s3_store_close(s);
    s = open_store(false);
    struct s3_store_obj *obj = NULL;
    REQUIRE(s3_store_obj_open(s, "bkt", "m", &obj, &info, &e) == ERR_OK);
    CHECK_INT(info.size, 5);
    CHECK_STR(info.etag, "5d41402abc4b2a76b9719d911017c592");
    CHECK_STR(info.content_type, "image/png");
    CHECK_STR(info.checksum_algo, "CRC32");
    CHECK(info.mtime_ms > 1700000000000LL);
    REQUIRE(info.nheaders == 2);
    CHECK_STR(info.headers[0].name, "x-amz-meta-color");
    CHECK_STR(info.headers[0].value, "blue");
    s3_store_obj_close(obj);
    s3_store_info_free(&info);
    struct s3_store_put d = {.bucket = "bkt", .key = "d", .data = "", .len = 0};
    REQUIRE(s3_store_put(s, &d, &info, &e) == ERR_OK);
    CHECK_STR(info.content_type, S3_STORE_DEFAULT_CTYPE);
    CHECK_STR(info.etag, "d41d8cd98f00b204e9800998ecf8427e");
    s3_store_info_free(&info);
    close_store(s);
}

TEST(overwrite_replaces_and_delete_is_idempotent)
{
    struct s3_store *s = open_store(true);
    REQUIRE(s != NULL);
    struct err e = {0};
    CHECK_INT(put(s, "k", "one"), ERR_OK);
    struct s3_store_obj *obj = NULL;
    struct s3_store_info info;
    REQUIRE(s3_store_obj_open(s, "bkt", "k", &obj, &info, &e) == ERR_OK);
    CHECK_INT(put(s, "k", "two!"), ERR_OK);
    char old[4] = {0};
    CHECK_INT(s3_store_obj_read(obj, 0, old, 3, &e), ERR_OK); /* an open reader keeps its copy */
    CHECK(memcmp(old, "one", 3) == 0);
    s3_store_obj_close(obj);
    s3_store_info_free(&info);
    CHECK_STR(get(s, "k"), "two!");
    CHECK_INT(s3_store_delete(s, "bkt", "k", &e), ERR_OK);
    CHECK_INT(s3_store_delete(s, "bkt", "k", &e), ERR_OK);
    CHECK(get(s, "k") == NULL);
    CHECK_INT(s3_store_obj_open(s, "bkt", "k", &obj, &info, &e), ERR_NOT_FOUND);
    CHECK_INT(s3_store_delete(s, "nobucket", "k", &e), ERR_NOT_FOUND);
    close_store(s);
}

TEST(size_cap_is_entity_too_large)
{
    struct s3_store *s = open_store(true);
    REQUIRE(s != NULL);
    char *big = calloc(1, 1024 * 1024 + 1);
    REQUIRE(big != NULL);
    struct s3_store_put p = {.bucket = "bkt", .key = "big", .data = big, .len = 1024 * 1024 + 1};
    struct err e = {0};
    CHECK_INT(s3_store_put(s, &p, NULL, &e), ERR_TOO_LARGE);
    p.len = 1024 * 1024;
    CHECK_INT(s3_store_put(s, &p, NULL, &e), ERR_OK);
    free(big);
    close_store(s);
}

TEST(leftover_temp_files_are_removed_at_open)
{
    struct s3_store *s = open_store(true);
    REQUIRE(s != NULL);
    CHECK_INT(put(s, "kept", "yes"), ERR_OK);
    s3_store_close(s);
    char path[512];
    snprintf(path, sizeof(path), "%s/tmp/0123456789abcdef.tmp", dir);
    FILE *f = fopen(path, "w");
    REQUIRE(f != NULL);
    fputs("IMGSVCOBJ1 999\n{half", f);
    fclose(f);
    CHECK_INT(count_files("tmp"), 1);
    s = open_store(false);
    REQUIRE(s != NULL);
    CHECK_INT(count_files("tmp"), 0);
    CHECK_STR(get(s, "kept"), "yes");
    close_store(s);
}

TEST(truncated_object_files_are_skipped_at_open)
{
    struct s3_store *s = open_store(true);
    REQUIRE(s != NULL);
    CHECK_INT(put(s, "whole", "0123456789"), ERR_OK);
    CHECK_INT(put(s, "cut", "0123456789"), ERR_OK);
    s3_store_close(s);
    char h[65], path[512];
    s3_store_key_hash("cut", 3, h);
    snprintf(path, sizeof(path), "%s/buckets/bkt/%.2s/%s", dir, h, h);
    REQUIRE(truncate(path, 20) == 0);
    s = open_store(false);
    REQUIRE(s != NULL);
    struct s3_store_list_params p = {.max_keys = 10};
    struct s3_store_list_result r;
    struct err e = {0};
    REQUIRE(s3_store_list(s, "bkt", &p, &r, &e) == ERR_OK);
    REQUIRE(r.ncontents == 1);
    CHECK_STR(r.contents[0].key, "whole");
    s3_store_list_result_free(&r);
    close_store(s);
}

/* A write that fails (here: the file size limit, as a full disk would) changes nothing. */
TEST(failed_write_leaves_the_old_object_and_no_temp_file)
{
    struct s3_store *s = open_store(true);
    REQUIRE(s != NULL);
    CHECK_INT(put(s, "k", "old"), ERR_OK);
    struct rlimit old, lim = {4096, 4096};
    getrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, SIG_IGN);
    REQUIRE(setrlimit(RLIMIT_FSIZE, &lim) == 0);
    char *big = malloc(64 * 1024);
    REQUIRE(big != NULL);
    memset(big, 'x', 64 * 1024);
    struct s3_store_put p = {.bucket = "bkt", .key = "k", .data = big, .len = 64 * 1024};
    struct err e = {0};
    enum err_code rc = s3_store_put(s, &p, NULL, &e);
    setrlimit(RLIMIT_FSIZE, &old);
    CHECK_INT(rc, ERR_IO);
    CHECK_STR(get(s, "k"), "old");
    CHECK_INT(count_files("tmp"), 0);
    free(big);
    close_store(s);
}

static void list_page(struct s3_store *s, const char *prefix, const char *delim, const char *after,
                      bool after_prefix, size_t max, char *out, size_t cap, bool *truncated,
                      char **last, bool *last_prefix)
{
    struct s3_store_list_params p = {prefix, delim, after, after_prefix, max};
    struct s3_store_list_result r;
    struct err e = {0};
    out[0] = '\0';
    if (s3_store_list(s, "bkt", &p, &r, &e) != ERR_OK)
        return;
    size_t n = 0;
    for (size_t i = 0; i < r.ncontents; i++)
        n += (size_t)snprintf(out + n, cap - n, "%s ", r.contents[i].key);
    for (size_t i = 0; i < r.nprefixes; i++)
        n += (size_t)snprintf(out + n, cap - n, "P:%s ", r.prefixes[i]);
    *truncated = r.truncated;
    if (last != NULL) {
        *last = r.last ? strdup(r.last) : NULL;
        *last_prefix = r.last_is_prefix;
    }
    s3_store_list_result_free(&r);
}

TEST(listing_order_prefix_delimiter_and_pages)
{
    struct s3_store *s = open_store(true);
    REQUIRE(s != NULL);
    const char *keys[] = {"b", "a/2", "a/1", "a", "a/x/1", "a/x/2", "c/d", "a-", "\xc3\xa9"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        CHECK_INT(put(s, keys[i], "v"), ERR_OK);
    char out[512];
    bool tr = false, lp = false;
    char *last = NULL;
    list_page(s, NULL, NULL, NULL, false, 1000, out, sizeof(out), &tr, NULL, NULL);
    CHECK_STR(out, "a a- a/1 a/2 a/x/1 a/x/2 b c/d \xc3\xa9 "); /* byte order */
    CHECK(!tr);
    list_page(s, NULL, "/", NULL, false, 1000, out, sizeof(out), &tr, NULL, NULL);
    CHECK_STR(out, "a a- b \xc3\xa9 P:a/ P:c/ ");
    list_page(s, "a/", "/", NULL, false, 1000, out, sizeof(out), &tr, NULL, NULL);
    CHECK_STR(out, "a/1 a/2 P:a/x/ ");
    list_page(s, "a/", NULL, "a/2", false, 1000, out, sizeof(out), &tr, NULL, NULL);
    CHECK_STR(out, "a/x/1 a/x/2 ");
    /* pages of 2 with a delimiter: a common prefix counts as one and is never repeated */
    list_page(s, NULL, "/", NULL, false, 2, out, sizeof(out), &tr, &last, &lp);
    CHECK_STR(out, "a a- ");
    CHECK(tr);
    char *first_last = last;
    list_page(s, NULL, "/", first_last, lp, 2, out, sizeof(out), &tr, &last, &lp);
    free(first_last);
    CHECK_STR(out, "b P:a/ "); /* one key and one prefix */
    CHECK(tr && !lp);
    CHECK_STR(last, "b");
    list_page(s, NULL, "/", "a/", true, 2, out, sizeof(out), &tr, NULL, NULL);
    CHECK_STR(out, "b P:c/ ");
    CHECK(tr);
    free(last);
    list_page(s, "zz", NULL, NULL, false, 10, out, sizeof(out), &tr, NULL, NULL);
    CHECK_STR(out, "");
    CHECK(!tr);
    close_store(s);
}

TEST(checksums_match_known_vectors)
{
    CHECK(s3_crc32(0, "123456789", 9) == 0xCBF43926u);
    CHECK(s3_crc32c(0, "123456789", 9) == 0xE3069283u);
    CHECK(s3_crc64nvme(0, "123456789", 9) == 0xAE8B14860A799888ull);
    char b[S3_CK_B64_MAX];
    CHECK(s3_checksum_b64(S3_CK_SHA256, "", 0, b));
    CHECK_STR(b, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
    CHECK(s3_checksum_b64(S3_CK_MD5, "hello", 5, b));
    CHECK_STR(b, "XUFAKrxLKna5cZ2REBfFkg==");
    CHECK(s3_checksum_b64(S3_CK_CRC32, "hello", 5, b));
    CHECK_STR(b, "NhCmhg==");
    CHECK(s3_checksum_valid(S3_CK_MD5, "XUFAKrxLKna5cZ2REBfFkg=="));
    CHECK(!s3_checksum_valid(S3_CK_MD5, "XUFAKrxLKna5cZ2REBfFkg="));
    CHECK(!s3_checksum_valid(S3_CK_MD5, "not base64 at all!!!!!!!"));
    CHECK(!s3_checksum_valid(S3_CK_CRC32, "NhCmhg=="
                                          "AA"));
    CHECK_INT(s3_checksum_from_header("X-Amz-Checksum-SHA256"), S3_CK_SHA256);
    CHECK_INT(s3_checksum_from_name("crc32c"), S3_CK_CRC32C);
}

TEST(event_record_has_aws_shape)
{
    struct s3_store_event ev = {"ObjectCreated:Put",
                                "eu-west-3",
                                "photos",
                                "delete/feed/f 1/a+b é.jpeg",
                                1234,
                                "5d41402abc4b2a76b9719d911017c592",
                                "0000000000000000AB",
                                1767322445678LL,
                                "AKID",
                                "10.0.0.1",
                                "req-1"};
    size_t len = 0;
    char *js = s3_store_event_json(&ev, &len);
    REQUIRE(js != NULL);
    CHECK_INT(len, strlen(js));
    cJSON *doc = cJSON_Parse(js);
    REQUIRE(doc != NULL);
    cJSON *recs = cJSON_GetObjectItem(doc, "Records");
    REQUIRE(cJSON_GetArraySize(recs) == 1);
    cJSON *r = cJSON_GetArrayItem(recs, 0);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(r, "eventVersion")), "2.1");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(r, "eventSource")), "aws:s3");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(r, "awsRegion")), "eu-west-3");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(r, "eventTime")),
              "2026-01-02T02:54:05.678Z");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(r, "eventName")), "ObjectCreated:Put");
    cJSON *s3 = cJSON_GetObjectItem(r, "s3");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(s3, "s3SchemaVersion")), "1.0");
    cJSON *b = cJSON_GetObjectItem(s3, "bucket");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(b, "name")), "photos");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(b, "arn")), "arn:aws:s3:::photos");
    cJSON *o = cJSON_GetObjectItem(s3, "object");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(o, "key")),
              "delete/feed/f+1/a%2Bb+%C3%A9.jpeg");
    CHECK_INT(cJSON_GetNumberValue(cJSON_GetObjectItem(o, "size")), 1234);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(o, "eTag")),
              "5d41402abc4b2a76b9719d911017c592");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(o, "sequencer")), "0000000000000000AB");
    cJSON *rp = cJSON_GetObjectItem(r, "requestParameters");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(rp, "sourceIPAddress")), "10.0.0.1");
    cJSON_Delete(doc);
    free(js);
}

TEST(event_sequencer_is_monotonic_hex)
{
    atomic_uint_fast64_t last = 0;
    char a[S3_EVENT_SEQUENCER_LEN + 1], b[S3_EVENT_SEQUENCER_LEN + 1];
    s3_store_event_sequencer(&last, 1000, a);
    s3_store_event_sequencer(&last, 1000, b); /* same clock: still increases */
    CHECK_STR(a, "0000000000000003E8");
    CHECK_STR(b, "0000000000000003E9");
    s3_store_event_sequencer(&last, 5, a); /* clock went back: still increases */
    CHECK_STR(a, "0000000000000003EA");
    CHECK(strlen(a) == S3_EVENT_SEQUENCER_LEN);
}

TEST_MAIN()
