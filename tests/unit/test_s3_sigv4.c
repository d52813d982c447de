/*
 * test_s3_sigv4.c: unit tests for s3/sigv4: the stages alone (encoding, canonical forms, the
 * signing key against AWS's published example), S3 presigned URLs (AWS's published example,
 * awkward keys, expiry bounds, session tokens), every verdict of the verifier, and the
 * signing-key cache. The generic algorithm is covered by tests/vectors (the AWS suite).
 */
#include "s3/sigv4.h"
#include "t.h"

#include <stdbool.h>

#define AK     "AKIAIOSFODNN7EXAMPLE"
#define SK     "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define T0     1369353600 /* 2013-05-24T00:00:00Z */
#define REGION "us-east-1"

/* ---- helpers ------------------------------------------------------------------------------ */

static char *encode(const char *s, bool keep_slash)
{
    struct buf b;
    buf_init(&b, SIGV4_TEXT_MAX);
    if (sigv4_uri_encode(&b, s, strlen(s), keep_slash) != ERR_OK) {
        buf_free(&b);
        return NULL;
    }
    return buf_take(&b, NULL);
}

static char *canon_uri(const char *path, enum sigv4_rules rules)
{
    struct buf b;
    buf_init(&b, SIGV4_TEXT_MAX);
    if (sigv4_canonical_uri(&b, path, rules) != ERR_OK) {
        buf_free(&b);
        return NULL;
    }
    return buf_take(&b, NULL);
}

struct lookup_ctx {
    const char *ak, *sk, *token;
};

static enum err_code lookup(void *ctx, const char *ak, struct sigv4_credentials *out)
{
    const struct lookup_ctx *c = ctx;
    if (strcmp(ak, c->ak) != 0)
        return ERR_NOT_FOUND;
    out->secret_key = c->sk;
    out->session_token = c->token;
    return ERR_OK;
}

static struct lookup_ctx g_keys = {AK, SK, NULL};

/* Presigns an S3 object with the test credentials; returns the URL (caller frees). */
static char *presign(const char *method, const char *key, int64_t expires, const char *token,
                     const struct sigv4_pair *hdrs, size_t nh, struct sigv4_trace *trace)
{
    struct sigv4_params p = {{AK, SK, token}, REGION, "s3",    T0,  SIGV4_RULES_S3,
                             false,           false,  expires, NULL};
    struct sigv4_s3_presign o = {method, "https", "s3.example.com", false, "bkt", key, hdrs, nh,
                                 NULL,   0,       SIGV4_ORDER_AWS};
    char *url = NULL;
    struct err e = {0};
    if (sigv4_s3_presign_url(&p, &o, &url, trace, &e) != ERR_OK)
        return NULL;
    return url;
}

/* Splits an https URL into its raw path and decoded query, then verifies it at `now`. */
static enum sigv4_verdict verify_url(const char *url, const char *method,
                                     const struct sigv4_pair *extra, size_t nextra, time_t now,
                                     struct lookup_ctx *keys, char *msg, size_t msgcap)
{
    const char *host = strstr(url, "://") + 3;
    const char *path = strchr(host, '/');
    const char *q = strchr(path, '?');
    char hostbuf[256], pathbuf[8192];
    snprintf(hostbuf, sizeof(hostbuf), "%.*s", (int)(path - host), host);
    snprintf(pathbuf, sizeof(pathbuf), "%.*s", (int)(q - path), path);
    struct sigv4_pair *qs = NULL, hs[8] = {{"Host", hostbuf}};
    size_t nq = 0, nh = 1;
    for (size_t i = 0; i < nextra && nh < 8; i++)
        hs[nh++] = extra[i];
    if (sigv4_query_parse(q + 1, 64, &qs, &nq) != ERR_OK)
        return SIGV4_VERDICT_COUNT;
    struct sigv4_verify_params vp = {
        REGION, "s3", now, SIGV4_RULES_S3, 0, false, lookup, keys ? keys : &g_keys, NULL};
    struct sigv4_verify_request vr = {method, pathbuf, qs, nq, hs, nh, NULL};
    struct sigv4_verify_result r;
    struct err e = {0};
    enum err_code rc = sigv4_verify(&vp, &vr, &r, &e);
    free(qs);
    if (msg)
        snprintf(msg, msgcap, "%s", r.message);
    return rc == ERR_OK ? r.verdict : SIGV4_VERDICT_COUNT;
}

