/*
 * http.c: the libmicrohttpd daemon, request life cycle and access log. See http.h.
 *
 * Life of a request:
 *   uri_log_cb      request line read: allocate `struct rq`, keep the raw URI, start the clock
 *   access_cb #1    headers read: request id, route match (404/405/400), Content-Length vs the
 *                   route's cap (413 before any body byte is read), the admit hook (its
 *                   refusal, e.g. 401 or 429 + Retry-After: at once for a client waiting for
 *                   100-continue, else its body is dropped, never buffered, then answered)
 *   access_cb #2..  body chunks appended to a capped buffer (413 once past it)
 *   access_cb last  call the handler, queue its response
 *   completed_cb    access log line, metrics, free `struct rq`
 * Connections are tracked (conn_tracker.c) so a watchdog can cut off clients that take longer
 * than the read timeout to send a request.
 */
#include "server/http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/timeutil.h"
#include "common/uuid.h"
#include "server/conn_tracker.h"

#define RID_MAX     128
#define DISCARD_MAX (16u * 1024u * 1024u) /* body bytes discarded after a 413 before we hang up */

struct srv_http {
    struct MHD_Daemon *d;
    struct srv_http_opts opts;
    unsigned port;
    atomic_size_t inflight;
    atomic_bool quiescing;
    struct srv_conn_tracker *tracker;
};

/* Per-request state (MHD's con_cls). */
struct rq {
    struct srv_http *srv;
    struct MHD_Connection *mc;
    char *raw_uri;
    const char *raw_query; /* points into raw_uri after the '?', or "" */
    int64_t start_ns;
    char rid[RID_MAX + 1];
    char method[16];
    bool started;  /* access_cb seen once */
    bool answered; /* a response was queued */
    bool too_large;
    bool refused; /* the admit hook refused: drop the body, answer `refusal` */
    struct h_response refusal;
    char remote[64]; /* the peer's address, once asked for */
    size_t discarded;
    size_t bytes_in;
    struct srv_match_result match;
    const struct srv_route *route;
    struct buf body;
    int status;
    size_t bytes_out;
    const char *error_code;
};

static const double latency_buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                         0.1,    0.25,  0.5,    1,     2.5,  5,     10};

void srv_http_register_metrics(void)
{
    metrics_register("imgsvc_http_requests_total", METRICS_COUNTER,
                     "HTTP requests by server, route, method and status", NULL, 0);
    metrics_register("imgsvc_http_request_duration_seconds", METRICS_HISTOGRAM,
                     "HTTP request latency from request line to response queued, by route",
                     latency_buckets, sizeof(latency_buckets) / sizeof(latency_buckets[0]));
    metrics_register("imgsvc_http_read_timeouts_total", METRICS_COUNTER,
                     "Connections closed because a request took longer than the read timeout", NULL,
                     0);
}

/* A client-supplied request id is kept when it is 1..128 safe characters. */
static bool rid_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > RID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.' || c == ':';
        if (!ok)
            return false;
    }
    return true;
}

static void *uri_log_cb(void *cls, const char *uri, struct MHD_Connection *mc)
{
    struct rq *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return NULL;
    r->srv = cls;
    r->mc = mc;
    r->raw_uri = strdup(uri ? uri : "");
    r->start_ns = ts_now_mono_ns();
    buf_init(&r->body, 0);
    return r;
}

static const char *lookup_cb(void *conn, enum h_kv_kind kind, const char *name)
{
    return MHD_lookup_connection_value(
        conn, kind == H_KV_HEADER ? MHD_HEADER_KIND : MHD_GET_ARGUMENT_KIND, name);
}

struct each_ctx {
    h_kv_cb cb;
    void *ctx;
};

static enum MHD_Result each_iter(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    (void)kind;
    struct each_ctx *ec = cls;
    return ec->cb(ec->ctx, key, value) ? MHD_YES : MHD_NO;
}

static void each_cb(void *conn, enum h_kv_kind kind, h_kv_cb cb, void *ctx)
{
    struct each_ctx ec = {cb, ctx};
    MHD_get_connection_values(conn, kind == H_KV_HEADER ? MHD_HEADER_KIND : MHD_GET_ARGUMENT_KIND,
                              each_iter, &ec);
}

