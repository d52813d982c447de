/*
 * Unit tests for json_parse's refusal of U+0000 in strings (common/json.h): cJSON keeps strings
 * as C strings, so "42\u0000../x" would otherwise be read as "42" and pass every later check.
 * Found by the abuse matrix (tests/integration/test_abuse.py, row id_traversal).
 */
#include "t.h"

#include <string.h>

#include "common/json.h"

/* json_parse over the whole of a literal (which may hold NUL bytes). */
#define PARSE(lit, e) json_parse((lit), sizeof(lit) - 1, (e))

TEST(json_nul_escape_in_a_string_is_refused)
{
    struct err e = {0};
    CHECK(PARSE("{\"userId\":\"42\\u0000../x\"}", &e) == NULL);
    CHECK_INT(e.code, ERR_INVALID);
    CHECK(strstr(e.msg, "U+0000") != NULL);
    CHECK(PARSE("[\"\\u0000\"]", &e) == NULL);
    CHECK(PARSE("{\"a\\u0000b\":1}", &e) == NULL); /* in a member name too */
    CHECK(PARSE("\"x\\u0000\"", &e) == NULL);
}

TEST(json_raw_nul_byte_in_a_string_is_refused)
{
    struct err e = {0};
    CHECK(PARSE("{\"userId\":\"42\0../x\"}", &e) == NULL);
    CHECK_INT(e.code, ERR_INVALID);
}

TEST(json_look_alikes_of_nul_are_kept)
{
    struct err e = {0};
    /* an escaped backslash followed by the text u0000 */
    cJSON *v = PARSE("{\"a\":\"\\\\u0000\"}", &e);
    REQUIRE(v != NULL);
    CHECK_STR(json_get_str(v, "a"), "\\u0000");
    cJSON_Delete(v);
    /* other escapes, an escaped quote before \u0001, and NULs after the value still pass */
    v = PARSE("{\"a\":\"\\\"\\u0001\\u00000\"}", &e);
    CHECK(v == NULL); /* \u0000 followed by a digit is still U+0000 */
    v = PARSE("{\"a\":\"\\\"\\u0001\\u0100\"}\0\0", &e);
    REQUIRE(v != NULL);
    CHECK_INT((unsigned char)json_get_str(v, "a")[1], 1);
    cJSON_Delete(v);
    v = PARSE("{\"u0000\":\"\\u00e9\"}", &e);
    REQUIRE(v != NULL);
    CHECK_STR(json_get_str(v, "u0000"), "\xc3\xa9");
    cJSON_Delete(v);
}

TEST_MAIN()
