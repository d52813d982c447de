/*
 * xml.c: the strict XML subset reader behind s3/xml.h.
 *
 * A recursive-descent parser over the whole body (already capped by the caller): the input is
 * first checked to be valid UTF-8 without control characters, then read element by element.
 * Every node and decoded string lives in one arena owned by the document, so freeing is one
 * walk over a handful of blocks.
 */
#include "s3/xml.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"

#define ARENA_BLOCK (64u * 1024u)

struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    max_align_t data[]; /* cap bytes */
};

struct s3_xml_doc {
    struct arena_block *blocks;
    struct s3_xml_node *root;
    size_t nodes;
};

struct parser {
    const char *start, *p, *end;
    struct s3_xml_doc *doc;
    struct buf text; /* scratch for one element's text */
    struct err *e;
};

static void *arena_alloc(struct s3_xml_doc *d, size_t n)
{
    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    struct arena_block *b = d->blocks;
    if (b == NULL || b->cap - b->used < n) {
        size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;
        b = malloc(sizeof(*b) + cap);
        if (b == NULL)
            return NULL;
        b->next = d->blocks;
        b->used = 0;
        b->cap = cap;
        d->blocks = b;
    }
    void *r = (char *)b->data + b->used;
    b->used += n;
    memset(r, 0, n);
    return r;
}

static char *arena_strndup(struct s3_xml_doc *d, const char *s, size_t n)
{
    char *r = arena_alloc(d, n + 1);
    if (r != NULL) {
        memcpy(r, s, n);
        r[n] = '\0';
    }
    return r;
}

static enum err_code fail(struct parser *ps, const char *what)
{
    return err_set(ps->e, ERR_INVALID, "xml: %s at byte %zu", what, (size_t)(ps->p - ps->start));
}

/* Length of the UTF-8 sequence at s (max n bytes) when valid and not a forbidden control
 * character; 0 otherwise. */
static size_t utf8_char(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80)
        return (c >= 0x20 || c == '\t' || c == '\n' || c == '\r') ? 1 : 0;
    size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
    if (len == 0 || c > 0xF4 || len > n)
        return 0;
    uint32_t cp = c & (0x7Fu >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE ||
        cp == 0xFFFF)
        return 0;
    return len;
}

static bool valid_text(const char *data, size_t len, size_t *bad)
{
    const unsigned char *s = (const unsigned char *)data;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_char(s + i, len - i);
        if (n == 0) {
            *bad = i;
            return false;
        }
        i += n;
    }
    return true;
}

static bool at(struct parser *ps, const char *lit)
{
    size_t n = strlen(lit);
    return (size_t)(ps->end - ps->p) >= n && memcmp(ps->p, lit, n) == 0;
}

static void skip_ws(struct parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

/* Moves past the next occurrence of `lit`; false when there is none. */
static bool skip_past(struct parser *ps, const char *lit)
{
    size_t n = strlen(lit);
    for (const char *q = ps->p; (size_t)(ps->end - q) >= n; q++)
        if (memcmp(q, lit, n) == 0) {
            ps->p = q + n;
            return true;
        }
    return false;
}

static bool name_char(unsigned char c, bool first)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == ':' || c >= 0x80)
        return true;
    return !first && ((c >= '0' && c <= '9') || c == '-' || c == '.');
}

/* Reads a name into name[0..len). */
static enum err_code read_name(struct parser *ps, const char **name, size_t *len)
{
    const char *s = ps->p;
    if (ps->p >= ps->end || !name_char((unsigned char)*ps->p, true))
        return fail(ps, "expected a name");
    while (ps->p < ps->end && name_char((unsigned char)*ps->p, false))
        ps->p++;
    *name = s;
    *len = (size_t)(ps->p - s);
    return ERR_OK;
}

