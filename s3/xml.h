/*
 * xml.h: a small, strict XML reader for S3's answers (errors, ListObjectsV2 pages).
 *
 * S3 speaks a tiny, regular subset of XML: one root element, nested elements with text, a few
 * attributes (xmlns), the five predefined entities and numeric character references. This
 * parser reads exactly that into a read-only tree and refuses everything else: DOCTYPE (so no
 * entity expansion, ever), unknown entities, mismatched or unclosed tags (a truncated body),
 * text after the root, invalid UTF-8 in character references, more than S3_XML_MAX_DEPTH
 * levels or S3_XML_MAX_NODES elements. Comments, processing instructions (the <?xml ?> prolog)
 * and CDATA sections are understood. Names keep only their local part ("s3:Key" -> "Key").
 *
 * Not thread-affine: a document is an immutable value once parsed.
 */
#ifndef IMGSVC_S3_XML_H
#define IMGSVC_S3_XML_H

#include <stddef.h>

#include "common/err.h"

#define S3_XML_MAX_DEPTH 32
#define S3_XML_MAX_NODES 200000

/* One element. `text` is the decoded character data directly inside it (children's text not
 * included), NUL-terminated; `text_len` excludes the NUL (text may hold NUL bytes only through
 * "&#0;", which is refused, so strlen(text) == text_len). */
struct s3_xml_node {
    const char *name;
    const char *text;
    size_t text_len;
    const struct s3_xml_node *child; /* first child element, NULL when none */
    const struct s3_xml_node *next;  /* next sibling */
};

struct s3_xml_doc;

/* Parses data[0..len). On success *out is a document the caller frees with s3_xml_free.
 * ERR_INVALID (with the byte offset in the message) for anything malformed, ERR_TOO_LARGE past
 * the depth or node limits, ERR_NOMEM. */
enum err_code s3_xml_parse(const char *data, size_t len, struct s3_xml_doc **out, struct err *e);

/* Frees a document. NULL is a no-op. */
void s3_xml_free(struct s3_xml_doc *d);

/* The root element (never NULL for a parsed document). Borrowed from the document. */
const struct s3_xml_node *s3_xml_root(const struct s3_xml_doc *d);

/* The first child of `n` named `name`, or NULL. */
const struct s3_xml_node *s3_xml_child(const struct s3_xml_node *n, const char *name);

/* The next sibling of `n` with the same name, or NULL. */
const struct s3_xml_node *s3_xml_next_named(const struct s3_xml_node *n);

/* The text of the first child named `name`, or NULL when there is no such child. */
const char *s3_xml_child_text(const struct s3_xml_node *n, const char *name);

#endif
