/*
 * Unit tests for the pure parts of the reconciler (handlers/reconcile: the age filter, the
 * synthetic record) and of reprocessing (handlers/reprocess: the prefix check, and the route's
 * refusals before any S3 call: who may call it, bad bodies, bad prefixes).
 */
#include "t.h"

#include <strings.h>

/* only the HS256 token maker is used here */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include "auth_tokens.h"
#pragma GCC diagnostic pop
#include "handlers/reconcile.h"
#include "handlers/reprocess.h"

#define API_KEY KEY1 /* auth_tokens.h; SECRET too */

/* ---- the age filter ---- */

TEST(due_after_the_grace_period)
{
    CHECK(h_reconcile_is_due(1000, 1030, 30));
    CHECK(h_reconcile_is_due(1000, 5000, 30));
    CHECK(!h_reconcile_is_due(1000, 1029, 30));
    CHECK(!h_reconcile_is_due(1000, 1000, 30));
    CHECK(h_reconcile_is_due(1000, 1000, 0));
}

TEST(unknown_time_is_due_future_time_waits)
{
    CHECK(h_reconcile_is_due(0, 1000, 30));
    CHECK(h_reconcile_is_due(-5, 1000, 86400));
    CHECK(!h_reconcile_is_due(2000, 1000, 0)); /* clock skew: stamped in the future */
    CHECK(!h_reconcile_is_due(2000, 2029, 30));
    CHECK(h_reconcile_is_due(2000, 2030, 30));
}

/* ---- the synthetic record ---- */

TEST(record_from_a_listed_object)
{
    char key[] = "delete/profile/42/0b3c6a1e-8a4f-4c2d-9e6b-7f1a2b3c4d5e_1700000000.jpeg";
    char etag[] = "\"9e107d9d372bb6826bd81d3542a419d6\"";
    struct s3_list_entry ent = {key, 1234, etag, 1700000000, ""};
    struct s3_event_record r;
    REQUIRE(h_reconcile_record("imgsvc", &ent, &r));
    CHECK_STR(r.bucket, "imgsvc");
    CHECK_STR(r.key, key);
    CHECK_STR(r.etag, "9e107d9d372bb6826bd81d3542a419d6");
    CHECK_STR(r.event_name, "ObjectCreated:Put");
    CHECK_STR(r.sequencer, "");
    CHECK_INT(r.size, 1234);
    CHECK(s3_event_is_created(&r));
    ent.etag = NULL;
    REQUIRE(h_reconcile_record("imgsvc", &ent, &r));
    CHECK_STR(r.etag, "");
}

TEST(record_refuses_what_does_not_fit)
{
    static char longkey[S3_EVENT_KEY_MAX + 2];
    memset(longkey, 'a', sizeof(longkey) - 1);
    struct s3_list_entry ent = {longkey, 1, NULL, 0, ""};
    struct s3_event_record r;
    CHECK(!h_reconcile_record("imgsvc", &ent, &r));
    ent.key = "delete/x";
    CHECK(!h_reconcile_record(NULL, &ent, &r));
    CHECK(!h_reconcile_record("imgsvc", NULL, &r));
}

TEST(pass_refuses_bad_options)
{
    struct h_reconcile_stats st;
    struct err e = {0};
    struct h_reconcile_opts o = {0};
    CHECK_INT(h_reconcile_pass(&o, 0, &st, &e), ERR_INVALID);
    CHECK_INT(h_reconcile_pass(NULL, 0, &st, &e), ERR_INVALID);
    CHECK_INT(st.submitted, 0);
}

/* ---- the prefix check ---- */

static void prefix_ok(const char *in, const char *want)
{
    char out[H_REPROCESS_PREFIX_MAX + 2];
    struct err e = {0};
    CHECK_INT(h_reprocess_prefix_check(in, out, sizeof(out), &e), ERR_OK);
    CHECK_STR(out, want);
}

static void prefix_bad(const char *in)
{
    char out[H_REPROCESS_PREFIX_MAX + 2];
    struct err e = {0};
    if (h_reprocess_prefix_check(in, out, sizeof(out), &e) != ERR_INVALID)
        T_FAIL("prefix '%s' was accepted", in ? in : "(null)");
    CHECK_STR(out, "");
    CHECK(e.msg[0] != '\0');
}

TEST(prefix_folders_of_the_output_schema)
{
    prefix_ok("profile/", "profile/");
    prefix_ok("profile", "profile/");
    prefix_ok("profile/42/", "profile/42/");
    prefix_ok("profile/42", "profile/42/");
    prefix_ok("feed/f-1_x/", "feed/f-1_x/");
    prefix_ok("chatroom/7/chat/9/", "chatroom/7/chat/9/");
    prefix_ok("chatroom/7/chat_profile/u1/origin/", "chatroom/7/chat_profile/u1/origin/");
}

