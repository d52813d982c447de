/*
 * cmd_reprocess.c: `imgsvc reprocess`. See cmd_reprocess.h.
 *
 * Steps: parse the arguments, check the prefix, open the one-shot pipeline (server/cmd_process.h),
 * list the origins, then N threads take keys from a shared index and call h_pipeline_reprocess;
 * every finished key updates the counts and prints (a JSON line, or the progress line at most
 * every PROGRESS_EVERY_MS and once at the end). The output lock also orders the lines.
 */
#include "server/cmd_reprocess.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/timeutil.h"
#include "handlers/pipeline.h"
#include "handlers/reprocess.h"
#include "imaging/img_init.h"
#include "server/cmd_process.h"

#define PROGRESS_EVERY_MS 200
#define OUTCOMES          5 /* enum h_pipe_outcome */

static void usage(FILE *out)
{
    fprintf(out, "usage: imgsvc reprocess --prefix P [--force] [--dry-run] [--concurrency N]\n"
                 "  --prefix P       a folder of outputs: profile/, profile/42/, feed/7/, "
                 "chatroom/7/chat/9/ ...\n"
                 "  --force          regenerate even when the manifest has the current presets\n"
                 "  --dry-run        say which uploads would be regenerated; write nothing\n"
                 "  --concurrency N  uploads at once, 1..64 (default IMGSVC_WORKERS; at most\n"
                 "                   IMGSVC_WORKERS of them decode and resize at a time)\n"
                 "Needs a real S3 (IMGSVC_S3_ENDPOINT) and the service's settings.\n");
}

static bool parse_concurrency(const char *s, int *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 1 || v > SRV_REPROCESS_CONCURRENCY_MAX)
        return false;
    *out = (int)v;
    return true;
}

int srv_reprocess_parse_args(int argc, char **argv, struct srv_reprocess_args *a)
{
    memset(a, 0, sizeof(*a));
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        bool has_value = i + 1 < argc;
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(arg, "--prefix") == 0 && has_value && a->prefix == NULL) {
            a->prefix = argv[++i];
        } else if (strcmp(arg, "--force") == 0) {
            a->force = true;
        } else if (strcmp(arg, "--dry-run") == 0) {
            a->dry_run = true;
        } else if (strcmp(arg, "--concurrency") == 0 && has_value && a->concurrency == 0) {
            if (!parse_concurrency(argv[++i], &a->concurrency)) {
                fprintf(stderr, "imgsvc reprocess: --concurrency must be an integer from 1 to %d\n",
                        SRV_REPROCESS_CONCURRENCY_MAX);
                return 2;
            }
        } else {
            fprintf(stderr, "imgsvc reprocess: unexpected argument '%s'\n", arg);
            usage(stderr);
            return 2;
        }
    }
    if (a->prefix == NULL) {
        fprintf(stderr, "imgsvc reprocess: --prefix is required\n");
        usage(stderr);
        return 2;
    }
    return -1;
}

/* ---- the run ---- */

struct run {
    struct h_pipeline *pipe;
    const struct h_key_list *keys;
    bool force;
    bool dry_run;
    bool tty;
    const char *prefix;
    pthread_mutex_t mu; /* everything below, and the output */
    size_t next;        /* the next key to take */
    size_t done;
    size_t counts[OUTCOMES];
    size_t would, errors; /* dry run: would be regenerated; could not be checked */
    int64_t t0_ms;
    int64_t last_print_ms;
};

static void print_progress(struct run *r, bool final)
{
    int64_t now = ts_now_mono_ms();
    if (!final && now - r->last_print_ms < PROGRESS_EVERY_MS)
        return;
    r->last_print_ms = now;
    double secs = (double)(now - r->t0_ms) / 1000.0;
    double rate = secs > 0 ? (double)r->done / secs : 0;
    size_t left = r->keys->n - r->done;
    long eta = rate > 0 ? (long)((double)left / rate + 0.5) : -1;
    char eta_text[32] = "--:--";
    if (eta >= 0)
        snprintf(eta_text, sizeof(eta_text), "%ld:%02ld", eta / 60, eta % 60);
    fprintf(stderr,
            "\r%s %zu/%zu  ready %zu  done before %zu  failed %zu  retry %zu  ignored %zu  "
            "%.1f/s  ETA %s   ",
            r->prefix, r->done, r->keys->n, r->counts[H_PIPE_READY], r->counts[H_PIPE_DONE_BEFORE],
            r->counts[H_PIPE_FAILED], r->counts[H_PIPE_RETRY], r->counts[H_PIPE_IGNORED], rate,
            eta_text);
    if (final)
        fputc('\n', stderr);
    fflush(stderr);
}

