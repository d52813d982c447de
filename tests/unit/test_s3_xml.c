/*
 * test_s3_xml.c: the strict XML reader (s3/xml.h) and S3's XML answers read from it
 * (s3/client_internal.h: <Error> documents, ListObjectsV2 pages, URL-decoded keys).
 */
#include <stdlib.h>
#include <string.h>

#include "s3/client_internal.h"
#include "s3/xml.h"
#include "t.h"

static enum err_code parse(const char *s, struct s3_xml_doc **d)
{
    struct err e = {0};
    enum err_code rc = s3_xml_parse(s, strlen(s), d, &e);
    if (rc != ERR_OK && getenv("S3_XML_VERBOSE"))
        fprintf(stderr, "  (%s)\n", e.msg);
    return rc;
}

TEST(xml_basic_tree)
{
    struct s3_xml_doc *d = NULL;
    const char *x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                    "<!-- hi --><a xmlns=\"http://s3\" x='1'><b>one</b><s3:c>two &amp; "
                    "&lt;three&gt; &#65;&#x42;&#x263A;</s3:c><b/><![CDATA[<raw>&]]></a>\n";
    REQUIRE(parse(x, &d) == ERR_OK);
    const struct s3_xml_node *r = s3_xml_root(d);
    CHECK_STR(r->name, "a");
    CHECK_STR(r->text, "<raw>&");
    CHECK_STR(s3_xml_child_text(r, "b"), "one");
    CHECK_STR(s3_xml_child_text(r, "c"), "two & <three> AB\xE2\x98\xBA");
    const struct s3_xml_node *b = s3_xml_child(r, "b");
    REQUIRE(b != NULL);
    const struct s3_xml_node *b2 = s3_xml_next_named(b);
    REQUIRE(b2 != NULL);
    CHECK_STR(b2->text, "");
    CHECK(s3_xml_next_named(b2) == NULL);
    CHECK(s3_xml_child(r, "missing") == NULL);
    s3_xml_free(d);
    s3_xml_free(NULL);
}

TEST(xml_refuses_malformed)
{
    const char *bad[] = {
        "",
        "   ",
        "<a>",                                        /* truncated */
        "<a><b></a>",                                 /* mismatched */
        "<a></a><b></b>",                             /* two roots */
        "<a></a>trailing",                            /* text after the root */
        "<a>&unknown;</a>",                           /* unknown entity */
        "<a>&amp</a>",                                /* unterminated entity */
        "<a>&#0;</a>",                                /* NUL reference */
        "<a>&#xD800;</a>",                            /* surrogate */
        "<a>&#1114112;</a>",                          /* past U+10FFFF */
        "<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>", /* no DTDs, ever */
        "<a b=\"1></a>",                              /* unterminated attribute */
        "<a b=1></a>",                                /* unquoted attribute */
        "<a>\x01</a>",                                /* control character */
        "<a>\xC3</a>",                                /* invalid UTF-8 */
        "<a>\xC0\xAF</a>",                            /* overlong UTF-8 */
        "<a><!-- unterminated </a>",
        "<a><![CDATA[ unterminated </a>",
        "<1a></1a>",
        "text only",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct s3_xml_doc *d = NULL;
        enum err_code rc = parse(bad[i], &d);
        if (rc == ERR_OK)
            T_FAIL("accepted malformed XML #%zu: %s", i, bad[i]);
        CHECK(d == NULL);
        s3_xml_free(d);
    }
}

TEST(xml_depth_limit)
{
    char x[4096];
    size_t n = 0;
    for (int i = 0; i < S3_XML_MAX_DEPTH + 1; i++)
        n += (size_t)snprintf(x + n, sizeof(x) - n, "<a>");
    for (int i = 0; i < S3_XML_MAX_DEPTH + 1; i++)
        n += (size_t)snprintf(x + n, sizeof(x) - n, "</a>");
    struct s3_xml_doc *d = NULL;
    CHECK_INT(parse(x, &d), ERR_TOO_LARGE);
    /* Exactly at the limit is fine. */
    n = 0;
    for (int i = 0; i < S3_XML_MAX_DEPTH; i++)
        n += (size_t)snprintf(x + n, sizeof(x) - n, "<a>");
    for (int i = 0; i < S3_XML_MAX_DEPTH; i++)
        n += (size_t)snprintf(x + n, sizeof(x) - n, "</a>");
    CHECK_INT(parse(x, &d), ERR_OK);
    s3_xml_free(d);
}

