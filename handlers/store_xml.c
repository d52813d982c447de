/*
 * store_xml.c: S3's XML error documents and XML text escaping for the embedded store.
 *
 *   <?xml version="1.0" encoding="UTF-8"?>
 *   <Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message>
 *   <Resource>/bucket/key</Resource><RequestId>...</RequestId></Error>
 */
#include "handlers/store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3/store_event.h"

static const struct {
    int status;
    const char *code;
    const char *msg;
} errs[S3E_COUNT] = {
    [S3E_ACCESS_DENIED] = {403, "AccessDenied", "Access Denied"},
    [S3E_BAD_DIGEST] = {400, "BadDigest",
                        "The Content-MD5 you specified did not match what we received."},
    [S3E_BAD_REQUEST] = {400, "BadRequest",
                         "Insufficient information. Origin request header "
                         "needed."},
    [S3E_CORS_DISABLED] = {403, "CORSResponse", "CORS is not enabled for this bucket."},
    [S3E_CORS_FORBIDDEN] = {403, "CORSResponse",
                            "This CORS request is not allowed. This is usually because the "
                            "evalution of Origin, request method / Access-Control-Request-Method "
                            "or Access-Control-Request-Headers are not whitelisted by the "
                            "resource's CORS spec."},
    [S3E_CONTENT_SHA256_MISMATCH] = {400, "XAmzContentSHA256Mismatch",
                                     "The provided 'x-amz-content-sha256' header does not match "
                                     "what was computed."},
    [S3E_ENTITY_TOO_LARGE] = {400, "EntityTooLarge",
                              "Your proposed upload exceeds the maximum allowed size"},
    [S3E_HEADERS_TOO_LARGE] = {400, "RequestHeaderSectionTooLarge",
                               "Your request header section exceeds the maximum allowed size."},
    [S3E_INCOMPLETE_BODY] = {400, "IncompleteBody",
                             "You did not provide the number of bytes specified by the "
                             "Content-Length HTTP header."},
    [S3E_INTERNAL] = {500, "InternalError", "We encountered an internal error. Please try again."},
    [S3E_INVALID_ARGUMENT] = {400, "InvalidArgument", "Invalid Argument"},
    [S3E_INVALID_DIGEST] = {400, "InvalidDigest", "The Content-MD5 you specified is not valid."},
    [S3E_INVALID_RANGE] = {416, "InvalidRange", "The requested range is not satisfiable"},
    [S3E_INVALID_REQUEST] = {400, "InvalidRequest", "Invalid Request"},
    [S3E_INVALID_URI] = {400, "InvalidURI", "Couldn't parse the specified URI."},
    [S3E_KEY_TOO_LONG] = {400, "KeyTooLongError", "Your key is too long"},
    [S3E_METADATA_TOO_LARGE] = {400, "MetadataTooLarge",
                                "Your metadata headers exceed the maximum allowed metadata size"},
    [S3E_METHOD_NOT_ALLOWED] = {405, "MethodNotAllowed",
                                "The specified method is not allowed against this resource."},
    [S3E_MISSING_CONTENT_LENGTH] = {411, "MissingContentLength",
                                    "You must provide the Content-Length HTTP header."},
    [S3E_NO_SUCH_BUCKET] = {404, "NoSuchBucket", "The specified bucket does not exist"},
    [S3E_NO_SUCH_KEY] = {404, "NoSuchKey", "The specified key does not exist."},
    [S3E_NOT_IMPLEMENTED] = {501, "NotImplemented",
                             "A header you provided implies functionality that is not "
                             "implemented"},
    [S3E_PRECONDITION_FAILED] = {412, "PreconditionFailed",
                                 "At least one of the pre-conditions you specified did not hold"},
};

enum err_code h_xml_text(struct buf *b, const char *s)
{
    enum err_code rc = ERR_OK;
    for (const unsigned char *p = (const unsigned char *)s; *p && rc == ERR_OK; p++) {
        switch (*p) {
        case '&':
            rc = buf_append_str(b, "&amp;");
            break;
        case '<':
            rc = buf_append_str(b, "&lt;");
            break;
        case '>':
            rc = buf_append_str(b, "&gt;");
            break;
        case '"':
            rc = buf_append_str(b, "&quot;");
            break;
        case '\'':
            rc = buf_append_str(b, "&apos;");
            break;
        default:
            rc = *p < 0x20 ? buf_printf(b, "&#x%X;", *p) : buf_append(b, p, 1);
        }
    }
    return rc;
}

enum err_code h_xml_elem(struct buf *b, const char *name, const char *text)
{
    enum err_code rc = buf_printf(b, "<%s>", name);
    if (rc == ERR_OK)
        rc = h_xml_text(b, text ? text : "");
    if (rc == ERR_OK)
        rc = buf_printf(b, "</%s>", name);
    return rc;
}

enum err_code h_store_url_encode(struct buf *b, const char *s)
{
    return s3_store_event_key_encode(b, s);
}

void h_s3_error_code(struct h_response *resp, const struct h_request *req, int status,
                     const char *code, const char *msg)
{
    struct buf b;
    buf_init(&b, H_STORE_XML_MAX);
    bool head = req != NULL && req->method != NULL && strcmp(req->method, "HEAD") == 0;
    enum err_code rc = ERR_OK;
    if (!head) {
        rc = buf_append_str(&b, H_STORE_XML_DECL "<Error>");
        if (rc == ERR_OK)
            rc = h_xml_elem(&b, "Code", code);
        if (rc == ERR_OK)
            rc = h_xml_elem(&b, "Message", msg);
        if (rc == ERR_OK && req != NULL && req->path != NULL)
            rc = h_xml_elem(&b, "Resource", req->path);
        if (rc == ERR_OK && req != NULL && req->request_id != NULL)
            rc = h_xml_elem(&b, "RequestId", req->request_id);
        if (rc == ERR_OK)
            rc = buf_append_str(&b, "</Error>");
    }
    size_t len = 0;
    char *body = rc == ERR_OK ? buf_take(&b, &len) : NULL;
    buf_free(&b);
    h_resp_take(resp, status, head ? NULL : "application/xml", body, body ? len : 0);
    resp->error_code = code;
}

void h_s3_error(struct h_response *resp, const struct h_request *req, enum h_s3_err err,
                const char *msg)
{
    h_s3_error_code(resp, req, errs[err].status, errs[err].code, msg ? msg : errs[err].msg);
}

void h_store_render_error(const struct h_request *req, struct h_response *resp, int status,
                          const char *code, const char *msg)
{
    (void)code;
    (void)msg;
    if (req != NULL && req->request_id != NULL)
        (void)h_resp_header(resp, "x-amz-request-id", req->request_id);
    switch (status) {
    case 413:
        h_s3_error(resp, req, S3E_ENTITY_TOO_LARGE, NULL);
        break;
    case 404:
        h_s3_error(resp, req, S3E_NO_SUCH_BUCKET, NULL);
        break;
    case 405:
        h_s3_error(resp, req, S3E_METHOD_NOT_ALLOWED, NULL);
        break;
    case 400:
        h_s3_error(resp, req, S3E_INVALID_URI, NULL);
        break;
    default:
        h_s3_error_code(resp, req, status, "InternalError", msg);
    }
}