static void peer_text(struct MHD_Connection *mc, char *out, size_t cap)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    out[0] = '\0';
    if (ci == NULL || ci->client_addr == NULL)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  (socklen_t)cap);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                  (socklen_t)cap);
}

/* The handlers' view of a routed request: headers, query, route parameters and the body read
 * so far (none before the last access_cb). */
static void request_view(struct rq *r, struct h_request *req)
{
    *req = (struct h_request){
        .method = r->method,
        .path = r->raw_uri,
        .raw_query = r->raw_query,
        .route = r->route->pattern,
        .request_id = r->rid,
        .nparams = r->match.nparams,
        .body = r->body.len ? r->body.data : NULL,
        .body_len = r->body.len,
        .route_ctx = r->route->ctx,
        .conn = r->mc,
        .lookup = lookup_cb,
        .each = each_cb,
    };
    if (r->remote[0] == '\0')
        peer_text(r->mc, r->remote, sizeof(r->remote));
    req->remote = r->remote;
    memcpy(req->params, r->match.params, sizeof(req->params));
}

/* Queues `resp` (consumed) on the connection with the common headers. */
static enum MHD_Result send_response(struct rq *r, struct h_response *resp)
{
    struct MHD_Response *mr =
        MHD_create_response_from_buffer(resp->body_len, resp->body, MHD_RESPMEM_MUST_FREE);
    if (mr == NULL) {
        h_resp_free(resp);
        return MHD_NO;
    }
    resp->body = NULL; /* now owned by MHD */
    if (resp->content_type != NULL)
        MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type);
    for (size_t i = 0; i < resp->nheaders; i++)
        MHD_add_response_header(mr, resp->headers[i].name, resp->headers[i].value);
    MHD_add_response_header(mr, "X-Request-Id", r->rid);
    if (atomic_load(&r->srv->quiescing))
        MHD_add_response_header(mr, MHD_HTTP_HEADER_CONNECTION, "close");
    r->status = resp->status;
    r->bytes_out = resp->body_len;
    r->error_code = resp->error_code;
    r->answered = true;
    enum MHD_Result ret = MHD_queue_response(r->mc, (unsigned)resp->status, mr);
    MHD_destroy_response(mr);
    h_resp_free(resp);
    srv_conn_tracker_busy(r->srv->tracker, r->mc);
    return ret;
}

/* Fills `resp` with the server's own error (the API's JSON shape or opts.render_error's). */
static void error_response(struct rq *r, struct h_response *resp, int status, const char *code,
                           const char *msg)
{
    struct h_request req = {.request_id = r->rid,
                            .method = r->method,
                            .path = r->raw_uri,
                            .raw_query = r->raw_query ? r->raw_query : "",
                            .conn = r->mc,
                            .lookup = lookup_cb,
                            .each = each_cb};
    if (r->srv->opts.render_error != NULL)
        r->srv->opts.render_error(&req, resp, status, code, msg);
    else
        h_resp_error(resp, &req, status, code, "%s", msg);
}

static enum MHD_Result send_error(struct rq *r, int status, const char *code, const char *msg)
{
    struct h_response resp = {0};
    error_response(r, &resp, status, code, msg);
    if (status == 405 && r->match.allow[0] != '\0')
        (void)h_resp_header(&resp, "Allow", r->match.allow);
    return send_response(r, &resp);
}

static enum MHD_Result send_too_large(struct rq *r)
{
    char msg[160];
    snprintf(msg, sizeof(msg), "request body is larger than this route's limit of %zu bytes",
             r->route ? r->route->body_max : (size_t)0);
    return send_error(r, 413, "payload_too_large", msg);
}

/* The admit hook's refusal (kept in `r` since the headers were read). */
static enum MHD_Result send_refusal(struct rq *r)
{
    struct h_response resp = r->refusal;
    memset(&r->refusal, 0, sizeof(r->refusal));
    if (resp.status == 0)
        error_response(r, &resp, 500, "internal", "the request was refused without an answer");
    return send_response(r, &resp);
}

