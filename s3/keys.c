/*
 * keys.c: the key schema (see keys.h for the layout and the rules).
 *
 * The domain table below is the single source of truth: building substitutes ids into a
 * row's path template and parsing matches a key's segments against every row's template.
 * Keys are parsed from the end (file name, then the kind segment, then the domain path), so
 * the five layouts can never be mistaken for one another.
 */
#include "s3/keys.h"

#include <stdio.h>
#include <string.h>

#define TEMP_PREFIX   "delete/"
#define FAILED_PREFIX "failed/"
#define MAX_SEGMENTS  12

static const struct s3_key_domain_desc domains[S3_DOMAIN_COUNT] = {
    {S3_DOMAIN_PROFILE, "profile", 1, {"userId", NULL}, "profile/{userId}"},
    {S3_DOMAIN_FEED, "feed", 1, {"feedId", NULL}, "feed/{feedId}"},
    {S3_DOMAIN_CHATROOM, "chatroom", 1, {"chatroomId", NULL}, "chatroom/{chatroomId}"},
    {S3_DOMAIN_CHAT, "chat", 2, {"chatroomId", "chatId"}, "chatroom/{chatroomId}/chat/{chatId}"},
    {S3_DOMAIN_CHAT_PROFILE,
     "chat_profile",
     2,
     {"chatroomId", "userId"},
     "chatroom/{chatroomId}/chat_profile/{userId}"},
};

static const struct {
    const char *ext;
    const char *content_type;
} image_types[] = {
    {"jpeg", "image/jpeg"}, {"png", "image/png"},   {"webp", "image/webp"}, {"heic", "image/heic"},
    {"heif", "image/heif"}, {"avif", "image/avif"}, {"gif", "image/gif"},
};

#define N_IMAGE_TYPES (sizeof(image_types) / sizeof(image_types[0]))

const struct s3_key_domain_desc *s3_key_domain_get(enum s3_key_domain d)
{
    if ((int)d < 0 || d >= S3_DOMAIN_COUNT)
        return NULL;
    return &domains[d];
}

const struct s3_key_domain_desc *s3_key_domain_find(const char *name)
{
    if (name == NULL)
        return NULL;
    for (size_t i = 0; i < S3_DOMAIN_COUNT; i++) {
        if (strcmp(domains[i].name, name) == 0)
            return &domains[i];
    }
    return NULL;
}

int s3_key_id_index(const struct s3_key_domain_desc *desc, const char *id_name)
{
    if (desc == NULL || id_name == NULL)
        return -1;
    for (size_t i = 0; i < desc->nids; i++) {
        if (strcmp(desc->id_names[i], id_name) == 0)
            return (int)i;
    }
    return -1;
}

const char *s3_key_kind_name(enum s3_key_kind kind)
{
    switch (kind) {
    case S3_KEY_TEMP:
        return "temp";
    case S3_KEY_ORIGIN:
        return "origin";
    case S3_KEY_VARIANT:
        return "variant";
    case S3_KEY_MANIFEST:
        return "manifest";
    case S3_KEY_FAILED:
        return "failed";
    }
    return "unknown";
}

/* True when s[0..n) is 1..max characters, each a lowercase letter, digit, '_' or '-' (and an
 * uppercase letter too when `upper`). */
static bool charset_ok(const char *s, size_t n, size_t max, bool upper)
{
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
                  (upper && c >= 'A' && c <= 'Z');
        if (!ok)
            return false;
    }
    return true;
}

bool s3_key_id_valid(const char *id)
{
    return id != NULL && charset_ok(id, strnlen(id, S3_KEY_ID_MAX + 1), S3_KEY_ID_MAX, true);
}

bool s3_key_size_valid(const char *size)
{
    if (size == NULL ||
        !charset_ok(size, strnlen(size, S3_KEY_SIZE_NAME_MAX + 1), S3_KEY_SIZE_NAME_MAX, false))
        return false;
    return strcmp(size, "origin") != 0 && strcmp(size, "manifest") != 0;
}

const char *s3_key_ext_from_content_type(const char *content_type)
{
    if (content_type == NULL)
        return NULL;
    const char *s = content_type;
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strcspn(s, ";");
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    for (size_t i = 0; i < N_IMAGE_TYPES; i++) {
        const char *ct = image_types[i].content_type;
        if (strlen(ct) == n && strncasecmp(ct, s, n) == 0)
            return image_types[i].ext;
    }
    return NULL;
}

