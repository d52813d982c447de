/*
 * Unit tests for imaging/img_input: the multipart/form-data envelope detector and extractor,
 * including hostile envelopes (truncated, oversize headers, many parts, no file).
 */
#include "t.h"

#include "imaging/img_input.h"

#define B    "--------------------------984728346261848713829462"
#define JPEG "\xff\xd8\xff\xe0 fake jpeg bytes"

static const char wrapped[] =
    B "\r\nContent-Disposition: form-data; name=\"file\"; "
      "filename=\"photo.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n" JPEG "\r\n" B "--\r\n";

TEST(raw_body_is_left_alone)
{
    struct img_span s;
    bool un = true;
    struct img_error e = {0};
    CHECK_INT(img_input_unwrap(JPEG, sizeof(JPEG) - 1, true, &s, &un, &e), ERR_OK);
    CHECK(!un);
    CHECK_INT(s.len, sizeof(JPEG) - 1);
    CHECK(!img_multipart_detect("--", 2));
    CHECK(!img_multipart_detect("-- \r\nContent-Type: x\r\n\r\n", 24));
}

TEST(single_file_part_is_extracted_zero_copy)
{
    struct img_span s;
    bool un = false;
    struct img_error e = {0};
    CHECK(img_multipart_detect(wrapped, sizeof(wrapped) - 1));
    REQUIRE(img_input_unwrap(wrapped, sizeof(wrapped) - 1, true, &s, &un, &e) == ERR_OK);
    CHECK(un);
    CHECK_INT(s.len, sizeof(JPEG) - 1);
    CHECK(memcmp(s.data, JPEG, s.len) == 0);
    CHECK((const char *)s.data > wrapped && (const char *)s.data < wrapped + sizeof(wrapped));
}

TEST(recovery_off_refuses_with_hint)
{
    struct img_span s;
    bool un = false;
    struct img_error e = {0};
    CHECK_INT(img_input_unwrap(wrapped, sizeof(wrapped) - 1, false, &s, &un, &e), ERR_INVALID);
    CHECK_STR(img_reason_name(e.reason), "multipart_upload");
    CHECK(strstr(e.msg, "raw image bytes") != NULL);
}

TEST(truncated_envelopes_are_refused_at_every_length)
{
    size_t full = sizeof(wrapped) - 1;
    for (size_t n = 60; n < full - 4; n++) {
        struct img_span s;
        bool un = false;
        struct img_error e = {0};
        char *copy = malloc(n); /* exact-size copy so ASan sees any over-read */
        REQUIRE(copy != NULL);
        memcpy(copy, wrapped, n);
        enum err_code rc = img_input_unwrap(copy, n, true, &s, &un, &e);
        if (rc == ERR_OK)
            CHECK(!un); /* too short to even look like an envelope */
        else
            CHECK_INT(e.reason, IMG_R_MULTIPART_UPLOAD);
        free(copy);
    }
}

TEST(several_or_no_files_are_refused)
{
    static const char two[] = B "\r\nContent-Disposition: form-data; name=\"a\"; filename=\"a.jpg\""
                                "\r\n\r\n" JPEG "\r\n" B "\r\nContent-Disposition: form-data; "
                                "name=\"b\"; filename=\"b.jpg\"\r\n\r\n" JPEG "\r\n" B "--\r\n";
    static const char none[] =
        B "\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nhello\r\n" B "--\r\n";
    static const char field_and_image[] =
        B "\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nhello\r\n" B
          "\r\nContent-Disposition: form-data; name=\"b\"\r\n\r\n" JPEG "\r\n" B "--\r\n";
    struct img_span s;
    struct img_error e = {0};
    CHECK_INT(img_multipart_extract(two, sizeof(two) - 1, &s, &e), ERR_INVALID);
    CHECK(strstr(e.msg, "several") != NULL);
    CHECK_INT(img_multipart_extract(none, sizeof(none) - 1, &s, &e), ERR_INVALID);
    CHECK(strstr(e.msg, "no file") != NULL);
    REQUIRE(img_multipart_extract(field_and_image, sizeof(field_and_image) - 1, &s, &e) == ERR_OK);
    CHECK_INT(s.len, sizeof(JPEG) - 1);
}

TEST(hostile_envelopes_are_bounded)
{
    /* headers with no end, far longer than IMG_MP_MAX_HEADER */
    size_t n = 3 * IMG_MP_MAX_HEADER;
    char *big = malloc(n);
    REQUIRE(big != NULL);
    memset(big, 'x', n);
    memcpy(big, "--b\r\nContent-Disposition: form-data; filename=\"x\"\r\n", 52);
    struct img_span s;
    struct img_error e = {0};
    CHECK_INT(img_multipart_extract(big, n, &s, &e), ERR_INVALID);
    /* more parts than IMG_MP_MAX_PARTS */
    const char part[] = "Content-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--b\r\n";
    size_t plen = sizeof(part) - 1, total = 5 + 40 * plen;
    char *many = malloc(total);
    REQUIRE(many != NULL);
    memcpy(many, "--b\r\n", 5);
    for (int i = 0; i < 40; i++)
        memcpy(many + 5 + (size_t)i * plen, part, plen);
    CHECK_INT(img_multipart_extract(many, total, &s, &e), ERR_INVALID);
    /* a boundary longer than 70 characters is not a boundary */
    char lb[100];
    memset(lb, 'a', sizeof(lb));
    memcpy(lb, "--", 2);
    memcpy(lb + 80, "\r\nContent-Type: x\r\n", 19);
    CHECK(!img_multipart_detect(lb, sizeof(lb)));
    free(big);
    free(many);
}

TEST_MAIN()
