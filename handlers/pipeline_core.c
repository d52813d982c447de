/*
 * pipeline_core.c: the pipeline object and what the event handler (pipeline.c) and reprocess
 * (pipeline_reprocess.c) share: the per-upload in-process lock, the imaging slots, the retry
 * loop with its backoff, and the result helpers. See pipeline_internal.h.
 */
#include "handlers/pipeline_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/timeutil.h"

struct h_pipeline *h_pipeline_new(const struct h_pipeline_cfg *cfg, struct err *e)
{
    struct h_pipeline *p = NULL;
    if (cfg == NULL || cfg->s3 == NULL || cfg->presets == NULL) {
        err_set(e, ERR_INVALID, "pipeline: an S3 client and presets are required");
        return NULL;
    }
    if (cfg->max_attempts < 1 || cfg->max_attempts > 100 || cfg->retry_base_ms < 0 ||
        cfg->retry_max_ms < cfg->retry_base_ms || cfg->max_object_bytes == 0 ||
        cfg->imaging_slots < 0) {
        err_set(e, ERR_INVALID, "pipeline: bad attempts, backoff or size cap");
        return NULL;
    }
    p = calloc(1, sizeof(*p));
    if (p == NULL) {
        err_set(e, ERR_NOMEM, "pipeline: out of memory");
        return NULL;
    }
    p->cfg = *cfg;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    pthread_cond_init(&p->imaging_cv, NULL);
    h_pipe_metrics_register();
    return p;
}

void h_pipeline_free(struct h_pipeline *p)
{
    if (p == NULL)
        return;
    pthread_cond_destroy(&p->cv);
    pthread_cond_destroy(&p->imaging_cv);
    pthread_mutex_destroy(&p->mu);
    free(p->inflight);
    free(p);
}

/* ---- the in-flight set ---- */

static bool inflight_has(const struct h_pipeline *p, const char *name)
{
    for (size_t i = 0; i < p->ninflight; i++) {
        if (strcmp(p->inflight[i], name) == 0)
            return true;
    }
    return false;
}

enum err_code h_pipe_lock(struct h_pipeline *p, const char *name)
{
    enum err_code rc = ERR_OK;
    if (strlen(name) >= S3_KEY_MAX)
        return ERR_INVALID;
    pthread_mutex_lock(&p->mu);
    while (inflight_has(p, name))
        pthread_cond_wait(&p->cv, &p->mu);
    if (p->ninflight == p->capinflight) {
        size_t cap = p->capinflight ? p->capinflight * 2 : 16;
        char(*grown)[S3_KEY_MAX] = realloc(p->inflight, cap * sizeof(*grown));
        if (grown == NULL) {
            rc = ERR_NOMEM;
            goto cleanup;
        }
        p->inflight = grown;
        p->capinflight = cap;
    }
    memcpy(p->inflight[p->ninflight++], name, strlen(name) + 1);
cleanup:
    pthread_mutex_unlock(&p->mu);
    return rc;
}

