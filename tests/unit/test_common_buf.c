/*
 * Unit tests for common/buf: the hard cap, take(), printf growth.
 */
#include "t.h"

#include "common/buf.h"

TEST(append_within_cap)
{
    struct buf b;
    buf_init(&b, 8);
    CHECK_INT(buf_append(&b, "abcd", 4), ERR_OK);
    CHECK_INT(buf_append(&b, "efgh", 4), ERR_OK);
    CHECK_INT(b.len, 8);
    CHECK_STR(b.data, "abcdefgh");
    buf_free(&b);
}

TEST(append_past_cap_fails_and_keeps_contents)
{
    struct buf b;
    buf_init(&b, 5);
    CHECK_INT(buf_append(&b, "abc", 3), ERR_OK);
    CHECK_INT(buf_append(&b, "def", 3), ERR_TOO_LARGE);
    CHECK_INT(b.len, 3);
    CHECK_STR(b.data, "abc");
    CHECK_INT(buf_append(&b, "de", 2), ERR_OK);
    CHECK_STR(b.data, "abcde");
    CHECK_INT(buf_append(&b, "", 0), ERR_OK);
    CHECK_INT(buf_append(&b, "x", 1), ERR_TOO_LARGE);
    buf_free(&b);
}

TEST(empty_append_to_a_new_buffer_gives_an_empty_string)
{
    struct buf b;
    buf_init(&b, 16);
    CHECK_INT(buf_append(&b, "", 0), ERR_OK);
    REQUIRE(b.data != NULL);
    CHECK_STR(b.data, "");
    CHECK_INT(b.len, 0);
    buf_free(&b);
    buf_init(&b, 0);
    CHECK_INT(buf_append(&b, "", 0), ERR_OK);
    CHECK_INT(buf_append(&b, "x", 1), ERR_TOO_LARGE);
    buf_free(&b);
}

TEST(huge_length_does_not_overflow)
{
    struct buf b;
    buf_init(&b, 16);
    CHECK_INT(buf_append(&b, "a", 1), ERR_OK);
    CHECK_INT(buf_append(&b, "a", SIZE_MAX), ERR_TOO_LARGE);
    CHECK_INT(b.len, 1);
    buf_free(&b);
}

TEST(printf_grows_past_small_stack_buffer)
{
    struct buf b;
    buf_init(&b, 4096);
    char big[1000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    CHECK_INT(buf_printf(&b, "%d-%s", 42, big), ERR_OK);
    CHECK_INT(b.len, 3 + 999);
    CHECK(strncmp(b.data, "42-xxx", 6) == 0);
    buf_free(&b);
}

TEST(printf_past_cap_fails)
{
    struct buf b;
    buf_init(&b, 4);
    CHECK_INT(buf_printf(&b, "%s", "hello"), ERR_TOO_LARGE);
    CHECK_INT(b.len, 0);
    buf_free(&b);
}

TEST(take_hands_out_ownership)
{
    struct buf b;
    buf_init(&b, 64);
    size_t n = 99;
    char *empty = buf_take(&b, &n);
    REQUIRE(empty != NULL);
    CHECK_INT(n, 0);
    CHECK_STR(empty, "");
    free(empty);
    CHECK_INT(buf_append_str(&b, "hello"), ERR_OK);
    char *p = buf_take(&b, &n);
    CHECK_STR(p, "hello");
    CHECK_INT(n, 5);
    CHECK(b.data == NULL);
    CHECK_INT(b.len, 0);
    free(p);
    buf_free(&b);
}

TEST(reset_keeps_allocation)
{
    struct buf b;
    buf_init(&b, 64);
    CHECK_INT(buf_append_str(&b, "hello"), ERR_OK);
    char *before = b.data;
    buf_reset(&b);
    CHECK_INT(b.len, 0);
    CHECK(b.data == before);
    CHECK_STR(b.data, "");
    buf_free(&b);
}

TEST_MAIN()
