/*
 * Unit tests for handlers/auth_jwt through handlers/auth: every way a JWT is refused (alg none,
 * algorithm confusion, unknown algs, bad base64url, wrong segment count, oversize tokens, bad
 * signatures, claims), each with its reason code, plus the strict base64url decoder.
 */
#include "t.h"

#include "auth_tokens.h"

static struct h_auth *hs_only(void)
{
    return make(NULL, SECRET, NULL, "https://issuer.example", "imgsvc", H_AUTH_MODE_JWT);
}

#define FULL "\"sub\":\"42\",\"iss\":\"https://issuer.example\",\"aud\":\"imgsvc\""
#define EXP  "\"exp\":1764003600"

TEST(alg_none_and_unknown_algs)
{
    struct h_auth *a = hs_only();
    REQUIRE(a != NULL);
    const char *payload = "{" FULL "," EXP "}";
    char t[4096];
    /* alg none, with an empty signature and with a valid-looking one. */
    signing_input("{\"alg\":\"none\",\"typ\":\"JWT\"}", payload, t);
    size_t n = strlen(t);
    t[n] = '.';
    t[n + 1] = '\0';
    CHECK_REFUSED(a, t, NOW, "unsupported_alg");
    CHECK_REFUSED(a, hs256_with(SECRET, strlen(SECRET), "{\"alg\":\"none\"}", payload), NOW,
                  "unsupported_alg");
    CHECK_REFUSED(a, hs256_with(SECRET, strlen(SECRET), "{\"alg\":\"None\"}", payload), NOW,
                  "unsupported_alg");
    CHECK_REFUSED(a, hs256_with(SECRET, strlen(SECRET), "{\"alg\":\"HS512\"}", payload), NOW,
                  "unsupported_alg");
    CHECK_REFUSED(a, hs256_with(SECRET, strlen(SECRET), "{\"alg\":\"hs256\"}", payload), NOW,
                  "unsupported_alg");
    CHECK_REFUSED(a, hs256_with(SECRET, strlen(SECRET), "{\"alg\":\"ES256\"}", payload), NOW,
                  "unsupported_alg");
    CHECK_REFUSED(a, hs256_with(SECRET, strlen(SECRET), "{\"typ\":\"JWT\"}", payload), NOW,
                  "malformed_token");
    CHECK_REFUSED(a, hs256_with(SECRET, strlen(SECRET), "{\"alg\":256}", payload), NOW,
                  "malformed_token");
    CHECK_REFUSED(
        a, hs256_with(SECRET, strlen(SECRET), "{\"alg\":\"HS256\",\"crit\":[\"b64\"]}", payload),
        NOW, "unsupported_header");
    /* RS256 when only HS256 is configured. */
    CHECK_REFUSED(a, rs256(payload), NOW, "unsupported_alg");
    h_auth_destroy(a);
}

TEST(alg_confusion_is_refused)
{
    /* The classic attack: HS256 "signed" with the RSA public key's PEM as the HMAC secret. */
    char *pem = public_pem(rsa_key(), "SubjectPublicKeyInfo");
    struct h_auth *a = make(NULL, NULL, pem, NULL, NULL, H_AUTH_MODE_JWT);
    REQUIRE(a != NULL);
    const char *forged = hs256_with(pem, strlen(pem), "{\"alg\":\"HS256\"}", GOOD_PAYLOAD);
    CHECK_REFUSED(a, forged, NOW, "unsupported_alg");
    h_auth_destroy(a);
    /* With both configured, the HS256 path uses only the HS256 secret. */
    a = make(NULL, SECRET, pem, NULL, NULL, H_AUTH_MODE_JWT);
    REQUIRE(a != NULL);
    forged = hs256_with(pem, strlen(pem), "{\"alg\":\"HS256\"}", GOOD_PAYLOAD);
    CHECK_REFUSED(a, forged, NOW, "bad_signature");
    /* An RS256 signature relabelled as HS256, and the reverse. */
    char t[8192];
    snprintf(t, sizeof(t), "%s", rs256(GOOD_PAYLOAD));
    char hs_header[64];
    b64url((const unsigned char *)"{\"alg\":\"HS256\"}", 15, hs_header);
    char relabelled[8192];
    snprintf(relabelled, sizeof(relabelled), "%s%s", hs_header, strchr(t, '.'));
    CHECK_REFUSED(a, relabelled, NOW, "bad_signature");
    snprintf(t, sizeof(t), "%s", hs256(GOOD_PAYLOAD));
    b64url((const unsigned char *)"{\"alg\":\"RS256\"}", 15, hs_header);
    snprintf(relabelled, sizeof(relabelled), "%s%s", hs_header, strchr(t, '.'));
    CHECK_REFUSED(a, relabelled, NOW, "bad_signature");
    h_auth_destroy(a);
    free(pem);
}