/* Replaces the first occurrence of `from` in url (same length) with `to`. */
static void patch(char *url, const char *from, const char *to)
{
    char *p = strstr(url, from);
    if (p != NULL)
        memcpy(p, to, strlen(to));
}

/* ---- stages ------------------------------------------------------------------------------- */

TEST(uri_encode_reserved_and_unicode)
{
    char *s = encode("a b+%$~/ሴ😀-._", true);
    CHECK_STR(s, "a%20b%2B%25%24~/%E1%88%B4%F0%9F%98%80-._");
    free(s);
    s = encode("a/b", false);
    CHECK_STR(s, "a%2Fb");
    free(s);
}

TEST(canonical_uri_s3_never_normalizes)
{
    char *s = canon_uri("/bkt/a//b/./../c d", SIGV4_RULES_S3);
    CHECK_STR(s, "/bkt/a//b/./../c%20d");
    free(s);
    s = canon_uri("/bkt/100%", SIGV4_RULES_S3); /* encoded once: '%' -> %25 */
    CHECK_STR(s, "/bkt/100%25");
    free(s);
}

TEST(canonical_uri_generic_normalizes_and_double_encodes)
{
    char *s = canon_uri("/a/./b/../c//", SIGV4_RULES_GENERIC_NORMALIZE);
    CHECK_STR(s, "/a/c/");
    free(s);
    s = canon_uri("/a/..", SIGV4_RULES_GENERIC_NORMALIZE);
    CHECK_STR(s, "/");
    free(s);
    s = canon_uri("/a%20b", SIGV4_RULES_GENERIC);
    CHECK_STR(s, "/a%2520b");
    free(s);
}

TEST(canonical_query_sorts_by_encoded_name_then_value)
{
    struct sigv4_pair q[] = {{"b", "2"}, {"a", "z"}, {"a", "y"}, {"a-b", ""}, {"ሴ", "x y"}};
    struct buf b;
    buf_init(&b, 1024);
    REQUIRE(sigv4_canonical_query(&b, q, 5) == ERR_OK);
    CHECK_STR(b.data, "%E1%88%B4=x%20y&a=y&a=z&a-b=&b=2");
    buf_free(&b);
}

TEST(canonical_headers_trim_collapse_join)
{
    struct sigv4_pair h[] = {{"X-B", "  two   words "}, {"Host", "h"}, {"x-b", "second"}};
    struct buf c, l;
    buf_init(&c, 1024);
    buf_init(&l, 1024);
    REQUIRE(sigv4_canonical_headers(&c, &l, h, 3) == ERR_OK);
    CHECK_STR(c.data, "host:h\nx-b:two words,second\n");
    CHECK_STR(l.data, "host;x-b");
    struct sigv4_pair bad[] = {{"bad name", "v"}};
    buf_reset(&c);
    buf_reset(&l);
    CHECK_INT(sigv4_canonical_headers(&c, &l, bad, 1), ERR_INVALID);
    buf_free(&c);
    buf_free(&l);
}