/* Counts and prints one finished key. */
static void record(struct run *r, const struct h_pipe_result *res)
{
    char *line = r->tty ? NULL : h_pipe_result_json(res);
    pthread_mutex_lock(&r->mu);
    r->done++;
    if ((int)res->outcome >= 0 && (int)res->outcome < OUTCOMES)
        r->counts[res->outcome]++;
    if (r->tty)
        print_progress(r, false);
    else if (line != NULL)
        printf("%s\n", line);
    fflush(stdout);
    pthread_mutex_unlock(&r->mu);
    free(line);
}

/* Dry run: checks one key and prints {"key","outcome":"would_reprocess"|"done_before"|"error"}. */
static void check(struct run *r, const char *key)
{
    struct err e = {0};
    bool needed = true;
    enum err_code rc = h_reprocess_needed(r->pipe, key, r->force, &needed, &e);
    const char *outcome = rc != ERR_OK ? "error" : needed ? "would_reprocess" : "done_before";
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "key", key);
    cJSON_AddStringToObject(o, "outcome", outcome);
    if (rc != ERR_OK)
        cJSON_AddStringToObject(o, "message", e.msg);
    char *line = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    pthread_mutex_lock(&r->mu);
    r->done++;
    if (rc != ERR_OK)
        r->errors++;
    else if (needed)
        r->would++;
    else
        r->counts[H_PIPE_DONE_BEFORE]++;
    if (line != NULL)
        printf("%s\n", line);
    fflush(stdout);
    pthread_mutex_unlock(&r->mu);
    cJSON_free(line);
}

static void *worker(void *arg)
{
    struct run *r = arg;
    for (;;) {
        pthread_mutex_lock(&r->mu);
        size_t i = r->next < r->keys->n ? r->next++ : r->keys->n;
        pthread_mutex_unlock(&r->mu);
        if (i >= r->keys->n)
            break;
        if (r->dry_run) {
            check(r, r->keys->keys[i]);
            continue;
        }
        struct h_pipe_result res;
        if (h_pipeline_reprocess(r->pipe, r->keys->keys[i], r->force, &res) != ERR_OK) {
            memset(&res, 0, sizeof(res));
            snprintf(res.key, sizeof(res.key), "%s", r->keys->keys[i]);
            res.outcome = H_PIPE_RETRY;
            snprintf(res.reason, sizeof(res.reason), "internal");
        }
        record(r, &res);
    }
    img_thread_cleanup();
    return NULL;
}

static void print_summary(const struct run *r)
{
    bool dry_run = r->dry_run;
    double secs = (double)(ts_now_mono_ms() - r->t0_ms) / 1000.0;
    cJSON *o = cJSON_CreateObject();
    cJSON *s = cJSON_AddObjectToObject(o, "summary");
    cJSON_AddStringToObject(s, "prefix", r->prefix);
    cJSON_AddBoolToObject(s, "dryRun", dry_run);
    cJSON_AddBoolToObject(s, "force", r->force);
    cJSON_AddNumberToObject(s, "total", (double)r->keys->n);
    for (int i = 0; i < OUTCOMES && !dry_run; i++)
        cJSON_AddNumberToObject(s, h_pipe_outcome_name((enum h_pipe_outcome)i),
                                (double)r->counts[i]);
    if (dry_run) {
        cJSON_AddNumberToObject(s, "would_reprocess", (double)r->would);
        cJSON_AddNumberToObject(s, "done_before", (double)r->counts[H_PIPE_DONE_BEFORE]);
        cJSON_AddNumberToObject(s, "errors", (double)r->errors);
    }
    cJSON_AddNumberToObject(s, "seconds", secs);
    char *text = cJSON_PrintUnformatted(o);
    if (text != NULL)
        printf("%s\n", text);
    fflush(stdout);
    cJSON_free(text);
    cJSON_Delete(o);
}