const char *s3_key_content_type_from_ext(const char *ext)
{
    if (ext == NULL)
        return NULL;
    for (size_t i = 0; i < N_IMAGE_TYPES; i++) {
        if (strcmp(image_types[i].ext, ext) == 0)
            return image_types[i].content_type;
    }
    return NULL;
}

/* Parses s[0..n) as a canonical Unix-seconds value. */
static bool parse_ts(const char *s, size_t n, int64_t *out)
{
    if (n == 0 || n > 12 || s[0] == '0')
        return false;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    if (v > S3_KEY_TS_MAX)
        return false;
    *out = v;
    return true;
}

enum err_code s3_key_upload_id_parse(const char *upload_id, char uuid[UUID_STR_LEN], int64_t *ts,
                                     struct err *e)
{
    char u[UUID_STR_LEN] = {0};
    int64_t t = 0;
    if (upload_id == NULL)
        return err_set(e, ERR_INVALID, "bad_upload_id: missing");
    size_t n = strnlen(upload_id, S3_KEY_UPLOAD_ID_MAX);
    if (n >= S3_KEY_UPLOAD_ID_MAX || n < UUID_STR_LEN || upload_id[UUID_STR_LEN - 1] != '_')
        return err_set(e, ERR_INVALID, "bad_upload_id: expected <uuid>_<unix seconds>");
    memcpy(u, upload_id, UUID_STR_LEN - 1);
    if (!uuid_v4_valid(u))
        return err_set(e, ERR_INVALID, "bad_uuid: not a lowercase version 4 UUID");
    if (!parse_ts(upload_id + UUID_STR_LEN, n - UUID_STR_LEN, &t))
        return err_set(e, ERR_INVALID,
                       "bad_ts: expected Unix seconds 1..%lld without leading zeros",
                       (long long)S3_KEY_TS_MAX);
    if (uuid != NULL)
        memcpy(uuid, u, UUID_STR_LEN);
    if (ts != NULL)
        *ts = t;
    return ERR_OK;
}

enum err_code s3_key_upload_id_new(int64_t now, char out[S3_KEY_UPLOAD_ID_MAX], struct err *e)
{
    char u[UUID_STR_LEN];
    out[0] = '\0';
    if (now < 1 || now > S3_KEY_TS_MAX)
        return err_set(e, ERR_INVALID, "bad_ts: %lld is out of range", (long long)now);
    if (uuid_v4(u) != ERR_OK)
        return err_set(e, ERR_INTERNAL, "the random number generator failed");
    snprintf(out, S3_KEY_UPLOAD_ID_MAX, "%s_%lld", u, (long long)now);
    return ERR_OK;
}

/* Checks the extension for a key of `kind`. */
static enum err_code check_ext(enum s3_key_kind kind, const char *ext, struct err *e)
{
    if (kind == S3_KEY_MANIFEST || kind == S3_KEY_FAILED) {
        if (strcmp(ext, "json") != 0)
            return err_set(e, ERR_UNSUPPORTED, "unknown_ext: a %s ends in .json",
                           kind == S3_KEY_MANIFEST ? "manifest" : "failed record");
        return ERR_OK;
    }
    if (s3_key_content_type_from_ext(ext) == NULL)
        return err_set(e, ERR_UNSUPPORTED, "unknown_ext: '%.*s' is not an image extension we use",
                       S3_KEY_EXT_MAX, ext);
    return ERR_OK;
}