TEST(s3_error_document)
{
    const char *x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>NoSuchKey</Code>"
                    "<Message>The specified key does not exist.</Message><Key>a&amp;b</Key>"
                    "<RequestId>4442587FB7D0A2F9</RequestId><HostId>h</HostId></Error>";
    struct s3_i_error er;
    struct err e = {0};
    REQUIRE(s3_i_parse_error(x, strlen(x), &er, &e) == ERR_OK);
    CHECK_STR(er.code, "NoSuchKey");
    CHECK_STR(er.message, "The specified key does not exist.");
    CHECK_STR(er.request_id, "4442587FB7D0A2F9");
    /* RGW's empty <Message/>. */
    const char *rgw = "<Error><Code>SignatureDoesNotMatch</Code><Message></Message>"
                      "<RequestId>tx1</RequestId></Error>";
    REQUIRE(s3_i_parse_error(rgw, strlen(rgw), &er, &e) == ERR_OK);
    CHECK_STR(er.code, "SignatureDoesNotMatch");
    CHECK_STR(er.message, "");
    /* Not an error document, no code, truncated: refused. */
    const char *bad[] = {"<Other><Code>x</Code></Other>", "<Error><Message>m</Message></Error>",
                         "<Error><Code>NoSuchKey</Code>", "<Error><Code></Code></Error>",
                         "Service Unavailable"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_INT(s3_i_parse_error(bad[i], strlen(bad[i]), &er, &e), ERR_INVALID);
}

TEST(copy_result_document)
{
    char etag[S3_ETAG_MAX];
    bool failed = true;
    struct s3_i_error er;
    struct err e = {0};
    const char *ok = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CopyObjectResult xmlns=\""
                     "http://s3.amazonaws.com/doc/2006-03-01/\"><LastModified>2026-11-25T12:00:00."
                     "000Z</LastModified><ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag>"
                     "</CopyObjectResult>";
    REQUIRE(s3_i_parse_copy(ok, strlen(ok), etag, &failed, &er, &e) == ERR_OK);
    CHECK(!failed);
    CHECK_STR(etag, "\"9b2cf535f27731c974343645a3985328\"");
    /* a failure during the copy comes as a 200 whose body is an <Error> */
    const char *during = "<Error><Code>InternalError</Code><Message>We encountered an internal "
                         "error.</Message><RequestId>r1</RequestId></Error>";
    REQUIRE(s3_i_parse_copy(during, strlen(during), etag, &failed, &er, &e) == ERR_OK);
    CHECK(failed);
    CHECK_STR(er.code, "InternalError");
    CHECK_STR(etag, "");
    /* anything else is refused: no ETag, another root, truncated, not XML */
    const char *bad[] = {"<CopyObjectResult><LastModified>x</LastModified></CopyObjectResult>",
                         "<CopyObjectResult><ETag></ETag></CopyObjectResult>",
                         "<PutResult><ETag>\"a\"</ETag></PutResult>",
                         "<CopyObjectResult><ETag>\"a\"</ETag>",
                         "",
                         "OK"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_INT(s3_i_parse_copy(bad[i], strlen(bad[i]), etag, &failed, &er, &e), ERR_INVALID);
}

static const char *const page_xml =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
    "<Name>b</Name><Prefix>p%2F</Prefix><KeyCount>3</KeyCount><MaxKeys>3</MaxKeys>"
    "<Delimiter>%2F</Delimiter><EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>"
    "<Contents><Key>p/a+b.jpg</Key><LastModified>2026-11-24T15:50:39.123Z</LastModified>"
    "<ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag><Size>1234</Size>"
    "<StorageClass>STANDARD</StorageClass></Contents>"
    "<Contents><Key>p/a%2Bb%20c%26.jpg</Key><Size>0</Size></Contents>"
    "<Contents><Key>p/caf%C3%A9</Key><LastModified>2026-01-01T00:00:00Z</LastModified>"
    "<Size>18446744073709551615</Size></Contents>"
    "<CommonPrefixes><Prefix>p/dir%20x/</Prefix></CommonPrefixes>"
    "<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>"
    "</ListBucketResult>";

TEST(list_page_url_encoded)
{
    struct s3_list_page pg;
    struct err e = {0};
    REQUIRE(s3_i_parse_list(page_xml, strlen(page_xml), &pg, &e) == ERR_OK);
    CHECK(pg.truncated);
    CHECK_STR(pg.next_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
    REQUIRE(pg.nentries == 3);
    CHECK_STR(pg.entries[0].key, "p/a b.jpg"); /* '+' is a space in form encoding */
    CHECK_STR(pg.entries[0].etag, "\"9b2cf535f27731c974343645a3985328\"");
    CHECK_INT(pg.entries[0].size, 1234);
    CHECK_INT(pg.entries[0].last_modified, 1795535439);
    CHECK_STR(pg.entries[0].storage_class, "STANDARD");
    CHECK_STR(pg.entries[1].key, "p/a+b c&.jpg");
    CHECK_INT(pg.entries[1].size, 0);
    CHECK_STR(pg.entries[2].key, "p/caf\xC3\xA9");
    CHECK(pg.entries[2].size == UINT64_MAX);
    REQUIRE(pg.nprefixes == 1);
    CHECK_STR(pg.common_prefixes[0], "p/dir x/");
    s3_list_page_free(&pg);
    s3_list_page_free(NULL);
}

TEST(list_page_plain_xml_escapes)
{
    /* Without EncodingType the keys are XML text: entities decoded, '+' and '%' kept. */
    const char *x = "<ListBucketResult><IsTruncated>false</IsTruncated>"
                    "<Contents><Key>a+b%20&amp;&lt;c&gt;&apos;&quot;</Key><Size>5</Size>"
                    "</Contents></ListBucketResult>";
    struct s3_list_page pg;
    struct err e = {0};
    REQUIRE(s3_i_parse_list(x, strlen(x), &pg, &e) == ERR_OK);
    CHECK(!pg.truncated);
    CHECK(pg.next_token == NULL);
    REQUIRE(pg.nentries == 1);
    CHECK_STR(pg.entries[0].key, "a+b%20&<c>'\"");
    CHECK_INT(pg.nprefixes, 0);
    s3_list_page_free(&pg);
}

TEST(list_page_empty)
{
    const char *x = "<ListBucketResult><Name>b</Name><KeyCount>0</KeyCount>"
                    "<IsTruncated>false</IsTruncated></ListBucketResult>";
    struct s3_list_page pg;
    struct err e = {0};
    REQUIRE(s3_i_parse_list(x, strlen(x), &pg, &e) == ERR_OK);
    CHECK_INT(pg.nentries, 0);
    CHECK_INT(pg.nprefixes, 0);
    s3_list_page_free(&pg);
}

TEST(list_page_refused)
{
    const char *bad[] = {
        /* truncated document */
        "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>a</Key>",
        /* truncated listing without a token */
        "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>",
        /* missing / bad IsTruncated */
        "<ListBucketResult></ListBucketResult>",
        "<ListBucketResult><IsTruncated>yes</IsTruncated></ListBucketResult>",
        /* wrong root (an error document) */
        "<Error><Code>AccessDenied</Code></Error>",
        /* entry without key, without size, negative or junk size, bad date */
        "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Size>1</Size></Contents>"
        "</ListBucketResult>",
        "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>a</Key></Contents>"
        "</ListBucketResult>",
        "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>a</Key>"
        "<Size>-1</Size></Contents></ListBucketResult>",
        "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>a</Key>"
        "<Size>12x</Size></Contents></ListBucketResult>",
        "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>a</Key>"
        "<Size>1</Size><LastModified>yesterday</LastModified></Contents></ListBucketResult>",
        /* a bad escape or an encoded NUL in a url-encoded key */
        "<ListBucketResult><EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>"
        "<Contents><Key>a%2</Key><Size>1</Size></Contents></ListBucketResult>",
        "<ListBucketResult><EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>"
        "<Contents><Key>a%00b</Key><Size>1</Size></Contents></ListBucketResult>",
        /* a prefix block without Prefix */
        "<ListBucketResult><IsTruncated>false</IsTruncated><CommonPrefixes/></ListBucketResult>",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct s3_list_page pg;
        struct err e = {0};
        if (s3_i_parse_list(bad[i], strlen(bad[i]), &pg, &e) == ERR_OK) {
            T_FAIL("accepted bad listing #%zu", i);
            s3_list_page_free(&pg);
        } else {
            CHECK(pg.entries == NULL && pg.nentries == 0 && pg.next_token == NULL);
        }
    }
}

TEST(list_page_every_truncation_refused)
{
    /* A body cut anywhere (a dropped connection) never parses as a shorter listing. */
    size_t n = strlen(page_xml);
    size_t accepted = 0;
    for (size_t cut = 0; cut < n - 1; cut++) {
        struct s3_list_page pg;
        struct err e = {0};
        if (s3_i_parse_list(page_xml, cut, &pg, &e) == ERR_OK) {
            accepted++;
            s3_list_page_free(&pg);
        }
    }
    CHECK_INT(accepted, 0);
}

TEST(form_decode)
{
    char *s = NULL;
    CHECK_INT(s3_i_form_decode("a+b%2Bc%20%e2%98%83", 19, &s), ERR_OK);
    CHECK_STR(s, "a b+c \xE2\x98\x83");
    free(s);
    CHECK_INT(s3_i_form_decode("%4", 2, &s), ERR_INVALID);
    CHECK_INT(s3_i_form_decode("%", 1, &s), ERR_INVALID);
    CHECK_INT(s3_i_form_decode("%zz", 3, &s), ERR_INVALID);
    CHECK_INT(s3_i_form_decode("%41", 3, &s), ERR_OK);
    CHECK_STR(s, "A");
    free(s);
}

TEST_MAIN()
