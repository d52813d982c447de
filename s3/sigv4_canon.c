/*
 * sigv4_canon.c: the text stages of SigV4 (see sigv4.h): percent-encoding, canonical method,
 * URI, query string, headers and request, and the raw query parser. Pure functions over
 * capped buffers; nothing here touches a key.
 */
#include "s3/sigv4.h"
#include "s3/sigv4_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/hex.h"

static const char HEX_UPPER[] = "0123456789ABCDEF";

/* 1 for the bytes SigV4 never encodes: A-Z a-z 0-9 - . _ ~ */
static const unsigned char UNRESERVED[256] = {
    ['-'] = 1, ['.'] = 1, ['_'] = 1, ['~'] = 1, ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1,
    ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1, ['A'] = 1, ['B'] = 1,
    ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1,
    ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
    ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1,
    ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1,
    ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
    ['y'] = 1, ['z'] = 1};

static bool is_unreserved(unsigned char c)
{
    return UNRESERVED[c] != 0;
}

/* RFC 7230 tchar: the characters allowed in a method or header name. */
bool sigv4_i_is_token(const char *s)
{
    if (s == NULL || *s == '\0')
        return false;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (!(is_unreserved(c) || strchr("!#$%&'*+^`|", c) != NULL))
            return false;
    }
    return true;
}

size_t sigv4_i_uri_encode_raw(char *out, size_t cap, const char *s, size_t n, bool keep_slash)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i; /* a run of bytes copied as they are */
        while (j < n && (UNRESERVED[(unsigned char)s[j]] || (keep_slash && s[j] == '/')))
            j++;
        if (j - i > cap - o)
            return SIZE_MAX;
        memcpy(out + o, s + i, j - i);
        o += j - i;
        for (; j < n && !(UNRESERVED[(unsigned char)s[j]] || (keep_slash && s[j] == '/')); j++) {
            unsigned char c = (unsigned char)s[j];
            if (cap - o < 3)
                return SIZE_MAX;
            out[o++] = '%';
            out[o++] = HEX_UPPER[c >> 4];
            out[o++] = HEX_UPPER[c & 15];
        }
        i = j;
    }
    return o;
}

enum err_code sigv4_uri_encode(struct buf *out, const char *s, size_t n, bool keep_slash)
{
    char chunk[768];
    for (size_t i = 0; i < n;) {
        size_t take = n - i < sizeof(chunk) / 3 ? n - i : sizeof(chunk) / 3;
        size_t len = sigv4_i_uri_encode_raw(chunk, sizeof(chunk), s + i, take, keep_slash);
        enum err_code rc = buf_append(out, chunk, len); /* len <= 3 * take always fits */
        if (rc != ERR_OK)
            return rc;
        i += take;
    }
    return ERR_OK;
}

enum err_code sigv4_uri_decode(struct buf *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= n)
                return ERR_INVALID;
            int h = hex_digit_value((unsigned char)s[i + 1]),
                l = hex_digit_value((unsigned char)s[i + 2]);
            if (h < 0 || l < 0)
                return ERR_INVALID;
            c = (char)(h * 16 + l);
            i += 2;
        }
        if (c == '\0')
            return ERR_INVALID;
        enum err_code rc = buf_append(out, &c, 1);
        if (rc != ERR_OK)
            return rc;
    }
    return ERR_OK;
}

enum err_code sigv4_canonical_method(struct buf *out, const char *method)
{
    if (!sigv4_i_is_token(method))
        return ERR_INVALID;
    return buf_append_str(out, method);
}

/*
 * Removes "." and ".." segments and empty segments (RFC 3986 5.2.4 plus '//' collapsing, as
 * the AWS test suite expects); keeps a trailing slash. Segments are kept as (start, len) spans
 * of `path` so no copy is needed.
 */
static enum err_code normalize_path(struct buf *out, const char *path)
{
    enum err_code rc = ERR_OK;
    size_t plen = strlen(path), nseg = 0;
    size_t *segs = calloc(plen + 1, 2 * sizeof(size_t));
    if (segs == NULL)
        return ERR_NOMEM;
    for (size_t i = 0; i < plen;) {
        size_t j = i;
        while (j < plen && path[j] != '/')
            j++;
        size_t len = j - i;
        if (len == 2 && path[i] == '.' && path[i + 1] == '.') {
            if (nseg > 0)
                nseg--;
        } else if (len > 0 && !(len == 1 && path[i] == '.')) {
            segs[2 * nseg] = i;
            segs[2 * nseg + 1] = len;
            nseg++;
        }
        i = j + 1;
    }
    bool trailing = plen > 0 && path[plen - 1] == '/';
    for (size_t k = 0; k < nseg && rc == ERR_OK; k++) {
        rc = buf_append(out, "/", 1);
        if (rc == ERR_OK)
            rc = buf_append(out, path + segs[2 * k], segs[2 * k + 1]);
    }
    if (rc == ERR_OK && (nseg == 0 || trailing))
        rc = buf_append(out, "/", 1);
    free(segs);
    return rc;
}

