/*
 * store_index.c: the store's in-memory key index and ListObjectsV2's listing rules.
 *
 * A sorted array of entries (binary search, memmove on insert/remove): simple, cache-friendly
 * and exact about S3's order (key bytes compared unsigned, a shorter key before its
 * extensions). Listing walks from the first key after the marker; with a delimiter, a run of
 * keys sharing a common prefix is skipped in one binary search.
 */
#include "s3/store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int key_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    if (c != 0)
        return c;
    return an < bn ? -1 : an > bn ? 1 : 0;
}

/* First index whose key is >= (or > when `strict`) the given key. */
static size_t lower_bound(const struct s3_index *ix, const char *key, size_t keylen, bool strict)
{
    size_t lo = 0, hi = ix->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct s3_index_entry *en = ix->v[mid];
        int c = key_cmp(en->key, en->keylen, key, keylen);
        if (c < 0 || (strict && c == 0))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* First index whose key is past every key starting with `p` (and past `p` itself). */
static size_t past_prefix(const struct s3_index *ix, const char *p, size_t pn)
{
    size_t lo = 0, hi = ix->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct s3_index_entry *en = ix->v[mid];
        size_t m = en->keylen < pn ? en->keylen : pn;
        if (memcmp(en->key, p, m) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

enum err_code s3_index_put(struct s3_index *ix, const char *key, size_t keylen, uint64_t size,
                           const char *etag, int64_t mtime_ms)
{
    struct s3_index_entry *en = malloc(sizeof(*en) + keylen + 1);
    if (en == NULL)
        return ERR_NOMEM;
    en->size = size;
    en->mtime_ms = mtime_ms;
    snprintf(en->etag, sizeof(en->etag), "%s", etag);
    en->keylen = keylen;
    memcpy(en->key, key, keylen);
    en->key[keylen] = '\0';
    size_t i = lower_bound(ix, key, keylen, false);
    if (i < ix->n && key_cmp(ix->v[i]->key, ix->v[i]->keylen, key, keylen) == 0) {
        free(ix->v[i]);
        ix->v[i] = en;
        return ERR_OK;
    }
    if (ix->n == ix->cap) {
        size_t ncap = ix->cap ? ix->cap * 2 : 64;
        struct s3_index_entry **nv = realloc(ix->v, ncap * sizeof(*nv));
        if (nv == NULL) {
            free(en);
            return ERR_NOMEM;
        }
        ix->v = nv;
        ix->cap = ncap;
    }
    memmove(&ix->v[i + 1], &ix->v[i], (ix->n - i) * sizeof(*ix->v));
    ix->v[i] = en;
    ix->n++;
    return ERR_OK;
}

void s3_index_remove(struct s3_index *ix, const char *key, size_t keylen)
{
    size_t i = lower_bound(ix, key, keylen, false);
    if (i >= ix->n || key_cmp(ix->v[i]->key, ix->v[i]->keylen, key, keylen) != 0)
        return;
    free(ix->v[i]);
    memmove(&ix->v[i], &ix->v[i + 1], (ix->n - i - 1) * sizeof(*ix->v));
    ix->n--;
}

void s3_index_free(struct s3_index *ix)
{
    for (size_t i = 0; i < ix->n; i++)
        free(ix->v[i]);
    free(ix->v);
    memset(ix, 0, sizeof(*ix));
}

void s3_store_list_result_free(struct s3_store_list_result *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->ncontents; i++)
        free(r->contents[i].key);
    for (size_t i = 0; i < r->nprefixes; i++)
        free(r->prefixes[i]);
    free(r->contents);
    free(r->prefixes);
    free(r->last);
    memset(r, 0, sizeof(*r));
}

/* Where the walk starts: after the marker (and past its keys when it is a prefix), at the
 * prefix at the earliest. */
static size_t list_start(const struct s3_index *ix, const struct s3_store_list_params *p)
{
    size_t i = lower_bound(ix, p->prefix, strlen(p->prefix), false);
    if (p->after != NULL && p->after[0] != '\0') {
        size_t an = strlen(p->after);
        size_t j = p->after_is_prefix ? past_prefix(ix, p->after, an)
                                      : lower_bound(ix, p->after, an, true);
        if (j > i)
            i = j;
    }
    return i;
}

static enum err_code add_content(struct s3_store_list_result *r, const struct s3_index_entry *en)
{
    struct s3_store_list_entry *nc = realloc(r->contents, (r->ncontents + 1) * sizeof(*nc));
    if (nc == NULL)
        return ERR_NOMEM;
    r->contents = nc;
    struct s3_store_list_entry *c = &nc[r->ncontents];
    c->key = strdup(en->key);
    if (c->key == NULL)
        return ERR_NOMEM;
    c->size = en->size;
    c->mtime_ms = en->mtime_ms;
    memcpy(c->etag, en->etag, sizeof(c->etag));
    r->ncontents++;
    return ERR_OK;
}

static enum err_code add_prefix(struct s3_store_list_result *r, const char *key, size_t n)
{
    char **np = realloc(r->prefixes, (r->nprefixes + 1) * sizeof(*np));
    if (np == NULL)
        return ERR_NOMEM;
    r->prefixes = np;
    np[r->nprefixes] = strndup(key, n);
    if (np[r->nprefixes] == NULL)
        return ERR_NOMEM;
    r->nprefixes++;
    return ERR_OK;
}

static enum err_code set_last(struct s3_store_list_result *r, const char *s, size_t n,
                              bool is_prefix)
{
    free(r->last);
    r->last = strndup(s, n);
    r->last_is_prefix = is_prefix;
    return r->last ? ERR_OK : ERR_NOMEM;
}

enum err_code s3_index_list(const struct s3_index *ix, const struct s3_store_list_params *p_in,
                            struct s3_store_list_result *out)
{
    memset(out, 0, sizeof(*out));
    struct s3_store_list_params p = *p_in;
    if (p.prefix == NULL)
        p.prefix = "";
    const char *delim = p.delimiter != NULL && p.delimiter[0] != '\0' ? p.delimiter : NULL;
    size_t pn = strlen(p.prefix), dn = delim ? strlen(delim) : 0;
    size_t i = list_start(ix, &p), count = 0;
    enum err_code rc = ERR_OK;
    while (i < ix->n && rc == ERR_OK) {
        const struct s3_index_entry *en = ix->v[i];
        if (en->keylen < pn || memcmp(en->key, p.prefix, pn) != 0)
            break; /* sorted: no later key has the prefix */
        if (count == p.max_keys) {
            out->truncated = true;
            break;
        }
        const char *hit = NULL;
        if (delim != NULL)
            hit = memmem(en->key + pn, en->keylen - pn, delim, dn);
        if (hit != NULL) {
            size_t cn = (size_t)(hit - en->key) + dn;
            if ((rc = add_prefix(out, en->key, cn)) == ERR_OK)
                rc = set_last(out, en->key, cn, true);
            i = past_prefix(ix, en->key, cn);
        } else {
            if ((rc = add_content(out, en)) == ERR_OK)
                rc = set_last(out, en->key, en->keylen, false);
            i++;
        }
        count++;
    }
    if (rc != ERR_OK)
        s3_store_list_result_free(out);
    return rc;
}