static bool expects_continue(struct rq *r)
{
    const char *expect = MHD_lookup_connection_value(r->mc, MHD_HEADER_KIND, "Expect");
    return expect != NULL && strcasecmp(expect, "100-continue") == 0;
}

/* First call: request id, routing, early 413 and 429. Returns MHD_YES to continue. */
static enum MHD_Result on_headers(struct rq *r, const char *method)
{
    const char *rid = MHD_lookup_connection_value(r->mc, MHD_HEADER_KIND, "X-Request-Id");
    if (rid_ok(rid)) {
        snprintf(r->rid, sizeof(r->rid), "%s", rid);
    } else if (uuid_v4(r->rid) != ERR_OK) {
        snprintf(r->rid, sizeof(r->rid), "unknown");
    }
    snprintf(r->method, sizeof(r->method), "%s", method);
    r->started = true;
    atomic_fetch_add(&r->srv->inflight, 1);

    char *q = strchr(r->raw_uri, '?');
    r->raw_query = "";
    if (q != NULL) {
        *q = '\0'; /* raw_uri is now the raw path */
        r->raw_query = q + 1;
    }
    enum srv_match m =
        srv_router_match(r->srv->opts.routes, r->srv->opts.nroutes, method, r->raw_uri, &r->match);
    if (m == SRV_MATCH_BAD_PATH)
        return send_error(r, 400, "bad_request", "the request path is malformed");
    if (m == SRV_MATCH_NO_PATH)
        return send_error(r, 404, "not_found", "no such route");
    if (m == SRV_MATCH_NO_METHOD)
        return send_error(r, 405, "method_not_allowed", "method not allowed on this route");
    r->route = r->match.route;
    buf_init(&r->body, r->route->body_max);

    const char *cl = MHD_lookup_connection_value(r->mc, MHD_HEADER_KIND, "Content-Length");
    if (cl != NULL) {
        char *end = NULL;
        unsigned long long n = strtoull(cl, &end, 10);
        if (end != cl && *end == '\0' && n > r->route->body_max) {
            /* Answer before the body when the client waits for 100-continue or the excess is
             * huge; otherwise read and drop it so a naive client can still read the 413. */
            r->too_large = true;
            if (expects_continue(r) || n - r->route->body_max > DISCARD_MAX)
                return send_too_large(r);
        }
    }
    if (!r->too_large && r->srv->opts.admit != NULL) {
        struct h_request req;
        request_view(r, &req);
        if (!r->srv->opts.admit(r->route, &req, &r->refusal)) {
            /* Same rule as the 413: answer now when the client waits, else drop its body first
             * (closing on a client still sending would reset the connection before it reads). */
            r->refused = true;
            if (expects_continue(r))
                return send_refusal(r);
        } else {
            h_resp_free(&r->refusal); /* in case the hook wrote to it and admitted anyway */
        }
    }
    return MHD_YES;
}

static enum MHD_Result on_body(struct rq *r, const char *data, size_t *size)
{
    size_t n = *size;
    *size = 0;
    r->bytes_in += n;
    if (r->answered) { /* an early error was queued; MHD closes after sending it */
        return MHD_YES;
    }
    if (r->refused && !r->too_large) {
        r->discarded += n;
        if (r->discarded > r->route->body_max) { /* over the cap as well: the 413 wins */
            r->too_large = true;
            r->discarded -= r->route->body_max;
        }
        return MHD_YES;
    }
    if (r->too_large) {
        r->discarded += n;
        return r->discarded > DISCARD_MAX ? MHD_NO : MHD_YES;
    }
    if (buf_append(&r->body, data, n) != ERR_OK) {
        r->too_large = true;
        buf_free(&r->body);
        r->discarded = n;
    }
    return MHD_YES;
}