enum err_code sigv4_canonical_uri(struct buf *out, const char *path, enum sigv4_rules rules)
{
    enum err_code rc = ERR_OK;
    struct buf norm;
    buf_init(&norm, SIGV4_TEXT_MAX);
    if (path == NULL || *path == '\0')
        path = "/";
    if (rules == SIGV4_RULES_GENERIC_NORMALIZE) {
        rc = normalize_path(&norm, path);
        if (rc != ERR_OK)
            goto cleanup;
        path = norm.data;
    }
    if (path[0] != '/') {
        rc = buf_append(out, "/", 1);
        if (rc != ERR_OK)
            goto cleanup;
    }
    rc = sigv4_uri_encode(out, path, strlen(path), true);
cleanup:
    buf_free(&norm);
    return rc;
}

/* An encoded query pair; sorted by name then value (byte order). */
struct enc_pair {
    const char *name;
    size_t nlen;
    const char *value;
    size_t vlen;
};

static int cmp_span(const char *a, size_t al, const char *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    if (c != 0)
        return c;
    return al < bl ? -1 : (al > bl ? 1 : 0);
}

static int cmp_enc_pair(const void *pa, const void *pb)
{
    const struct enc_pair *a = pa, *b = pb;
    int c = cmp_span(a->name, a->nlen, b->name, b->nlen);
    return c != 0 ? c : cmp_span(a->value, a->vlen, b->value, b->vlen);
}

enum err_code sigv4_canonical_query(struct buf *out, const struct sigv4_pair *q, size_t n)
{
    enum err_code rc = ERR_OK;
    struct buf enc;
    struct enc_pair *pairs = NULL;
    size_t *offs = NULL;
    buf_init(&enc, SIGV4_TEXT_MAX);
    if (n == 0)
        goto cleanup;
    pairs = calloc(n, sizeof(*pairs));
    offs = calloc(n, 3 * sizeof(size_t));
    if (pairs == NULL || offs == NULL) {
        rc = ERR_NOMEM;
        goto cleanup;
    }
    /* Encode everything into one buffer first (it may move), then point into it. */
    for (size_t i = 0; i < n; i++) {
        const char *v = q[i].value ? q[i].value : "";
        offs[3 * i] = enc.len;
        if ((rc = sigv4_uri_encode(&enc, q[i].name, strlen(q[i].name), false)) != ERR_OK)
            goto cleanup;
        offs[3 * i + 1] = enc.len;
        if ((rc = sigv4_uri_encode(&enc, v, strlen(v), false)) != ERR_OK)
            goto cleanup;
        offs[3 * i + 2] = enc.len;
    }
    for (size_t i = 0; i < n; i++) {
        const char *base = enc.data ? enc.data : "";
        pairs[i] = (struct enc_pair){base + offs[3 * i], offs[3 * i + 1] - offs[3 * i],
                                     base + offs[3 * i + 1], offs[3 * i + 2] - offs[3 * i + 1]};
    }
    qsort(pairs, n, sizeof(*pairs), cmp_enc_pair);
    for (size_t i = 0; i < n && rc == ERR_OK; i++) {
        if (i > 0)
            rc = buf_append(out, "&", 1);
        if (rc == ERR_OK)
            rc = buf_append(out, pairs[i].name, pairs[i].nlen);
        if (rc == ERR_OK)
            rc = buf_append(out, "=", 1);
        if (rc == ERR_OK)
            rc = buf_append(out, pairs[i].value, pairs[i].vlen);
    }
cleanup:
    free(pairs);
    free(offs);
    buf_free(&enc);
    return rc;
}

/* A header with its lowercased name; `idx` keeps duplicates in their original order. */
struct hdr {
    char *name;
    const char *value;
    size_t idx;
};

static int cmp_hdr(const void *pa, const void *pb)
{
    const struct hdr *a = pa, *b = pb;
    int c = strcmp(a->name, b->name);
    if (c != 0)
        return c;
    return a->idx < b->idx ? -1 : (a->idx > b->idx ? 1 : 0);
}

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Appends `v` trimmed, with every inner whitespace run (folded lines included) as one space. */
static enum err_code append_trimmed(struct buf *out, const char *v)
{
    while (is_ws(*v))
        v++;
    while (*v) {
        const char *start = v;
        while (*v && !is_ws(*v))
            v++;
        enum err_code rc = buf_append(out, start, (size_t)(v - start));
        if (rc != ERR_OK)
            return rc;
        while (is_ws(*v))
            v++;
        if (*v && (rc = buf_append(out, " ", 1)) != ERR_OK)
            return rc;
    }
    return ERR_OK;
}

