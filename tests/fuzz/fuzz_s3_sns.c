/*
 * fuzz_s3_sns.c: SNS envelopes (s3/sns.h): detection, parsing, the string to sign, the
 * certificate / SubscribeURL rule and signature verification.
 *
 * Input: an SNS HTTP delivery body (JSON). Invariants: a parsed envelope has a string to sign;
 * a URL that passes s3_sns_url_check is https on port 443 with a host of the pattern and no
 * userinfo (a .pem path for certificates); a signature that verifies with the fixed test
 * certificate below (the seed corpus holds messages signed with its key) stops verifying when
 * the Message changes. The raw input is also checked as a URL on its own.
 */
#include "fuzz.h"

#include <stdbool.h>

#include "s3/sns.h"

#define FZ_HOSTS "sns.*.amazonaws.com,sns.example.test"

/* A self-signed RSA-1024 test certificate (CN=sns.us-east-1.amazonaws.com); its key signed the
 * seed messages and is not kept. */
static const char test_cert[] = "-----BEGIN CERTIFICATE-----\n"
                                "MIICKjCCAZOgAwIBAgIUa4bv3EkaCk4roNloy+Gvx5KEjfkwDQYJKoZIhvcNAQEL\n"
                                "BQAwJjEkMCIGA1UEAwwbc25zLnVzLWVhc3QtMS5hbWF6b25hd3MuY29tMCAXDTI2\n"
                                "MTEyNDIwMTYxMloYDzIxMjYxMDMxMjAxNjEyWjAmMSQwIgYDVQQDDBtzbnMudXMt\n"
                                "ZWFzdC0xLmFtYXpvbmF3cy5jb20wgZ8wDQYJKoZIhvcNAQEBBQADgY0AMIGJAoGB\n"
                                "ALhqxQraJbEDnp1xTKDvvG4CQyREhsYsuiFzVmQpR75fcNwbLtC3Yip7xPA7MWSc\n"
                                "OAX6WUingGyUEwyEtgYzVulqc71S7G8XGaBzgr7LdtbNgHFeDJRtu4RAdH6DigH+\n"
                                "3PPHzMNMAN5I2SXtEIVyF/qd1cY8Jtc58sFsvtFTdjPPAgMBAAGjUzBRMB0GA1Ud\n"
                                "DgQWBBRAahKZFozaKNlLvV7ZhdOHqUZqyjAfBgNVHSMEGDAWgBRAahKZFozaKNlL\n"
                                "vV7ZhdOHqUZqyjAPBgNVHRMBAf8EBTADAQH/MA0GCSqGSIb3DQEBCwUAA4GBAGu8\n"
                                "C+pB16V0QlyR14OKYFVv7CX23BTUny6fn/ptmPa5heF1YW1sHydiErzFd/AwhRI3\n"
                                "ib5VLnqimxTlc0krdi88afDbAHtgnyqqhSQet4rE1xOYFkSCk8+oWvHca1Q0Z7an\n"
                                "jNx0e/re3RSo8rzoIAJnQiPJBLTdODoOJynvobjf\n"
                                "-----END CERTIFICATE-----\n";

/* What an accepted URL must look like: "https://HOST[:443]/..." with no '@' before the path. */
static void check_accepted_url(const char *url, bool want_pem)
{
    FUZZ_CHECK(strncmp(url, "https://", 8) == 0);
    const char *auth = url + 8;
    size_t alen = strcspn(auth, "/?#");
    FUZZ_CHECK(memchr(auth, '@', alen) == NULL);
    const char *colon = memchr(auth, ':', alen);
    FUZZ_CHECK(colon == NULL || (size_t)(auth + alen - colon) == 4);
    FUZZ_CHECK(colon == NULL || strncmp(colon, ":443", 4) == 0);
    if (want_pem) {
        size_t plen = strcspn(auth + alen, "?#");
        FUZZ_CHECK(plen >= 4 && strncmp(auth + alen + plen - 4, ".pem", 4) == 0);
    }
}

static void check_url(const char *url, bool want_pem)
{
    struct err e = {0};
    if (url != NULL && s3_sns_url_check(url, FZ_HOSTS, want_pem, &e) == ERR_OK)
        check_accepted_url(url, want_pem);
}

/* A message that verifies must not verify once its Message changes. */
static void check_signature(struct s3_sns_msg *m)
{
    struct err e = {0};
    if (s3_sns_verify(m, test_cert, sizeof(test_cert) - 1, &e) != ERR_OK)
        return;
    char *orig = m->message;
    size_t n = strlen(orig);
    char *changed = malloc(n + 2);
    FUZZ_CHECK(changed != NULL);
    memcpy(changed, orig, n);
    memcpy(changed + n, "x", 2);
    m->message = changed;
    FUZZ_CHECK(s3_sns_verify(m, test_cert, sizeof(test_cert) - 1, &e) == ERR_AUTH);
    m->message = orig;
    free(changed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 256 * 1024)
        return 0;
    struct s3_sns_msg m;
    struct err e = {0};
    memset(&m, 0, sizeof(m));
    (void)s3_sns_detect((const char *)data, size);
    if (s3_sns_parse((const char *)data, size, &m, &e) == ERR_OK) {
        char *sts = s3_sns_string_to_sign(&m);
        FUZZ_CHECK(sts != NULL);
        free(sts);
        check_url(m.signing_cert_url, true);
        check_url(m.subscribe_url, false);
        check_signature(&m);
        s3_sns_msg_free(&m);
    }
    char *url = fuzz_strdup(data, size);
    check_url(url, true);
    check_url(url, false);
    free(url);
    return 0;
}
