/*
 * resize.h: the image API for internal callers.
 *
 *   POST /v1/resize?w=&h=&fit=&gravity=&format=&q=  raw image body -> the resized image, with
 *       its Content-Type and X-Image-Width / X-Image-Height
 *   POST /v1/info                                    raw image body -> facts and placeholders
 * Protected by the API's authentication. Work runs under a concurrency limit with a bounded
 * wait queue (429 + Retry-After when full). Refusals: 400 (options, multipart_upload,
 * empty_body), 413 (too_large_bytes), 415 (unsupported_format), 422 (limits, corrupt_image,
 * truncated), each with its imaging reason as the error code.
 */
#ifndef IMGSVC_HANDLERS_RESIZE_H
#define IMGSVC_HANDLERS_RESIZE_H

#include <stdbool.h>

#include "handlers/auth.h"
#include "handlers/http.h"
#include "handlers/limiter.h"
#include "imaging/img_probe.h"

struct h_resize_ctx {
    const struct h_auth *auth; /* NULL = authentication off */
    struct img_limits limits;
    bool multipart_recovery; /* unwrap a form-data envelope (true) or refuse it */
    struct h_limiter *limiter;
};

void h_resize(const struct h_request *req, struct h_response *resp);
void h_info(const struct h_request *req, struct h_response *resp);

/*
 * The routes' admit check (server/routes.c srv_routes_admit), from the request's headers alone
 * (req->route_ctx is the h_resize_ctx): false with `resp` filled when the credentials are
 * refused (401/403, as the handler would answer) or, for a caller let in, when the concurrency
 * limit and its wait queue are both full (429 too_many_requests + Retry-After), so the server
 * refuses before reading the image. The handler still authenticates and takes its slot itself.
 */
bool h_resize_admit(const struct h_request *req, struct h_response *resp);

#endif
