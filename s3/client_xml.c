/*
 * client_xml.c: S3's XML answers read into our types: the <Error> document and a
 * ListObjectsV2 page (<ListBucketResult>). Built on the strict reader in s3/xml.h; anything
 * that is not exactly the expected shape is refused rather than guessed at.
 */
#include "s3/client_internal.h"
#include "s3/xml.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hex.h"
#include "common/timeutil.h"

static void copy_field(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

enum err_code s3_i_parse_error(const char *body, size_t len, struct s3_i_error *out, struct err *e)
{
    struct s3_xml_doc *doc = NULL;
    memset(out, 0, sizeof(*out));
    enum err_code rc = s3_xml_parse(body, len, &doc, e);
    if (rc != ERR_OK)
        goto cleanup;
    const struct s3_xml_node *root = s3_xml_root(doc);
    const char *code = s3_xml_child_text(root, "Code");
    if (strcmp(root->name, "Error") != 0 || code == NULL || code[0] == '\0') {
        rc = err_set(e, ERR_INVALID, "s3: not an S3 <Error> document");
        goto cleanup;
    }
    copy_field(out->code, sizeof(out->code), code);
    copy_field(out->message, sizeof(out->message), s3_xml_child_text(root, "Message"));
    copy_field(out->request_id, sizeof(out->request_id), s3_xml_child_text(root, "RequestId"));
cleanup:
    s3_xml_free(doc);
    return rc;
}

enum err_code s3_i_parse_copy(const char *body, size_t len, char etag[S3_ETAG_MAX], bool *failed,
                              struct s3_i_error *err, struct err *e)
{
    struct s3_xml_doc *doc = NULL;
    etag[0] = '\0';
    *failed = false;
    memset(err, 0, sizeof(*err));
    enum err_code rc = s3_xml_parse(body, len, &doc, e);
    if (rc != ERR_OK)
        goto cleanup;
    const struct s3_xml_node *root = s3_xml_root(doc);
    if (strcmp(root->name, "Error") == 0) {
        *failed = true;
        rc = s3_i_parse_error(body, len, err, e);
        goto cleanup;
    }
    const char *tag = s3_xml_child_text(root, "ETag");
    if (strcmp(root->name, "CopyObjectResult") != 0 || tag == NULL || tag[0] == '\0') {
        rc = err_set(e, ERR_INVALID, "s3: not a <CopyObjectResult> with an ETag");
        goto cleanup;
    }
    copy_field(etag, S3_ETAG_MAX, tag);
cleanup:
    s3_xml_free(doc);
    return rc;
}

enum err_code s3_i_form_decode(const char *s, size_t n, char **out)
{
    char *d = malloc(n + 1);
    size_t j = 0;
    *out = NULL;
    if (d == NULL)
        return ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int hi = i + 2 < n ? hex_digit_value(s[i + 1]) : -1;
            int lo = i + 2 < n ? hex_digit_value(s[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                free(d);
                return ERR_INVALID;
            }
            c = hi * 16 + lo;
            i += 2;
        }
        if (c == 0) {
            free(d);
            return ERR_INVALID;
        }
        d[j++] = (char)c;
    }
    d[j] = '\0';
    *out = d;
    return ERR_OK;
}

/* Copies (and, when `decode`, form-decodes) a text into a new string. */
static enum err_code take_text(const char *t, bool decode, char **out)
{
    if (decode)
        return s3_i_form_decode(t, strlen(t), out);
    *out = strdup(t);
    return *out ? ERR_OK : ERR_NOMEM;
}

static bool parse_u64(const char *s, uint64_t *out)
{
    if (s == NULL || s[0] < '0' || s[0] > '9')
        return false;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    *out = (uint64_t)v;
    return true;
}

static enum err_code parse_entry(const struct s3_xml_node *n, bool decode,
                                 struct s3_list_entry *out, struct err *e)
{
    const char *key = s3_xml_child_text(n, "Key"), *lm = s3_xml_child_text(n, "LastModified");
    if (key == NULL || key[0] == '\0' || !parse_u64(s3_xml_child_text(n, "Size"), &out->size))
        return err_set(e, ERR_INVALID, "s3: list entry without a key or a size");
    if (lm != NULL && lm[0] != '\0' && !ts_parse_rfc3339(lm, &out->last_modified))
        return err_set(e, ERR_INVALID, "s3: list entry with a bad LastModified");
    enum err_code rc = take_text(key, decode, &out->key);
    if (rc == ERR_OK)
        rc = take_text(s3_xml_child_text(n, "ETag") ? s3_xml_child_text(n, "ETag") : "", false,
                       &out->etag);
    if (rc == ERR_OK) {
        const char *sc = s3_xml_child_text(n, "StorageClass");
        rc = take_text(sc ? sc : "", false, &out->storage_class);
    }
    if (rc != ERR_OK)
        return err_set(e, rc, "s3: list entry: %s",
                       rc == ERR_NOMEM ? "out of memory" : "bad URL encoding");
    return ERR_OK;
}