/* Checks every part of `k` that s3_key_build reads. */
static enum err_code check_key(const struct s3_key *k, struct err *e)
{
    const struct s3_key_domain_desc *d = s3_key_domain_get(k->domain);
    if (d == NULL)
        return err_set(e, ERR_INVALID, "unknown_domain: %d", (int)k->domain);
    for (size_t i = 0; i < d->nids; i++) {
        if (!s3_key_id_valid(k->ids[i]))
            return err_set(e, ERR_INVALID, "bad_id: %s must match [A-Za-z0-9_-]{1,64}",
                           d->id_names[i]);
    }
    if (k->kind < S3_KEY_TEMP || k->kind > S3_KEY_FAILED)
        return err_set(e, ERR_INVALID, "bad_key: unknown kind %d", (int)k->kind);
    if (k->kind == S3_KEY_VARIANT && !s3_key_size_valid(k->size))
        return err_set(e, ERR_INVALID,
                       "bad_size: a size must match [a-z0-9_-]{1,32} and not be origin/manifest");
    enum err_code rc = s3_key_upload_id_parse(k->upload_id, NULL, NULL, e);
    if (rc != ERR_OK)
        return rc;
    if (k->kind == S3_KEY_MANIFEST || k->kind == S3_KEY_FAILED)
        return ERR_OK;
    return check_ext(k->kind, k->ext, e);
}

enum err_code s3_key_init(struct s3_key *k, enum s3_key_domain domain, const char *const ids[],
                          size_t nids, const char *upload_id, const char *ext, struct err *e)
{
    memset(k, 0, sizeof(*k));
    const struct s3_key_domain_desc *d = s3_key_domain_get(domain);
    if (d == NULL)
        return err_set(e, ERR_INVALID, "unknown_domain: %d", (int)domain);
    if (nids != d->nids)
        return err_set(e, ERR_INVALID, "wrong_id_count: %s takes %zu id(s), got %zu", d->name,
                       d->nids, nids);
    k->domain = domain;
    k->kind = S3_KEY_TEMP;
    for (size_t i = 0; i < nids; i++) {
        if (!s3_key_id_valid(ids[i]))
            return err_set(e, ERR_INVALID, "bad_id: %s must match [A-Za-z0-9_-]{1,64}",
                           d->id_names[i]);
        memcpy(k->ids[i], ids[i], strlen(ids[i]) + 1);
    }
    if (upload_id == NULL || strnlen(upload_id, S3_KEY_UPLOAD_ID_MAX) >= S3_KEY_UPLOAD_ID_MAX)
        return err_set(e, ERR_INVALID, "bad_upload_id: expected <uuid>_<unix seconds>");
    memcpy(k->upload_id, upload_id, strlen(upload_id) + 1);
    if (ext == NULL || strnlen(ext, S3_KEY_EXT_MAX) >= S3_KEY_EXT_MAX)
        return err_set(e, ERR_UNSUPPORTED, "unknown_ext: missing or too long");
    memcpy(k->ext, ext, strlen(ext) + 1);
    return check_key(k, e);
}

/* Appends s[0..n) to out (capacity cap, current length *len); false when it does not fit. */
static bool put(char *out, size_t cap, size_t *len, const char *s, size_t n)
{
    if (n >= cap - *len)
        return false;
    memcpy(out + *len, s, n);
    *len += n;
    out[*len] = '\0';
    return true;
}

/* Appends the domain path of `k` (template with ids substituted). */
static bool put_domain_path(const struct s3_key *k, char *out, size_t cap, size_t *len)
{
    const char *t = domains[k->domain].path;
    size_t id = 0;
    while (*t != '\0') {
        if (*t == '{') {
            const char *end = strchr(t, '}');
            if (end == NULL || id >= S3_KEY_MAX_IDS)
                return false;
            if (!put(out, cap, len, k->ids[id], strlen(k->ids[id])))
                return false;
            id++;
            t = end + 1;
        } else {
            size_t n = strcspn(t, "{");
            if (!put(out, cap, len, t, n))
                return false;
            t += n;
        }
    }
    return true;
}

