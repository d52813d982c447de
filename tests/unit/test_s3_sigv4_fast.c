/*
 * test_s3_sigv4_fast.c: the presign fast path (s3/sigv4_fast.c) against the staged pipeline.
 *
 * sigv4_s3_presign_url takes the fast path when no trace is asked for and the staged path when
 * one is, so every case presigns the same object twice and requires byte-identical URLs, over
 * keys with reserved and unicode bytes, path-style and virtual-hosted addressing, both URL
 * layouts, session tokens (a long one takes the staged path on both sides), header sets with
 * mixed case, duplicates and folded whitespace, and timestamps from 1970 to 9999. Also: the
 * hand-written timestamp against ts_amz, the run-length encoder against a byte-by-byte
 * reference, refusals that must stay refusals, and cache hits against fresh derivations.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/timeutil.h"
#include "s3/sigv4.h"
#include "s3/sigv4_internal.h"
#include "t.h"

#define AK "AKIDEXAMPLE"
#define SK "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

/* Presigns through the fast path (trace NULL) and the staged path (trace set); both must agree
 * on the result code and, on success, on every byte. Returns the number of mismatches. */
static int compare(const struct sigv4_params *p, const struct sigv4_s3_presign *o)
{
    char *fast = NULL, *staged = NULL;
    struct sigv4_trace tr = {0};
    struct err e1 = {0}, e2 = {0};
    enum err_code r1 = sigv4_s3_presign_url(p, o, &fast, NULL, &e1);
    enum err_code r2 = sigv4_s3_presign_url(p, o, &staged, &tr, &e2);
    int bad = 0;
    if (r1 != r2 || (r1 == ERR_OK && strcmp(fast, staged) != 0) ||
        (r1 != ERR_OK && strcmp(e1.msg, e2.msg) != 0)) {
        fprintf(stderr, "mismatch for key '%s' (%d/%d):\n  fast   %s\n  staged %s\n", o->key,
                (int)r1, (int)r2, fast ? fast : e1.msg, staged ? staged : e2.msg);
        bad = 1;
    }
    free(fast);
    free(staged);
    sigv4_trace_free(&tr);
    return bad;
}

static const char *const KEYS[] = {
    "a",
    "delete/profile/42/0b7c1c1e-7f5e-4c39-9a53-3c7a2b1d9e10_1795548363.jpeg",
    "with space/and+plus/100%/dollar$/tilde~/x",
    "double//slash/",
    "/leading-slash",
    "unicode/\xc3\xa9t\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac/\xf0\x9f\x93\xb7.png",
    "reserved!*'();:@&=+$,?#[]\"<>\\^`{|}",
    "ctl\x01\x1f\x7f\xff",
};

static char long_key[1025];
static char long_token[SIGV4_TOKEN_MAX];

static void fill_long_inputs(void)
{
    for (size_t i = 0; i < sizeof(long_key) - 1; i++)
        long_key[i] = "ab/+ %\xc3\xa9"[i % 8];
    long_key[sizeof(long_key) - 1] = '\0';
    for (size_t i = 0; i < sizeof(long_token) - 1; i++)
        long_token[i] = "AQoDYXdzEJr+/=="[i % 15];
    long_token[sizeof(long_token) - 1] = '\0';
}