TEST(wrong_segment_counts)
{
    struct h_auth *a = hs_only();
    REQUIRE(a != NULL);
    char t[4096];
    const char *good = hs256("{" FULL "," EXP "}");
    snprintf(t, sizeof(t), "%s", good);
    *strrchr(t, '.') = '\0';
    CHECK_REFUSED(a, t, NOW, "malformed_token"); /* two segments */
    snprintf(t, sizeof(t), "%s.", good);
    CHECK_REFUSED(a, t, NOW, "malformed_token"); /* four, the last empty */
    snprintf(t, sizeof(t), "%s.AAAA", good);
    CHECK_REFUSED(a, t, NOW, "malformed_token"); /* four */
    CHECK_REFUSED(a, "a.b", NOW, "malformed_token");
    CHECK_REFUSED(a, "..", NOW, "malformed_token");
    CHECK_REFUSED(a, "...", NOW, "malformed_token");
    CHECK_REFUSED(a, "abc", NOW, "malformed_token");
    snprintf(t, sizeof(t), "%s", good);
    *strrchr(t, '.') = '\0';
    size_t n = strlen(t);
    t[n] = '.';
    t[n + 1] = '\0';
    CHECK_REFUSED(a, t, NOW, "malformed_token"); /* empty signature */
    snprintf(t, sizeof(t), ".%s", strchr(good, '.') + 1);
    CHECK_REFUSED(a, t, NOW, "malformed_token"); /* empty header */
    h_auth_destroy(a);
}

TEST(bad_base64url_and_json)
{
    struct h_auth *a = hs_only();
    REQUIRE(a != NULL);
    char t[4096];
    const char *good = hs256("{" FULL "," EXP "}");
    /* '+' and '/' are base64, not base64url; '=' padding is not used in JWS. */
    snprintf(t, sizeof(t), "%s", good);
    t[3] = '+';
    CHECK_REFUSED(a, t, NOW, "malformed_token");
    snprintf(t, sizeof(t), "%s", good);
    t[strlen(t) - 1] = '/';
    CHECK_REFUSED(a, t, NOW, "malformed_token");
    snprintf(t, sizeof(t), "%s==", good);
    CHECK_REFUSED(a, t, NOW, "malformed_token");
    /* The header is JSON but not an object, not JSON, or has a duplicate alg. */
    CHECK_REFUSED(a, hs256_with(SECRET, strlen(SECRET), "[\"HS256\"]", "{}"), NOW,
                  "malformed_token");
    CHECK_REFUSED(a, hs256_with(SECRET, strlen(SECRET), "{\"alg\":\"HS256\"", "{}"), NOW,
                  "malformed_token");
    CHECK_REFUSED(a,
                  hs256_with(SECRET, strlen(SECRET), "{\"alg\":\"none\",\"alg\":\"HS256\"}",
                             "{" FULL "," EXP "}"),
                  NOW, "malformed_token");
    /* A signed payload that is not a JSON object, or repeats a claim. */
    CHECK_REFUSED(a, hs256("not json"), NOW, "malformed_token");
    CHECK_REFUSED(a, hs256("[1,2]"), NOW, "malformed_token");
    CHECK_REFUSED(a, hs256("{" FULL "," EXP ",\"exp\":99999999999}"), NOW, "malformed_token");
    h_auth_destroy(a);
}

