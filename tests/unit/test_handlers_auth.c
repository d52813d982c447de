/*
 * Unit tests for handlers/auth: settings, API keys (Bearer and X-Api-Key), JWTs made here
 * with OpenSSL (HS256, and RS256 with a key generated at test time), a token made by Python's
 * stdlib, every refusal reason, the owner rule, and the HTTP mapping.
 */
#include "t.h"

#include <unistd.h>

#include "auth_tokens.h"

/* ---- settings ---- */

TEST(options_defaults_and_modes)
{
    struct h_auth_options o;
    h_auth_options_default(&o);
    CHECK_INT(o.mode, H_AUTH_MODE_AUTO);
    CHECK_INT(o.jwt_leeway_s, 30);
    CHECK_INT(o.jwt_max_bytes, 8192);
    const char *names[] = {"auto", "off", "api_key", "jwt", "any"};
    for (int i = 0; i < 5; i++) {
        enum h_auth_mode m = H_AUTH_MODE_OFF;
        CHECK_INT(h_auth_mode_parse(names[i], &m), ERR_OK);
        CHECK_INT(m, i);
        CHECK_STR(h_auth_mode_name(m), names[i]);
    }
    enum h_auth_mode m = H_AUTH_MODE_OFF;
    CHECK_INT(h_auth_mode_parse("ANY", &m), ERR_INVALID);
    CHECK_INT(h_auth_mode_parse("", &m), ERR_INVALID);
    CHECK_INT(h_auth_mode_parse(NULL, &m), ERR_INVALID);
}

TEST(auto_mode_resolves)
{
    struct h_auth *a = make(NULL, NULL, NULL, NULL, NULL, H_AUTH_MODE_AUTO);
    REQUIRE(a != NULL);
    CHECK_INT(h_auth_effective_mode(a), H_AUTH_MODE_OFF);
    h_auth_destroy(a);
    a = make(KEY1, NULL, NULL, NULL, NULL, H_AUTH_MODE_AUTO);
    REQUIRE(a != NULL);
    CHECK_INT(h_auth_effective_mode(a), H_AUTH_MODE_ANY);
    h_auth_destroy(a);
    a = make(NULL, SECRET, NULL, NULL, NULL, H_AUTH_MODE_AUTO);
    REQUIRE(a != NULL);
    CHECK_INT(h_auth_effective_mode(a), H_AUTH_MODE_ANY);
    h_auth_destroy(a);
    h_auth_destroy(NULL);
}

TEST(off_mode_lets_everyone_in)
{
    struct h_auth *a = make(KEY1, NULL, NULL, NULL, NULL, H_AUTH_MODE_OFF);
    REQUIRE(a != NULL);
    struct h_auth_principal p;
    struct err e = {0};
    CHECK_INT(h_auth_authenticate(a, NULL, NULL, NOW, &p, &e), ERR_OK);
    CHECK_INT(p.via, H_AUTH_VIA_NONE);
    CHECK_INT(h_auth_authenticate(a, "Bearer junk", "junk", NOW, &p, &e), ERR_OK);
    CHECK_INT(p.via, H_AUTH_VIA_NONE);
    CHECK_STR(p.sub, "");
    h_auth_destroy(a);
}

/* h_auth_new with one field changed from a valid any-mode setup; expects `code`. */
static void expect_new(struct h_auth_options *o, enum err_code code, const char *needle)
{
    struct err e = {0};
    struct h_auth *a = h_auth_new(o, &e);
    CHECK(code == ERR_OK ? a != NULL : a == NULL);
    CHECK_INT(e.code, code);
    if (needle != NULL && strstr(e.msg, needle) == NULL)
        T_FAIL("message \"%s\" lacks \"%s\"", e.msg, needle);
    /* A setting's value never appears in the message. */
    if (o->jwt_hs256_secret != NULL && *o->jwt_hs256_secret != '\0')
        CHECK(strstr(e.msg, o->jwt_hs256_secret) == NULL);
    if (o->api_keys != NULL && *o->api_keys != '\0')
        CHECK(strstr(e.msg, o->api_keys) == NULL);
    h_auth_destroy(a);
    h_auth_options_default(o);
}