/* Header sets: none, the endpoint's three, and awkward ones. */
static const struct sigv4_pair H1[] = {{"Content-Type", "image/jpeg"}};
static const struct sigv4_pair H3[] = {
    {"Content-Type", "image/png"},
    {"Content-Length", "1234567"},
    {"x-amz-checksum-sha256", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWzG3hSuFU="}};
static const struct sigv4_pair HODD[] = {{"X-Amz-Meta-B", "  two   words\t here "},
                                         {"x-amz-meta-a", "first"},
                                         {"X-AMZ-META-A", "second"},
                                         {"Content-Type", ""},
                                         {"x-amz-meta-c", NULL},
                                         {"X-Amz-Meta-Z", "line\r\n folded"}};

struct hset {
    const struct sigv4_pair *h;
    size_t n;
};

TEST(fast_path_matches_staged_path)
{
    fill_long_inputs();
    const struct hset hsets[] = {{NULL, 0}, {H1, 1}, {H3, 3}, {HODD, 6}};
    const time_t times[] = {0,
                            1440938160 /* the AWS suite's 20150830T123600Z */,
                            951782400 /* 2000-02-29 */,
                            1709164800 /* 2024-02-29 */,
                            4107542399 /* 2100-02-28T23:59:59 */,
                            253402300799 /* 9999 */};
    const char *tokens[] = {NULL, "", "FQoGZXIvYXdzE+short/token==", long_token};
    int bad = 0, n = 0;
    for (size_t k = 0; k <= sizeof(KEYS) / sizeof(KEYS[0]); k++) {
        const char *key = k < sizeof(KEYS) / sizeof(KEYS[0]) ? KEYS[k] : long_key;
        for (int variant = 0; variant < 4 * 4 * 2 * 2; variant++) {
            const struct hset *hs = &hsets[variant % 4];
            struct sigv4_params p = {.creds = {AK, SK, tokens[variant / 4 % 4]},
                                     .region = "us-east-1",
                                     .service = "s3",
                                     .time = times[(k + (size_t)variant) % 6],
                                     .expires = variant % 3 == 0 ? 604800 : 600};
            struct sigv4_s3_presign o = {
                .method = variant % 5 == 0 ? "GET" : "PUT",
                .scheme = variant % 2 ? "http" : "https",
                .host = variant % 2 ? "127.0.0.1:9000" : "s3.amazonaws.com",
                .virtual_hosted = variant / 16 % 2 == 1,
                .bucket = "imgsvc-bucket.1",
                .key = key,
                .headers = hs->h,
                .nheaders = hs->n,
                .order = variant / 32 % 2 ? SIGV4_ORDER_SORTED : SIGV4_ORDER_AWS};
            bad += compare(&p, &o);
            n++;
        }
    }
    CHECK_INT(bad, 0);
    CHECK(n == 9 * 64);
}

TEST(fast_path_matches_with_a_cache_and_other_regions)
{
    struct sigv4_key_cache *c = sigv4_key_cache_new(2);
    REQUIRE(c != NULL);
    const char *regions[] = {"us-east-1", "eu-west-3", "ap-southeast-2"};
    int bad = 0;
    for (int i = 0; i < 30; i++) {
        struct sigv4_params p = {.creds = {i % 2 ? AK : "AKIAOTHER", i % 4 < 2 ? SK : "other"},
                                 .region = regions[i % 3],
                                 .service = "s3",
                                 .time = 1767225600 + (time_t)i * 43200, /* days change */
                                 .expires = 3600,
                                 .cache = c};
        struct sigv4_s3_presign o = {.method = "PUT",
                                     .scheme = "https",
                                     .host = "s3.example.com",
                                     .bucket = "b",
                                     .key = KEYS[i % 8],
                                     .headers = H3,
                                     .nheaders = 3};
        bad += compare(&p, &o);
        char *a = NULL, *b = NULL; /* and a cache hit equals a fresh derivation */
        CHECK(sigv4_s3_presign_url(&p, &o, &a, NULL, NULL) == ERR_OK);
        p.cache = NULL;
        CHECK(sigv4_s3_presign_url(&p, &o, &b, NULL, NULL) == ERR_OK);
        CHECK(a && b && strcmp(a, b) == 0);
        free(a);
        free(b);
    }
    CHECK_INT(bad, 0);
    CHECK(sigv4_key_cache_size(c) <= 2);
    sigv4_key_cache_destroy(c);
}

TEST(refusals_are_the_same_on_both_paths)
{
    static const struct sigv4_pair auth_hdr[] = {{"Authorization", "x"}};
    static const struct sigv4_pair date_hdr[] = {{"X-Amz-Date", "x"}};
    static const struct sigv4_pair bad_name[] = {{"Bad Name", "x"}};
    static const struct sigv4_pair many[9] = {{"a", "1"}, {"b", "2"}, {"c", "3"},
                                              {"d", "4"}, {"e", "5"}, {"f", "6"},
                                              {"g", "7"}, {"h", "8"}, {"i", "9"}};
    struct {
        const char *ak, *region;
        int64_t expires;
        const struct sigv4_pair *h;
        size_t nh;
        const char *method;
        time_t t;
    } cases[] = {
        {AK, "us-east-1", 0, NULL, 0, "PUT", 1767225600},
        {AK, "us-east-1", 604801, NULL, 0, "PUT", 1767225600},
        {"", "us-east-1", 600, NULL, 0, "PUT", 1767225600},
        {"AK/ID", "us-east-1", 600, NULL, 0, "PUT", 1767225600},
        {AK, "us/east", 600, NULL, 0, "PUT", 1767225600},
        {AK, "", 600, NULL, 0, "PUT", 1767225600},
        {AK, "us-east-1", 600, auth_hdr, 1, "PUT", 1767225600},
        {AK, "us-east-1", 600, date_hdr, 1, "PUT", 1767225600},
        {AK, "us-east-1", 600, bad_name, 1, "PUT", 1767225600},
        {AK, "us-east-1", 600, NULL, 0, "P UT", 1767225600},
        {AK, "us-east-1", 600, many, 9, "PUT", 1767225600}, /* staged path: accepted */
        {AK, "us-east-1", 600, NULL, 0, "PUT", -1},         /* staged path: 1969 */
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sigv4_params p = {.creds = {cases[i].ak, SK, NULL},
                                 .region = cases[i].region,
                                 .service = "s3",
                                 .time = cases[i].t,
                                 .expires = cases[i].expires};
        struct sigv4_s3_presign o = {.method = cases[i].method,
                                     .scheme = "https",
                                     .host = "s3.example.com",
                                     .bucket = "b",
                                     .key = "k",
                                     .headers = cases[i].h,
                                     .nheaders = cases[i].nh};
        bad += compare(&p, &o);
    }
    CHECK_INT(bad, 0);
}

TEST(amz_time_matches_ts_amz)
{
    char a[TS_AMZ_LEN + 1], b[TS_AMZ_LEN + 1];
    int bad = 0;
    unsigned long long x = 88172645463325252ULL; /* xorshift: spread over 1970..9999 */
    for (int i = 0; i < 200000; i++) {
        time_t t;
        if (i < 100000) {
            t = (time_t)i * 86399; /* every day boundary region through 2243 */
        } else {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            t = (time_t)(x % 253402300800ULL);
        }
        if (!sigv4_i_amz_time(t, a) || ts_amz(t, b, sizeof(b)) != TS_AMZ_LEN || strcmp(a, b) != 0)
            bad++;
    }
    CHECK_INT(bad, 0);
    CHECK(sigv4_i_amz_time(253402300799, a) && strcmp(a, "99991231T235959Z") == 0);
    CHECK(!sigv4_i_amz_time(253402300800, a) && a[0] == '\0');
    CHECK(!sigv4_i_amz_time(-1, a));
}

TEST(run_length_encoder_matches_byte_by_byte)
{
    char in[512], out[1600], ref[1600];
    for (int i = 0; i < 512; i++)
        in[i] = (char)(i * 7 % 256);
    for (int slash = 0; slash < 2; slash++) {
        size_t r = 0;
        for (int i = 0; i < 512; i++) {
            unsigned char c = (unsigned char)in[i];
            bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                        (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~' ||
                        (slash && c == '/');
            if (keep) {
                ref[r++] = (char)c;
            } else {
                snprintf(ref + r, 4, "%%%02X", c);
                r += 3;
            }
        }
        size_t n = sigv4_i_uri_encode_raw(out, sizeof(out), in, sizeof(in), slash == 1);
        CHECK(n == r && memcmp(out, ref, r) == 0);
        CHECK(sigv4_i_uri_encode_raw(out, r - 1, in, sizeof(in), slash == 1) == SIZE_MAX);
        struct buf b;
        buf_init(&b, SIGV4_TEXT_MAX);
        CHECK(sigv4_uri_encode(&b, in, sizeof(in), slash == 1) == ERR_OK);
        CHECK(b.len == r && memcmp(b.data, ref, r) == 0);
        buf_free(&b);
    }
    struct buf small;
    buf_init(&small, 10);
    CHECK(sigv4_uri_encode(&small, "abc def ghi", 11, false) == ERR_TOO_LARGE);
    buf_free(&small);
}

TEST_MAIN()