TEST(signing_key_matches_aws_example)
{
    /* AWS General Reference, "Examples of how to derive a signing key for Signature V4". */
    uint8_t k[SIGV4_KEY_LEN];
    char hex[2 * SIGV4_KEY_LEN + 1];
    REQUIRE(sigv4_signing_key(k, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215",
                              "us-east-1", "iam") == ERR_OK);
    for (size_t i = 0; i < SIGV4_KEY_LEN; i++)
        snprintf(hex + 2 * i, 3, "%02x", k[i]);
    CHECK_STR(hex, "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
    CHECK_INT(sigv4_signing_key(k, SK, "2012021", "us-east-1", "iam"), ERR_INVALID);
    CHECK_INT(sigv4_signing_key(k, SK, "20120215", "us/east", "iam"), ERR_INVALID);
}

TEST(query_parse_decodes_pairs)
{
    struct sigv4_pair *q = NULL;
    size_t n = 0;
    REQUIRE(sigv4_query_parse("a=1&b=%20x+&c&&d=&%E1%88%B4=%2F", 16, &q, &n) == ERR_OK);
    REQUIRE(n == 5);
    CHECK_STR(q[1].name, "b");
    CHECK_STR(q[1].value, " x+");
    CHECK_STR(q[2].name, "c");
    CHECK_STR(q[2].value, "");
    CHECK_STR(q[4].name, "ሴ");
    CHECK_STR(q[4].value, "/");
    free(q);
    CHECK_INT(sigv4_query_parse("a=%zz", 16, &q, &n), ERR_INVALID);
    CHECK_INT(sigv4_query_parse("a=%2", 16, &q, &n), ERR_INVALID);
    CHECK_INT(sigv4_query_parse("a&b&c", 2, &q, &n), ERR_TOO_LARGE);
}

/* ---- S3 presigning ------------------------------------------------------------------------ */

TEST(presign_matches_aws_s3_example)
{
    /* Amazon S3 API Reference, "Authenticating Requests: Using Query Parameters" example. */
    struct sigv4_params p = {{AK, SK, NULL}, REGION, "s3",  T0,  SIGV4_RULES_S3,
                             false,          false,  86400, NULL};
    struct sigv4_s3_presign o = {
        "GET", "https", "s3.amazonaws.com", true, "examplebucket", "test.txt", NULL, 0,
        NULL,  0,       SIGV4_ORDER_AWS};
    char *url = NULL;
    struct err e = {0};
    REQUIRE(sigv4_s3_presign_url(&p, &o, &url, NULL, &e) == ERR_OK);
    CHECK_STR(url,
              "https://examplebucket.s3.amazonaws.com/test.txt"
              "?X-Amz-Algorithm=AWS4-HMAC-SHA256"
              "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
              "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
              "&X-Amz-Signature="
              "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
    free(url);
}

/* Each awkward key: encoded once in the URL, signed as such, and accepted by the verifier. */
TEST(presign_awkward_keys_roundtrip)
{
    static const struct {
        const char *key, *path;
    } cases[] = {
        {"my photo.jpg", "/bkt/my%20photo.jpg"},
        {"a+b", "/bkt/a%2Bb"},
        {"100%", "/bkt/100%25"},
        {"$price", "/bkt/%24price"},
        {"~home", "/bkt/~home"},
        {"a//b", "/bkt/a//b"},
        {"/lead", "/bkt//lead"},
        {"dir/../x/./y", "/bkt/dir/../x/./y"},
        {"ሴ/é😀", "/bkt/%E1%88%B4/%C3%A9%F0%9F%98%80"},
        {"a%2Fb", "/bkt/a%252Fb"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *url = presign("GET", cases[i].key, 600, NULL, NULL, 0, NULL);
        REQUIRE(url != NULL);
        char want[256];
        snprintf(want, sizeof(want), "https://s3.example.com%s?", cases[i].path);
        CHECK(strncmp(url, want, strlen(want)) == 0);
        CHECK_INT(verify_url(url, "GET", NULL, 0, T0 + 1, NULL, NULL, 0), SIGV4_OK);
        free(url);
    }
}

TEST(presign_1024_byte_key)
{
    char key[1025];
    memset(key, 'k', 1024);
    key[1024] = '\0';
    key[100] = ' ';
    char *url = presign("PUT", key, 600, NULL, NULL, 0, NULL);
    REQUIRE(url != NULL);
    CHECK(strstr(url, "kkk%20kkk") != NULL);
    CHECK_INT(verify_url(url, "PUT", NULL, 0, T0, NULL, NULL, 0), SIGV4_OK);
    free(url);
}

TEST(presign_expiry_bounds)
{
    char *u = presign("GET", "k", 0, NULL, NULL, 0, NULL);
    CHECK(u == NULL);
    u = presign("GET", "k", 604801, NULL, NULL, 0, NULL);
    CHECK(u == NULL);
    u = presign("GET", "k", -1, NULL, NULL, 0, NULL);
    CHECK(u == NULL);
    u = presign("GET", "k", 1, NULL, NULL, 0, NULL);
    CHECK(u != NULL && strstr(u, "X-Amz-Expires=1&") != NULL);
    free(u);
    u = presign("GET", "k", 604800, NULL, NULL, 0, NULL);
    CHECK(u != NULL && strstr(u, "X-Amz-Expires=604800&") != NULL);
    free(u);
}

TEST(presign_session_token_is_signed)
{
    struct sigv4_trace t = {0};
    char *url = presign("PUT", "k", 600, "tok/+=", NULL, 0, &t);
    REQUIRE(url != NULL);
    CHECK(strstr(url, "&X-Amz-SignedHeaders=host&X-Amz-Security-Token=tok%2F%2B%3D"
                      "&X-Amz-Signature=") != NULL);
    CHECK(strstr(t.canonical_request, "&X-Amz-Security-Token=tok%2F%2B%3D&") != NULL);
    CHECK(strstr(t.canonical_request, "\nUNSIGNED-PAYLOAD") != NULL);
    struct lookup_ctx with = {AK, SK, "tok/+="}, other = {AK, SK, "tok/+-"};
    CHECK_INT(verify_url(url, "PUT", NULL, 0, T0, &with, NULL, 0), SIGV4_OK);
    CHECK_INT(verify_url(url, "PUT", NULL, 0, T0, &other, NULL, 0), SIGV4_INVALID_TOKEN);
    CHECK_INT(verify_url(url, "PUT", NULL, 0, T0, NULL, NULL, 0), SIGV4_INVALID_TOKEN);
    sigv4_trace_free(&t);
    free(url);
    url = presign("PUT", "k", 600, NULL, NULL, 0, NULL);
    REQUIRE(url != NULL);
    CHECK_INT(verify_url(url, "PUT", NULL, 0, T0, &with, NULL, 0), SIGV4_INVALID_TOKEN);
    free(url);
}

TEST(presign_signed_content_type)
{
    struct sigv4_pair ct = {"Content-Type", "image/jpeg"};
    char *url = presign("PUT", "k.jpg", 600, NULL, &ct, 1, NULL);
    REQUIRE(url != NULL);
    CHECK(strstr(url, "X-Amz-SignedHeaders=content-type%3Bhost") != NULL);
    struct sigv4_pair png = {"content-type", "image/png"};
    CHECK_INT(verify_url(url, "PUT", &ct, 1, T0, NULL, NULL, 0), SIGV4_OK);
    CHECK_INT(verify_url(url, "PUT", &png, 1, T0, NULL, NULL, 0), SIGV4_SIGNATURE_MISMATCH);
    CHECK_INT(verify_url(url, "PUT", NULL, 0, T0, NULL, NULL, 0), SIGV4_SIGNATURE_MISMATCH);
    CHECK_INT(verify_url(url, "GET", &ct, 1, T0, NULL, NULL, 0), SIGV4_SIGNATURE_MISMATCH);
    free(url);
}

/* The presigner signs UNSIGNED-PAYLOAD; a verifier signs with the X-Amz-Content-Sha256 query
 * value, so only that value may be passed through (found by fuzz_sigv4). */
TEST(presign_content_sha256_query_only_unsigned)
{
    struct sigv4_params p = {{AK, SK, NULL}, REGION, "s3", T0,  SIGV4_RULES_S3,
                             false,          false,  600,  NULL};
    struct sigv4_pair q[] = {{"X-Amz-Content-Sha256", SIGV4_UNSIGNED}};
    struct sigv4_s3_presign o = {"PUT", "https", "s3.example.com", false, "bkt", "k", NULL, 0,
                                 q,     1,       SIGV4_ORDER_AWS};
    char *url = NULL;
    struct err e = {0};
    REQUIRE(sigv4_s3_presign_url(&p, &o, &url, NULL, &e) == ERR_OK);
    CHECK_INT(verify_url(url, "PUT", NULL, 0, T0, NULL, NULL, 0), SIGV4_OK);
    free(url);
    const char *bad[] = {"", "x",
                         "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        q[0].value = bad[i];
        url = NULL;
        CHECK(sigv4_s3_presign_url(&p, &o, &url, NULL, &e) == ERR_INVALID);
        CHECK(url == NULL);
        CHECK(strstr(e.msg, "X-Amz-Content-Sha256") != NULL);
    }
}

/* ---- verifier ----------------------------------------------------------------------------- */

TEST(verify_presigned_time_window)
{
    char msg[SIGV4_MSG_MAX];
    char *url = presign("GET", "k", 600, NULL, NULL, 0, NULL);
    REQUIRE(url != NULL);
    CHECK_INT(verify_url(url, "GET", NULL, 0, T0 + 600, NULL, NULL, 0), SIGV4_OK);
    CHECK_INT(verify_url(url, "GET", NULL, 0, T0 + 601, NULL, msg, sizeof(msg)),
              SIGV4_ACCESS_DENIED);
    CHECK_STR(msg, "Request has expired");
    /* a signer's clock up to 15 minutes ahead is accepted, as by AWS S3 */
    CHECK_INT(verify_url(url, "GET", NULL, 0, T0 - 1, NULL, NULL, 0), SIGV4_OK);
    CHECK_INT(verify_url(url, "GET", NULL, 0, T0 - 900, NULL, NULL, 0), SIGV4_OK);
    CHECK_INT(verify_url(url, "GET", NULL, 0, T0 - 901, NULL, msg, sizeof(msg)),
              SIGV4_ACCESS_DENIED);
    CHECK_STR(msg, "Request is not valid yet");
    free(url);
}

TEST(verify_tampered_signature_key_and_expiry)
{
    char *url = presign("GET", "photo.jpg", 600, NULL, NULL, 0, NULL);
    REQUIRE(url != NULL);
    char *sig = strstr(url, "X-Amz-Signature=") + 16;
    sig[5] = sig[5] == 'a' ? 'b' : 'a';
    CHECK_INT(verify_url(url, "GET", NULL, 0, T0, NULL, NULL, 0), SIGV4_SIGNATURE_MISMATCH);
    free(url);
    url = presign("GET", "photo.jpg", 600, NULL, NULL, 0, NULL);
    patch(url, "photo.jpg", "photo.png");
    CHECK_INT(verify_url(url, "GET", NULL, 0, T0, NULL, NULL, 0), SIGV4_SIGNATURE_MISMATCH);
    patch(url, "photo.png", "photo.jpg");
    patch(url, "X-Amz-Expires=600", "X-Amz-Expires=900");
    CHECK_INT(verify_url(url, "GET", NULL, 0, T0, NULL, NULL, 0), SIGV4_SIGNATURE_MISMATCH);
    free(url);
}

TEST(verify_unknown_access_key)
{
    struct lookup_ctx other = {"AKIDOTHER", SK, NULL};
    char *url = presign("GET", "k", 600, NULL, NULL, 0, NULL);
    REQUIRE(url != NULL);
    CHECK_INT(verify_url(url, "GET", NULL, 0, T0, &other, NULL, 0), SIGV4_INVALID_ACCESS_KEY);
    struct lookup_ctx wrong = {AK, "another-secret", NULL};
    CHECK_INT(verify_url(url, "GET", NULL, 0, T0, &wrong, NULL, 0), SIGV4_SIGNATURE_MISMATCH);
    free(url);
}

/* Each malformed query variant is AuthorizationQueryParametersError. */
TEST(verify_malformed_query_parameters)
{
    static const struct {
        const char *from, *to;
    } cases[] = {
        {"X-Amz-Expires=600", "X-Amz-Expires=abc"},
        {"X-Amz-Expires=600", "X-Amz-Expires=000"},
        {"X-Amz-Expires=600", "X-Amz-Expires=-60"},
        {"X-Amz-Expires=600&", "X-Amz-Expires=6e5&"},
        {"X-Amz-Credential=", "X-Amz-Credentiax="},
        {"X-Amz-Algorithm=AWS4-HMAC-SHA256", "X-Amz-Algorithm=AWS4-HMAC-SHA512"},
        {"X-Amz-Date=20130524T000000Z", "X-Amz-Date=20130524T000000X"},
        {"%2Fus-east-1%2F", "%2Fus-west-1%2F"},
        {"%2Fs3%2F", "%2Fs4%2F"},
        {"%2Faws4_request", "%2Faws5_request"},
        {"%2F20130524%2F", "%2F20130525%2F"},
        {"AKIAIOSFODNN7EXAMPLE%2F", "AKIAIOSFODNN7EXAMPLE%2C"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *url = presign("GET", "k", 600, NULL, NULL, 0, NULL);
        REQUIRE(url != NULL);
        patch(url, cases[i].from, cases[i].to);
        enum sigv4_verdict v = verify_url(url, "GET", NULL, 0, T0, NULL, NULL, 0);
        if (v != SIGV4_QUERY_PARAMS_ERROR)
            T_FAIL("case %zu (%s): verdict %s", i, cases[i].to, sigv4_verdict_code(v));
        free(url);
    }
    /* out-of-range expiry, built by hand: 604801 */
    char *url = presign("GET", "k", 604800, NULL, NULL, 0, NULL);
    REQUIRE(url != NULL);
    char *big = malloc(strlen(url) + 2);
    REQUIRE(big != NULL);
    char *at = strstr(url, "604800");
    snprintf(big, strlen(url) + 2, "%.*s604801%s", (int)(at - url), url, at + 6);
    CHECK_INT(verify_url(big, "GET", NULL, 0, T0, NULL, NULL, 0), SIGV4_QUERY_PARAMS_ERROR);
    free(big);
    free(url);
}

TEST(verify_anonymous_and_two_mechanisms)
{
    struct sigv4_pair hs[] = {{"host", "s3.example.com"}};
    struct sigv4_verify_params vp = {REGION, "s3",    T0,  SIGV4_RULES_S3, 0, false,
                                     lookup, &g_keys, NULL};
    struct sigv4_verify_request vr = {"GET", "/bkt/k", NULL, 0, hs, 1, NULL};
    struct sigv4_verify_result r;
    REQUIRE(sigv4_verify(&vp, &vr, &r, NULL) == ERR_OK);
    CHECK_INT(r.verdict, SIGV4_ACCESS_DENIED);
    CHECK(r.anonymous);
    char *url = presign("GET", "k", 600, NULL, NULL, 0, NULL);
    struct sigv4_pair auth = {"Authorization", "AWS4-HMAC-SHA256 Credential=x"};
    CHECK_INT(verify_url(url, "GET", &auth, 1, T0, NULL, NULL, 0), SIGV4_INVALID_ARGUMENT);
    struct sigv4_pair amz = {"x-amz-meta-a", "1"};
    CHECK_INT(verify_url(url, "GET", &amz, 1, T0, NULL, NULL, 0), SIGV4_ACCESS_DENIED);
    free(url);
}

/* Signs an S3 header-auth PUT at T0 and verifies it at `now` with `tweak` applied. */
static enum sigv4_verdict header_roundtrip(time_t now, int tweak, struct sigv4_verify_result *r)
{
    char payload[SIGV4_HEX_LEN + 1];
    sigv4_sha256_hex("hello", 5, payload);
    struct sigv4_pair hs[8] = {{"Host", "s3.example.com"}, {"Content-Type", "image/png"}};
    struct sigv4_params p = {{AK, SK, NULL}, REGION, "s3", T0,  SIGV4_RULES_S3,
                             false,          true,   0,    NULL};
    struct sigv4_request req = {"PUT", "/bkt/a b.png", NULL, 0, hs, 2, payload};
    struct sigv4_header_auth a;
    if (sigv4_sign_headers(&p, &req, &a, NULL, NULL) != ERR_OK)
        return SIGV4_VERDICT_COUNT;
    size_t n = 2;
    hs[n++] = (struct sigv4_pair){"X-Amz-Date", a.amz_date};
    if (tweak != 1)
        hs[n++] = (struct sigv4_pair){"x-amz-content-sha256", a.content_sha256};
    hs[n++] = (struct sigv4_pair){"Authorization", a.authorization};
    if (tweak == 2)
        hs[n++] = (struct sigv4_pair){"x-amz-meta-unsigned", "1"};
    if (tweak == 3)
        a.authorization[20] = '!'; /* inside "Credential=": malformed */
    if (tweak == 4)
        strstr(a.authorization, "us-east-1")[3] = 'w'; /* us-wast-1 */
    struct sigv4_verify_params vp = {REGION, "s3",    now, SIGV4_RULES_S3, 0, false,
                                     lookup, &g_keys, NULL};
    struct sigv4_verify_request vr = {"PUT", "/bkt/a%20b.png", NULL, 0, hs, n, NULL};
    enum err_code rc = sigv4_verify(&vp, &vr, r, NULL);
    sigv4_header_auth_free(&a);
    return rc == ERR_OK ? r->verdict : SIGV4_VERDICT_COUNT;
}

TEST(verify_header_auth_and_skew)
{
    struct sigv4_verify_result r;
    char payload[SIGV4_HEX_LEN + 1];
    sigv4_sha256_hex("hello", 5, payload);
    CHECK_INT(header_roundtrip(T0, 0, &r), SIGV4_OK);
    CHECK_STR(r.payload_hash, payload);
    CHECK_STR(r.access_key, AK);
    CHECK(!r.presigned);
    CHECK_INT(header_roundtrip(T0 + 900, 0, &r), SIGV4_OK);
    CHECK_INT(header_roundtrip(T0 - 900, 0, &r), SIGV4_OK);
    CHECK_INT(header_roundtrip(T0 + 901, 0, &r), SIGV4_TIME_SKEWED);
    CHECK_INT(header_roundtrip(T0 - 901, 0, &r), SIGV4_TIME_SKEWED);
    CHECK_STR(sigv4_verdict_code(r.verdict), "RequestTimeTooSkewed");
}

TEST(verify_header_auth_errors)
{
    struct sigv4_verify_result r;
    CHECK_INT(header_roundtrip(T0, 1, &r), SIGV4_INVALID_REQUEST);
    CHECK_INT(header_roundtrip(T0, 2, &r), SIGV4_ACCESS_DENIED);
    CHECK_STR(r.message, "There were headers present in the request which were not signed");
    CHECK_INT(header_roundtrip(T0, 3, &r), SIGV4_HEADER_MALFORMED);
    CHECK_INT(header_roundtrip(T0, 4, &r), SIGV4_HEADER_MALFORMED);
    CHECK(strstr(r.message, "the region 'us-wast-1' is wrong; expecting 'us-east-1'") != NULL);
    CHECK_STR(sigv4_verdict_code(SIGV4_HEADER_MALFORMED), "AuthorizationHeaderMalformed");
}

TEST(sign_headers_refuses_bad_input)
{
    struct sigv4_pair hs[] = {{"Host", "h"}, {"X-Amz-Date", "x"}};
    struct sigv4_params p = {{AK, SK, NULL}, REGION, "s3", T0,  SIGV4_RULES_S3,
                             false,          false,  0,    NULL};
    struct sigv4_request req = {"GET", "/", NULL, 0, hs, 2, NULL};
    struct sigv4_header_auth a;
    struct err e = {0};
    CHECK_INT(sigv4_sign_headers(&p, &req, &a, NULL, &e), ERR_INVALID);
    req.headers = &hs[1];
    req.nheaders = 1;
    CHECK_INT(sigv4_sign_headers(&p, &req, &a, NULL, &e), ERR_INVALID); /* no host */
    req.headers = hs;
    p.region = "";
    CHECK_INT(sigv4_sign_headers(&p, &req, &a, NULL, &e), ERR_INVALID);
}

/* ---- signing-key cache -------------------------------------------------------------------- */

TEST(key_cache_hits_rotates_and_evicts)
{
    struct sigv4_key_cache *c = sigv4_key_cache_new(2);
    uint8_t k1[SIGV4_KEY_LEN], k2[SIGV4_KEY_LEN], direct[SIGV4_KEY_LEN];
    bool hit = true;
    REQUIRE(c != NULL);
    REQUIRE(sigv4_key_cache_get(c, AK, SK, "20130524", REGION, "s3", k1, &hit) == ERR_OK);
    CHECK(!hit);
    REQUIRE(sigv4_key_cache_get(c, AK, SK, "20130524", REGION, "s3", k2, &hit) == ERR_OK);
    CHECK(hit);
    REQUIRE(sigv4_signing_key(direct, SK, "20130524", REGION, "s3") == ERR_OK);
    CHECK(memcmp(k1, direct, SIGV4_KEY_LEN) == 0 && memcmp(k2, direct, SIGV4_KEY_LEN) == 0);
    /* a rotated secret under the same access key is a different key, not a hit */
    REQUIRE(sigv4_key_cache_get(c, AK, "rotated", "20130524", REGION, "s3", k2, &hit) == ERR_OK);
    CHECK(!hit);
    CHECK(memcmp(k1, k2, SIGV4_KEY_LEN) != 0);
    CHECK_INT(sigv4_key_cache_size(c), 2);
    /* capacity 2: a third entry evicts the least recently used one */
    REQUIRE(sigv4_key_cache_get(c, AK, SK, "20130524", "eu-west-1", "s3", k2, &hit) == ERR_OK);
    CHECK_INT(sigv4_key_cache_size(c), 2);
    REQUIRE(sigv4_key_cache_get(c, AK, SK, "20130524", REGION, "s3", k2, &hit) == ERR_OK);
    CHECK(!hit); /* it was the oldest */
    /* a new date drops every entry of older dates */
    REQUIRE(sigv4_key_cache_get(c, AK, SK, "20130525", REGION, "s3", k2, &hit) == ERR_OK);
    CHECK_INT(sigv4_key_cache_size(c), 1);
    sigv4_key_cache_destroy(c);
    sigv4_key_cache_destroy(NULL);
}

TEST(key_cache_used_by_presign_gives_same_url)
{
    struct sigv4_key_cache *c = sigv4_key_cache_new(0);
    REQUIRE(c != NULL);
    struct sigv4_params p = {{AK, SK, NULL}, REGION, "s3", T0, SIGV4_RULES_S3,
                             false,          false,  600,  c};
    struct sigv4_s3_presign o = {"GET", "https", "s3.example.com",  false, "bkt", "k", NULL, 0,
                                 NULL,  0,       SIGV4_ORDER_SORTED};
    char *u1 = NULL, *u2 = NULL, *u3 = presign("GET", "k", 600, NULL, NULL, 0, NULL);
    CHECK(sigv4_s3_presign_url(&p, &o, &u1, NULL, NULL) == ERR_OK);
    CHECK(sigv4_s3_presign_url(&p, &o, &u2, NULL, NULL) == ERR_OK);
    CHECK_INT(sigv4_key_cache_size(c), 1);
    REQUIRE(u1 && u2 && u3);
    CHECK_STR(u1, u2);
    /* sorted order differs only in layout: same signature as the AWS order */
    const char *s1 = strstr(u1, "X-Amz-Signature="), *s3 = strstr(u3, "X-Amz-Signature=");
    CHECK(s1 && s3 && strncmp(s1, s3, 16 + SIGV4_HEX_LEN) == 0);
    free(u1);
    free(u2);
    free(u3);
    sigv4_key_cache_destroy(c);
}

TEST_MAIN()
