/*
 * credentials.h: where the S3 client's access key, secret and session token come from.
 *
 * Two sources, in this order (the AWS SDKs' order for these two):
 *   1. explicit values, normally the caller's AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
 *      AWS_SESSION_TOKEN;
 *   2. the shared credentials file (AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials), an
 *      INI file with one [profile] section per identity (AWS_PROFILE, else "default") holding
 *      aws_access_key_id, aws_secret_access_key and optionally aws_session_token.
 * The INI reader follows botocore's: '#' and ';' start comment lines, names are trimmed and
 * case-insensitive, the last value of a repeated key wins, indented lines continue a nested
 * block and are ignored here, "[profile x]" is accepted for "[x]".
 *
 * This module reads the environment only in s3_credentials_source_from_env. Secrets are wiped
 * before they are freed and never appear in error messages.
 */
#ifndef IMGSVC_S3_CREDENTIALS_H
#define IMGSVC_S3_CREDENTIALS_H

#include <stddef.h>

#include "common/err.h"

#define S3_CREDENTIALS_FILE_MAX (1024u * 1024u) /* a bigger credentials file is refused */

/* Resolved credentials. All strings owned (session_token NULL when none); free with
 * s3_credentials_free. */
struct s3_credentials {
    char *access_key;
    char *secret_key;
    char *session_token;
};

/* Where to look. All strings borrowed; NULL or "" means unset. */
struct s3_credentials_source {
    const char *access_key;    /* AWS_ACCESS_KEY_ID */
    const char *secret_key;    /* AWS_SECRET_ACCESS_KEY */
    const char *session_token; /* AWS_SESSION_TOKEN */
    const char *file;          /* AWS_SHARED_CREDENTIALS_FILE; default $home/.aws/credentials */
    const char *profile;       /* AWS_PROFILE; default "default" */
    const char *home;          /* HOME, for the default file */
};

/* Fills `src` from the process environment (the variables named above). The strings are
 * borrowed from the environment: do not change it while `src` is in use. */
void s3_credentials_source_from_env(struct s3_credentials_source *src);

/* Resolves credentials: explicit values when access_key is set (secret_key is then required:
 * ERR_INVALID without it), else the profile from the credentials file. ERR_NOT_FOUND when
 * neither source has credentials (no file, or no such profile), ERR_INVALID for a profile
 * without both keys, ERR_TOO_LARGE for a file over S3_CREDENTIALS_FILE_MAX. On success the
 * caller frees `out` with s3_credentials_free. */
enum err_code s3_credentials_resolve(const struct s3_credentials_source *src,
                                     struct s3_credentials *out, struct err *e);

/* Reads `profile` from credentials-file text[0..len). Errors as s3_credentials_resolve. */
enum err_code s3_credentials_parse(const char *text, size_t len, const char *profile,
                                   struct s3_credentials *out, struct err *e);

/* Copies explicit values into `out` (session_token may be NULL). */
enum err_code s3_credentials_set(struct s3_credentials *out, const char *access_key,
                                 const char *secret_key, const char *session_token, struct err *e);

/* Wipes and frees the strings of `c` (not the struct). NULL is a no-op. */
void s3_credentials_free(struct s3_credentials *c);

#endif
