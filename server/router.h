/*
 * router.h: the routing table (method + path pattern with parameters).
 *
 * Patterns are literal segments and `{name}` parameters, e.g. "/v1/uploads/{uploadId}". A
 * parameter matches one non-empty segment; its value is percent-decoded. A final `{name+}`
 * matches the rest of the path (one or more segments, slashes included), decoded once. Matching is
 * on the raw request path, segment by segment (literal segments compare against the decoded
 * segment). A GET route also answers HEAD. When the path matches but the method does not, the
 * caller gets SRV_MATCH_NO_METHOD and the `Allow` list.
 */
#ifndef IMGSVC_SERVER_ROUTER_H
#define IMGSVC_SERVER_ROUTER_H

#include <stddef.h>

#include "handlers/http.h"

struct srv_route {
    const char *method;  /* "GET", "POST", ... */
    const char *pattern; /* "/v1/uploads/{uploadId}" */
    h_handler_fn fn;
    void *ctx;       /* handed to the handler as req->route_ctx */
    size_t body_max; /* largest accepted body in bytes; 0 = no body allowed */
};

enum srv_match { SRV_MATCH_OK = 0, SRV_MATCH_NO_PATH, SRV_MATCH_NO_METHOD, SRV_MATCH_BAD_PATH };

struct srv_match_result {
    const struct srv_route *route;
    struct h_param params[H_MAX_PARAMS]; /* values owned: free with srv_match_free */
    size_t nparams;
    char allow[128]; /* for SRV_MATCH_NO_METHOD: "GET, HEAD, POST" */
};

/*
 * Finds the route for `method` and `raw_path` (no query string) in `routes[0..n)`.
 * SRV_MATCH_BAD_PATH when the path has a malformed percent escape or a NUL.
 * On SRV_MATCH_OK the caller frees the parameters with srv_match_free().
 */
enum srv_match srv_router_match(const struct srv_route *routes, size_t n, const char *method,
                                const char *raw_path, struct srv_match_result *out);

void srv_match_free(struct srv_match_result *m);

/*
 * Percent-decodes `in[0..len)` into a new NUL-terminated string (caller frees). NULL when an
 * escape is malformed or decodes to NUL. '+' is kept as is (paths, not forms).
 */
char *srv_percent_decode(const char *in, size_t len);

#endif