TEST(new_refuses_bad_settings)
{
    struct h_auth_options o;
    h_auth_options_default(&o);
    o.jwt_hs256_secret = "short-secret";
    expect_new(&o, ERR_INVALID, "IMGSVC_JWT_HS256_SECRET");
    o.api_keys = "short";
    expect_new(&o, ERR_INVALID, "key #1");
    o.api_keys = KEY1 ", bad key with spaces";
    expect_new(&o, ERR_INVALID, "key #2");
    o.api_keys = KEY1 ",key-with-a-comma-is-split\"quote";
    expect_new(&o, ERR_INVALID, "key #2");
    o.jwt_leeway_s = -1;
    expect_new(&o, ERR_INVALID, "IMGSVC_JWT_LEEWAY_S");
    o.jwt_leeway_s = 301;
    expect_new(&o, ERR_INVALID, "IMGSVC_JWT_LEEWAY_S");
    o.jwt_max_bytes = 100;
    expect_new(&o, ERR_INVALID, "IMGSVC_JWT_MAX_BYTES");
    o.jwt_max_bytes = 65537;
    expect_new(&o, ERR_INVALID, "IMGSVC_JWT_MAX_BYTES");
    o.mode = H_AUTH_MODE_API_KEY;
    o.jwt_hs256_secret = SECRET;
    expect_new(&o, ERR_INVALID, "IMGSVC_API_KEYS");
    o.mode = H_AUTH_MODE_JWT;
    o.api_keys = KEY1;
    expect_new(&o, ERR_INVALID, "IMGSVC_JWT_HS256_SECRET");
    o.mode = H_AUTH_MODE_ANY;
    expect_new(&o, ERR_INVALID, "needs");
    o.mode = (enum h_auth_mode)17;
    o.api_keys = KEY1;
    expect_new(&o, ERR_INVALID, "IMGSVC_AUTH_MODE");
    o.jwt_rs256_public_key_file = "/nonexistent/key.pem";
    expect_new(&o, ERR_IO, "/nonexistent/key.pem");
    o.jwt_rs256_public_key_pem = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
    expect_new(&o, ERR_INVALID, "not a PEM RSA public key");
    o.jwt_rs256_public_key_pem = "x";
    o.jwt_rs256_public_key_file = "/tmp/x";
    expect_new(&o, ERR_INVALID, "both set");
    o.api_keys = " , " KEY1 " ,, " KEY2 " ";
    expect_new(&o, ERR_OK, NULL);
}

TEST(rsa_key_loading)
{
    struct err e = {0};
    char *spki = public_pem(rsa_key(), "SubjectPublicKeyInfo");
    char *pkcs1 = public_pem(rsa_key(), "type-specific");
    CHECK(strstr(spki, "BEGIN PUBLIC KEY") != NULL);
    CHECK(strstr(pkcs1, "BEGIN RSA PUBLIC KEY") != NULL);
    EVP_PKEY *k = h_auth_jwt_load_rsa_pem(spki, strlen(spki), &e);
    CHECK(k != NULL);
    EVP_PKEY_free(k);
    k = h_auth_jwt_load_rsa_pem(pkcs1, strlen(pkcs1), &e);
    CHECK(k != NULL);
    EVP_PKEY_free(k);

    /* A private key is refused, even though it holds the public half. */
    unsigned char *priv = NULL;
    size_t plen = 0;
    OSSL_ENCODER_CTX *ctx =
        OSSL_ENCODER_CTX_new_for_pkey(rsa_key(), EVP_PKEY_KEYPAIR, "PEM", NULL, NULL);
    OSSL_ENCODER_to_data(ctx, &priv, &plen);
    OSSL_ENCODER_CTX_free(ctx);
    CHECK(h_auth_jwt_load_rsa_pem((char *)priv, plen, &e) == NULL);
    CHECK(strstr(e.msg, "private key") != NULL);
    OPENSSL_clear_free(priv, plen);

    /* Small RSA keys and other key types are refused. */
    EVP_PKEY *small = EVP_RSA_gen(1024);
    char *small_pem = public_pem(small, "SubjectPublicKeyInfo");
    CHECK(h_auth_jwt_load_rsa_pem(small_pem, strlen(small_pem), &e) == NULL);
    CHECK(strstr(e.msg, "1024 bits") != NULL);
    EVP_PKEY *ec = EVP_EC_gen("P-256");
    char *ec_pem = public_pem(ec, "SubjectPublicKeyInfo");
    CHECK(h_auth_jwt_load_rsa_pem(ec_pem, strlen(ec_pem), &e) == NULL);
    CHECK(h_auth_jwt_load_rsa_pem("", 0, &e) == NULL);
    free(spki);
    free(pkcs1);
    free(small_pem);
    free(ec_pem);
    EVP_PKEY_free(small);
    EVP_PKEY_free(ec);
}

