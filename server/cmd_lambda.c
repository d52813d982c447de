/*
 * cmd_lambda.c: `imgsvc lambda`. See cmd_lambda.h.
 *
 * Deadlines: Lambda-Runtime-Deadline-Ms is checked before each record (no record starts with
 * less than the margin left; the invocation is answered with an error instead, and Lambda
 * retries it). The S3 client has no per-call deadline, so its per-attempt timeout is capped at
 * the time an invocation has left (less the margin) when it starts: the pipeline is reopened
 * with a smaller cap when an invocation has less time than the current one allows (and with a
 * larger one again when invocations get twice the time), so in steady state, where every
 * invocation starts with the function's timeout, the client and its connections are kept.
 * Retries inside one record (the client's and the pipeline's) can still add up past the
 * deadline; Lambda then ends the invocation, and its retry finds the work done or redoes it.
 */
#include "server/cmd_lambda.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/timeutil.h"
#include "server/cmd_process.h"
#include "server/lambda_rt.h"

#define SUBSYS          "lambda"
#define ERRT_INIT       "Imgsvc.InitError"
#define ERRT_EVENT      "Imgsvc.InvalidEvent"
#define ERRT_DEADLINE   "Imgsvc.DeadlineExceeded"
#define ERRT_RETRY      "Imgsvc.RetryLater"
#define ERRT_INTERNAL   "Imgsvc.InternalError"
#define S3_CAP_STEP_MS  1000L /* caps are whole seconds, so similar deadlines share a client */
#define ERR_MESSAGE_MAX 1024

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* The loop's state. */
struct lambda {
    const struct srv_config *cfg;
    struct srv_lrt *rt;
    struct srv_cmd_pipe *pipe;
    long s3_cap_ms; /* per-attempt S3 timeout of `pipe` */
};

struct gate {
    int64_t deadline_ms; /* 0: none */
    long margin_ms;
};

static bool gate_open(void *arg)
{
    const struct gate *g = arg;
    return g->deadline_ms == 0 || ts_now_realtime_ms() + g->margin_ms < g->deadline_ms;
}

/* Reopens the pipeline when the time left calls for another S3 timeout cap. */
static enum err_code fit_s3_timeout(struct lambda *l, const struct gate *g, const char *rid,
                                    struct err *e)
{
    long want = (long)l->cfg->s3_timeout_ms;
    if (g->deadline_ms != 0) {
        int64_t left = g->deadline_ms - ts_now_realtime_ms() - g->margin_ms;
        if (left < want)
            want = left >= S3_CAP_STEP_MS ? (long)(left / S3_CAP_STEP_MS * S3_CAP_STEP_MS)
                                          : (long)(left > 1 ? left : 1);
    }
    if (l->pipe != NULL && want >= l->s3_cap_ms &&
        (want < 2 * l->s3_cap_ms || l->s3_cap_ms == (long)l->cfg->s3_timeout_ms))
        return ERR_OK;
    struct srv_cmd_pipe *np = srv_cmd_pipe_open(l->cfg, want, e);
    if (np == NULL)
        return e->code != ERR_OK ? e->code : ERR_INTERNAL;
    srv_cmd_pipe_close(l->pipe);
    l->pipe = np;
    l->s3_cap_ms = want;
    log_msg(LOGL_INFO, SUBSYS, rid, "S3 attempts capped at %ld ms for the invocation deadline",
            want);
    return ERR_OK;
}

/* Answers the invocation with an error (logged). */
static void answer_error(struct lambda *l, const char *rid, const char *type, const char *msg)
{
    struct err e = {0};
    log_msg(LOGL_ERROR, SUBSYS, rid, "invocation failed (%s): %s", type, msg);
    if (srv_lrt_error(l->rt, rid, type, msg, &e) != ERR_OK)
        log_msg(LOGL_ERROR, SUBSYS, rid, "cannot post the error: %s", e.msg);
}