static void dispatch(struct rq *r)
{
    struct h_request req;
    request_view(r, &req);
    struct h_response resp = {0};
    r->route->fn(&req, &resp);
    if (resp.status == 0)
        h_resp_error(&resp, &req, 500, "internal", "the handler produced no response");
    send_response(r, &resp);
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *mc, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls)
{
    (void)cls;
    (void)url;
    (void)version;
    struct rq *r = *con_cls;
    if (r == NULL)
        return MHD_NO; /* out of memory in uri_log_cb */
    if (!r->started)
        return on_headers(r, method);
    if (*upload_data_size > 0)
        return on_body(r, upload_data, upload_data_size);
    if (r->answered)
        return MHD_YES;
    srv_conn_tracker_busy(r->srv->tracker, mc);
    if (r->too_large)
        return send_too_large(r);
    if (r->refused)
        return send_refusal(r);
    dispatch(r);
    return MHD_YES;
}

static const char *termination_name(enum MHD_RequestTerminationCode toe)
{
    switch (toe) {
    case MHD_REQUEST_TERMINATED_COMPLETED_OK:
        return "ok";
    case MHD_REQUEST_TERMINATED_WITH_ERROR:
        return "error";
    case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED:
        return "timeout";
    case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN:
        return "shutdown";
    case MHD_REQUEST_TERMINATED_READ_ERROR:
        return "client_closed";
    case MHD_REQUEST_TERMINATED_CLIENT_ABORT:
        return "client_abort";
    }
    return "unknown";
}

/* Adds a JSON number written here: v, or v / 10^decimals with that many digits after the
 * point. cJSON prints a double with sprintf and re-reads it with sscanf, which was a tenth of
 * the CPU time of a POST /v1/uploads (bench/presign). */
static void add_number(cJSON *o, const char *name, uint64_t v, int decimals)
{
    char text[32];
    size_t n = sizeof(text) - 1;
    text[n] = '\0';
    for (int d = 0; v > 0 || d <= decimals; d++, v /= 10) {
        if (decimals > 0 && d == decimals)
            text[--n] = '.';
        text[--n] = (char)('0' + v % 10);
    }
    cJSON_AddRawToObject(o, name, text + n);
}

static void record(struct rq *r, enum MHD_RequestTerminationCode toe)
{
    int64_t ns = ts_now_mono_ns() - r->start_ns;
    double secs = (double)ns / 1e9;
    const char *route = r->route ? r->route->pattern : "unmatched";
    char labels[256], path[512], method[40];
    metrics_label_escape(r->method[0] ? r->method : "none", method, sizeof(method));
    snprintf(labels, sizeof(labels), "server=\"%s\",route=\"%s\",method=\"%s\",status=\"%d\"",
             r->srv->opts.name, route, method, r->status);
    metrics_add("imgsvc_http_requests_total", labels, 1);
    snprintf(labels, sizeof(labels), "server=\"%s\",route=\"%s\"", r->srv->opts.name, route);
    metrics_observe("imgsvc_http_request_duration_seconds", labels, secs);

    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "server", r->srv->opts.name);
    cJSON_AddStringToObject(f, "method", r->method[0] ? r->method : "-");
    snprintf(path, sizeof(path), "%s", r->raw_uri ? r->raw_uri : "");
    char *q = strchr(path, '?'); /* never log a query string: it may hold tokens */
    if (q != NULL)
        *q = '\0';
    cJSON_AddStringToObject(f, "path", path);
    cJSON_AddStringToObject(f, "route", route);
    add_number(f, "status", (uint64_t)(r->status > 0 ? r->status : 0), 0);
    add_number(f, "bytesIn", r->bytes_in, 0);
    add_number(f, "bytesOut", r->bytes_out, 0);
    add_number(f, "durationMs", (uint64_t)(ns > 0 ? ns / 1000 : 0), 3); /* microseconds */
    char remote[64];
    peer_text(r->mc, remote, sizeof(remote));
    cJSON_AddStringToObject(f, "remote", remote);
    if (r->error_code != NULL)
        cJSON_AddStringToObject(f, "errorCode", r->error_code);
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
        cJSON_AddStringToObject(f, "termination", termination_name(toe));
    log_fields(LOGL_INFO, "http", r->rid[0] ? r->rid : NULL, "request", f);
}

