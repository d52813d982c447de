/*
 * cmd_process.c: `imgsvc process` and the event runner `imgsvc lambda` shares. See
 * cmd_process.h.
 *
 * The runner first collects every S3 record of the document (unwrapping SNS and SQS envelopes
 * recursively, bounded in depth and record count) so a malformed document runs nothing, then
 * hands the records one by one to the pipeline, asking the caller's gate before each.
 */
#include "server/cmd_process.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/json.h"
#include "common/log.h"
#include "s3/events.h"
#include "s3/sns.h"

#define RESULTS_JSON_MAX (64u << 20) /* {"results":[...]}: far above max_records results */

/* The records of one document, gathered before any runs. */
struct collect {
    struct s3_event_record *recs;
    size_t n;
    size_t max;
    bool test_event;
};

static enum err_code collect_doc(struct collect *c, const char *json, size_t len, int depth,
                                 struct err *e);

static enum err_code collect_s3(struct collect *c, const char *json, size_t len, struct err *e)
{
    struct s3_event_batch b = {0};
    struct err pe = {0};
    enum err_code rc = s3_events_parse(json, len, c->max, &b, &pe);
    if (rc != ERR_OK)
        return err_set(e, rc, "event: %s", pe.msg);
    if (b.count > c->max - c->n) {
        rc = err_set(e, ERR_TOO_LARGE, "event: more than %zu records", c->max);
        goto cleanup;
    }
    c->test_event = c->test_event || b.test_event;
    if (b.count > 0) {
        struct s3_event_record *grown = realloc(c->recs, (c->n + b.count) * sizeof(*grown));
        if (grown == NULL) {
            rc = err_set(e, ERR_NOMEM, "out of memory");
            goto cleanup;
        }
        c->recs = grown;
        memcpy(c->recs + c->n, b.records, b.count * sizeof(*grown));
        c->n += b.count;
    }
cleanup:
    s3_event_batch_free(&b);
    return rc;
}

/* An SNS HTTP envelope: its Message, when it is a Notification. */
static enum err_code collect_sns(struct collect *c, const char *json, size_t len, int depth,
                                 struct err *e)
{
    struct s3_sns_msg m = {0};
    struct err pe = {0};
    enum err_code rc = s3_sns_parse(json, len, &m, &pe);
    if (rc != ERR_OK)
        rc = err_set(e, rc, "event: SNS envelope: %s", pe.msg);
    else if (m.type != S3_SNS_NOTIFICATION)
        rc = err_set(e, ERR_INVALID, "event: an SNS %s, not a Notification carrying an S3 event",
                     m.type_name ? m.type_name : "message");
    else
        rc = collect_doc(c, m.message, strlen(m.message), depth + 1, e);
    s3_sns_msg_free(&m);
    return rc;
}

/* SQS ({"body": "..."}) or Lambda SNS ({"Sns": {"Message": "..."}}) records: each inner text
 * is a document of its own. */
static enum err_code collect_wrapped(struct collect *c, const cJSON *records, bool sqs, int depth,
                                     struct err *e)
{
    size_t i = 0;
    const cJSON *r = NULL;
    cJSON_ArrayForEach(r, records)
    {
        const char *inner =
            sqs ? json_get_str(r, "body")
                : json_get_str(cJSON_GetObjectItemCaseSensitive(r, "Sns"), "Message");
        if (inner == NULL)
            return err_set(e, ERR_INVALID, "event: %s record %zu has no %s", sqs ? "SQS" : "SNS", i,
                           sqs ? "body" : "Sns.Message");
        enum err_code rc = collect_doc(c, inner, strlen(inner), depth + 1, e);
        if (rc != ERR_OK)
            return rc;
        i++;
    }
    return ERR_OK;
}

static enum err_code collect_doc(struct collect *c, const char *json, size_t len, int depth,
                                 struct err *e)
{
    if (depth > SRV_EVENT_MAX_DEPTH)
        return err_set(e, ERR_INVALID, "event: envelopes nested more than %d deep",
                       SRV_EVENT_MAX_DEPTH);
    if (s3_sns_detect(json, len))
        return collect_sns(c, json, len, depth, e);
    struct err pe = {0};
    cJSON *root = json_parse(json, len, &pe);
    if (root == NULL)
        return err_set(e, ERR_INVALID, "event: not JSON: %s", pe.msg);
    enum err_code rc;
    const cJSON *recs = cJSON_GetObjectItemCaseSensitive(root, "Records");
    const cJSON *first = cJSON_IsArray(recs) ? recs->child : NULL;
    if (first != NULL && cJSON_GetObjectItemCaseSensitive(first, "body") != NULL)
        rc = collect_wrapped(c, recs, true, depth, e);
    else if (first != NULL && cJSON_GetObjectItemCaseSensitive(first, "Sns") != NULL)
        rc = collect_wrapped(c, recs, false, depth, e);
    else
        rc = collect_s3(c, json, len, e);
    cJSON_Delete(root);
    return rc;
}