TEST(rs256_key_from_file)
{
    char path[] = "/tmp/imgsvc-test-rsa-XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    char *pem = public_pem(rsa_key(), "SubjectPublicKeyInfo");
    CHECK_INT(write(fd, pem, strlen(pem)), strlen(pem));
    close(fd);
    struct h_auth_options o;
    struct err e = {0};
    h_auth_options_default(&o);
    o.jwt_rs256_public_key_file = path;
    struct h_auth *a = h_auth_new(&o, &e);
    unlink(path);
    free(pem);
    REQUIRE(a != NULL);
    CHECK_INT(h_auth_effective_mode(a), H_AUTH_MODE_ANY);
    struct h_auth_principal p;
    CHECK_INT(bearer(a, rs256(GOOD_PAYLOAD), NOW, &p, &e), ERR_OK);
    CHECK_INT(p.via, H_AUTH_VIA_JWT);
    CHECK_STR(p.sub, "42");
    CHECK_STR(p.alg, "RS256");
    h_auth_destroy(a);
}

TEST(describe_names_no_secret)
{
    struct h_auth *a = make(KEY1 "," KEY2, SECRET, NULL, "https://iss", NULL, H_AUTH_MODE_ANY);
    REQUIRE(a != NULL);
    char line[256];
    size_t n = h_auth_describe(a, line, sizeof(line));
    CHECK_INT(n, strlen(line));
    CHECK_STR(line, "mode=any api_keys=2 jwt=HS256 iss=set aud=unchecked leeway=30s");
    CHECK(strstr(line, SECRET) == NULL && strstr(line, KEY1) == NULL);
    CHECK_INT(h_auth_describe(a, line, 5), 4);
    CHECK_STR(line, "mode");
    h_auth_destroy(a);
}

/* ---- API keys ---- */

TEST(api_key_accepted_both_ways)
{
    struct h_auth *a = make(KEY1 "," KEY2, NULL, NULL, NULL, NULL, H_AUTH_MODE_API_KEY);
    REQUIRE(a != NULL);
    struct h_auth_principal p;
    struct err e = {0};
    CHECK_INT(h_auth_authenticate(a, "Bearer " KEY1, NULL, NOW, &p, &e), ERR_OK);
    CHECK_INT(p.via, H_AUTH_VIA_API_KEY);
    CHECK_INT(p.api_key_index, 0);
    CHECK_STR(p.sub, "");
    CHECK_INT(h_auth_authenticate(a, "bearer \t" KEY2 "  ", NULL, NOW, &p, &e), ERR_OK);
    CHECK_INT(p.api_key_index, 1);
    CHECK_INT(h_auth_authenticate(a, NULL, KEY2, NOW, &p, &e), ERR_OK);
    CHECK_INT(p.via, H_AUTH_VIA_API_KEY);
    CHECK_INT(p.api_key_index, 1);
    CHECK_INT(h_auth_authenticate(a, NULL, " " KEY1 " ", NOW, &p, &e), ERR_OK);
    CHECK_INT(p.api_key_index, 0);
    h_auth_destroy(a);
}

static void expect_refused(struct h_auth *a, const char *authz, const char *xkey,
                           const char *reason)
{
    struct h_auth_principal p;
    struct err e = {0};
    CHECK_INT(h_auth_authenticate(a, authz, xkey, NOW, &p, &e), ERR_AUTH);
    CHECK(reason_is(&e, reason));
    CHECK_INT(p.via, H_AUTH_VIA_NONE);
    CHECK_INT(p.api_key_index, -1);
    CHECK(strstr(e.msg, KEY1) == NULL);
}

