/*
 * http.h: the HTTP server on libmicrohttpd.
 *
 * One daemon: an internal thread pool with epoll, keep-alive, a connection limit, a routing
 * table, request bodies read incrementally into a buffer capped per route (413
 * payload_too_large past it, answered before reading when Content-Length says so), an
 * admit hook (429 too_many_requests + Retry-After before the body is buffered), a request
 * read timeout enforced by a watchdog (slow or idle clients are cut off), X-Request-Id accepted
 * or generated and echoed, one access-log line and metrics per request, and the one JSON error
 * shape for 400/404/405/413.
 */
#ifndef IMGSVC_SERVER_HTTP_H
#define IMGSVC_SERVER_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "server/router.h"

struct srv_http;

struct srv_http_opts {
    const char *addr; /* IPv4 or IPv6 literal */
    unsigned port;    /* 0 = any free port */
    unsigned threads; /* thread pool size */
    unsigned max_connections;
    unsigned read_timeout_s;        /* whole request, from connection start or last response */
    const struct srv_route *routes; /* borrowed; must outlive the server */
    size_t nroutes;
    const char *name; /* for logs and metrics, e.g. "api" */
    /*
     * Optional: renders the server's own errors (400 bad path, 404, 405, 413) in another shape,
     * e.g. S3's XML for the embedded store. `code` is the JSON code ("not_found", ...). NULL:
     * the API's JSON error shape.
     */
    void (*render_error)(const struct h_request *req, struct h_response *resp, int status,
                         const char *code, const char *msg);
    /*
     * Optional: called with the matched route once a request's headers are in, before any body
     * byte is read (`req` has the headers, query and route parameters, no body). False = the
     * request is refused with `resp`, which the hook fills (e.g. 401 for bad credentials, 429
     * + Retry-After when the route is full): sent without buffering the body, at once when the
     * client waits for 100-continue, else once it has sent the body, which is dropped. A body
     * over the route's cap is answered 413 without calling the hook. NULL = every request is
     * admitted.
     */
    bool (*admit)(const struct srv_route *route, const struct h_request *req,
                  struct h_response *resp);
};

/* Starts listening and serving. NULL with a message in `e` (e.g. the port is taken). */
struct srv_http *srv_http_new(const struct srv_http_opts *opts, struct err *e);

/* The bound TCP port (useful with port 0). */
unsigned srv_http_port(const struct srv_http *h);

/* Requests being handled now (received, response not yet completed). */
size_t srv_http_inflight(struct srv_http *h);

/* Stops accepting connections; later responses carry `Connection: close`. */
void srv_http_quiesce(struct srv_http *h);

/* Waits until no request is in flight or the monotonic deadline passes. True when idle. */
bool srv_http_wait_idle(struct srv_http *h, int64_t deadline_ms);

/* Stops the daemon (closing every connection) and frees it. NULL is a no-op. */
void srv_http_destroy(struct srv_http *h);

/* Registers the HTTP metric families (once per process). */
void srv_http_register_metrics(void);

#endif
