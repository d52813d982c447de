/*
 * http.h: the request and response types every handler sees.
 *
 * Handlers never touch libmicrohttpd. The server layer builds a `struct h_request` from the
 * connection (method, path, route parameters, body, header and query accessors) and turns the
 * filled `struct h_response` into the wire response. This keeps handlers testable and the
 * layering of ../shared/DESIGN.md intact (server -> handlers, never the other way).
 *
 * Every error on the API has one shape, built by h_resp_error():
 *   {"error":{"code":"...","message":"...","requestId":"..."}}
 */
#ifndef IMGSVC_HANDLERS_HTTP_H
#define IMGSVC_HANDLERS_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/err.h"

#define H_MAX_PARAMS  8
#define H_MAX_HEADERS 48 /* the S3 store: CORS, S3 and stored object headers */

enum h_kv_kind { H_KV_HEADER, H_KV_QUERY };

/* Called for each header or query argument; return false to stop. `value` may be NULL. */
typedef bool (*h_kv_cb)(void *ctx, const char *name, const char *value);

struct h_param {
    char name[32]; /* the parameter's name in the route pattern */
    char *value;   /* owned by the server, URL-decoded */
};

struct h_request {
    const char *method;     /* "GET", "POST", ... */
    const char *path;       /* the raw request path (not decoded), without the query string */
    const char *raw_query;  /* the raw query string after '?' (not decoded), or "" */
    const char *route;      /* the matched route pattern, e.g. "/v1/uploads/{uploadId}" */
    const char *request_id; /* accepted from X-Request-Id or generated */
    const char *remote;     /* peer address as text */
    struct h_param params[H_MAX_PARAMS];
    size_t nparams;
    const char *body; /* the whole request body (NUL-terminated), or NULL when empty */
    size_t body_len;
    void *route_ctx; /* the context pointer registered with the route */

    /* Accessors supplied by the server. */
    void *conn;
    const char *(*lookup)(void *conn, enum h_kv_kind kind, const char *name);
    void (*each)(void *conn, enum h_kv_kind kind, h_kv_cb cb, void *ctx);
};

struct h_header {
    char *name;  /* owned */
    char *value; /* owned */
};

struct h_response {
    int status;
    const char *content_type; /* static string */
    char *body;               /* owned (malloc); may be NULL */
    size_t body_len;
    struct h_header headers[H_MAX_HEADERS];
    size_t nheaders;
    const char *error_code; /* static; set by h_resp_error, for logs and metrics */
};

typedef void (*h_handler_fn)(const struct h_request *req, struct h_response *resp);

/* A route parameter by name (e.g. "uploadId"), or NULL. */
const char *h_param(const struct h_request *req, const char *name);
/* A request header (case-insensitive), or NULL. */
const char *h_header(const struct h_request *req, const char *name);
/* A query argument, or NULL. */
const char *h_query(const struct h_request *req, const char *name);

/* Sets a JSON body. Takes ownership of `body` (deletes it). Returns false on ERR_NOMEM (the
 * response is then a 500). */
bool h_resp_json(struct h_response *resp, int status, cJSON *body);

/* Sets a body from bytes the caller gives away (`data` must come from malloc). */
void h_resp_take(struct h_response *resp, int status, const char *content_type, char *data,
                 size_t len);

/* Copies `text` as the body. */
bool h_resp_text(struct h_response *resp, int status, const char *content_type, const char *text);

/*
 * The one error shape. `code` is a static snake_case string ("not_found"); the message is
 * printf-style. The request id comes from `req` (may be NULL).
 */
void h_resp_error(struct h_response *resp, const struct h_request *req, int status,
                  const char *code, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Adds a response header (both strings are copied). False when full or out of memory. */
bool h_resp_header(struct h_response *resp, const char *name, const char *value);

/* The value of a response header set earlier, or NULL. */
const char *h_resp_get_header(const struct h_response *resp, const char *name);

/* Frees everything the response owns and zeroes it. */
void h_resp_free(struct h_response *resp);

#endif