/* The pipeline logs every record itself; under Lambda one more line ties the record to the
 * invocation's request id. */
static void log_result(const struct h_pipe_result *r, const char *subsys, const char *rid)
{
    if (rid == NULL)
        return;
    enum log_level lvl = r->outcome == H_PIPE_RETRY    ? LOGL_ERROR
                         : r->outcome == H_PIPE_FAILED ? LOGL_WARN
                                                       : LOGL_INFO;
    cJSON *f = cJSON_CreateObject();
    if (f != NULL) {
        cJSON_AddStringToObject(f, "outcome", h_pipe_outcome_name(r->outcome));
        cJSON_AddStringToObject(f, "key", r->key);
        cJSON_AddStringToObject(f, "uploadId", r->upload_id);
        cJSON_AddStringToObject(f, "reason", r->reason);
        cJSON_AddStringToObject(f, "detail", r->message);
        cJSON_AddNumberToObject(f, "attempts", r->attempts);
        cJSON_AddNumberToObject(f, "ms", r->ms);
    }
    log_fields(lvl, subsys, rid, "record", f);
}

enum err_code srv_event_run(struct h_pipeline *p, const char *json, size_t len, size_t max_records,
                            srv_event_gate_fn gate, void *gate_arg, const char *subsys,
                            const char *rid, struct srv_event_outcome *out, struct err *e)
{
    memset(out, 0, sizeof(*out));
    struct collect c = {.max = max_records};
    enum err_code rc = collect_doc(&c, json, len, 0, e);
    if (rc != ERR_OK)
        goto cleanup;
    out->records = c.n;
    out->test_event = c.test_event;
    out->results = c.n ? calloc(c.n, sizeof(*out->results)) : NULL;
    if (c.n > 0 && out->results == NULL) {
        rc = err_set(e, ERR_NOMEM, "out of memory");
        goto cleanup;
    }
    for (size_t i = 0; i < c.n; i++) {
        if (gate != NULL && !gate(gate_arg)) {
            rc = err_set(e, ERR_TIMEOUT,
                         "%zu of %zu records not started: too close to the deadline", c.n - i, c.n);
            goto cleanup;
        }
        struct h_pipe_result *r = &out->results[out->count++];
        enum err_code hc = h_pipeline_handle_record(p, &c.recs[i], r);
        if (hc != ERR_OK) { /* a programming error: keep the temp for a later try */
            r->outcome = H_PIPE_RETRY;
            snprintf(r->key, sizeof(r->key), "%.*s", (int)sizeof(r->key) - 1, c.recs[i].key);
            snprintf(r->reason, sizeof(r->reason), "%s", err_name(hc));
        }
        log_result(r, subsys, rid);
    }
cleanup:
    free(c.recs);
    return rc;
}

void srv_event_outcome_free(struct srv_event_outcome *o)
{
    if (o == NULL)
        return;
    free(o->results);
    memset(o, 0, sizeof(*o));
}

char *srv_event_results_json(const struct srv_event_outcome *o)
{
    struct buf b;
    buf_init(&b, RESULTS_JSON_MAX);
    enum err_code rc = buf_append_str(&b, "{\"results\":[");
    for (size_t i = 0; rc == ERR_OK && i < o->count; i++) {
        char *one = h_pipe_result_json(&o->results[i]);
        rc = one == NULL ? ERR_NOMEM : buf_printf(&b, "%s%s", i ? "," : "", one);
        free(one);
    }
    if (rc == ERR_OK)
        rc = buf_append_str(&b, o->test_event ? "],\"testEvent\":true}" : "]}");
    char *text = rc == ERR_OK ? buf_take(&b, NULL) : NULL;
    buf_free(&b);
    return text;
}

void srv_event_tally(const struct srv_event_outcome *o, bool *failed, bool *retry)
{
    bool f = false, r = false;
    for (size_t i = 0; i < o->count; i++) {
        f = f || o->results[i].outcome == H_PIPE_FAILED;
        r = r || o->results[i].outcome == H_PIPE_RETRY;
    }
    if (failed)
        *failed = f;
    if (retry)
        *retry = r;
}

static void process_usage(FILE *out)
{
    fprintf(out,
            "usage: imgsvc process FILE|-     run the event handler on one event document\n"
            "       imgsvc process --key KEY  run it on one temp key (delete/...), no event\n\n"
            "The document is what AWS Lambda would receive: an S3 notification (AWS, Ceph RGW,\n"
            "MinIO), an SNS envelope or Lambda SNS event carrying one, or an SQS batch of them.\n"
            "Talks to the S3 of IMGSVC_S3_ENDPOINT (the embedded store runs only inside `imgsvc\n"
            "serve`). Prints {\"results\":[...]} on standard output.\n"
            "Exit: 0 every record ready, done_before or ignored; 1 a record failed or must be\n"
            "retried; 2 bad use, settings or event.\n");
}