TEST(api_key_refusals)
{
    struct h_auth *a = make(KEY1 "," KEY2, NULL, NULL, NULL, NULL, H_AUTH_MODE_API_KEY);
    REQUIRE(a != NULL);
    expect_refused(a, NULL, NULL, "missing_credentials");
    expect_refused(a, "Bearer " KEY1, KEY1, "ambiguous_credentials");
    expect_refused(a, "Basic dXNlcjpwYXNz", NULL, "bad_authorization");
    expect_refused(a, "Bearer", NULL, "bad_authorization");
    expect_refused(a, "Bearer    ", NULL, "bad_authorization");
    expect_refused(a, "Bearer" KEY1, NULL, "bad_authorization");
    expect_refused(a, "", NULL, "bad_authorization");
    expect_refused(a, "Bearer " KEY1 " x", NULL, "bad_authorization");
    expect_refused(a, "Bearer k\xc3\xa9y", NULL, "bad_authorization");
    expect_refused(a, "Bearer " KEY1 "x", NULL, "invalid_api_key");
    expect_refused(a, "Bearer internal-key-0001-abcdefgH", NULL, "invalid_api_key");
    expect_refused(a, "Bearer internal-key-0001-abcdefg", NULL, "invalid_api_key");
    expect_refused(a, NULL, "", "bad_authorization");
    expect_refused(a, NULL, "a b", "bad_authorization");
    expect_refused(a, NULL, KEY1 "1", "invalid_api_key");
    expect_refused(a, "Bearer a.b.c", NULL, "invalid_api_key");
    h_auth_destroy(a);

    /* API keys are refused when only JWTs are accepted, even a configured key. */
    a = make(KEY1, SECRET, NULL, NULL, NULL, H_AUTH_MODE_JWT);
    REQUIRE(a != NULL);
    expect_refused(a, NULL, KEY1, "invalid_api_key");
    expect_refused(a, "Bearer " KEY1, NULL, "malformed_token");
    h_auth_destroy(a);
}

/* ---- valid JWTs ---- */

TEST(hs256_valid_token)
{
    struct h_auth *a =
        make(KEY1, SECRET, NULL, "https://issuer.example", "imgsvc", H_AUTH_MODE_ANY);
    REQUIRE(a != NULL);
    struct h_auth_principal p;
    struct err e = {0};
    const char *claims = "{\"sub\":\"user-7\",\"iss\":\"https://issuer.example\","
                         "\"aud\":\"imgsvc\",\"exp\":1764003600,\"nbf\":1763999990,"
                         "\"iat\":1763999990,\"extra\":{\"x\":[1,2]}}";
    CHECK_INT(bearer(a, hs256(claims), NOW, &p, &e), ERR_OK);
    CHECK_INT(p.via, H_AUTH_VIA_JWT);
    CHECK_STR(p.sub, "user-7");
    CHECK_STR(p.alg, "HS256");
    CHECK_INT(p.exp, 1764003600);
    CHECK_INT(p.api_key_index, -1);
    /* aud as an array that contains ours; fractional NumericDates. */
    claims = "{\"sub\":\"u\",\"iss\":\"https://issuer.example\",\"aud\":[\"a\",\"imgsvc\"],"
             "\"exp\":1764000000.5}";
    CHECK_INT(bearer(a, hs256(claims), NOW, &p, &e), ERR_OK);
    CHECK_INT(p.exp, 1764000000);
    h_auth_destroy(a);
}

TEST(leeway_edges)
{
    struct h_auth *a = make(NULL, SECRET, NULL, NULL, NULL, H_AUTH_MODE_JWT);
    REQUIRE(a != NULL);
    struct h_auth_principal p;
    struct err e = {0};
    const char *t = hs256("{\"sub\":\"s\",\"exp\":1764000000,\"nbf\":1764000100}");
    /* Valid from nbf - 30 up to (not including) exp + 30. */
    CHECK_INT(bearer(a, t, 1764000029, &p, &e), ERR_AUTH);
    CHECK(reason_is(&e, "token_not_yet_valid"));
    t = hs256("{\"sub\":\"s\",\"exp\":1764000000,\"nbf\":1764000030}");
    CHECK_INT(bearer(a, t, 1764000000, &p, &e), ERR_OK);
    CHECK_INT(bearer(a, t, 1764000029, &p, &e), ERR_OK);
    CHECK_INT(bearer(a, t, 1764000030, &p, &e), ERR_AUTH);
    CHECK(reason_is(&e, "token_expired"));
    h_auth_destroy(a);

    struct h_auth_options o;
    h_auth_options_default(&o);
    o.jwt_hs256_secret = SECRET;
    o.jwt_leeway_s = 0;
    a = h_auth_new(&o, &e);
    REQUIRE(a != NULL);
    t = hs256("{\"sub\":\"s\",\"exp\":1764000100,\"nbf\":1764000001}");
    CHECK_INT(bearer(a, t, 1764000000, &p, &e), ERR_AUTH);
    CHECK(reason_is(&e, "token_not_yet_valid"));
    CHECK_INT(bearer(a, t, 1764000001, &p, &e), ERR_OK);
    t = hs256("{\"sub\":\"s\",\"exp\":1764000000}");
    CHECK_INT(bearer(a, t, 1763999999, &p, &e), ERR_OK);
    CHECK_INT(bearer(a, t, 1764000000, &p, &e), ERR_AUTH);
    CHECK(reason_is(&e, "token_expired"));
    h_auth_destroy(a);
}