/* Runs `n` threads over the keys (the calling thread waits). */
static enum err_code run_threads(struct run *r, int n, struct err *e)
{
    pthread_t th[SRV_REPROCESS_CONCURRENCY_MAX];
    int started = 0;
    for (; started < n; started++) {
        if (pthread_create(&th[started], NULL, worker, r) != 0)
            break;
    }
    if (started == 0)
        return err_set(e, ERR_INTERNAL, "cannot start a worker thread");
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    return ERR_OK;
}

/* Everything after the arguments and the pipeline are ready. */
static int reprocess(const struct srv_config *cfg, const struct srv_reprocess_args *a,
                     struct h_pipeline *pipe, const char *prefix)
{
    struct h_key_list keys = {0};
    struct err e = {0};
    struct run r = {
        .pipe = pipe, .keys = &keys, .force = a->force, .dry_run = a->dry_run, .prefix = prefix};
    pthread_mutex_init(&r.mu, NULL);
    r.t0_ms = ts_now_mono_ms();
    int code = 2;
    if (h_reprocess_list_origins(h_reprocess_s3(pipe), prefix, 0, &keys, &e) != ERR_OK) {
        fprintf(stderr, "imgsvc reprocess: listing %s failed: %s\n", prefix, e.msg);
        goto cleanup;
    }
    r.tty = isatty(STDERR_FILENO) == 1 && !a->dry_run;
    enum log_level saved = log_get_level();
    if (r.tty && saved < LOGL_WARN)
        log_set_level(LOGL_WARN); /* info lines would break the progress line */
    int n = a->concurrency > 0 ? a->concurrency : (int)cfg->workers;
    if (n > SRV_REPROCESS_CONCURRENCY_MAX)
        n = SRV_REPROCESS_CONCURRENCY_MAX;
    if (keys.n > 0 && run_threads(&r, n, &e) != ERR_OK) {
        log_set_level(saved);
        fprintf(stderr, "imgsvc reprocess: %s\n", e.msg);
        goto cleanup;
    }
    if (r.tty)
        print_progress(&r, true);
    log_set_level(saved);
    print_summary(&r);
    code = r.counts[H_PIPE_FAILED] + r.counts[H_PIPE_RETRY] + r.errors > 0 ? 1 : 0;
cleanup:
    pthread_mutex_destroy(&r.mu);
    h_key_list_free(&keys);
    return code;
}

int srv_cmd_reprocess(const struct srv_config *cfg, int argc, char **argv)
{
    struct srv_reprocess_args a;
    int code = srv_reprocess_parse_args(argc, argv, &a);
    if (code >= 0)
        return code;
    struct err e = {0};
    char prefix[H_REPROCESS_PREFIX_MAX + 2];
    if (h_reprocess_prefix_check(a.prefix, prefix, sizeof(prefix), &e) != ERR_OK) {
        fprintf(stderr, "imgsvc reprocess: --prefix %s: %s\n", a.prefix, e.msg);
        return 2;
    }
    if (cfg->s3_endpoint[0] == '\0') {
        fprintf(stderr, "imgsvc reprocess: needs a real S3: set IMGSVC_S3_ENDPOINT (and the "
                        "service's bucket and credentials); with the embedded store, call POST "
                        "/v1/objects/reprocess on the running service instead\n");
        return 2;
    }
    struct srv_cmd_pipe *cp = srv_cmd_pipe_open(cfg, 0, &e);
    if (cp == NULL) {
        fprintf(stderr, "imgsvc reprocess: %s\n", e.msg);
        return 2;
    }
    code = reprocess(cfg, &a, srv_cmd_pipe_handler(cp), prefix);
    srv_cmd_pipe_close(cp);
    return code;
}
