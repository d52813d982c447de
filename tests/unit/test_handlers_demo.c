/*
 * Unit tests for handlers/demo (when the demo is served, what its files and policy hold) and
 * for the status route's presigned GET URLs (h_status_add_urls: keys, lifetime, expiry bounded
 * by the credentials).
 */
#include "t.h"

#include "handlers/demo.h"
#include "handlers/status.h"

TEST(demo_wanted_follows_the_mode_and_the_listen_address)
{
    CHECK(h_demo_wanted("auto", "127.0.0.1"));
    CHECK(h_demo_wanted("auto", "127.1.2.3"));
    CHECK(h_demo_wanted("auto", "::1"));
    CHECK(!h_demo_wanted("auto", "0.0.0.0"));
    CHECK(!h_demo_wanted("auto", "10.0.0.5"));
    CHECK(!h_demo_wanted("auto", "::"));
    CHECK(h_demo_wanted("on", "0.0.0.0"));
    CHECK(!h_demo_wanted("off", "127.0.0.1"));
    CHECK(!h_demo_wanted(NULL, "127.0.0.1"));
}

TEST(demo_files_policy_and_config)
{
    struct h_demo_ctx c = {0};
    struct err e = {0};
    REQUIRE(h_demo_ctx_init(&c, true, "http://127.0.0.1:9000", &e) == ERR_OK);
    CHECK_STR(c.files[0].path, "/");
    REQUIRE(c.files[0].csp != NULL);
    CHECK(strstr(c.files[0].csp, "script-src 'self';") != NULL);
    CHECK(strstr(c.files[0].csp, "img-src 'self' data: blob: http://127.0.0.1:9000;") != NULL);
    CHECK(strstr(c.files[0].csp, "connect-src 'self' http://127.0.0.1:9000;") != NULL);
    CHECK(strstr(c.files[0].body, "<script src=\"/demo.js\" defer></script>") != NULL);
    CHECK(strstr(c.files[0].body, "<script>") == NULL); /* no inline script */
    CHECK_INT((long long)strlen(c.files[0].body), (long long)c.files[0].len);
    CHECK_STR(c.files[1].path, "/demo.js");
    CHECK(c.files[1].csp == NULL);
    CHECK(strstr(c.files[1].body, "function decodeBlurhash(") != NULL);
    CHECK_STR(c.files[2].path, "/demo.css");
    CHECK_STR(c.files[3].path, "/demo.json");
    CHECK_STR(c.files[3].content_type, "application/json");
    cJSON *cfg = cJSON_Parse(c.files[3].body);
    REQUIRE(cfg != NULL);
    CHECK(cJSON_IsTrue(cJSON_GetObjectItem(cfg, "auth")));
    const cJSON *domains = cJSON_GetObjectItem(cfg, "domains");
    CHECK_INT(cJSON_GetArraySize(domains), 5);
    const cJSON *chat = cJSON_GetArrayItem(domains, 3);
    CHECK_STR(cJSON_GetObjectItem(chat, "name")->valuestring, "chat");
    CHECK_STR(cJSON_GetArrayItem(cJSON_GetObjectItem(chat, "ids"), 1)->valuestring, "chatId");
    cJSON_Delete(cfg);
    h_demo_ctx_free(&c);
    h_demo_ctx_free(&c); /* twice is fine */
}

/* ---- h_status_add_urls ------------------------------------------------------------------ */

#define NOW 1795535406 /* 2026-11-24T15:50:06Z */

static struct h_uploads_ctx signer(void)
{
    struct h_uploads_ctx pc = {0};
    pc.creds.access_key = "AKIDEXAMPLE";
    pc.creds.secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    pc.region = "us-east-1";
    pc.bucket = "imgsvc";
    pc.public_scheme = "http";
    pc.public_host = "127.0.0.1:9000";
    return pc;
}

static cJSON *ready_answer(void)
{
    return cJSON_Parse("{\"uploadId\":\"u\",\"status\":\"ready\",\"manifest\":{"
                       "\"origin\":{\"key\":\"feed/7/origin/u.jpeg\"},"
                       "\"variants\":[{\"name\":\"640\",\"key\":\"feed/7/640/u.jpeg\"},"
                       "{\"name\":\"320\",\"key\":\"feed/7/320/u file.jpeg\"}]}}");
}

static const char *variant_url(const cJSON *a, int i)
{
    const cJSON *v =
        cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(a, "manifest"), "variants"), i);
    const cJSON *u = cJSON_GetObjectItem(v, "url");
    return cJSON_IsString(u) ? u->valuestring : "";
}

TEST(status_urls_sign_a_get_of_every_object)
{
    struct h_uploads_ctx pc = signer();
    struct err e = {0};
    cJSON *a = ready_answer();
    REQUIRE(a != NULL);
    REQUIRE(h_status_add_urls(&pc, 300, NOW, a, &e) == ERR_OK);
    const char *u0 = variant_url(a, 0);
    CHECK(strncmp(u0, "http://127.0.0.1:9000/imgsvc/feed/7/640/u.jpeg?", 47) == 0);
    CHECK(strstr(u0, "X-Amz-Expires=300&") != NULL);
    CHECK(strstr(u0, "X-Amz-SignedHeaders=host&") != NULL);
    CHECK(strstr(u0, "X-Amz-Signature=") != NULL);
    CHECK(strncmp(variant_url(a, 1), "http://127.0.0.1:9000/imgsvc/feed/7/320/u%20file.jpeg?",
                  54) == 0);
    const cJSON *origin = cJSON_GetObjectItem(cJSON_GetObjectItem(a, "manifest"), "origin");
    CHECK(strstr(cJSON_GetObjectItem(origin, "url")->valuestring,
                 "/imgsvc/feed/7/origin/u.jpeg?") != NULL);
    CHECK_STR(cJSON_GetObjectItem(a, "urlsExpireAt")->valuestring, "2026-11-24T15:55:06Z");
    cJSON_Delete(a);
}

TEST(status_urls_end_with_the_credentials)
{
    struct h_uploads_ctx pc = signer();
    struct err e = {0};
    cJSON *a = ready_answer();
    REQUIRE(a != NULL);
    pc.creds_expire_at = NOW + 100;
    REQUIRE(h_status_add_urls(&pc, 300, NOW, a, &e) == ERR_OK);
    CHECK(strstr(variant_url(a, 0), "X-Amz-Expires=100&") != NULL);
    CHECK_STR(cJSON_GetObjectItem(a, "urlsExpireAt")->valuestring, "2026-11-24T15:51:46Z");
    cJSON_Delete(a);
    a = ready_answer();
    pc.creds_expire_at = NOW - 1;
    CHECK_INT(h_status_add_urls(&pc, 300, NOW, a, &e), ERR_INVALID);
    CHECK(cJSON_GetObjectItem(a, "urlsExpireAt") == NULL);
    cJSON_Delete(a);
}

TEST_MAIN()
