/*
 * sns.h: Amazon SNS HTTP(S) deliveries: parsing, the certificate URL rule and signatures.
 *
 * An SNS subscription POSTs a JSON envelope: a Notification (whose Message is the S3 event), a
 * SubscriptionConfirmation (SubscribeURL to visit) or an UnsubscribeConfirmation. Each is
 * signed: SignatureVersion 1 is RSA with SHA-1, 2 is RSA with SHA-256, over the "string to
 * sign" built from named fields. The signing certificate is fetched from SigningCertURL, which
 * must be checked BEFORE any fetch (https, a host on an allowed pattern, a path ending in .pem)
 * so a forged message cannot make us fetch from anywhere. Fetching is the caller's business;
 * this module only parses, checks and verifies.
 */
#ifndef IMGSVC_S3_SNS_H
#define IMGSVC_S3_SNS_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

enum s3_sns_type {
    S3_SNS_UNKNOWN = 0,
    S3_SNS_NOTIFICATION,
    S3_SNS_SUBSCRIPTION_CONFIRMATION,
    S3_SNS_UNSUBSCRIBE_CONFIRMATION
};

/* A parsed envelope; every string is owned (free with s3_sns_msg_free). */
struct s3_sns_msg {
    enum s3_sns_type type;
    char *type_name; /* "Notification", ... */
    char *message_id;
    char *topic_arn;
    char *subject; /* NULL when absent */
    char *message;
    char *timestamp;
    char *signature_version; /* "1" or "2" */
    char *signature;         /* base64 */
    char *signing_cert_url;
    char *subscribe_url; /* confirmations only */
    char *token;         /* confirmations only */
};

/* True when the body looks like an SNS envelope (has "Type" and "TopicArn"). */
bool s3_sns_detect(const char *json, size_t len);

/* Parses an envelope; ERR_INVALID when a required field is missing or not a string. */
enum err_code s3_sns_parse(const char *json, size_t len, struct s3_sns_msg *out, struct err *e);
void s3_sns_msg_free(struct s3_sns_msg *m);

/* The canonical string to sign of `m` (caller frees with free()); NULL on ERR_NOMEM. */
char *s3_sns_string_to_sign(const struct s3_sns_msg *m);

/*
 * Checks a certificate (or SubscribeURL) URL before fetching it: scheme https, host matching
 * `host_pattern` (a glob where '*' matches one DNS label, e.g. "sns.*.amazonaws.com"; several
 * patterns separated by commas), no userinfo, no port other than 443, and (certificates) a path
 * ending in ".pem". ERR_FORBIDDEN with the reason when refused.
 */
enum err_code s3_sns_url_check(const char *url, const char *host_pattern, bool want_pem,
                               struct err *e);

/*
 * Verifies `m`'s signature with the PEM certificate `cert_pem` (the bytes fetched from
 * SigningCertURL). ERR_AUTH when the signature is wrong or the version is not 1 or 2,
 * ERR_INVALID for an unreadable certificate or signature.
 */
enum err_code s3_sns_verify(const struct s3_sns_msg *m, const char *cert_pem, size_t cert_len,
                            struct err *e);

#endif