enum err_code s3_key_build(const struct s3_key *k, char *out, size_t cap, struct err *e)
{
    enum err_code rc = ERR_INVALID;
    size_t len = 0;
    if (out == NULL || cap == 0)
        return err_set(e, ERR_INVALID, "key_too_long: no room for the key");
    out[0] = '\0';
    rc = check_key(k, e);
    if (rc != ERR_OK)
        goto cleanup;
    rc = ERR_INVALID;
    const char *kind_seg = k->kind == S3_KEY_ORIGIN     ? "origin"
                           : k->kind == S3_KEY_MANIFEST ? "manifest"
                           : k->kind == S3_KEY_VARIANT  ? k->size
                                                        : NULL;
    bool json = k->kind == S3_KEY_MANIFEST || k->kind == S3_KEY_FAILED;
    const char *ext = json ? "json" : k->ext;
    const char *top = k->kind == S3_KEY_TEMP     ? TEMP_PREFIX
                      : k->kind == S3_KEY_FAILED ? FAILED_PREFIX
                                                 : "";
    bool ok = put(out, cap, &len, top, strlen(top)) && put_domain_path(k, out, cap, &len) &&
              put(out, cap, &len, "/", 1) &&
              (kind_seg == NULL ||
               (put(out, cap, &len, kind_seg, strlen(kind_seg)) && put(out, cap, &len, "/", 1))) &&
              put(out, cap, &len, k->upload_id, strlen(k->upload_id)) &&
              put(out, cap, &len, ".", 1) && put(out, cap, &len, ext, strlen(ext));
    if (!ok) {
        err_set(e, ERR_INVALID, "key_too_long: the key does not fit in %zu bytes", cap);
        goto cleanup;
    }
    rc = ERR_OK;
cleanup:
    if (rc != ERR_OK)
        out[0] = '\0';
    return rc;
}

/* Outcome of matching a domain path against one template. */
enum match { MATCH_OK, MATCH_SHAPE, MATCH_BAD_ID };

/* Matches segs[0..n) against the template of `d`, copying ids into `k` on success. `bad_id`
 * receives the name of the first invalid id when the result is MATCH_BAD_ID. */
static enum match match_template(const struct s3_key_domain_desc *d, char **segs, size_t n,
                                 struct s3_key *k, const char **bad_id)
{
    const char *t = d->path;
    size_t i = 0, id = 0;
    enum match m = MATCH_OK;
    while (*t != '\0') {
        size_t tl = strcspn(t, "/");
        if (i >= n)
            return MATCH_SHAPE;
        if (t[0] == '{') {
            if (!s3_key_id_valid(segs[i]) && m == MATCH_OK) {
                m = MATCH_BAD_ID;
                *bad_id = d->id_names[id];
            }
            if (m == MATCH_OK)
                memcpy(k->ids[id], segs[i], strlen(segs[i]) + 1);
            id++;
        } else if (strlen(segs[i]) != tl || strncmp(segs[i], t, tl) != 0) {
            return MATCH_SHAPE;
        }
        i++;
        t += tl;
        if (*t == '/')
            t++;
    }
    return i == n ? m : MATCH_SHAPE;
}

/* Finds the domain whose template matches segs[0..n). */
static enum err_code match_domain(char **segs, size_t n, struct s3_key *k, struct err *e)
{
    bool known_root = false;
    const char *bad_id = NULL;
    for (size_t i = 0; i < S3_DOMAIN_COUNT; i++) {
        const char *bad = NULL;
        memset(k->ids, 0, sizeof(k->ids));
        enum match m = match_template(&domains[i], segs, n, k, &bad);
        if (m == MATCH_OK) {
            k->domain = domains[i].domain;
            return ERR_OK;
        }
        if (m == MATCH_BAD_ID && bad_id == NULL)
            bad_id = bad;
        size_t root = strcspn(domains[i].path, "/");
        if (n > 0 && strlen(segs[0]) == root && strncmp(segs[0], domains[i].path, root) == 0)
            known_root = true;
    }
    if (bad_id != NULL)
        return err_set(e, ERR_INVALID, "bad_id: %s must match [A-Za-z0-9_-]{1,64}", bad_id);
    if (known_root)
        return err_set(e, ERR_INVALID, "wrong_id_count: the path under '%.32s/' fits no domain",
                       segs[0]);
    return err_set(e, ERR_INVALID, "unknown_domain: '%.32s' is not a domain", segs[0]);
}

/* Splits `s` in place at '/' into segs; refuses empty segments and too many of them. */
static enum err_code split(char *s, char **segs, size_t *n, struct err *e)
{
    *n = 0;
    for (;;) {
        char *slash = strchr(s, '/');
        if (*n == MAX_SEGMENTS)
            return err_set(e, ERR_INVALID, "bad_key: too many path segments");
        segs[(*n)++] = s;
        if (slash == NULL)
            break;
        *slash = '\0';
        if (slash == s)
            return err_set(e, ERR_INVALID, "bad_key: empty path segment");
        s = slash + 1;
    }
    if (*segs[*n - 1] == '\0')
        return err_set(e, ERR_INVALID, "bad_key: empty file name");
    return ERR_OK;
}

