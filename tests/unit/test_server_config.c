/*
 * Unit tests for the settings table: defaults, bounds, types, messages, masking.
 */
#include "t.h"

#include <stdio.h>
#include <stdlib.h>

#include "server/config.h"

struct kv {
    const char *k, *v;
};

static const char *fake_env(void *ctx, const char *name)
{
    for (const struct kv *p = ctx; p->k != NULL; p++) {
        if (strcmp(p->k, name) == 0)
            return p->v;
    }
    return NULL;
}

static enum err_code load(struct kv *env, struct srv_config *c, struct err *e)
{
    return srv_config_load(c, fake_env, env, e);
}

TEST(defaults)
{
    struct kv env[] = {{NULL, NULL}};
    struct srv_config c;
    struct err e = {0};
    CHECK_INT(load(env, &c, &e), ERR_OK);
    CHECK_STR(c.listen_addr, "127.0.0.1");
    CHECK_INT(c.port, 8080);
    CHECK_INT(c.max_json_bytes, 65536);
    CHECK_STR(c.log_level, "info");
    CHECK_STR(c.aws_region, "us-east-1");
    CHECK(!c.debug_routes);
    srv_config_free(&c);
}

TEST(values_override_defaults)
{
    struct kv env[] = {{"IMGSVC_PORT", "0"},          {"IMGSVC_LISTEN_ADDR", "::1"},
                       {"IMGSVC_DEBUG_ROUTES", "on"}, {"IMGSVC_LOG_LEVEL", "debug"},
                       {"AWS_REGION", "eu-west-3"},   {NULL, NULL}};
    struct srv_config c;
    struct err e = {0};
    CHECK_INT(load(env, &c, &e), ERR_OK);
    CHECK_INT(c.port, 0);
    CHECK_STR(c.listen_addr, "::1");
    CHECK(c.debug_routes);
    CHECK_STR(c.log_level, "debug");
    CHECK_STR(c.aws_region, "eu-west-3");
    srv_config_free(&c);
}

static void expect_refused(const char *k, const char *v, const char *want)
{
    struct kv env[] = {{k, v}, {NULL, NULL}};
    struct srv_config c;
    struct err e = {0};
    CHECK_INT(load(env, &c, &e), ERR_INVALID);
    if (strstr(e.msg, want) == NULL)
        T_FAIL("%s=%s: message \"%s\" lacks \"%s\"", k, v, e.msg, want);
    srv_config_free(&c);
}

TEST(bad_values_name_the_variable_and_range)
{
    expect_refused("IMGSVC_PORT", "70000",
                   "IMGSVC_PORT=70000 is invalid: expected an integer from 0 to 65535");
    expect_refused("IMGSVC_PORT", "-1", "from 0 to 65535");
    expect_refused("IMGSVC_PORT", "80x", "IMGSVC_PORT=80x");
    expect_refused("IMGSVC_PORT", "", "IMGSVC_PORT");
    expect_refused("IMGSVC_PORT", "99999999999999999999999", "IMGSVC_PORT");
    expect_refused("IMGSVC_MAX_JSON_BYTES", "10", "from 1024 to 16777216");
    expect_refused("IMGSVC_LISTEN_ADDR", "localhost", "an IPv4 or IPv6 address");
    expect_refused("IMGSVC_LOG_LEVEL", "loud", "one of debug|info|warn|error");
    expect_refused("IMGSVC_DEBUG_ROUTES", "maybe", "true or false");
    expect_refused("AWS_REGION", "", "AWS_REGION");
}

TEST(secret_values_never_appear_in_messages_or_output)
{
    char big[5000];
    memset(big, 'S', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    struct kv env[] = {{"AWS_SESSION_TOKEN", big}, {NULL, NULL}};
    struct srv_config c;
    struct err e = {0};
    CHECK_INT(load(env, &c, &e), ERR_INVALID);
    CHECK(strstr(e.msg, "SSSS") == NULL);
    CHECK(strstr(e.msg, "AWS_SESSION_TOKEN is invalid") != NULL);
    srv_config_free(&c);

    struct kv ok[] = {{"AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI"}, {NULL, NULL}};
    CHECK_INT(load(ok, &c, &e), ERR_OK);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    REQUIRE(f != NULL);
    srv_config_print(&c, f);
    fclose(f);
    CHECK(strstr(text, "wJalr") == NULL);
    CHECK(strstr(text, "AWS_SECRET_ACCESS_KEY=****\n") != NULL);
    CHECK(strstr(text, "AWS_SESSION_TOKEN=\n") != NULL);
    CHECK(strstr(text, "IMGSVC_PORT=8080\n") != NULL);
    free(text);
    srv_config_free(&c);
}

TEST(table_is_well_formed)
{
    size_t n = 0;
    const struct cfg_entry *t = srv_config_table(&n);
    REQUIRE(n > 10);
    for (size_t i = 0; i < n; i++) {
        CHECK(strncmp(t[i].env, "IMGSVC_", 7) == 0 || strncmp(t[i].env, "AWS_", 4) == 0);
        CHECK(t[i].doc != NULL && strlen(t[i].doc) > 10);
        CHECK(t[i].type != CFG_ENUM || t[i].choices != NULL);
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(t[i].env, t[j].env) != 0);
    }
}

TEST_MAIN()
