/*
 * sns.c: SNS envelopes, URL checks and signatures. See sns.h.
 */
#include "s3/sns.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/buf.h"
#include "common/json.h"

#define STS_MAX (512u * 1024u)
#define SIG_MAX 1024

bool s3_sns_detect(const char *json, size_t len)
{
    struct err e = {0};
    cJSON *v = json_parse(json, len, &e);
    bool yes = v != NULL && json_get_str(v, "Type") != NULL && json_get_str(v, "TopicArn") != NULL;
    cJSON_Delete(v);
    return yes;
}

void s3_sns_msg_free(struct s3_sns_msg *m)
{
    char **f[] = {&m->type_name,         &m->message_id, &m->topic_arn,
                  &m->subject,           &m->message,    &m->timestamp,
                  &m->signature_version, &m->signature,  &m->signing_cert_url,
                  &m->subscribe_url,     &m->token};
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        free(*f[i]);
        *f[i] = NULL;
    }
}

/* Duplicates member `name`; `required` members must be present strings. */
static bool take(const cJSON *o, const char *name, bool required, char **out, struct err *e)
{
    const char *v = json_get_str(o, name);
    *out = NULL;
    if (v == NULL) {
        if (required)
            err_set(e, ERR_INVALID, "SNS message lacks %s", name);
        return !required;
    }
    *out = strdup(v);
    if (*out == NULL)
        err_set(e, ERR_NOMEM, "out of memory");
    return *out != NULL;
}

enum err_code s3_sns_parse(const char *json, size_t len, struct s3_sns_msg *m, struct err *e)
{
    memset(m, 0, sizeof(*m));
    cJSON *o = json_parse(json, len, e);
    if (o == NULL)
        return ERR_INVALID;
    bool ok =
        take(o, "Type", true, &m->type_name, e) && take(o, "MessageId", true, &m->message_id, e) &&
        take(o, "TopicArn", true, &m->topic_arn, e) && take(o, "Subject", false, &m->subject, e) &&
        take(o, "Message", true, &m->message, e) && take(o, "Timestamp", true, &m->timestamp, e) &&
        take(o, "SignatureVersion", true, &m->signature_version, e) &&
        take(o, "Signature", true, &m->signature, e) &&
        take(o, "SigningCertURL", true, &m->signing_cert_url, e);
    if (ok) {
        if (strcmp(m->type_name, "Notification") == 0) {
            m->type = S3_SNS_NOTIFICATION;
        } else if (strcmp(m->type_name, "SubscriptionConfirmation") == 0 ||
                   strcmp(m->type_name, "UnsubscribeConfirmation") == 0) {
            m->type = m->type_name[0] == 'S' ? S3_SNS_SUBSCRIPTION_CONFIRMATION
                                             : S3_SNS_UNSUBSCRIBE_CONFIRMATION;
            ok = take(o, "SubscribeURL", true, &m->subscribe_url, e) &&
                 take(o, "Token", true, &m->token, e);
        } else {
            err_set(e, ERR_INVALID, "unknown SNS message type");
            ok = false;
        }
    }
    cJSON_Delete(o);
    if (!ok) {
        s3_sns_msg_free(m);
        return e != NULL && e->code != ERR_OK ? e->code : ERR_INVALID;
    }
    return ERR_OK;
}

static enum err_code field(struct buf *b, const char *name, const char *value)
{
    enum err_code rc = buf_append_str(b, name);
    if (rc == ERR_OK)
        rc = buf_append_str(b, "\n");
    if (rc == ERR_OK)
        rc = buf_append_str(b, value);
    if (rc == ERR_OK)
        rc = buf_append_str(b, "\n");
    return rc;
}

char *s3_sns_string_to_sign(const struct s3_sns_msg *m)
{
    struct buf b;
    buf_init(&b, STS_MAX);
    enum err_code rc = field(&b, "Message", m->message);
    if (rc == ERR_OK)
        rc = field(&b, "MessageId", m->message_id);
    if (m->type == S3_SNS_NOTIFICATION) {
        if (rc == ERR_OK && m->subject != NULL)
            rc = field(&b, "Subject", m->subject);
    } else if (rc == ERR_OK) {
        rc = field(&b, "SubscribeURL", m->subscribe_url);
    }
    if (rc == ERR_OK)
        rc = field(&b, "Timestamp", m->timestamp);
    if (rc == ERR_OK && m->type != S3_SNS_NOTIFICATION)
        rc = field(&b, "Token", m->token);
    if (rc == ERR_OK)
        rc = field(&b, "TopicArn", m->topic_arn);
    if (rc == ERR_OK)
        rc = field(&b, "Type", m->type_name);
    if (rc != ERR_OK) {
        buf_free(&b);
        return NULL;
    }
    return buf_take(&b, NULL);
}