static void completed_cb(void *cls, struct MHD_Connection *mc, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct srv_http *h = cls;
    struct rq *r = *con_cls;
    *con_cls = NULL;
    srv_conn_tracker_reading(h->tracker, mc);
    if (r == NULL)
        return;
    record(r, toe);
    if (r->started)
        atomic_fetch_sub(&h->inflight, 1);
    srv_match_free(&r->match);
    buf_free(&r->body);
    h_resp_free(&r->refusal);
    free(r->raw_uri);
    free(r);
}

static void notify_conn_cb(void *cls, struct MHD_Connection *mc, void **socket_context,
                           enum MHD_ConnectionNotificationCode toe)
{
    struct srv_http *h = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED)
        *socket_context = srv_conn_tracker_add(h->tracker, mc);
    else if (toe == MHD_CONNECTION_NOTIFY_CLOSED)
        srv_conn_tracker_remove(h->tracker, *socket_context);
}

static void mhd_log_cb(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    log_msg(LOGL_WARN, "mhd", NULL, "%s", msg);
}

static bool make_sockaddr(const char *addr, unsigned port, struct sockaddr_storage *ss, bool *v6)
{
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *s4 = (struct sockaddr_in *)(void *)ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)(void *)ss;
    if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        *v6 = false;
        return true;
    }
    if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        *v6 = true;
        return true;
    }
    return false;
}

struct srv_http *srv_http_new(const struct srv_http_opts *opts, struct err *e)
{
    struct sockaddr_storage ss;
    bool v6 = false;
    if (!make_sockaddr(opts->addr, opts->port, &ss, &v6)) {
        err_set(e, ERR_INVALID, "listen address %s is not an IP address", opts->addr);
        return NULL;
    }
    struct srv_http *h = calloc(1, sizeof(*h));
    if (h == NULL)
        return err_set(e, ERR_NOMEM, "out of memory"), NULL;
    h->opts = *opts;
    h->tracker = srv_conn_tracker_new(opts->read_timeout_s, opts->name);
    if (h->tracker == NULL) {
        free(h);
        return err_set(e, ERR_NOMEM, "out of memory"), NULL;
    }
    unsigned flags =
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG | (v6 ? MHD_USE_IPv6 : 0);
    h->d = MHD_start_daemon(flags, (uint16_t)opts->port, NULL, NULL, access_cb, h,
                            MHD_OPTION_EXTERNAL_LOGGER, mhd_log_cb, h, MHD_OPTION_SOCK_ADDR, &ss,
                            MHD_OPTION_THREAD_POOL_SIZE, opts->threads, MHD_OPTION_CONNECTION_LIMIT,
                            opts->max_connections, MHD_OPTION_CONNECTION_TIMEOUT,
                            opts->read_timeout_s, MHD_OPTION_URI_LOG_CALLBACK, uri_log_cb, h,
                            MHD_OPTION_NOTIFY_COMPLETED, completed_cb, h,
                            MHD_OPTION_NOTIFY_CONNECTION, notify_conn_cb, h, MHD_OPTION_END);
    if (h->d == NULL) {
        srv_conn_tracker_destroy(h->tracker);
        free(h);
        err_set(e, ERR_IO, "cannot listen on %s port %u (in use or not permitted)", opts->addr,
                opts->port);
        return NULL;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    h->port = di != NULL ? di->port : opts->port;
    return h;
}

unsigned srv_http_port(const struct srv_http *h)
{
    return h->port;
}

size_t srv_http_inflight(struct srv_http *h)
{
    return atomic_load(&h->inflight);
}

void srv_http_quiesce(struct srv_http *h)
{
    if (atomic_exchange(&h->quiescing, true))
        return;
    MHD_socket fd = MHD_quiesce_daemon(h->d);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
}

bool srv_http_wait_idle(struct srv_http *h, int64_t deadline_ms)
{
    while (atomic_load(&h->inflight) > 0) {
        if (ts_now_mono_ms() >= deadline_ms)
            return false;
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return true;
}

void srv_http_destroy(struct srv_http *h)
{
    if (h == NULL)
        return;
    MHD_stop_daemon(h->d);
    srv_conn_tracker_destroy(h->tracker);
    free(h);
}
