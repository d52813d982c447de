/*
 * lambda_rt.h: a client of the AWS Lambda Runtime API (the 2018-06-01 HTTP protocol), over
 * libcurl.
 *
 * A custom runtime asks http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation/next for
 * work (the call blocks until an event exists), answers each invocation exactly once with
 * POST .../invocation/{id}/response or .../invocation/{id}/error, and reports a failed start
 * with POST .../runtime/init/error. Error bodies are {"errorMessage","errorType"} with the
 * Lambda-Runtime-Function-Error-Type header. This module speaks only that protocol; what an
 * event means is server/cmd_lambda.c's business.
 */
#ifndef IMGSVC_SERVER_LAMBDA_RT_H
#define IMGSVC_SERVER_LAMBDA_RT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define SRV_LRT_ID_MAX    128 /* Lambda-Runtime-Aws-Request-Id (a UUID in practice) */
#define SRV_LRT_ARN_MAX   512 /* Lambda-Runtime-Invoked-Function-Arn */
#define SRV_LRT_TRACE_MAX 512 /* Lambda-Runtime-Trace-Id (X-Ray header value) */
#define SRV_LRT_API_MAX   256 /* AWS_LAMBDA_RUNTIME_API: host:port */

/* One invocation handed out by /next. Free with srv_lrt_invocation_free. */
struct srv_lrt_invocation {
    char request_id[SRV_LRT_ID_MAX];
    int64_t deadline_ms; /* Unix epoch milliseconds; 0 when the header was absent */
    char function_arn[SRV_LRT_ARN_MAX];
    char trace_id[SRV_LRT_TRACE_MAX]; /* "" when absent */
    char *event;                      /* the body, NUL-terminated (owned) */
    size_t event_len;
};

struct srv_lrt;

/*
 * A client for the Runtime API at `api` ("host:port", the value of AWS_LAMBDA_RUNTIME_API;
 * copied). Event bodies longer than `max_event_bytes` are refused (ERR_TOO_LARGE from next).
 * `stop` (optional, borrowed; must outlive the client) is polled while /next waits: once it is
 * non-zero the wait ends with ERR_BUSY. NULL + `e` when `api` is not a host:port.
 */
struct srv_lrt *srv_lrt_new(const char *api, size_t max_event_bytes,
                            const volatile sig_atomic_t *stop, struct err *e);
void srv_lrt_free(struct srv_lrt *c);

/*
 * GET /next: waits (no timeout) for the next invocation and fills `out` (which the caller frees
 * with srv_lrt_invocation_free whatever the result). ERR_BUSY when `stop` was raised, ERR_IO
 * when the API cannot be reached or answers other than 200 (the Runtime API says to exit then),
 * ERR_INVALID when the answer has no usable request id, ERR_TOO_LARGE for an oversized body
 * (the request id, when known, is still filled so the caller can answer an error).
 */
enum err_code srv_lrt_next(struct srv_lrt *c, struct srv_lrt_invocation *out, struct err *e);
void srv_lrt_invocation_free(struct srv_lrt_invocation *inv);

/* POST /invocation/{id}/response with `body` (borrowed, JSON). ERR_TOO_LARGE when the API
 * answers 413, ERR_IO for any other answer than 202. */
enum err_code srv_lrt_respond(struct srv_lrt *c, const char *request_id, const char *body,
                              size_t len, struct err *e);

/* POST /invocation/{id}/error, or /init/error when `request_id` is NULL, with
 * {"errorMessage": message, "errorType": type} and Lambda-Runtime-Function-Error-Type: type. */
enum err_code srv_lrt_error(struct srv_lrt *c, const char *request_id, const char *type,
                            const char *message, struct err *e);

/* True when `id` is safe to put in a URL path: [A-Za-z0-9._:-]{1,127}. */
bool srv_lrt_id_valid(const char *id);

#endif