/* True when `host` (len n) matches one glob pattern where '*' is one DNS label. */
static bool glob_host(const char *pat, size_t pn, const char *host, size_t hn)
{
    size_t p = 0, h = 0;
    while (p < pn) {
        if (pat[p] == '*') {
            size_t start = h;
            while (h < hn && (isalnum((unsigned char)host[h]) || host[h] == '-'))
                h++;
            if (h == start)
                return false;
            p++;
        } else {
            if (h >= hn || tolower((unsigned char)pat[p]) != tolower((unsigned char)host[h]))
                return false;
            p++;
            h++;
        }
    }
    return h == hn;
}

static bool host_allowed(const char *patterns, const char *host, size_t hn)
{
    const char *p = patterns;
    while (p != NULL && *p != '\0') {
        const char *comma = strchr(p, ',');
        size_t pn = comma ? (size_t)(comma - p) : strlen(p);
        while (pn > 0 && p[0] == ' ')
            p++, pn--;
        if (pn > 0 && glob_host(p, pn, host, hn))
            return true;
        p = comma ? comma + 1 : NULL;
    }
    return false;
}

enum err_code s3_sns_url_check(const char *url, const char *host_pattern, bool want_pem,
                               struct err *e)
{
    if (url == NULL || strncmp(url, "https://", 8) != 0)
        return err_set(e, ERR_FORBIDDEN, "SNS URL must use https");
    const char *host = url + 8;
    size_t hn = strcspn(host, "/:?#@");
    const char *after = host + hn;
    if (*after == '@' || memchr(host, '@', strcspn(host, "/?#")) != NULL)
        return err_set(e, ERR_FORBIDDEN, "SNS URL must not carry user information");
    if (hn == 0 || !host_allowed(host_pattern, host, hn))
        return err_set(e, ERR_FORBIDDEN, "SNS URL host is not on the allowed list");
    if (*after == ':') {
        if (strncmp(after, ":443", 4) != 0 || (after[4] != '/' && after[4] != '\0'))
            return err_set(e, ERR_FORBIDDEN, "SNS URL must use port 443");
        after += 4;
    }
    if (!want_pem)
        return ERR_OK;
    size_t pl = strcspn(after, "?#");
    if (*after != '/' || pl < 5 || strncmp(after + pl - 4, ".pem", 4) != 0 || after[pl] != '\0')
        return err_set(e, ERR_FORBIDDEN, "SNS certificate URL must end in .pem");
    return ERR_OK;
}

enum err_code s3_sns_verify(const struct s3_sns_msg *m, const char *cert_pem, size_t cert_len,
                            struct err *e)
{
    enum err_code rc = ERR_INVALID;
    BIO *bio = NULL;
    X509 *cert = NULL;
    EVP_PKEY *key = NULL;
    EVP_MD_CTX *ctx = NULL;
    char *sts = NULL;
    unsigned char sig[SIG_MAX];
    const EVP_MD *md = strcmp(m->signature_version, "1") == 0   ? EVP_sha1()
                       : strcmp(m->signature_version, "2") == 0 ? EVP_sha256()
                                                                : NULL;
    if (md == NULL) {
        rc = err_set(e, ERR_AUTH, "unsupported SNS SignatureVersion");
        goto cleanup;
    }
    size_t sl = strlen(m->signature);
    if (sl == 0 || sl % 4 != 0 || sl / 4 * 3 > sizeof(sig)) {
        err_set(e, ERR_INVALID, "SNS signature is not valid base64");
        goto cleanup;
    }
    int n = EVP_DecodeBlock(sig, (const unsigned char *)m->signature, (int)sl);
    if (n < 0) {
        err_set(e, ERR_INVALID, "SNS signature is not valid base64");
        goto cleanup;
    }
    n -= (m->signature[sl - 1] == '=') + (m->signature[sl - 2] == '=');
    bio = BIO_new_mem_buf(cert_pem, (int)cert_len);
    cert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    key = cert ? X509_get_pubkey(cert) : NULL;
    if (key == NULL) {
        err_set(e, ERR_INVALID, "SNS signing certificate is unreadable");
        goto cleanup;
    }
    sts = s3_sns_string_to_sign(m);
    ctx = EVP_MD_CTX_new();
    if (sts == NULL || ctx == NULL) {
        rc = err_set(e, ERR_NOMEM, "out of memory");
        goto cleanup;
    }
    if (EVP_DigestVerifyInit(ctx, NULL, md, NULL, key) != 1 ||
        EVP_DigestVerify(ctx, sig, (size_t)n, (const unsigned char *)sts, strlen(sts)) != 1) {
        rc = err_set(e, ERR_AUTH, "SNS signature does not verify");
        goto cleanup;
    }
    rc = ERR_OK;
cleanup:
    EVP_MD_CTX_free(ctx);
    free(sts);
    EVP_PKEY_free(key);
    X509_free(cert);
    BIO_free(bio);
    return rc;
}