TEST(rs256_valid_token)
{
    char *pem = public_pem(rsa_key(), "SubjectPublicKeyInfo");
    struct h_auth *a = make(NULL, NULL, pem, NULL, "imgsvc", H_AUTH_MODE_JWT);
    free(pem);
    REQUIRE(a != NULL);
    struct h_auth_principal p;
    struct err e = {0};
    CHECK_INT(
        bearer(a, rs256("{\"sub\":\"99\",\"aud\":[\"imgsvc\"],\"exp\":1764000001}"), NOW, &p, &e),
        ERR_OK);
    CHECK_STR(p.sub, "99");
    CHECK_STR(p.alg, "RS256");
    h_auth_destroy(a);
}

TEST(both_algs_configured)
{
    char *pem = public_pem(rsa_key(), "type-specific");
    struct h_auth *a = make(KEY1, SECRET, pem, NULL, NULL, H_AUTH_MODE_ANY);
    free(pem);
    REQUIRE(a != NULL);
    struct h_auth_principal p;
    struct err e = {0};
    CHECK_INT(bearer(a, rs256(GOOD_PAYLOAD), NOW, &p, &e), ERR_OK);
    CHECK_STR(p.alg, "RS256");
    CHECK_INT(bearer(a, hs256(GOOD_PAYLOAD), NOW, &p, &e), ERR_OK);
    CHECK_STR(p.alg, "HS256");
    CHECK_INT(bearer(a, KEY1, NOW, &p, &e), ERR_OK);
    CHECK_INT(p.via, H_AUTH_VIA_API_KEY);
    char line[128];
    h_auth_describe(a, line, sizeof(line));
    CHECK(strstr(line, "jwt=HS256,RS256") != NULL);
    h_auth_destroy(a);
}

/*
 * A token made by Python's standard library alone (hmac, hashlib, base64, json):
 *   secret = b'python-stdlib-cross-check-secret-0123456789'
 *   h = b64(json.dumps({"alg":"HS256","typ":"JWT"}, separators=(',',':')))
 *   p = b64(json.dumps({"sub":"user-42","iss":"https://issuer.example",
 *           "aud":["imgsvc","other"],"exp":1764003600,"nbf":1764000000,"iat":1764000000}, ...))
 *   s = b64(hmac.new(secret, (h+'.'+p).encode(), hashlib.sha256).digest())
 * with b64 = urlsafe_b64encode(...).rstrip(b'=').
 */
#define PY_TOKEN                                                                                   \
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyLTQyIiwiaXNzIjoiaHR0cHM6Ly9pc3N1ZXIuZX"  \
    "hhbXBsZSIsImF1ZCI6WyJpbWdzdmMiLCJvdGhlciJdLCJleHAiOjE3NjQwMDM2MDAsIm5iZiI6MTc2NDAwMDAwMCwia"  \
    "WF0IjoxNzY0MDAwMDAwfQ.q2bmMBBaJzFyDeFpeGSdWDCFEEyzjyMiIlazvkIRht0"

TEST(python_stdlib_token_verifies)
{
    struct h_auth *a = make(NULL, "python-stdlib-cross-check-secret-0123456789", NULL,
                            "https://issuer.example", "imgsvc", H_AUTH_MODE_JWT);
    REQUIRE(a != NULL);
    struct h_auth_principal p;
    struct err e = {0};
    CHECK_INT(bearer(a, PY_TOKEN, NOW + 60, &p, &e), ERR_OK);
    CHECK_STR(p.sub, "user-42");
    CHECK_INT(p.exp, 1764003600);
    /* Our own signer agrees byte for byte with Python's. */
    const char *ours = hs256_with("python-stdlib-cross-check-secret-0123456789", 43,
                                  "{\"alg\":\"HS256\",\"typ\":\"JWT\"}",
                                  "{\"sub\":\"user-42\",\"iss\":\"https://issuer.example\","
                                  "\"aud\":[\"imgsvc\",\"other\"],\"exp\":1764003600,"
                                  "\"nbf\":1764000000,\"iat\":1764000000}");
    CHECK_STR(ours, PY_TOKEN);
    CHECK_INT(bearer(a, PY_TOKEN, 1764003600 + 30, &p, &e), ERR_AUTH);
    CHECK(reason_is(&e, "token_expired"));
    h_auth_destroy(a);
}