TEST(prefix_refusals)
{
    prefix_bad(NULL);
    prefix_bad("");
    prefix_bad("/");
    prefix_bad("/profile/");
    prefix_bad("delete/");
    prefix_bad("delete/profile/42/");
    prefix_bad("failed/profile/");
    prefix_bad("profile/../delete/");
    prefix_bad("profile/..");
    prefix_bad("profile//42/");
    prefix_bad("profile/4 2/");
    prefix_bad("profile/%2e%2e/");
    prefix_bad("profile/42/x.jpeg");
    prefix_bad("profiles/");
    prefix_bad("chat/7/"); /* chat lives under chatroom/ */
    prefix_bad("manifest/");
    char longp[H_REPROCESS_PREFIX_MAX + 8];
    memset(longp, 'a', sizeof(longp) - 1);
    memcpy(longp, "profile/", 8);
    longp[sizeof(longp) - 1] = '\0';
    prefix_bad(longp);
    longp[H_REPROCESS_PREFIX_MAX] = '\0'; /* exactly the limit, no room for the '/' */
    prefix_bad(longp);
    longp[H_REPROCESS_PREFIX_MAX - 1] = '/';
    prefix_ok(longp, longp);
}

/* ---- the route's refusals ---- */

struct fake_req {
    const char *authorization;
    const char *api_key;
};

static const char *fake_lookup(void *conn, enum h_kv_kind kind, const char *name)
{
    const struct fake_req *f = conn;
    if (kind != H_KV_HEADER)
        return NULL;
    if (strcasecmp(name, "Authorization") == 0)
        return f->authorization;
    if (strcasecmp(name, "X-Api-Key") == 0)
        return f->api_key;
    return NULL;
}

static int submits;

static enum err_code count_submit(void *arg, const char *origin_key, bool force)
{
    (void)arg, (void)origin_key, (void)force;
    submits++;
    return ERR_OK;
}

/* Calls the route with `body` and the given credentials; returns the status and error code. */
static int call(struct h_auth *auth, struct fake_req *f, const char *body, char *code, size_t cap)
{
    struct h_reprocess_ctx ctx = {auth, NULL, 100, count_submit, NULL};
    struct h_request req = {.method = "POST",
                            .path = "/v1/objects/reprocess",
                            .raw_query = "",
                            .route = "/v1/objects/reprocess",
                            .request_id = "t",
                            .body = body,
                            .body_len = body ? strlen(body) : 0,
                            .route_ctx = &ctx,
                            .conn = f,
                            .lookup = fake_lookup};
    struct h_response resp = {0};
    h_reprocess_post(&req, &resp);
    snprintf(code, cap, "%s", resp.error_code ? resp.error_code : "");
    int status = resp.status;
    h_resp_free(&resp);
    return status;
}

static struct h_auth *auth_both(void)
{
    struct h_auth_options o;
    h_auth_options_default(&o);
    o.api_keys = API_KEY;
    o.jwt_hs256_secret = SECRET;
    struct err e = {0};
    struct h_auth *a = h_auth_new(&o, &e);
    if (a == NULL)
        T_FAIL("h_auth_new: %s", e.msg);
    return a;
}

TEST(route_needs_an_api_key)
{
    struct h_auth *a = auth_both();
    REQUIRE(a != NULL);
    char code[64];
    const char *body = "{\"prefix\":\"profile/42/\"}";
    struct fake_req none = {NULL, NULL};
    CHECK_INT(call(a, &none, body, code, sizeof(code)), 401);
    CHECK_STR(code, "unauthenticated");
    struct fake_req wrong = {NULL, "not-the-key-0123456789"};
    CHECK_INT(call(a, &wrong, body, code, sizeof(code)), 401);
    /* a valid end-user JWT is not enough */
    char auth[2048];
    char payload[128];
    snprintf(payload, sizeof(payload), "{\"sub\":\"42\",\"exp\":%lld}",
             (long long)time(NULL) + 600);
    snprintf(auth, sizeof(auth), "Bearer %s",
             hs256_with(SECRET, strlen(SECRET), "{\"alg\":\"HS256\",\"typ\":\"JWT\"}", payload));
    struct fake_req jwt = {auth, NULL};
    CHECK_INT(call(a, &jwt, body, code, sizeof(code)), 403);
    CHECK_STR(code, "forbidden");
    /* the API key gets past the door: no S3 here, so 503 */
    struct fake_req key = {NULL, API_KEY};
    CHECK_INT(call(a, &key, body, code, sizeof(code)), 503);
    CHECK_STR(code, "pipeline_unavailable");
    CHECK_INT(submits, 0);
    h_auth_destroy(a);
}

TEST(route_refuses_bad_bodies_and_prefixes)
{
    struct fake_req none = {NULL, NULL};
    char code[64];
    struct {
        const char *body;
        const char *code;
    } cases[] = {
        {NULL, "malformed_json"},
        {"[1]", "malformed_json"},
        {"{\"prefix\":", "malformed_json"},
        {"{}", "bad_prefix"},
        {"{\"prefix\":42}", "bad_prefix"},
        {"{\"prefix\":\"delete/profile/\"}", "bad_prefix"},
        {"{\"prefix\":\"profile/../x/\"}", "bad_prefix"},
        {"{\"prefix\":\"\"}", "bad_prefix"},
        {"{\"prefix\":\"profile/\",\"force\":\"yes\"}", "bad_force"},
        {"{\"prefix\":\"profile/\",\"other\":1}", "unknown_field"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int status = call(NULL, &none, cases[i].body, code, sizeof(code));
        if (status != 400 || strcmp(code, cases[i].code) != 0)
            T_FAIL("body %s: %d %s, want 400 %s", cases[i].body ? cases[i].body : "(none)", status,
                   code, cases[i].code);
    }
    CHECK_INT(submits, 0);
}

TEST_MAIN()
