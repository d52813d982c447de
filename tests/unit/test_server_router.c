/*
 * Unit tests for the router: literal and parameter segments, 404/405 decisions, decoding.
 */
#include "t.h"

#include <stdlib.h>

#include "server/router.h"

static void noop(const struct h_request *req, struct h_response *resp)
{
    (void)req;
    (void)resp;
}

static const struct srv_route routes[] = {
    {"GET", "/healthz", noop, NULL, 0},
    {"POST", "/v1/uploads", noop, NULL, 100},
    {"GET", "/v1/uploads/{uploadId}", noop, NULL, 0},
    {"DELETE", "/v1/uploads/{uploadId}", noop, NULL, 0},
    {"GET", "/v1/a/{x}/b/{y}", noop, NULL, 0},
    {"PUT", "/s3/{bucket}/{key+}", noop, NULL, 0},
};
#define NR (sizeof(routes) / sizeof(routes[0]))

TEST(literal_match)
{
    struct srv_match_result m;
    CHECK_INT(srv_router_match(routes, NR, "GET", "/healthz", &m), SRV_MATCH_OK);
    CHECK(m.route == &routes[0]);
    CHECK_INT(m.nparams, 0);
    srv_match_free(&m);
    CHECK_INT(srv_router_match(routes, NR, "GET", "/healthz/", &m), SRV_MATCH_NO_PATH);
    CHECK_INT(srv_router_match(routes, NR, "GET", "/health", &m), SRV_MATCH_NO_PATH);
    CHECK_INT(srv_router_match(routes, NR, "GET", "/", &m), SRV_MATCH_NO_PATH);
    CHECK_INT(srv_router_match(routes, NR, "GET", "", &m), SRV_MATCH_BAD_PATH);
}

TEST(parameters_are_decoded)
{
    struct srv_match_result m;
    CHECK_INT(srv_router_match(routes, NR, "GET", "/v1/uploads/abc%20d_1", &m), SRV_MATCH_OK);
    CHECK(m.route == &routes[2]);
    REQUIRE(m.nparams == 1);
    CHECK_STR(m.params[0].name, "uploadId");
    CHECK_STR(m.params[0].value, "abc d_1");
    srv_match_free(&m);
    CHECK_INT(srv_router_match(routes, NR, "GET", "/v1/a/1/b/2", &m), SRV_MATCH_OK);
    REQUIRE(m.nparams == 2);
    CHECK_STR(m.params[0].name, "x");
    CHECK_STR(m.params[1].value, "2");
    srv_match_free(&m);
    CHECK_INT(srv_router_match(routes, NR, "GET", "/v1/uploads/", &m), SRV_MATCH_NO_PATH);
    CHECK_INT(srv_router_match(routes, NR, "GET", "/v1/uploads/a/b", &m), SRV_MATCH_NO_PATH);
}

TEST(wrong_method_lists_allowed)
{
    struct srv_match_result m;
    CHECK_INT(srv_router_match(routes, NR, "PUT", "/v1/uploads/x", &m), SRV_MATCH_NO_METHOD);
    CHECK_STR(m.allow, "GET, HEAD, DELETE");
    CHECK_INT(srv_router_match(routes, NR, "GET", "/v1/uploads", &m), SRV_MATCH_NO_METHOD);
    CHECK_STR(m.allow, "POST");
}

TEST(head_uses_get_routes)
{
    struct srv_match_result m;
    CHECK_INT(srv_router_match(routes, NR, "HEAD", "/healthz", &m), SRV_MATCH_OK);
    CHECK(m.route == &routes[0]);
    srv_match_free(&m);
}

TEST(bad_escapes_are_refused)
{
    struct srv_match_result m;
    CHECK_INT(srv_router_match(routes, NR, "GET", "/v1/uploads/%zz", &m), SRV_MATCH_BAD_PATH);
    CHECK_INT(srv_router_match(routes, NR, "GET", "/v1/uploads/%2", &m), SRV_MATCH_BAD_PATH);
    CHECK_INT(srv_router_match(routes, NR, "GET", "/v1/uploads/a%00b", &m), SRV_MATCH_BAD_PATH);
    char *d = srv_percent_decode("a%2Fb+c%41", 10);
    CHECK_STR(d, "a/b+cA");
    free(d);
    CHECK(srv_percent_decode("%4", 2) == NULL);
}

TEST(greedy_parameter_takes_the_rest)
{
    struct srv_match_result m;
    CHECK_INT(srv_router_match(routes, NR, "PUT", "/s3/bkt/delete/a%20b/c%2Bd//e", &m),
              SRV_MATCH_OK);
    REQUIRE(m.nparams == 2);
    CHECK_STR(m.params[0].name, "bucket");
    CHECK_STR(m.params[0].value, "bkt");
    CHECK_STR(m.params[1].name, "key");
    CHECK_STR(m.params[1].value, "delete/a b/c+d//e");
    srv_match_free(&m);
    CHECK_INT(srv_router_match(routes, NR, "PUT", "/s3/bkt/", &m), SRV_MATCH_NO_PATH);
    CHECK_INT(srv_router_match(routes, NR, "PUT", "/s3/bkt", &m), SRV_MATCH_NO_PATH);
    CHECK_INT(srv_router_match(routes, NR, "PUT", "/s3/bkt/a%zz", &m), SRV_MATCH_BAD_PATH);
}

TEST_MAIN()