/* Reads the kind segment of a non-temp key into `k`. */
static enum err_code parse_kind(const char *seg, struct s3_key *k, struct err *e)
{
    if (strcmp(seg, "origin") == 0) {
        k->kind = S3_KEY_ORIGIN;
    } else if (strcmp(seg, "manifest") == 0) {
        k->kind = S3_KEY_MANIFEST;
    } else if (s3_key_size_valid(seg)) {
        k->kind = S3_KEY_VARIANT;
        memcpy(k->size, seg, strlen(seg) + 1);
    } else {
        return err_set(e, ERR_INVALID, "bad_size: '%.40s' is not origin, manifest or a size", seg);
    }
    return ERR_OK;
}

/* Splits the file name "<upload id>.<ext>" into `k`. */
static enum err_code parse_file(const char *file, struct s3_key *k, struct err *e)
{
    const char *dot = strchr(file, '.');
    if (dot == NULL)
        return err_set(e, ERR_INVALID, "bad_key: the file name has no extension");
    size_t idlen = (size_t)(dot - file);
    if (idlen >= S3_KEY_UPLOAD_ID_MAX)
        return err_set(e, ERR_INVALID, "bad_upload_id: expected <uuid>_<unix seconds>");
    memcpy(k->upload_id, file, idlen);
    k->upload_id[idlen] = '\0';
    enum err_code rc = s3_key_upload_id_parse(k->upload_id, NULL, NULL, e);
    if (rc != ERR_OK)
        return rc;
    if (strlen(dot + 1) >= S3_KEY_EXT_MAX)
        return err_set(e, ERR_UNSUPPORTED, "unknown_ext: '%.16s'", dot + 1);
    memcpy(k->ext, dot + 1, strlen(dot + 1) + 1);
    return check_ext(k->kind, k->ext, e);
}

enum err_code s3_key_parse(const char *key, struct s3_key *out, struct err *e)
{
    enum err_code rc = ERR_INVALID;
    char copy[S3_KEY_MAX];
    char *segs[MAX_SEGMENTS];
    size_t n = 0;
    memset(out, 0, sizeof(*out));
    if (key == NULL || strnlen(key, S3_KEY_MAX) >= S3_KEY_MAX) {
        rc = err_set(e, ERR_INVALID, "key_too_long: keys of this schema are under %d bytes",
                     S3_KEY_MAX);
        goto cleanup;
    }
    bool temp = strncmp(key, TEMP_PREFIX, strlen(TEMP_PREFIX)) == 0;
    bool failed = strncmp(key, FAILED_PREFIX, strlen(FAILED_PREFIX)) == 0;
    memcpy(copy, key, strlen(key) + 1);
    rc = split(copy + (temp     ? strlen(TEMP_PREFIX)
                       : failed ? strlen(FAILED_PREFIX)
                                : 0),
               segs, &n, e);
    if (rc != ERR_OK)
        goto cleanup;
    size_t path_n = n - 1;
    out->kind = failed ? S3_KEY_FAILED : S3_KEY_TEMP;
    if (!temp && !failed) {
        rc = n < 2 ? err_set(e, ERR_INVALID, "bad_key: too few path segments")
                   : parse_kind(segs[n - 2], out, e);
        if (rc != ERR_OK)
            goto cleanup;
        path_n = n - 2;
    }
    if (path_n == 0) {
        rc = err_set(e, ERR_INVALID, "bad_key: no domain path before the file name");
        goto cleanup;
    }
    rc = match_domain(segs, path_n, out, e);
    if (rc != ERR_OK)
        goto cleanup;
    rc = parse_file(segs[n - 1], out, e);
cleanup:
    if (rc != ERR_OK)
        memset(out, 0, sizeof(*out));
    return rc;
}

enum err_code s3_key_parse_temp(const char *key, struct s3_key *out, struct err *e)
{
    if (key == NULL || strncmp(key, TEMP_PREFIX, strlen(TEMP_PREFIX)) != 0) {
        memset(out, 0, sizeof(*out));
        return err_set(e, ERR_INVALID, "not_temp: only keys under %s are uploads", TEMP_PREFIX);
    }
    return s3_key_parse(key, out, e);
}
