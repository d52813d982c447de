/*
 * credentials.c: explicit credentials and the shared credentials file (see credentials.h).
 *
 * The file is read whole (it is small and capped) and scanned line by line; only the wanted
 * profile's three keys are kept. Copies of secrets are wiped with OPENSSL_cleanse.
 */
#include "s3/credentials.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "common/buf.h"

static void free_secret(char *s)
{
    if (s != NULL) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

void s3_credentials_free(struct s3_credentials *c)
{
    if (c == NULL)
        return;
    free(c->access_key);
    free_secret(c->secret_key);
    free_secret(c->session_token);
    memset(c, 0, sizeof(*c));
}

static bool set(const char *s)
{
    return s != NULL && s[0] != '\0';
}

enum err_code s3_credentials_set(struct s3_credentials *out, const char *access_key,
                                 const char *secret_key, const char *session_token, struct err *e)
{
    memset(out, 0, sizeof(*out));
    if (!set(access_key) || !set(secret_key))
        return err_set(e, ERR_INVALID,
                       "credentials: both an access key id and a secret key "
                       "are needed");
    out->access_key = strdup(access_key);
    out->secret_key = strdup(secret_key);
    out->session_token = set(session_token) ? strdup(session_token) : NULL;
    if (out->access_key == NULL || out->secret_key == NULL ||
        (set(session_token) && out->session_token == NULL)) {
        s3_credentials_free(out);
        return err_set(e, ERR_NOMEM, "credentials: out of memory");
    }
    return ERR_OK;
}

void s3_credentials_source_from_env(struct s3_credentials_source *src)
{
    memset(src, 0, sizeof(*src));
    src->access_key = getenv("AWS_ACCESS_KEY_ID");
    src->secret_key = getenv("AWS_SECRET_ACCESS_KEY");
    src->session_token = getenv("AWS_SESSION_TOKEN");
    src->file = getenv("AWS_SHARED_CREDENTIALS_FILE");
    src->profile = getenv("AWS_PROFILE");
    src->home = getenv("HOME");
}

/* s[0..*n) without leading and trailing blanks. */
static const char *trim(const char *s, size_t *n)
{
    while (*n > 0 && (s[0] == ' ' || s[0] == '\t')) {
        s++;
        (*n)--;
    }
    while (*n > 0 && (s[*n - 1] == ' ' || s[*n - 1] == '\t' || s[*n - 1] == '\r'))
        (*n)--;
    return s;
}

/* True when the section header line [..] names `profile` ("x" or "profile x"). */
static bool section_is(const char *s, size_t n, const char *profile)
{
    s = trim(s, &n);
    if (n > 8 && strncmp(s, "profile", 7) == 0 && (s[7] == ' ' || s[7] == '\t')) {
        s += 8;
        n -= 8;
        s = trim(s, &n);
    }
    return n == strlen(profile) && memcmp(s, profile, n) == 0;
}

/* Stores a copy of v[0..n) in *slot (replacing, and wiping, an earlier value). */
static enum err_code keep(char **slot, const char *v, size_t n)
{
    char *c = strndup(v, n);
    if (c == NULL)
        return ERR_NOMEM;
    free_secret(*slot);
    *slot = c;
    return ERR_OK;
}

/* Handles one "key = value" line of the wanted profile. */
static enum err_code kv_line(const char *s, size_t n, struct s3_credentials *out)
{
    const char *eq = memchr(s, '=', n);
    if (eq == NULL)
        return ERR_OK; /* botocore would refuse; a line we do not need is not our business */
    size_t kn = (size_t)(eq - s), vn = n - kn - 1;
    const char *k = trim(s, &kn), *v = trim(eq + 1, &vn);
    static const char *const names[] = {"aws_access_key_id", "aws_secret_access_key",
                                        "aws_session_token", "aws_security_token"};
    char **slots[] = {&out->access_key, &out->secret_key, &out->session_token, &out->session_token};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (kn == strlen(names[i]) && strncasecmp(k, names[i], kn) == 0)
            return keep(slots[i], v, vn);
    return ERR_OK;
}

enum err_code s3_credentials_parse(const char *text, size_t len, const char *profile,
                                   struct s3_credentials *out, struct err *e)
{
    enum err_code rc = ERR_OK;
    bool in = false, found = false;
    memset(out, 0, sizeof(*out));
    if (!set(profile))
        profile = "default";
    for (size_t i = 0; i < len && rc == ERR_OK;) {
        const char *line = text + i, *nl = memchr(line, '\n', len - i);
        size_t n = nl ? (size_t)(nl - line) : len - i;
        i += n + 1;
        size_t tn = n;
        const char *t = trim(line, &tn);
        if (tn == 0 || t[0] == '#' || t[0] == ';')
            continue;
        if (line[0] == ' ' || line[0] == '\t')
            continue; /* a nested block's line (e.g. "s3 =\n  addressing_style = path") */
        if (t[0] == '[') {
            const char *close = memchr(t, ']', tn);
            in = close != NULL && section_is(t + 1, (size_t)(close - t - 1), profile);
            found = found || in;
            continue;
        }
        if (in)
            rc = kv_line(t, tn, out);
    }
    if (rc != ERR_OK) {
        rc = err_set(e, rc, "credentials: out of memory");
    } else if (!found) {
        rc = err_set(e, ERR_NOT_FOUND, "credentials: no profile [%s] in the credentials file",
                     profile);
    } else if (!set(out->access_key) || !set(out->secret_key)) {
        rc = err_set(e, ERR_INVALID,
                     "credentials: profile [%s] lacks aws_access_key_id or "
                     "aws_secret_access_key",
                     profile);
    } else if (out->session_token != NULL && out->session_token[0] == '\0') {
        free_secret(out->session_token);
        out->session_token = NULL;
    }
    if (rc != ERR_OK)
        s3_credentials_free(out);
    return rc;
}

/* Reads the whole file at `path` into `b` (capped). */
static enum err_code read_file(const char *path, struct buf *b, struct err *e)
{
    enum err_code rc = ERR_OK;
    char chunk[4096];
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return err_set(e, errno == ENOENT ? ERR_NOT_FOUND : ERR_IO,
                       "credentials: cannot open %s: %s", path, strerror(errno));
    size_t n;
    while (rc == ERR_OK && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        rc = buf_append(b, chunk, n);
    if (rc == ERR_OK && ferror(f))
        rc = err_set(e, ERR_IO, "credentials: reading %s failed", path);
    else if (rc != ERR_OK)
        rc = err_set(e, rc, "credentials: %s: %s", path,
                     rc == ERR_TOO_LARGE ? "file too large" : "out of memory");
    OPENSSL_cleanse(chunk, sizeof(chunk));
    fclose(f);
    return rc;
}

enum err_code s3_credentials_resolve(const struct s3_credentials_source *src,
                                     struct s3_credentials *out, struct err *e)
{
    enum err_code rc;
    struct buf text, path;
    memset(out, 0, sizeof(*out));
    buf_init(&text, S3_CREDENTIALS_FILE_MAX);
    buf_init(&path, 4096);
    if (set(src->access_key)) {
        rc = s3_credentials_set(out, src->access_key, src->secret_key, src->session_token, e);
        goto cleanup;
    }
    if (set(src->file))
        rc = buf_append_str(&path, src->file);
    else if (set(src->home))
        rc = buf_printf(&path, "%s/.aws/credentials", src->home);
    else
        rc = err_set(e, ERR_NOT_FOUND, "credentials: none given and no HOME for the file");
    if (rc != ERR_OK)
        goto cleanup;
    rc = read_file(path.data, &text, e);
    if (rc == ERR_NOT_FOUND)
        rc = err_set(e, ERR_NOT_FOUND,
                     "credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or create "
                     "%s",
                     path.data);
    if (rc != ERR_OK)
        goto cleanup;
    rc = s3_credentials_parse(text.data ? text.data : "", text.len, src->profile, out, e);
cleanup:
    if (text.data != NULL)
        OPENSSL_cleanse(text.data, text.len);
    buf_free(&text);
    buf_free(&path);
    return rc;
}
