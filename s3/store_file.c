/*
 * store_file.c: the object file format of the embedded store.
 *
 *   IMGSVCOBJ1 <metadata length>\n
 *   {"keyHex":"..","size":N,"etag":"..","mtimeMs":N,"contentType":"..",
 *    "headers":[["x-amz-meta-a","1"],...],"checksumAlgo":"..","checksum":".."}
 *   <size bytes of data>
 *
 * The key is stored in hex so any byte sequence survives JSON; the file's name is the SHA-256
 * of the key, so the key stored inside is what listing and recovery trust.
 */
#include "s3/store_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#define HEAD_LINE_MAX 64

void s3_store_key_hash(const char *key, size_t keylen, char out[65])
{
    unsigned char md[32];
    unsigned int n = 0;
    EVP_Digest(key, keylen, md, &n, EVP_sha256(), NULL);
    for (size_t i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

void s3_store_info_free(struct s3_store_info *info)
{
    if (info == NULL)
        return;
    for (size_t i = 0; i < info->nheaders; i++) {
        free(info->headers[i].name);
        free(info->headers[i].value);
    }
    free(info->headers);
    info->headers = NULL;
    info->nheaders = 0;
}

static char *hex_encode(const char *s, size_t n)
{
    char *out = malloc(2 * n + 1);
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", (unsigned char)s[i]);
    out[2 * n] = '\0';
    return out;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Decodes lowercase hex into a NUL-terminated string; NULL when malformed or holding a NUL. */
static char *hex_decode(const char *h)
{
    size_t n = strlen(h);
    if (n % 2 != 0)
        return NULL;
    char *out = malloc(n / 2 + 1);
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hexval(h[2 * i]), lo = hexval(h[2 * i + 1]);
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
            free(out);
            return NULL;
        }
        out[i] = (char)(hi * 16 + lo);
    }
    out[n / 2] = '\0';
    return out;
}

static cJSON *meta_json(const char *key, const struct s3_store_info *info)
{
    cJSON *o = cJSON_CreateObject();
    char *kh = hex_encode(key, strlen(key));
    cJSON *hs = cJSON_CreateArray();
    if (o == NULL || kh == NULL || hs == NULL) {
        cJSON_Delete(o);
        cJSON_Delete(hs);
        free(kh);
        return NULL;
    }
    cJSON_AddStringToObject(o, "keyHex", kh);
    free(kh);
    cJSON_AddNumberToObject(o, "size", (double)info->size);
    cJSON_AddStringToObject(o, "etag", info->etag);
    cJSON_AddNumberToObject(o, "mtimeMs", (double)info->mtime_ms);
    cJSON_AddStringToObject(o, "contentType", info->content_type);
    for (size_t i = 0; i < info->nheaders; i++) {
        const char *pair[2] = {info->headers[i].name, info->headers[i].value};
        cJSON_AddItemToArray(hs, cJSON_CreateStringArray(pair, 2));
    }
    cJSON_AddItemToObject(o, "headers", hs);
    if (info->checksum_algo[0] != '\0') {
        cJSON_AddStringToObject(o, "checksumAlgo", info->checksum_algo);
        cJSON_AddStringToObject(o, "checksum", info->checksum);
    }
    return o;
}

char *s3_store_encode_head(const char *key, const struct s3_store_info *info, size_t *len)
{
    cJSON *o = meta_json(key, info);
    char *js = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    if (js == NULL)
        return NULL;
    size_t jn = strlen(js);
    char line[HEAD_LINE_MAX];
    int ln = snprintf(line, sizeof(line), "%s %zu\n", S3_STORE_MAGIC, jn);
    char *out = malloc((size_t)ln + jn + 1);
    if (out != NULL) {
        memcpy(out, line, (size_t)ln);
        memcpy(out + ln, js, jn + 1);
        *len = (size_t)ln + jn;
    }
    free(js);
    return out;
}

static bool copy_str(cJSON *o, const char *name, char *out, size_t cap, bool required)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!cJSON_IsString(v))
        return !required;
    if (strlen(v->valuestring) >= cap)
        return false;
    snprintf(out, cap, "%s", v->valuestring);
    return true;
}