/* The keys and reasons of RETRY records, for the error message. */
static void retry_message(const struct srv_event_outcome *o, char *out, size_t cap)
{
    size_t n = 0, used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < o->count; i++)
        n += o->results[i].outcome == H_PIPE_RETRY;
    int w = snprintf(out, cap, "%zu of %zu records hit transient errors; retry the event:", n,
                     o->count);
    used = w > 0 && (size_t)w < cap ? (size_t)w : cap - 1;
    for (size_t i = 0; i < o->count && used + 1 < cap; i++) {
        const struct h_pipe_result *r = &o->results[i];
        if (r->outcome != H_PIPE_RETRY)
            continue;
        w = snprintf(out + used, cap - used, " %s (%s)", r->key, r->reason);
        used = w > 0 && (size_t)w < cap - used ? used + (size_t)w : cap - 1;
    }
}

/* Runs the event and answers the invocation. */
static void run_invocation(struct lambda *l, const struct srv_lrt_invocation *inv)
{
    const char *rid = inv->request_id;
    struct gate g = {.deadline_ms = inv->deadline_ms,
                     .margin_ms = (long)l->cfg->lambda_deadline_margin_ms};
    struct srv_event_outcome o = {0};
    struct err e = {0};
    char msg[ERR_MESSAGE_MAX];
    char *json = NULL;
    if (!gate_open(&g)) {
        snprintf(msg, sizeof(msg), "%lld ms left, less than IMGSVC_LAMBDA_DEADLINE_MARGIN_MS=%lld",
                 (long long)(g.deadline_ms - ts_now_realtime_ms()),
                 l->cfg->lambda_deadline_margin_ms);
        answer_error(l, rid, ERRT_DEADLINE, msg);
        goto cleanup;
    }
    if (fit_s3_timeout(l, &g, rid, &e) != ERR_OK) {
        answer_error(l, rid, ERRT_INTERNAL, e.msg);
        goto cleanup;
    }
    enum err_code rc =
        srv_event_run(srv_cmd_pipe_handler(l->pipe), inv->event, inv->event_len,
                      (size_t)l->cfg->events_max_records, gate_open, &g, SUBSYS, rid, &o, &e);
    bool retry = false;
    if (rc == ERR_OK)
        srv_event_tally(&o, NULL, &retry);
    if (rc == ERR_TIMEOUT || rc == ERR_INVALID || rc == ERR_TOO_LARGE) {
        answer_error(l, rid, rc == ERR_TIMEOUT ? ERRT_DEADLINE : ERRT_EVENT, e.msg);
    } else if (rc != ERR_OK) {
        answer_error(l, rid, ERRT_INTERNAL, e.msg);
    } else if (retry) {
        retry_message(&o, msg, sizeof(msg));
        answer_error(l, rid, ERRT_RETRY, msg);
    } else if ((json = srv_event_results_json(&o)) == NULL) {
        answer_error(l, rid, ERRT_INTERNAL, "out of memory");
    } else if (srv_lrt_respond(l->rt, rid, json, strlen(json), &e) != ERR_OK) {
        log_msg(LOGL_ERROR, SUBSYS, rid, "cannot post the response: %s", e.msg);
        if (e.code == ERR_TOO_LARGE)
            answer_error(l, rid, ERRT_INTERNAL, "the results are larger than Lambda accepts");
    } else {
        log_msg(LOGL_INFO, SUBSYS, rid, "invocation done: %zu records", o.count);
    }
cleanup:
    free(json);
    srv_event_outcome_free(&o);
}

static void log_invocation(const struct srv_lrt_invocation *inv)
{
    cJSON *f = cJSON_CreateObject();
    if (f != NULL) {
        cJSON_AddStringToObject(f, "traceId", inv->trace_id);
        cJSON_AddStringToObject(f, "functionArn", inv->function_arn);
        cJSON_AddNumberToObject(f, "deadlineMs", (double)inv->deadline_ms);
        cJSON_AddNumberToObject(f, "remainingMs",
                                inv->deadline_ms ? (double)(inv->deadline_ms - ts_now_realtime_ms())
                                                 : -1);
        cJSON_AddNumberToObject(f, "bytes", (double)inv->event_len);
    }
    log_fields(LOGL_INFO, SUBSYS, inv->request_id, "invocation", f);
}