/* ---- the owner rule and the HTTP mapping ---- */

TEST(owner_rule)
{
    struct h_auth_principal jwt = {.via = H_AUTH_VIA_JWT, .api_key_index = -1, .sub = "42"};
    struct h_auth_principal key = {.via = H_AUTH_VIA_API_KEY, .api_key_index = 0};
    struct h_auth_principal off = {.via = H_AUTH_VIA_NONE, .api_key_index = -1};
    struct err e = {0};
    const char *mine[] = {"42"}, *theirs[] = {"43"};
    const char *room_mine[] = {"7", "42"}, *room_theirs[] = {"42", "7"};
    CHECK_INT(h_auth_check_owner(&jwt, S3_DOMAIN_PROFILE, mine, 1, &e), ERR_OK);
    CHECK_INT(h_auth_check_owner(&jwt, S3_DOMAIN_PROFILE, theirs, 1, &e), ERR_FORBIDDEN);
    CHECK(reason_is(&e, "subject_mismatch"));
    CHECK_INT(h_auth_check_owner(&jwt, S3_DOMAIN_CHAT_PROFILE, room_mine, 2, &e), ERR_OK);
    CHECK_INT(h_auth_check_owner(&jwt, S3_DOMAIN_CHAT_PROFILE, room_theirs, 2, &e), ERR_FORBIDDEN);
    CHECK_INT(h_auth_check_owner(&jwt, S3_DOMAIN_CHAT_PROFILE, room_mine, 1, &e), ERR_FORBIDDEN);
    CHECK_INT(h_auth_check_owner(&jwt, S3_DOMAIN_PROFILE, NULL, 0, &e), ERR_FORBIDDEN);
    /* Other domains have no owner id; trusted callers skip the rule. */
    CHECK_INT(h_auth_check_owner(&jwt, S3_DOMAIN_FEED, theirs, 1, &e), ERR_OK);
    CHECK_INT(h_auth_check_owner(&jwt, S3_DOMAIN_CHAT, room_theirs, 2, &e), ERR_OK);
    CHECK_INT(h_auth_check_owner(&key, S3_DOMAIN_PROFILE, theirs, 1, &e), ERR_OK);
    CHECK_INT(h_auth_check_owner(&off, S3_DOMAIN_CHAT_PROFILE, room_theirs, 2, &e), ERR_OK);
    CHECK_INT(h_auth_check_owner(NULL, S3_DOMAIN_FEED, mine, 1, &e), ERR_FORBIDDEN);
    /* A prefix of the sub is not the sub. */
    const char *prefix[] = {"4"};
    CHECK_INT(h_auth_check_owner(&jwt, S3_DOMAIN_PROFILE, prefix, 1, &e), ERR_FORBIDDEN);
}

TEST(http_mapping)
{
    CHECK_INT(h_auth_http_status(ERR_OK), 200);
    CHECK_INT(h_auth_http_status(ERR_AUTH), 401);
    CHECK_INT(h_auth_http_status(ERR_FORBIDDEN), 403);
    CHECK_INT(h_auth_http_status(ERR_NOMEM), 500);
    CHECK_STR(h_auth_error_code(ERR_AUTH), "unauthenticated");
    CHECK_STR(h_auth_error_code(ERR_FORBIDDEN), "forbidden");
    CHECK_STR(h_auth_error_code(ERR_INTERNAL), "internal");
    struct err e = {0};
    err_set(&e, ERR_AUTH, "missing_credentials: x");
    CHECK_STR(h_auth_www_authenticate(&e), "Bearer realm=\"imgsvc\"");
    err_set(&e, ERR_AUTH, "token_expired: x");
    CHECK_STR(h_auth_www_authenticate(&e), "Bearer realm=\"imgsvc\", error=\"invalid_token\"");
}

TEST_MAIN()