static size_t utf8_encode(uint32_t cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Decodes a numeric reference body ("#123" or "#x7F", without & and ;). */
static bool char_ref(const char *s, size_t n, uint32_t *cp)
{
    bool hex = n > 1 && s[1] == 'x';
    size_t i = hex ? 2 : 1;
    if (i >= n || n - i > 8)
        return false;
    uint32_t v = 0;
    for (; i < n; i++) {
        char c = s[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (hex && c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (hex && c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return false;
        v = v * (hex ? 16u : 10u) + d;
        if (v > 0x10FFFF)
            return false;
    }
    bool ok = v == 0x9 || v == 0xA || v == 0xD || (v >= 0x20 && v <= 0xD7FF) ||
              (v >= 0xE000 && v <= 0xFFFD) || (v >= 0x10000 && v <= 0x10FFFF);
    *cp = v;
    return ok;
}

/* At '&': decodes one reference into `out` (NULL = validate only). */
static enum err_code entity(struct parser *ps, struct buf *out)
{
    static const struct {
        const char *name, *value;
    } named[] = {{"lt", "<"}, {"gt", ">"}, {"amp", "&"}, {"quot", "\""}, {"apos", "'"}};
    const char *s = ps->p + 1, *semi = memchr(s, ';', (size_t)(ps->end - s));
    if (semi == NULL || semi - s > 12)
        return fail(ps, "unterminated entity");
    size_t n = (size_t)(semi - s);
    char tmp[4];
    const char *val = NULL;
    size_t vlen = 0;
    for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
        if (strlen(named[i].name) == n && memcmp(s, named[i].name, n) == 0) {
            val = named[i].value;
            vlen = 1;
        }
    uint32_t cp;
    if (val == NULL && n > 0 && s[0] == '#' && char_ref(s, n, &cp)) {
        vlen = utf8_encode(cp, tmp);
        val = tmp;
    }
    if (val == NULL)
        return fail(ps, "unknown entity");
    ps->p = semi + 1;
    if (out == NULL)
        return ERR_OK;
    return buf_append(out, val, vlen) == ERR_OK ? ERR_OK : err_set(ps->e, ERR_NOMEM, "xml");
}

/* Attributes up to '>' or '/>'; sets *empty for '/>'. Values are validated, then dropped. */
static enum err_code attributes(struct parser *ps, bool *empty)
{
    for (;;) {
        const char *before = ps->p;
        skip_ws(ps);
        if (at(ps, "/>") || at(ps, ">")) {
            *empty = *ps->p == '/';
            ps->p += *empty ? 2 : 1;
            return ERR_OK;
        }
        const char *name;
        size_t nlen;
        if (ps->p == before)
            return fail(ps, "expected whitespace before an attribute");
        if (read_name(ps, &name, &nlen) != ERR_OK)
            return ERR_INVALID;
        skip_ws(ps);
        if (!at(ps, "="))
            return fail(ps, "expected '='");
        ps->p++;
        skip_ws(ps);
        if (ps->p >= ps->end || (*ps->p != '"' && *ps->p != '\''))
            return fail(ps, "expected a quoted value");
        char q = *ps->p++;
        while (ps->p < ps->end && *ps->p != q) {
            if (*ps->p == '<')
                return fail(ps, "'<' in an attribute");
            if (*ps->p == '&') {
                if (entity(ps, NULL) != ERR_OK)
                    return ERR_INVALID;
            } else {
                ps->p++;
            }
        }
        if (ps->p >= ps->end)
            return fail(ps, "unterminated attribute");
        ps->p++;
    }
}

/* Comments and processing instructions between elements (or inside one when in_content). */
static enum err_code misc(struct parser *ps, bool *did)
{
    *did = false;
    if (at(ps, "<!--")) {
        ps->p += 4;
        if (!skip_past(ps, "-->"))
            return fail(ps, "unterminated comment");
        *did = true;
    } else if (at(ps, "<?")) {
        ps->p += 2;
        if (!skip_past(ps, "?>"))
            return fail(ps, "unterminated processing instruction");
        *did = true;
    } else if (at(ps, "<!")) {
        return fail(ps, "DOCTYPE and declarations are not allowed");
    }
    return ERR_OK;
}

static const char *local_name(const char *name, size_t *len)
{
    const char *colon = memchr(name, ':', *len);
    if (colon != NULL && (size_t)(colon - name) + 1 < *len) {
        *len -= (size_t)(colon - name) + 1;
        return colon + 1;
    }
    return name;
}

static enum err_code element(struct parser *ps, struct s3_xml_node *node, int depth);

/* Content of an element up to and including its end tag named name[0..nlen). */
static enum err_code content(struct parser *ps, struct s3_xml_node *node, const char *name,
                             size_t nlen, int depth)
{
    struct s3_xml_node **tail = (struct s3_xml_node **)&node->child;
    for (;;) {
        if (ps->p >= ps->end)
            return fail(ps, "unexpected end (truncated document)");
        bool did = false;
        if (!at(ps, "<![CDATA[") && misc(ps, &did) != ERR_OK)
            return ERR_INVALID;
        if (did)
            continue;
        if (at(ps, "<![CDATA[")) {
            const char *s = ps->p + 9;
            ps->p = s;
            if (!skip_past(ps, "]]>"))
                return fail(ps, "unterminated CDATA");
            if (buf_append(&ps->text, s, (size_t)(ps->p - 3 - s)) != ERR_OK)
                return err_set(ps->e, ERR_NOMEM, "xml");
        } else if (at(ps, "</")) {
            ps->p += 2;
            const char *en;
            size_t elen;
            if (read_name(ps, &en, &elen) != ERR_OK)
                return ERR_INVALID;
            if (elen != nlen || memcmp(en, name, nlen) != 0)
                return fail(ps, "mismatched end tag");
            skip_ws(ps);
            if (!at(ps, ">"))
                return fail(ps, "expected '>'");
            ps->p++;
            return ERR_OK;
        } else if (*ps->p == '<') {
            struct s3_xml_node *kid = arena_alloc(ps->doc, sizeof(*kid));
            if (kid == NULL)
                return err_set(ps->e, ERR_NOMEM, "xml");
            *tail = kid;
            tail = (struct s3_xml_node **)&kid->next;
            size_t saved = ps->text.len; /* the parent's text so far stays in the scratch */
            enum err_code rc = element(ps, kid, depth + 1);
            if (rc != ERR_OK)
                return rc;
            ps->text.len = saved;
        } else if (*ps->p == '&') {
            enum err_code rc = entity(ps, &ps->text);
            if (rc != ERR_OK)
                return rc;
        } else {
            const char *s = ps->p;
            while (ps->p < ps->end && *ps->p != '<' && *ps->p != '&')
                ps->p++;
            if (buf_append(&ps->text, s, (size_t)(ps->p - s)) != ERR_OK)
                return err_set(ps->e, ERR_NOMEM, "xml");
        }
    }
}

/* One element starting at '<'. Its text is collected after the parent's text in the scratch
 * buffer and copied into the arena when the element ends. */
static enum err_code element(struct parser *ps, struct s3_xml_node *node, int depth)
{
    if (depth > S3_XML_MAX_DEPTH)
        return err_set(ps->e, ERR_TOO_LARGE, "xml: nesting deeper than %d", S3_XML_MAX_DEPTH);
    if (++ps->doc->nodes > S3_XML_MAX_NODES)
        return err_set(ps->e, ERR_TOO_LARGE, "xml: more than %d elements", S3_XML_MAX_NODES);
    ps->p++; /* '<' */
    const char *name;
    size_t nlen;
    bool empty = false;
    if (read_name(ps, &name, &nlen) != ERR_OK || attributes(ps, &empty) != ERR_OK)
        return ERR_INVALID;
    size_t llen = nlen;
    const char *local = local_name(name, &llen);
    node->name = arena_strndup(ps->doc, local, llen);
    if (node->name == NULL)
        return err_set(ps->e, ERR_NOMEM, "xml");
    size_t start = ps->text.len;
    if (!empty) {
        enum err_code rc = content(ps, node, name, nlen, depth);
        if (rc != ERR_OK)
            return rc;
    }
    const char *t = ps->text.data ? ps->text.data + start : "";
    node->text_len = ps->text.len - start;
    node->text = arena_strndup(ps->doc, t, node->text_len);
    if (node->text == NULL)
        return err_set(ps->e, ERR_NOMEM, "xml");
    return ERR_OK;
}

static enum err_code document(struct parser *ps)
{
    if (at(ps, "\xEF\xBB\xBF"))
        ps->p += 3;
    bool did = true;
    while (did) {
        skip_ws(ps);
        if (misc(ps, &did) != ERR_OK)
            return ERR_INVALID;
    }
    if (!at(ps, "<"))
        return fail(ps, ps->p >= ps->end ? "empty document" : "expected the root element");
    ps->doc->root = arena_alloc(ps->doc, sizeof(*ps->doc->root));
    if (ps->doc->root == NULL)
        return err_set(ps->e, ERR_NOMEM, "xml");
    enum err_code rc = element(ps, ps->doc->root, 1);
    if (rc != ERR_OK)
        return rc;
    for (did = true; did;) {
        skip_ws(ps);
        if (misc(ps, &did) != ERR_OK)
            return ERR_INVALID;
    }
    return ps->p == ps->end ? ERR_OK : fail(ps, "content after the root element");
}

enum err_code s3_xml_parse(const char *data, size_t len, struct s3_xml_doc **out, struct err *e)
{
    enum err_code rc = ERR_NOMEM;
    struct parser ps;
    memset(&ps, 0, sizeof(ps));
    *out = NULL;
    buf_init(&ps.text, len + 1);
    size_t bad = 0;
    if (!valid_text(data, len, &bad)) {
        rc = err_set(e, ERR_INVALID, "xml: invalid UTF-8 or control character at byte %zu", bad);
        goto cleanup;
    }
    ps.doc = calloc(1, sizeof(*ps.doc));
    if (ps.doc == NULL) {
        rc = err_set(e, ERR_NOMEM, "xml: out of memory");
        goto cleanup;
    }
    ps.start = ps.p = data;
    ps.end = data + len;
    ps.e = e;
    rc = document(&ps);
    if (rc != ERR_OK)
        goto cleanup;
    *out = ps.doc;
    ps.doc = NULL;
cleanup:
    buf_free(&ps.text);
    s3_xml_free(ps.doc);
    return rc;
}

void s3_xml_free(struct s3_xml_doc *d)
{
    if (d == NULL)
        return;
    for (struct arena_block *b = d->blocks, *n; b != NULL; b = n) {
        n = b->next;
        free(b);
    }
    free(d);
}

const struct s3_xml_node *s3_xml_root(const struct s3_xml_doc *d)
{
    return d->root;
}

const struct s3_xml_node *s3_xml_child(const struct s3_xml_node *n, const char *name)
{
    for (const struct s3_xml_node *c = n ? n->child : NULL; c != NULL; c = c->next)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

const struct s3_xml_node *s3_xml_next_named(const struct s3_xml_node *n)
{
    for (const struct s3_xml_node *c = n->next; c != NULL; c = c->next)
        if (strcmp(c->name, n->name) == 0)
            return c;
    return NULL;
}

const char *s3_xml_child_text(const struct s3_xml_node *n, const char *name)
{
    const struct s3_xml_node *c = s3_xml_child(n, name);
    return c ? c->text : NULL;
}