/* Reads FILE or standard input ("-") up to `cap` bytes into *out (caller frees). */
static enum err_code read_input(const char *path, size_t cap, char **out, size_t *len,
                                struct err *e)
{
    bool is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (f == NULL)
        return err_set(e, ERR_IO, "cannot open %s", path);
    struct buf b;
    buf_init(&b, cap);
    char chunk[16384];
    enum err_code rc = ERR_OK;
    size_t n;
    while (rc == ERR_OK && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        rc = buf_append(&b, chunk, n);
    if (rc == ERR_TOO_LARGE)
        err_set(e, rc, "%s is larger than IMGSVC_EVENTS_MAX_BYTES=%zu", path, cap);
    else if (rc == ERR_OK && ferror(f))
        rc = err_set(e, ERR_IO, "cannot read %s", path);
    else if (rc != ERR_OK)
        err_set(e, rc, "out of memory");
    if (rc == ERR_OK && (*out = buf_take(&b, len)) == NULL)
        rc = err_set(e, ERR_NOMEM, "out of memory");
    buf_free(&b);
    if (!is_stdin)
        fclose(f);
    return rc;
}

struct process_args {
    const char *file;
    const char *key;
};

static int parse_args(int argc, char **argv, struct process_args *a)
{
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            process_usage(stdout);
            return 0;
        }
        if (strcmp(argv[i], "--key") == 0 && i + 1 < argc && a->key == NULL) {
            a->key = argv[++i];
        } else if ((argv[i][0] != '-' || strcmp(argv[i], "-") == 0) && a->file == NULL) {
            a->file = argv[i];
        } else {
            fprintf(stderr, "imgsvc process: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if ((a->file == NULL) == (a->key == NULL)) {
        fprintf(stderr, "imgsvc process: give one event FILE (or - for standard input), or "
                        "--key KEY\n");
        process_usage(stderr);
        return 2;
    }
    return -1;
}

/* Prints the results; returns the exit code they call for. */
static int print_outcome(const struct srv_event_outcome *o)
{
    char *text = srv_event_results_json(o);
    if (text == NULL) {
        fprintf(stderr, "imgsvc process: out of memory\n");
        return 2;
    }
    printf("%s\n", text);
    fflush(stdout);
    free(text);
    bool failed = false, retry = false;
    srv_event_tally(o, &failed, &retry);
    return failed || retry ? 1 : 0;
}

static int run_key(struct h_pipeline *p, const char *key)
{
    struct h_pipe_result r = {0};
    struct srv_event_outcome o = {.results = &r, .count = 1, .records = 1};
    enum err_code rc = h_pipeline_handle_key(p, key, &r);
    if (rc != ERR_OK) {
        fprintf(stderr, "imgsvc process: %s\n", err_name(rc));
        return 2;
    }
    return print_outcome(&o);
}

static int run_file(const struct srv_config *cfg, struct h_pipeline *p, const char *path)
{
    char *doc = NULL;
    size_t len = 0;
    struct err e = {0};
    struct srv_event_outcome o = {0};
    int code = 2;
    if (read_input(path, (size_t)cfg->events_max_bytes, &doc, &len, &e) != ERR_OK) {
        fprintf(stderr, "imgsvc process: %s\n", e.msg);
        goto cleanup;
    }
    if (srv_event_run(p, doc, len, (size_t)cfg->events_max_records, NULL, NULL, "process", NULL, &o,
                      &e) != ERR_OK) {
        fprintf(stderr, "imgsvc process: %s: %s\n", path, e.msg);
        goto cleanup;
    }
    code = print_outcome(&o);
cleanup:
    srv_event_outcome_free(&o);
    free(doc);
    return code;
}

int srv_cmd_process(const struct srv_config *cfg, int argc, char **argv)
{
    struct process_args a = {0};
    int code = parse_args(argc, argv, &a);
    if (code >= 0)
        return code;
    struct err e = {0};
    struct srv_cmd_pipe *cp = srv_cmd_pipe_open(cfg, 0, &e);
    if (cp == NULL) {
        fprintf(stderr, "imgsvc process: %s\n", e.msg);
        return 2;
    }
    if (a.key != NULL)
        code = run_key(srv_cmd_pipe_handler(cp), a.key);
    else
        code = run_file(cfg, srv_cmd_pipe_handler(cp), a.file);
    srv_cmd_pipe_close(cp);
    return code;
}
