/*
 * Unit tests for s3/sns: envelopes, strings to sign, SignatureVersion 1 and 2 with a
 * certificate made here, tampering, and the certificate URL rule.
 */
#include "t.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "s3/sns.h"

static EVP_PKEY *key;
static char cert_pem[4096];
static size_t cert_len;

/* A throwaway RSA key and self-signed certificate, made once. */
static void make_cert(void)
{
    if (key != NULL)
        return;
    EVP_PKEY_CTX *kc = EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, NULL);
    EVP_PKEY_keygen_init(kc);
    EVP_PKEY_CTX_set_rsa_keygen_bits(kc, 2048);
    EVP_PKEY_keygen(kc, &key);
    EVP_PKEY_CTX_free(kc);
    X509 *x = X509_new();
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"sns.test", -1, -1,
                               0);
    X509_set_issuer_name(x, name);
    X509_sign(x, key, EVP_sha256());
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(b, x);
    cert_len = (size_t)BIO_read(b, cert_pem, sizeof(cert_pem) - 1);
    cert_pem[cert_len] = '\0';
    BIO_free(b);
    X509_free(x);
}

/* Signs the string to sign of `m` and stores the base64 signature in m->signature. */
static void sign(struct s3_sns_msg *m, const EVP_MD *md)
{
    char *sts = s3_sns_string_to_sign(m);
    unsigned char sig[512];
    size_t n = sizeof(sig);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestSignInit(ctx, NULL, md, NULL, key);
    EVP_DigestSign(ctx, sig, &n, (const unsigned char *)sts, strlen(sts));
    EVP_MD_CTX_free(ctx);
    free(sts);
    free(m->signature);
    m->signature = malloc(4 * ((n + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)m->signature, sig, (int)n);
}

static const char notification[] =
    "{\"Type\":\"Notification\",\"MessageId\":\"22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324\","
    "\"TopicArn\":\"arn:aws:sns:us-west-2:123456789012:MyTopic\",\"Subject\":\"Amazon S3 "
    "Notification\",\"Message\":\"{\\\"Records\\\":[]}\",\"Timestamp\":\"2012-05-02T00:54:06."
    "655Z\",\"SignatureVersion\":\"1\",\"Signature\":\"AAAA\",\"SigningCertURL\":\"https://sns."
    "us-west-2.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem\","
    "\"UnsubscribeURL\":\"https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe\"}";

static const char confirmation[] =
    "{\"Type\":\"SubscriptionConfirmation\",\"MessageId\":\"165545c9\",\"Token\":\"2336412f37\","
    "\"TopicArn\":\"arn:aws:sns:us-west-2:123456789012:MyTopic\",\"Message\":\"You have chosen to "
    "subscribe\",\"SubscribeURL\":\"https://sns.us-west-2.amazonaws.com/?Action="
    "ConfirmSubscription&Token=2336412f37\",\"Timestamp\":\"2012-04-26T20:45:04.751Z\","
    "\"SignatureVersion\":\"2\",\"Signature\":\"AAAA\",\"SigningCertURL\":\"https://sns.us-west-2."
    "amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem\"}";

TEST(parse_and_string_to_sign_of_a_notification)
{
    struct s3_sns_msg m;
    struct err e = {0};
    REQUIRE(s3_sns_detect(notification, sizeof(notification) - 1));
    REQUIRE(s3_sns_parse(notification, sizeof(notification) - 1, &m, &e) == ERR_OK);
    CHECK_INT(m.type, S3_SNS_NOTIFICATION);
    CHECK_STR(m.message, "{\"Records\":[]}");
    char *sts = s3_sns_string_to_sign(&m);
    CHECK_STR(sts, "Message\n{\"Records\":[]}\nMessageId\n22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324\n"
                   "Subject\nAmazon S3 Notification\nTimestamp\n2012-05-02T00:54:06.655Z\n"
                   "TopicArn\narn:aws:sns:us-west-2:123456789012:MyTopic\nType\nNotification\n");
    free(sts);
    s3_sns_msg_free(&m);
}

TEST(string_to_sign_of_a_confirmation)
{
    struct s3_sns_msg m;
    struct err e = {0};
    REQUIRE(s3_sns_parse(confirmation, sizeof(confirmation) - 1, &m, &e) == ERR_OK);
    CHECK_INT(m.type, S3_SNS_SUBSCRIPTION_CONFIRMATION);
    char *sts = s3_sns_string_to_sign(&m);
    CHECK_STR(sts, "Message\nYou have chosen to subscribe\nMessageId\n165545c9\nSubscribeURL\n"
                   "https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&Token="
                   "2336412f37\nTimestamp\n2012-04-26T20:45:04.751Z\nToken\n2336412f37\n"
                   "TopicArn\narn:aws:sns:us-west-2:123456789012:MyTopic\nType\n"
                   "SubscriptionConfirmation\n");
    free(sts);
    s3_sns_msg_free(&m);
}

TEST(signature_versions_1_and_2_verify_and_tampering_fails)
{
    make_cert();
    struct s3_sns_msg m;
    struct err e = {0};
    REQUIRE(s3_sns_parse(notification, sizeof(notification) - 1, &m, &e) == ERR_OK);
    sign(&m, EVP_sha1());
    CHECK_INT(s3_sns_verify(&m, cert_pem, cert_len, &e), ERR_OK);
    free(m.signature_version);
    m.signature_version = strdup("2");
    CHECK_INT(s3_sns_verify(&m, cert_pem, cert_len, &e), ERR_AUTH); /* signed with SHA-1 */
    sign(&m, EVP_sha256());
    CHECK_INT(s3_sns_verify(&m, cert_pem, cert_len, &e), ERR_OK);
    m.message[2] = 'X'; /* tamper with the S3 event */
    CHECK_INT(s3_sns_verify(&m, cert_pem, cert_len, &e), ERR_AUTH);
    CHECK(strstr(e.msg, "does not verify") != NULL);
    m.message[2] = 'R';
    CHECK_INT(s3_sns_verify(&m, cert_pem, cert_len, &e), ERR_OK);
    free(m.signature_version);
    m.signature_version = strdup("3");
    CHECK_INT(s3_sns_verify(&m, cert_pem, cert_len, &e), ERR_AUTH);
    free(m.signature_version);
    m.signature_version = strdup("2");
    CHECK_INT(s3_sns_verify(&m, "not a pem", 9, &e), ERR_INVALID);
    free(m.signature);
    m.signature = strdup("***");
    CHECK_INT(s3_sns_verify(&m, cert_pem, cert_len, &e), ERR_INVALID);
    s3_sns_msg_free(&m);
}

TEST(missing_fields_are_refused)
{
    struct s3_sns_msg m;
    struct err e = {0};
    const char *bad[] = {
        "{\"Type\":\"Notification\"}",
        "{\"Type\":\"Other\",\"MessageId\":\"1\",\"TopicArn\":\"a\",\"Message\":\"m\","
        "\"Timestamp\":\"t\",\"SignatureVersion\":\"1\",\"Signature\":\"s\","
        "\"SigningCertURL\":\"u\"}",
        "{\"Type\":\"SubscriptionConfirmation\",\"MessageId\":\"1\",\"TopicArn\":\"a\","
        "\"Message\":\"m\",\"Timestamp\":\"t\",\"SignatureVersion\":\"1\",\"Signature\":\"s\","
        "\"SigningCertURL\":\"u\"}",
        "[]",
        "nope",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK(s3_sns_parse(bad[i], strlen(bad[i]), &m, &e) != ERR_OK);
        CHECK(m.type_name == NULL);
    }
    CHECK(!s3_sns_detect("{\"Records\":[]}", 14));
}

TEST(certificate_url_rule)
{
    struct err e = {0};
    const char *pat = "sns.*.amazonaws.com,sns.*.amazonaws.com.cn";
    CHECK_INT(s3_sns_url_check("https://sns.us-west-2.amazonaws.com/SimpleNotificationService-"
                               "abc.pem",
                               pat, true, &e),
              ERR_OK);
    CHECK_INT(s3_sns_url_check("https://sns.cn-north-1.amazonaws.com.cn/x.pem", pat, true, &e),
              ERR_OK);
    CHECK_INT(s3_sns_url_check("https://sns.us-west-2.amazonaws.com:443/x.pem", pat, true, &e),
              ERR_OK);
    const char *refused[] = {
        "http://sns.us-west-2.amazonaws.com/x.pem",
        "https://evil.example/x.pem",
        "https://sns.us-west-2.amazonaws.com.evil.example/x.pem",
        "https://sns.a.b.amazonaws.com/x.pem",
        "https://user@sns.us-west-2.amazonaws.com/x.pem",
        "https://sns.us-west-2.amazonaws.com@evil.example/x.pem",
        "https://sns.us-west-2.amazonaws.com:8443/x.pem",
        "https://sns.us-west-2.amazonaws.com/x.txt",
        "https://sns.us-west-2.amazonaws.com/x.pem?y",
        "https://sns.us-west-2.amazonaws.com",
        "https://sns..amazonaws.com/x.pem",
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        if (s3_sns_url_check(refused[i], pat, true, &e) != ERR_FORBIDDEN)
            T_FAIL("accepted %s", refused[i]);
    }
    CHECK_INT(s3_sns_url_check("https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription",
                               pat, false, &e),
              ERR_OK);
}

TEST_MAIN()