static bool copy_headers(cJSON *o, struct s3_store_info *info)
{
    const cJSON *hs = cJSON_GetObjectItemCaseSensitive(o, "headers");
    int n = cJSON_GetArraySize(hs);
    if (!cJSON_IsArray(hs) || n > S3_STORE_HEADERS_MAX)
        return false;
    info->headers = n > 0 ? calloc((size_t)n, sizeof(*info->headers)) : NULL;
    if (n > 0 && info->headers == NULL)
        return false;
    const cJSON *pair = NULL;
    cJSON_ArrayForEach(pair, hs)
    {
        const cJSON *a = cJSON_GetArrayItem(pair, 0), *b = cJSON_GetArrayItem(pair, 1);
        if (!cJSON_IsString(a) || !cJSON_IsString(b))
            return false;
        struct s3_store_header *h = &info->headers[info->nheaders];
        h->name = strdup(a->valuestring);
        h->value = strdup(b->valuestring);
        info->nheaders++;
        if (h->name == NULL || h->value == NULL)
            return false;
    }
    return true;
}

/* Fills `info` and *key from the metadata JSON; false when malformed. */
static bool parse_meta(const char *js, size_t n, char **key, struct s3_store_info *info)
{
    cJSON *o = cJSON_ParseWithLength(js, n);
    bool ok = false;
    const cJSON *kh = cJSON_GetObjectItemCaseSensitive(o, "keyHex");
    const cJSON *size = cJSON_GetObjectItemCaseSensitive(o, "size");
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(o, "mtimeMs");
    if (!cJSON_IsString(kh) || !cJSON_IsNumber(size) || !cJSON_IsNumber(mt) ||
        size->valuedouble < 0)
        goto cleanup;
    info->size = (uint64_t)size->valuedouble;
    info->mtime_ms = (int64_t)mt->valuedouble;
    if (!copy_str(o, "etag", info->etag, sizeof(info->etag), true) ||
        !copy_str(o, "contentType", info->content_type, sizeof(info->content_type), true) ||
        !copy_str(o, "checksumAlgo", info->checksum_algo, sizeof(info->checksum_algo), false) ||
        !copy_str(o, "checksum", info->checksum, sizeof(info->checksum), false) ||
        !copy_headers(o, info))
        goto cleanup;
    *key = hex_decode(kh->valuestring);
    ok = *key != NULL;
cleanup:
    cJSON_Delete(o);
    return ok;
}

/* Reads exactly n bytes at offset; false on error or short read. */
static bool read_at(int fd, void *out, size_t n, off_t off)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, (char *)out + got, n - got, off + (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        got += (size_t)r;
    }
    return true;
}

enum err_code s3_store_decode_head(int fd, char **key, struct s3_store_info *info,
                                   uint64_t *data_off, struct err *e)
{
    char line[HEAD_LINE_MAX + 1] = {0};
    char *js = NULL;
    enum err_code rc = ERR_INVALID;
    memset(info, 0, sizeof(*info));
    *key = NULL;
    struct stat st;
    ssize_t n = pread(fd, line, HEAD_LINE_MAX, 0);
    char *nl = n > 0 ? memchr(line, '\n', (size_t)n) : NULL;
    size_t ml = strlen(S3_STORE_MAGIC);
    if (nl == NULL || strncmp(line, S3_STORE_MAGIC " ", ml + 1) != 0) {
        err_set(e, ERR_INVALID, "not an object file");
        goto cleanup;
    }
    char *end = NULL;
    unsigned long long jn = strtoull(line + ml + 1, &end, 10);
    if (end != nl || jn == 0 || jn > S3_STORE_META_CAP || fstat(fd, &st) != 0) {
        err_set(e, ERR_INVALID, "bad object file header");
        goto cleanup;
    }
    size_t hl = (size_t)(nl - line) + 1;
    js = malloc((size_t)jn);
    if (js == NULL) {
        rc = err_set(e, ERR_NOMEM, "out of memory");
        goto cleanup;
    }
    if (!read_at(fd, js, (size_t)jn, (off_t)hl) || !parse_meta(js, (size_t)jn, key, info)) {
        err_set(e, ERR_INVALID, "bad object metadata");
        goto cleanup;
    }
    *data_off = hl + jn;
    if ((uint64_t)st.st_size != *data_off + info->size) {
        err_set(e, ERR_INVALID, "object file holds %lld bytes, expected %" PRIu64,
                (long long)st.st_size, *data_off + info->size);
        goto cleanup;
    }
    rc = ERR_OK;
cleanup:
    free(js);
    if (rc != ERR_OK) {
        free(*key);
        *key = NULL;
        s3_store_info_free(info);
    }
    return rc;
}
