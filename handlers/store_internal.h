/*
 * store_internal.h: helpers shared by handlers/store*.c (errors, XML text, the common request
 * prologue, CORS headers). Not for other modules.
 */
#ifndef IMGSVC_HANDLERS_STORE_INTERNAL_H
#define IMGSVC_HANDLERS_STORE_INTERNAL_H

#include "common/buf.h"
#include "handlers/store.h"
#include "s3/checksum.h"

#define H_STORE_XML_NS   "http://s3.amazonaws.com/doc/2006-03-01/"
#define H_STORE_XML_DECL "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
#define H_STORE_XML_MAX  (64u * 1024u * 1024u) /* cap of any XML document we build */

/* S3 error codes the store answers with (status and default message in store_xml.c). */
enum h_s3_err {
    S3E_ACCESS_DENIED,
    S3E_BAD_DIGEST,
    S3E_BAD_REQUEST,
    S3E_CORS_DISABLED,
    S3E_CORS_FORBIDDEN,
    S3E_CONTENT_SHA256_MISMATCH,
    S3E_ENTITY_TOO_LARGE,
    S3E_HEADERS_TOO_LARGE,
    S3E_INCOMPLETE_BODY,
    S3E_INTERNAL,
    S3E_INVALID_ARGUMENT,
    S3E_INVALID_DIGEST,
    S3E_INVALID_RANGE,
    S3E_INVALID_REQUEST,
    S3E_INVALID_URI,
    S3E_KEY_TOO_LONG,
    S3E_METADATA_TOO_LARGE,
    S3E_METHOD_NOT_ALLOWED,
    S3E_MISSING_CONTENT_LENGTH,
    S3E_NO_SUCH_BUCKET,
    S3E_NO_SUCH_KEY,
    S3E_NOT_IMPLEMENTED,
    S3E_PRECONDITION_FAILED,
    S3E_COUNT
};

/* Sets an S3 XML error response: code, status and message (NULL = S3's default text),
 * Resource (the request path) and RequestId. HEAD responses get no body. */
void h_s3_error(struct h_response *resp, const struct h_request *req, enum h_s3_err err,
                const char *msg);

/* The same for a code outside the table (e.g. a SigV4 verdict). `code` must be static. */
void h_s3_error_code(struct h_response *resp, const struct h_request *req, int status,
                     const char *code, const char *msg);

/* Appends `s` escaped for XML text (& < > " ' and control characters as &#xN;). */
enum err_code h_xml_text(struct buf *b, const char *s) BUF_WARN_UNUSED;

/* Appends <name>escaped text</name>. */
enum err_code h_xml_elem(struct buf *b, const char *name, const char *text) BUF_WARN_UNUSED;

/* The request as the store sees it after the prologue. */
struct h_store_req {
    struct h_store_ctx *ctx;
    const char *bucket;
    const char *key; /* NULL on bucket routes */
    struct sigv4_verify_result auth;
};

/*
 * The prologue of every authenticated route: CORS response headers, x-amz-request-id, the key
 * checks, SigV4 (and the payload hash against the body), the bucket's existence. On false the
 * error response is set and the handler returns.
 */
bool h_store_begin(const struct h_request *req, struct h_response *resp, struct h_store_req *sr);

/* Adds the CORS response headers when the request's Origin is allowed. */
void h_store_cors_headers(const struct h_store_ctx *ctx, const struct h_request *req,
                          struct h_response *resp);

/* A decoded aws-chunked body. */
struct h_store_chunked {
    char *data; /* malloc'ed; caller frees */
    size_t len;
    char trailer_name[64]; /* "x-amz-checksum-crc32" when the body had that trailer, else "" */
    char trailer_value[S3_CK_B64_MAX];
};

/* True when x-amz-content-sha256 announces an aws-chunked body (STREAMING-*). */
bool h_store_is_chunked(const struct h_request *req);

/* Decodes the request's aws-chunked body (unsigned with trailer, or signed chunks verified
 * against the seed signature). On false the error response is set (IncompleteBody,
 * SignatureDoesNotMatch, NotImplemented for other STREAMING-* modes). */
bool h_store_dechunk(const struct h_request *req, struct h_response *resp,
                     const struct h_store_ctx *ctx, struct h_store_chunked *out);

/* Appends `s` URL-encoded for encoding-type=url listings (form style, '/' kept). */
enum err_code h_store_url_encode(struct buf *b, const char *s) BUF_WARN_UNUSED;

/* Standard and x-amz-meta-* request headers S3 keeps with an object (collected by
 * h_store_keep_header, an h_request `each` callback; `overflow` past S3_STORE_HEADERS_MAX). */
struct h_store_kept {
    struct s3_store_header v[S3_STORE_HEADERS_MAX];
    char names[S3_STORE_HEADERS_MAX][128];
    size_t n;
    bool overflow;
};
bool h_store_keep_header(void *arg, const char *name, const char *value);

/* Sends the event `name` ("ObjectCreated:Put") for the object just written, when events are on
 * and the key is under their prefix. */
void h_store_emit_event(const struct h_request *req, const struct h_store_req *sr,
                        const struct s3_store_info *info, const char *name);

/* The answer for a store failure: NoSuchBucket, MetadataTooLarge or InternalError (logged). */
void h_store_failed(const struct h_request *req, struct h_response *resp, enum err_code rc,
                    const struct err *e);

/* CopyObject (a PUT with x-amz-copy-source; store_copy.c). */
void h_store_object_copy(const struct h_request *req, struct h_response *resp);

#endif