TEST(oversize_token)
{
    struct h_auth_options o;
    struct err e = {0};
    h_auth_options_default(&o);
    o.jwt_hs256_secret = SECRET;
    o.jwt_max_bytes = 512;
    struct h_auth *a = h_auth_new(&o, &e);
    REQUIRE(a != NULL);
    char payload[1024];
    int n = snprintf(payload, sizeof(payload), "{\"sub\":\"42\",\"exp\":1764003600,\"pad\":\"");
    memset(payload + n, 'x', 400);
    snprintf(payload + n + 400, sizeof(payload) - (size_t)n - 400, "\"}");
    CHECK_REFUSED(a, hs256(payload), NOW, "token_too_large");
    payload[n + 200] = '\0';
    snprintf(payload + n + 200, sizeof(payload) - (size_t)n - 200, "\"}");
    struct h_auth_principal p;
    CHECK_INT(bearer(a, hs256(payload), NOW, &p, &e), ERR_OK);
    /* The Authorization header itself is capped too, before anything is decoded. */
    static char huge[70000];
    memset(huge, 'A', sizeof(huge) - 1);
    CHECK_REFUSED(a, huge, NOW, "token_too_large");
    h_auth_destroy(a);
}

TEST(bad_signatures)
{
    char *pem = public_pem(rsa_key(), "SubjectPublicKeyInfo");
    struct h_auth *a = make(NULL, SECRET, pem, NULL, NULL, H_AUTH_MODE_JWT);
    free(pem);
    REQUIRE(a != NULL);
    char t[8192];
    const char *tokens[2];
    char copy[2][8192];
    snprintf(copy[0], sizeof(copy[0]), "%s", hs256(GOOD_PAYLOAD));
    snprintf(copy[1], sizeof(copy[1]), "%s", rs256(GOOD_PAYLOAD));
    tokens[0] = copy[0];
    tokens[1] = copy[1];
    for (int i = 0; i < 2; i++) {
        const char *sig = strrchr(tokens[i], '.') + 1;
        /* One character of the signature changed. */
        snprintf(t, sizeof(t), "%s", tokens[i]);
        char *c = strrchr(t, '.') + 2;
        *c = *c == 'A' ? 'B' : 'A';
        CHECK_REFUSED(a, t, NOW, "bad_signature");
        /* Truncated signature (to a multiple of 4 characters, so still valid base64url). */
        snprintf(t, sizeof(t), "%.*s", (int)(sig - tokens[i] + strlen(sig) - strlen(sig) % 4),
                 tokens[i]);
        CHECK_REFUSED(a, t, NOW, "bad_signature");
        /* The payload swapped for another (sub 43) under the old signature. */
        char other[8192];
        snprintf(other, sizeof(other), "%s",
                 i == 0 ? hs256("{\"sub\":\"43\",\"exp\":1764003600}")
                        : rs256("{\"sub\":\"43\",\"exp\":1764003600}"));
        snprintf(t, sizeof(t), "%.*s%s", (int)(strrchr(other, '.') - other), other, sig - 1);
        CHECK_REFUSED(a, t, NOW, "bad_signature");
    }
    /* HS256 signed with a different secret; RS256 signed with a different key. */
    CHECK_REFUSED(a,
                  hs256_with("another-secret-of-sufficient-length-000", 39, "{\"alg\":\"HS256\"}",
                             GOOD_PAYLOAD),
                  NOW, "bad_signature");
    EVP_PKEY *other = EVP_RSA_gen(2048);
    CHECK_REFUSED(a, rs256_with(other, "{\"alg\":\"RS256\"}", GOOD_PAYLOAD), NOW, "bad_signature");
    EVP_PKEY_free(other);
    h_auth_destroy(a);
}