static size_t count_named(const struct s3_xml_node *root, const char *name)
{
    size_t n = 0;
    for (const struct s3_xml_node *c = s3_xml_child(root, name); c; c = s3_xml_next_named(c))
        n++;
    return n;
}

static enum err_code parse_prefixes(const struct s3_xml_node *root, bool decode,
                                    struct s3_list_page *out, struct err *e)
{
    size_t n = count_named(root, "CommonPrefixes");
    out->common_prefixes = calloc(n ? n : 1, sizeof(char *));
    if (out->common_prefixes == NULL)
        return err_set(e, ERR_NOMEM, "s3: out of memory");
    for (const struct s3_xml_node *c = s3_xml_child(root, "CommonPrefixes"); c;
         c = s3_xml_next_named(c)) {
        const char *p = s3_xml_child_text(c, "Prefix");
        if (p == NULL)
            return err_set(e, ERR_INVALID, "s3: CommonPrefixes without a Prefix");
        enum err_code rc = take_text(p, decode, &out->common_prefixes[out->nprefixes]);
        if (rc != ERR_OK)
            return err_set(e, rc, "s3: bad common prefix");
        out->nprefixes++;
    }
    return ERR_OK;
}

static enum err_code parse_page(const struct s3_xml_node *root, struct s3_list_page *out,
                                struct err *e)
{
    const char *trunc = s3_xml_child_text(root, "IsTruncated");
    const char *enc = s3_xml_child_text(root, "EncodingType");
    const char *next = s3_xml_child_text(root, "NextContinuationToken");
    bool decode = enc != NULL && strcmp(enc, "url") == 0;
    if (strcmp(root->name, "ListBucketResult") != 0)
        return err_set(e, ERR_INVALID, "s3: expected <ListBucketResult>, got <%.40s>", root->name);
    if (trunc == NULL || (strcmp(trunc, "true") != 0 && strcmp(trunc, "false") != 0))
        return err_set(e, ERR_INVALID, "s3: listing without a valid IsTruncated");
    out->truncated = trunc[0] == 't';
    if (out->truncated && (next == NULL || next[0] == '\0'))
        return err_set(e, ERR_INVALID, "s3: truncated listing without NextContinuationToken");
    if (out->truncated && (out->next_token = strdup(next)) == NULL)
        return err_set(e, ERR_NOMEM, "s3: out of memory");
    size_t n = count_named(root, "Contents");
    out->entries = calloc(n ? n : 1, sizeof(*out->entries));
    if (out->entries == NULL)
        return err_set(e, ERR_NOMEM, "s3: out of memory");
    for (const struct s3_xml_node *c = s3_xml_child(root, "Contents"); c;
         c = s3_xml_next_named(c)) {
        enum err_code rc = parse_entry(c, decode, &out->entries[out->nentries], e);
        out->nentries++; /* counted even when half-filled, so it is freed */
        if (rc != ERR_OK)
            return rc;
    }
    return parse_prefixes(root, decode, out, e);
}

enum err_code s3_i_parse_list(const char *body, size_t len, struct s3_list_page *out, struct err *e)
{
    struct s3_xml_doc *doc = NULL;
    memset(out, 0, sizeof(*out));
    enum err_code rc = s3_xml_parse(body, len, &doc, e);
    if (rc == ERR_OK)
        rc = parse_page(s3_xml_root(doc), out, e);
    if (rc != ERR_OK)
        s3_list_page_free(out);
    s3_xml_free(doc);
    return rc;
}

void s3_list_page_free(struct s3_list_page *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->nentries; i++) {
        free(p->entries[i].key);
        free(p->entries[i].etag);
        free(p->entries[i].storage_class);
    }
    free(p->entries);
    for (size_t i = 0; i < p->nprefixes; i++)
        free(p->common_prefixes[i]);
    free(p->common_prefixes);
    free(p->next_token);
    memset(p, 0, sizeof(*p));
}