void srv_lambda_export_trace(const char *trace_id)
{
    if (trace_id != NULL && trace_id[0] != '\0')
        setenv("_X_AMZN_TRACE_ID", trace_id, 1);
    else
        unsetenv("_X_AMZN_TRACE_ID");
}

/* One turn of the loop: false when the loop must end (*code says how). */
static bool turn(struct lambda *l, int *code)
{
    struct srv_lrt_invocation inv;
    struct err e = {0};
    enum err_code rc = srv_lrt_next(l->rt, &inv, &e);
    bool go_on = true;
    if (rc == ERR_BUSY) { /* SIGTERM while waiting */
        go_on = false;
    } else if (rc == ERR_IO || (rc != ERR_OK && !srv_lrt_id_valid(inv.request_id))) {
        log_msg(LOGL_ERROR, SUBSYS, NULL, "%s; exiting", e.msg);
        *code = 1;
        go_on = false;
    } else if (rc != ERR_OK) {
        answer_error(l, inv.request_id, ERRT_EVENT, e.msg);
    } else {
        srv_lambda_export_trace(inv.trace_id);
        log_invocation(&inv);
        run_invocation(l, &inv);
    }
    srv_lrt_invocation_free(&inv);
    return go_on;
}

int srv_cmd_lambda(const struct srv_config *cfg, int argc, char **argv)
{
    if (argc > 0) {
        bool help = strcmp(argv[0], "-h") == 0 || strcmp(argv[0], "--help") == 0;
        fprintf(help ? stdout : stderr,
                "usage: imgsvc lambda   (no arguments)\n\n"
                "Runs as an AWS Lambda function: the Runtime API loop at "
                "$AWS_LAMBDA_RUNTIME_API around the\nevent handler of `imgsvc process`. "
                "See README.md, \"Running as AWS Lambda\".\n");
        return help ? 0 : 2;
    }
    const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
    struct err e = {0};
    struct lambda l = {.cfg = cfg};
    int code = 0;
    install_signals();
    l.rt = srv_lrt_new(api, (size_t)cfg->events_max_bytes, &stop_flag, &e);
    if (l.rt == NULL) {
        fprintf(stderr, "imgsvc lambda: %s (it is set by Lambda)\n", e.msg);
        return 2;
    }
    l.s3_cap_ms = (long)cfg->s3_timeout_ms;
    l.pipe = srv_cmd_pipe_open(cfg, l.s3_cap_ms, &e);
    if (l.pipe == NULL) {
        log_msg(LOGL_ERROR, SUBSYS, NULL, "init failed: %s", e.msg);
        struct err pe = {0};
        if (srv_lrt_error(l.rt, NULL, ERRT_INIT, e.msg, &pe) != ERR_OK)
            log_msg(LOGL_ERROR, SUBSYS, NULL, "cannot post the init error: %s", pe.msg);
        code = 1;
        goto cleanup;
    }
    log_msg(LOGL_INFO, SUBSYS, NULL, "runtime started (Runtime API %s, bucket %s)", api,
            cfg->s3_bucket);
    while (!stop_flag && turn(&l, &code))
        ;
    if (stop_flag)
        log_msg(LOGL_INFO, SUBSYS, NULL, "stopping on a signal");
cleanup:
    srv_cmd_pipe_close(l.pipe);
    srv_lrt_free(l.rt);
    return code;
}

int srv_cmd_lambda_init_failed(const char *message)
{
    const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
    struct err e = {0};
    log_msg(LOGL_ERROR, SUBSYS, NULL, "init failed: %s", message);
    if (api == NULL || api[0] == '\0')
        return 1;
    struct srv_lrt *rt = srv_lrt_new(api, 0, NULL, &e);
    if (rt == NULL || srv_lrt_error(rt, NULL, ERRT_INIT, message, &e) != ERR_OK)
        log_msg(LOGL_ERROR, SUBSYS, NULL, "cannot post the init error: %s", e.msg);
    srv_lrt_free(rt);
    return 1;
}