static enum err_code emit_headers(struct buf *out, struct buf *signed_list, const struct hdr *hs,
                                  size_t n)
{
    enum err_code rc = ERR_OK;
    for (size_t i = 0; i < n && rc == ERR_OK; i++) {
        bool first = i == 0 || strcmp(hs[i].name, hs[i - 1].name) != 0;
        bool last = i + 1 == n || strcmp(hs[i].name, hs[i + 1].name) != 0;
        if (first) {
            if (signed_list->len > 0)
                rc = buf_append(signed_list, ";", 1);
            if (rc == ERR_OK)
                rc = buf_append_str(signed_list, hs[i].name);
            if (rc == ERR_OK)
                rc = buf_printf(out, "%s:", hs[i].name);
        } else {
            rc = buf_append(out, ",", 1);
        }
        if (rc == ERR_OK)
            rc = append_trimmed(out, hs[i].value ? hs[i].value : "");
        if (rc == ERR_OK && last)
            rc = buf_append(out, "\n", 1);
    }
    return rc;
}

enum err_code sigv4_canonical_headers(struct buf *out, struct buf *signed_list,
                                      const struct sigv4_pair *h, size_t n)
{
    enum err_code rc = ERR_OK;
    struct hdr *hs = calloc(n ? n : 1, sizeof(*hs));
    if (hs == NULL)
        return ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        if (!sigv4_i_is_token(h[i].name)) {
            rc = ERR_INVALID;
            goto cleanup;
        }
        hs[i].name = sigv4_i_strdup_lower(h[i].name);
        if (hs[i].name == NULL) {
            rc = ERR_NOMEM;
            goto cleanup;
        }
        hs[i].value = h[i].value;
        hs[i].idx = i;
    }
    qsort(hs, n, sizeof(*hs), cmp_hdr);
    rc = emit_headers(out, signed_list, hs, n);
cleanup:
    for (size_t i = 0; i < n; i++)
        free(hs[i].name);
    free(hs);
    return rc;
}

enum err_code sigv4_canonical_request(struct buf *out, const char *method, const char *uri,
                                      const char *query, const char *headers,
                                      const char *signed_list, const char *payload_hash)
{
    return buf_printf(out, "%s\n%s\n%s\n%s\n%s\n%s", method, uri, query, headers, signed_list,
                      payload_hash ? payload_hash : SIGV4_EMPTY_SHA256);
}

/* Counts the pairs of a raw query string (empty segments between '&' are skipped). */
static size_t count_pairs(const char *raw)
{
    size_t n = 0;
    for (const char *p = raw; *p;) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        if (len > 0)
            n++;
        p += len + (amp ? 1 : 0);
    }
    return n;
}

enum err_code sigv4_query_parse(const char *raw, size_t max_pairs, struct sigv4_pair **pairs,
                                size_t *npairs)
{
    enum err_code rc = ERR_OK;
    struct buf text;
    size_t n = count_pairs(raw), k = 0, *offs = NULL;
    struct sigv4_pair *res = NULL;
    buf_init(&text, SIGV4_TEXT_MAX);
    *pairs = NULL;
    *npairs = 0;
    if (n > max_pairs) {
        rc = ERR_TOO_LARGE;
        goto cleanup;
    }
    offs = calloc(n + 1, 2 * sizeof(size_t));
    if (offs == NULL) {
        rc = ERR_NOMEM;
        goto cleanup;
    }
    for (const char *p = raw; *p;) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        size_t nlen = eq ? (size_t)(eq - p) : len;
        if (len > 0) {
            offs[2 * k] = text.len;
            if ((rc = sigv4_uri_decode(&text, p, nlen)) != ERR_OK ||
                (rc = buf_append(&text, "", 1)) != ERR_OK)
                goto cleanup;
            offs[2 * k + 1] = text.len;
            if (eq && (rc = sigv4_uri_decode(&text, eq + 1, len - nlen - 1)) != ERR_OK)
                goto cleanup;
            if ((rc = buf_append(&text, "", 1)) != ERR_OK)
                goto cleanup;
            k++;
        }
        p += len + (amp ? 1 : 0);
    }
    /* One allocation: the pair array followed by the text. */
    res = malloc(n * sizeof(*res) + text.len + 1);
    if (res == NULL) {
        rc = ERR_NOMEM;
        goto cleanup;
    }
    char *t = (char *)(res + n);
    if (text.len > 0)
        memcpy(t, text.data, text.len);
    for (size_t i = 0; i < n; i++)
        res[i] = (struct sigv4_pair){t + offs[2 * i], t + offs[2 * i + 1]};
    *pairs = res;
    *npairs = n;
    res = NULL;
cleanup:
    free(res);
    free(offs);
    buf_free(&text);
    return rc;
}