TEST(claim_refusals)
{
    struct h_auth *a = hs_only();
    REQUIRE(a != NULL);
    CHECK_REFUSED(a, hs256("{" FULL ",\"exp\":1763999969}"), NOW, "token_expired");
    CHECK_REFUSED(a, hs256("{" FULL "," EXP ",\"nbf\":1764000031}"), NOW, "token_not_yet_valid");
    CHECK_REFUSED(a, hs256("{" FULL "}"), NOW, "missing_claim");
    CHECK_REFUSED(a, hs256("{" FULL ",\"exp\":\"1764003600\"}"), NOW, "bad_claim");
    CHECK_REFUSED(a, hs256("{" FULL ",\"exp\":null}"), NOW, "bad_claim");
    CHECK_REFUSED(a, hs256("{" FULL "," EXP ",\"nbf\":true}"), NOW, "bad_claim");
    CHECK_REFUSED(a, hs256("{" FULL "," EXP ",\"iat\":\"x\"}"), NOW, "bad_claim");
    const char *iss_aud = "\"iss\":\"https://issuer.example\",\"aud\":\"imgsvc\"";
    char p[512];
    snprintf(p, sizeof(p), "{%s," EXP "}", iss_aud);
    CHECK_REFUSED(a, hs256(p), NOW, "missing_claim");
    snprintf(p, sizeof(p), "{%s," EXP ",\"sub\":42}", iss_aud);
    CHECK_REFUSED(a, hs256(p), NOW, "bad_claim");
    snprintf(p, sizeof(p), "{%s," EXP ",\"sub\":\"\"}", iss_aud);
    CHECK_REFUSED(a, hs256(p), NOW, "bad_claim");
    char longsub[300];
    memset(longsub, 's', 256);
    longsub[256] = '\0';
    snprintf(p, sizeof(p), "{%s," EXP ",\"sub\":\"%s\"}", iss_aud, longsub);
    CHECK_REFUSED(a, hs256(p), NOW, "bad_claim");
    /* iss */
    CHECK_REFUSED(a, hs256("{\"sub\":\"1\",\"aud\":\"imgsvc\"," EXP "}"), NOW, "bad_issuer");
    CHECK_REFUSED(a, hs256("{\"sub\":\"1\",\"iss\":\"https://evil\",\"aud\":\"imgsvc\"," EXP "}"),
                  NOW, "bad_issuer");
    CHECK_REFUSED(
        a, hs256("{\"sub\":\"1\",\"iss\":\"https://issuer.example/\",\"aud\":\"imgsvc\"," EXP "}"),
        NOW, "bad_issuer");
    /* aud */
    const char *iss = "\"sub\":\"1\",\"iss\":\"https://issuer.example\"";
    snprintf(p, sizeof(p), "{%s," EXP "}", iss);
    CHECK_REFUSED(a, hs256(p), NOW, "bad_audience");
    snprintf(p, sizeof(p), "{%s,\"aud\":\"imgsvc2\"," EXP "}", iss);
    CHECK_REFUSED(a, hs256(p), NOW, "bad_audience");
    snprintf(p, sizeof(p), "{%s,\"aud\":[\"a\",\"b\"]," EXP "}", iss);
    CHECK_REFUSED(a, hs256(p), NOW, "bad_audience");
    snprintf(p, sizeof(p), "{%s,\"aud\":[]," EXP "}", iss);
    CHECK_REFUSED(a, hs256(p), NOW, "bad_audience");
    snprintf(p, sizeof(p), "{%s,\"aud\":{\"imgsvc\":1}," EXP "}", iss);
    CHECK_REFUSED(a, hs256(p), NOW, "bad_audience");
    h_auth_destroy(a);
}

TEST(b64url_decoder_is_strict)
{
    unsigned char out[16];
    size_t n = 0;
    CHECK_INT(h_auth_b64url_decode("aGk", 3, out, sizeof(out), &n), ERR_OK);
    CHECK_INT(n, 2);
    CHECK(memcmp(out, "hi", 2) == 0);
    CHECK_INT(h_auth_b64url_decode("aGVsbG8", 7, out, sizeof(out), &n), ERR_OK);
    CHECK_INT(n, 5);
    CHECK(memcmp(out, "hello", 5) == 0);
    CHECK_INT(h_auth_b64url_decode("-_8", 3, out, sizeof(out), &n), ERR_OK);
    CHECK_INT(n, 2);
    CHECK_INT(out[0], 0xfb);
    CHECK_INT(out[1], 0xff);
    CHECK_INT(h_auth_b64url_decode("", 0, out, sizeof(out), &n), ERR_OK);
    CHECK_INT(n, 0);
    CHECK_INT(h_auth_b64url_decode("aGl", 3, out, sizeof(out), &n), ERR_INVALID); /* bits */
    CHECK_INT(h_auth_b64url_decode("aGk=", 4, out, sizeof(out), &n), ERR_INVALID);
    CHECK_INT(h_auth_b64url_decode("a+8", 3, out, sizeof(out), &n), ERR_INVALID);
    CHECK_INT(h_auth_b64url_decode("a/8", 3, out, sizeof(out), &n), ERR_INVALID);
    CHECK_INT(h_auth_b64url_decode("aGVsb", 5, out, sizeof(out), &n), ERR_INVALID);
    CHECK_INT(h_auth_b64url_decode("aG k", 4, out, sizeof(out), &n), ERR_INVALID);
    CHECK_INT(h_auth_b64url_decode("aGVsbG8", 7, out, 4, &n), ERR_TOO_LARGE);
}

TEST_MAIN()