void h_pipe_unlock(struct h_pipeline *p, const char *name)
{
    pthread_mutex_lock(&p->mu);
    for (size_t i = 0; i < p->ninflight; i++) {
        if (strcmp(p->inflight[i], name) == 0) {
            p->ninflight--;
            if (i != p->ninflight)
                memcpy(p->inflight[i], p->inflight[p->ninflight], S3_KEY_MAX);
            break;
        }
    }
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

/* ---- the imaging slots ---- */

void h_pipe_imaging_enter(struct h_pipeline *p)
{
    if (p->cfg.imaging_slots <= 0)
        return;
    pthread_mutex_lock(&p->mu);
    while (p->imaging >= p->cfg.imaging_slots)
        pthread_cond_wait(&p->imaging_cv, &p->mu);
    p->imaging++;
    pthread_mutex_unlock(&p->mu);
}

void h_pipe_imaging_leave(struct h_pipeline *p)
{
    if (p->cfg.imaging_slots <= 0)
        return;
    pthread_mutex_lock(&p->mu);
    p->imaging--;
    pthread_cond_signal(&p->imaging_cv);
    pthread_mutex_unlock(&p->mu);
}

enum err_code h_pipe_img_process(struct h_pipeline *p, const void *data, size_t len,
                                 const struct img_domain_presets *ps, struct img_result *res,
                                 struct img_error *ie)
{
    h_pipe_imaging_enter(p);
    enum err_code rc = img_process(data, len, &p->cfg.job, ps->presets, ps->count, res, ie);
    h_pipe_imaging_leave(p);
    return rc;
}

/* ---- small helpers ---- */

bool h_pipe_transient(enum err_code c)
{
    return c == ERR_UPSTREAM || c == ERR_TIMEOUT || c == ERR_IO;
}

long h_pipe_backoff_ms(const struct h_pipeline *p, int attempt, uint64_t rnd)
{
    return attempt < 2 ? 0
                       : ts_backoff_ms(p->cfg.retry_base_ms, p->cfg.retry_max_ms, attempt - 2, rnd);
}

void h_pipe_backoff(const struct h_pipeline *p, int attempt)
{
    static _Thread_local uint64_t state;
    if (state == 0)
        state = (uint64_t)ts_now_mono_ns() | 1u;
    state ^= state << 13; /* xorshift64: jitter only, not a secret */
    state ^= state >> 7;
    state ^= state << 17;
    ts_sleep_ms(h_pipe_backoff_ms(p, attempt, state));
}

void h_pipe_result_set(struct h_pipe_result *out, enum h_pipe_outcome o, const char *reason,
                       const char *fmt, ...)
{
    va_list ap;
    out->outcome = o;
    snprintf(out->reason, sizeof(out->reason), "%s", reason != NULL ? reason : "");
    va_start(ap, fmt);
    vsnprintf(out->message, sizeof(out->message), fmt, ap);
    va_end(ap);
}

/* ETag without its quotes into out. */
void h_pipe_unquote_etag(const char *in, char *out, size_t cap)
{
    size_t n = strlen(in);
    if (n >= 2 && in[0] == '"' && in[n - 1] == '"')
        snprintf(out, cap, "%.*s", (int)(n - 2), in + 1);
    else
        snprintf(out, cap, "%s", in);
}

void h_pipe_run_attempts(struct h_pipeline *p, const struct s3_key *k,
                         char manifest_key[S3_KEY_MAX], struct h_pipe_result *out, const char *what,
                         const char *subject, enum err_code (*try_once)(void *ctx, struct err *e),
                         void *ctx)
{
    struct err e = {0};
    enum err_code rc = ERR_OK;
    if (h_pipe_key(k, S3_KEY_MANIFEST, NULL, NULL, manifest_key, &e) != ERR_OK ||
        h_pipe_lock(p, manifest_key) != ERR_OK) {
        h_pipe_result_set(out, H_PIPE_RETRY, "internal", "%s", e.msg);
        return;
    }
    for (int a = 1; a <= p->cfg.max_attempts; a++) {
        if (a > 1)
            h_pipe_backoff(p, a);
        err_clear(&e);
        out->attempts = a;
        rc = try_once(ctx, &e);
        if (rc == ERR_OK || !h_pipe_transient(rc))
            break;
        log_msg(LOGL_WARN, what, NULL, "attempt %d for %s: %s", a, subject, e.msg);
    }
    if (rc != ERR_OK)
        h_pipe_result_set(out, H_PIPE_RETRY, err_name(rc), "%s", e.msg);
    h_pipe_unlock(p, manifest_key);
}

const char *h_pipe_outcome_name(enum h_pipe_outcome o)
{
    switch (o) {
    case H_PIPE_READY:
        return "ready";
    case H_PIPE_DONE_BEFORE:
        return "done_before";
    case H_PIPE_FAILED:
        return "failed";
    case H_PIPE_IGNORED:
        return "ignored";
    case H_PIPE_RETRY:
        return "retry";
    }
    return "unknown";
}
