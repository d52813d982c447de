/*
 * pipeline_write.c: the pipeline's S3 writes and reads shared with reprocess — every variant,
 * the origin, the manifest last; reading a manifest or failed record back — plus the result
 * JSON and the pipeline's metrics. See pipeline_internal.h.
 */
#include "handlers/pipeline_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/par.h"
#include "common/timeutil.h"

const struct img_domain_presets *h_pipe_presets_for(const struct h_pipeline *p,
                                                    enum s3_key_domain d)
{
    const struct s3_key_domain_desc *desc = s3_key_domain_get(d);
    return desc != NULL ? img_presets_find(p->cfg.presets, desc->name) : NULL;
}

enum err_code h_pipe_key(const struct s3_key *k, enum s3_key_kind kind, const char *size,
                         const char *ext, char out[S3_KEY_MAX], struct err *e)
{
    struct s3_key t = *k;
    t.kind = kind;
    memset(t.size, 0, sizeof(t.size));
    if (kind == S3_KEY_VARIANT && size != NULL)
        snprintf(t.size, sizeof(t.size), "%s", size);
    if (ext != NULL && kind != S3_KEY_MANIFEST && kind != S3_KEY_FAILED)
        snprintf(t.ext, sizeof(t.ext), "%s", ext);
    return s3_key_build(&t, out, S3_KEY_MAX, e);
}

/* One PUT of the outputs: its key, body and headers, and what it answered. */
struct put_op {
    char key[S3_KEY_MAX];
    const void *body;
    size_t len;
    struct s3_put_opts po;
    enum err_code rc;
    struct err e;
};

/* The outputs' PUTs, run at once (par_run) so their round trips overlap. */
struct put_batch {
    struct s3_client *s3;
    struct put_op ops[IMG_PRESET_MAX + 1];
    size_t n;
};

static void put_one(void *ctx, size_t i)
{
    struct put_batch *b = ctx;
    struct put_op *op = &b->ops[i];
    op->rc = s3_client_put(b->s3, op->key, op->body, op->len, &op->po, NULL, &op->e);
}

/* Adds the PUT of one variant to `b` and records the variant in `mv`. */
static enum err_code add_variant(struct put_batch *b, const struct s3_key *k,
                                 const struct img_variant *v, struct h_manifest_variant *mv,
                                 struct err *e)
{
    const char *ctype = img_format_mime(v->format);
    struct put_op *op = &b->ops[b->n];
    enum err_code rc =
        h_pipe_key(k, S3_KEY_VARIANT, v->name, img_format_name(v->format), mv->key, e);
    if (rc != ERR_OK)
        return rc;
    memcpy(op->key, mv->key, sizeof(op->key));
    op->body = v->data;
    op->len = v->len;
    op->po = (struct s3_put_opts){.content_type = ctype, .cache_control = H_PIPE_IMMUTABLE};
    b->n++;
    snprintf(mv->name, sizeof(mv->name), "%s", v->name);
    mv->width = v->width;
    mv->height = v->height;
    mv->bytes = v->len;
    snprintf(mv->format, sizeof(mv->format), "%s", img_format_name(v->format));
    snprintf(mv->content_type, sizeof(mv->content_type), "%s", ctype);
    return ERR_OK;
}

/* Origin fields of `m`, and the origin's PUT added to `b` (when o->put_origin), or the fields
 * carried over from an earlier manifest. */
static enum err_code add_origin(struct put_batch *b, const struct s3_key *k,
                                const struct img_result *res, const struct h_pipe_write_opts *o,
                                struct h_manifest *m, struct err *e)
{
    if (!o->put_origin && o->prev != NULL) {
        snprintf(m->origin_key, sizeof(m->origin_key), "%s", o->prev->origin_key);
        m->origin_bytes = o->prev->origin_bytes;
        snprintf(m->origin_format, sizeof(m->origin_format), "%s", o->prev->origin_format);
        m->origin_gps_removed = o->prev->origin_gps_removed;
        return ERR_OK;
    }
    enum err_code rc = h_pipe_key(k, S3_KEY_ORIGIN, NULL, NULL, m->origin_key, e);
    if (rc != ERR_OK)
        return rc;
    m->origin_bytes = res->origin_len;
    snprintf(m->origin_format, sizeof(m->origin_format), "%s", img_format_name(res->origin_format));
    m->origin_gps_removed = res->origin_gps_removed;
    if (!o->put_origin || o->origin_put != NULL)
        return ERR_OK;
    struct put_op *op = &b->ops[b->n++];
    memcpy(op->key, m->origin_key, sizeof(op->key));
    op->body = res->origin;
    op->len = res->origin_len;
    op->po = (struct s3_put_opts){.content_type = img_format_mime(res->origin_format),
                                  .cache_control = H_PIPE_IMMUTABLE};
    return ERR_OK;
}

/* Runs the batch's PUTs at once; the first failure (in batch order) is the answer. */
static enum err_code put_all(struct put_batch *b, struct err *e)
{
    par_run(put_one, b, b->n);
    for (size_t i = 0; i < b->n; i++) {
        if (b->ops[i].rc != ERR_OK) {
            if (e != NULL)
                *e = b->ops[i].e;
            return b->ops[i].rc;
        }
    }
    return ERR_OK;
}

/* ---- the origin's PUT ahead of the variants ---- */

/* Whether origins may still be copied (see copy_outcome). */
static bool copy_allowed(struct h_pipeline *p)
{
    pthread_mutex_lock(&p->mu);
    bool ok = !p->no_origin_copy;
    pthread_mutex_unlock(&p->mu);
    return ok;
}

/* Records a copy's outcome: `refused` (the store does not copy: never again), `miss` (a copy
 * with another ETag: H_PIPE_COPY_MISSES in a row and never again); a good copy resets the
 * misses. Logs once when copying stops. */
static void copy_outcome(struct h_pipeline *p, bool refused, bool miss)
{
    pthread_mutex_lock(&p->mu);
    bool was = p->no_origin_copy;
    p->copy_misses = miss ? p->copy_misses + 1 : 0;
    p->no_origin_copy |= refused || p->copy_misses >= H_PIPE_COPY_MISSES;
    bool now = p->no_origin_copy;
    pthread_mutex_unlock(&p->mu);
    if (now && !was)
        log_msg(LOGL_WARN, "pipeline", NULL, "origins are uploaded from now on: the store %s",
                refused ? "refused CopyObject"
                        : "answered copies with other ETags than their sources'");
}

/* CopyObject temp -> origin; true when the origin now holds exactly the upload's bytes. */
static bool origin_copy(struct h_pipe_origin_put *op)
{
    struct s3_copy_opts co = {.if_match = op->etag,
                              .replace_metadata = true,
                              .content_type = op->content_type,
                              .cache_control = H_PIPE_IMMUTABLE};
    struct s3_response r;
    struct err e = {0};
    char got[S3_ETAG_MAX];
    enum err_code rc = s3_client_copy(op->s3, op->copy_from, op->key, &co, &r, &e);
    if (rc != ERR_OK) {
        log_msg(LOGL_INFO, "pipeline", NULL, "origin copy failed, uploading it: %s", e.msg);
        copy_outcome(op->p, rc == ERR_FORBIDDEN || r.status == 501, false);
        return false;
    }
    h_pipe_unquote_etag(r.etag, got, sizeof(got));
    bool same = strcmp(got, op->etag) == 0;
    if (!same)
        log_msg(LOGL_INFO, "pipeline", NULL, "origin copy has ETag %s, not %s: uploading it", got,
                op->etag);
    copy_outcome(op->p, false, !same);
    return same;
}

static void *origin_put_thread(void *arg)
{
    struct h_pipe_origin_put *op = arg;
    struct s3_put_opts po = {.content_type = op->content_type, .cache_control = H_PIPE_IMMUTABLE};
    bool copied = op->copy_from[0] != '\0' && copy_allowed(op->p) && origin_copy(op);
    op->rc = copied ? ERR_OK : s3_client_put(op->s3, op->key, op->body, op->len, &po, NULL, &op->e);
    return NULL;
}

void h_pipe_origin_put_start(struct h_pipeline *p, const struct s3_key *k, struct img_result *res,
                             const struct h_pipe_source *src, const void *temp, size_t temp_len,
                             struct h_pipe_origin_put *op)
{
    memset(op, 0, sizeof(*op));
    op->p = p;
    op->s3 = p->cfg.s3;
    if (src != NULL && src->etag[0] != '\0' && res->origin_len == temp_len &&
        memcmp(res->origin, temp, temp_len) == 0) {
        snprintf(op->copy_from, sizeof(op->copy_from), "%s", src->key);
        snprintf(op->etag, sizeof(op->etag), "%s", src->etag);
    }
    op->body = res->origin;
    op->len = res->origin_len;
    op->content_type = img_format_mime(res->origin_format);
    res->origin = NULL;
    op->rc = h_pipe_key(k, S3_KEY_ORIGIN, NULL, NULL, op->key, &op->e);
    if (op->rc != ERR_OK)
        return;
    op->started = pthread_create(&op->thread, NULL, origin_put_thread, op) == 0;
    if (!op->started)
        origin_put_thread(op);
}

enum err_code h_pipe_origin_put_wait(struct h_pipe_origin_put *op, struct err *e)
{
    if (op->started && !op->joined) {
        pthread_join(op->thread, NULL);
        op->joined = true;
    }
    if (op->rc != ERR_OK && e != NULL)
        *e = op->e;
    return op->rc;
}

void h_pipe_origin_put_undo(struct h_pipe_origin_put *op)
{
    struct err e = {0};
    if (h_pipe_origin_put_wait(op, NULL) == ERR_OK &&
        s3_client_delete(op->s3, op->key, NULL, &e) != ERR_OK)
        log_msg(LOGL_WARN, "pipeline", NULL, "origin of a failed upload not deleted: %s", e.msg);
    h_pipe_origin_put_free(op);
}

void h_pipe_origin_put_free(struct h_pipe_origin_put *op)
{
    free(op->body);
    op->body = NULL;
}

/* Warnings of `m`: from the result, plus (reprocess) those of the earlier manifest. */
static void set_warnings(const struct img_result *res, const struct h_pipe_write_opts *o,
                         struct h_manifest *m)
{
    if (o->prev != NULL) {
        for (int i = 0; i < o->prev->nwarnings && m->nwarnings < H_PIPE_WARNINGS_MAX; i++)
            snprintf(m->warnings[m->nwarnings++], H_PIPE_WARNING_MAX, "%s", o->prev->warnings[i]);
    }
    bool have = false;
    for (int i = 0; i < m->nwarnings; i++)
        have = have || strcmp(m->warnings[i], "multipart_unwrapped") == 0;
    if (res->multipart_unwrapped && !have && m->nwarnings < H_PIPE_WARNINGS_MAX)
        snprintf(m->warnings[m->nwarnings++], H_PIPE_WARNING_MAX, "multipart_unwrapped");
}

enum err_code h_pipe_write_outputs(struct h_pipeline *p, const struct s3_key *k,
                                   const struct img_result *res, const struct h_pipe_source *src,
                                   const struct h_pipe_write_opts *o, struct h_manifest *m_out,
                                   struct err *e)
{
    enum err_code rc = ERR_NOMEM;
    char key[S3_KEY_MAX];
    char *text = NULL;
    struct put_batch *batch = NULL;
    struct h_manifest *m = calloc(1, sizeof(*m));
    if (m == NULL)
        goto cleanup;
    h_manifest_init(m, k, src);
    m->facts = res->facts;
    batch = calloc(1, sizeof(*batch));
    if (batch == NULL)
        goto cleanup;
    batch->s3 = p->cfg.s3;
    for (int i = 0; i < res->variants.count && i < IMG_PRESET_MAX; i++) {
        rc = add_variant(batch, k, &res->variants.items[i], &m->variants[i], e);
        if (rc != ERR_OK)
            goto cleanup;
        m->nvariants++;
    }
    rc = add_origin(batch, k, res, o, m, e);
    if (rc == ERR_OK)
        rc = put_all(batch, e); /* every variant and the origin are in S3 before the manifest */
    if (rc == ERR_OK && o->put_origin && o->origin_put != NULL)
        rc = h_pipe_origin_put_wait(o->origin_put, e);
    if (rc != ERR_OK)
        goto cleanup;
    set_warnings(res, o, m);
    h_pipe_presets_fingerprint(h_pipe_presets_for(p, k->domain), m->presets);
    ts_rfc3339_ms(ts_now_realtime_ms(), m->at, sizeof(m->at));
    m->processing_ms = (long)(ts_now_mono_ms() - o->started_mono_ms);
    rc = ERR_NOMEM;
    text = h_manifest_json(m);
    if (text == NULL)
        goto cleanup;
    rc = h_pipe_key(k, S3_KEY_MANIFEST, NULL, NULL, key, e);
    if (rc != ERR_OK)
        goto cleanup;
    struct s3_put_opts po = {.content_type = "application/json", .cache_control = "no-cache"};
    rc = s3_client_put(p->cfg.s3, key, text, strlen(text), &po, NULL, e);
    if (rc == ERR_OK && m_out != NULL)
        *m_out = *m;
cleanup:
    if (rc == ERR_NOMEM && e != NULL && e->code == ERR_OK)
        err_set(e, ERR_NOMEM, "pipeline: out of memory");
    free(batch);
    free(text);
    free(m);
    return rc;
}

enum err_code h_pipe_manifest_read(struct h_pipeline *p, const struct s3_key *k,
                                   enum s3_key_kind kind, struct h_manifest *m, char **text,
                                   struct err *e)
{
    char key[S3_KEY_MAX];
    char *data = NULL;
    size_t len = 0;
    if (text != NULL)
        *text = NULL;
    enum err_code rc = h_pipe_key(k, kind, NULL, NULL, key, e);
    if (rc != ERR_OK)
        goto cleanup;
    rc = s3_client_get(p->cfg.s3, key, 1u << 20, &data, &len, NULL, NULL, e);
    if (rc != ERR_OK)
        goto cleanup;
    rc = h_manifest_parse(data, len, m, e);
    if (rc == ERR_OK && m->failed != (kind == S3_KEY_FAILED))
        rc = err_set(e, ERR_INVALID, "%s: the record has the other status", key);
    if (rc == ERR_OK && text != NULL) {
        *text = data;
        data = NULL;
    }
cleanup:
    free(data);
    return rc;
}

enum err_code h_pipe_record_read(struct h_pipeline *p, const struct s3_key *k,
                                 enum s3_key_kind kind, struct h_manifest *m, char **text,
                                 struct err *e)
{
    char key[S3_KEY_MAX];
    struct s3_object_info info;
    if (text != NULL)
        *text = NULL;
    enum err_code rc = h_pipe_key(k, kind, NULL, NULL, key, e);
    if (rc != ERR_OK)
        return rc;
    rc = s3_client_head(p->cfg.s3, key, &info, NULL, e);
    s3_object_info_free(&info);
    return rc == ERR_OK ? h_pipe_manifest_read(p, k, kind, m, text, e) : rc;
}

char *h_pipe_result_json(const struct h_pipe_result *r)
{
    char *text = NULL;
    cJSON *o = cJSON_CreateObject();
    if (o != NULL && cJSON_AddStringToObject(o, "outcome", h_pipe_outcome_name(r->outcome)) &&
        cJSON_AddStringToObject(o, "key", r->key) &&
        cJSON_AddStringToObject(o, "uploadId", r->upload_id) &&
        cJSON_AddStringToObject(o, "manifestKey", r->manifest_key) &&
        cJSON_AddStringToObject(o, "reason", r->reason) &&
        cJSON_AddStringToObject(o, "message", r->message) &&
        cJSON_AddNumberToObject(o, "variants", r->variants) &&
        cJSON_AddNumberToObject(o, "attempts", r->attempts) &&
        cJSON_AddNumberToObject(o, "ms", r->ms))
        text = json_print(o);
    cJSON_Delete(o);
    return text;
}

/* ---- metrics ---- */

void h_pipe_metrics_register(void)
{
    static const double secs[] = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
    static const double phase[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
    static const double lag[] = {0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600};
    metrics_register("imgsvc_pipeline_records_received_total", METRICS_COUNTER,
                     "Event records (or keys) handed to the pipeline", NULL, 0);
    metrics_register("imgsvc_pipeline_records_total", METRICS_COUNTER,
                     "Pipeline records by outcome (ready, done_before, failed, ignored, retry) "
                     "and reason",
                     NULL, 0);
    metrics_register("imgsvc_pipeline_duration_seconds", METRICS_HISTOGRAM,
                     "Wall time of a pipeline record that processed an upload (ready or failed)",
                     secs, sizeof(secs) / sizeof(secs[0]));
    metrics_register("imgsvc_pipeline_phase_seconds", METRICS_HISTOGRAM,
                     "Wall time of each step of an upload made ready: read (the temp and its "
                     "records), queue (waiting for an imaging slot), imaging, write (variants, "
                     "origin, manifest), delete (the temp)",
                     phase, sizeof(phase) / sizeof(phase[0]));
    metrics_register("imgsvc_pipeline_wait_seconds", METRICS_HISTOGRAM,
                     "Time a queued record waited for a job slot (IMGSVC_PIPELINE_JOBS) before its "
                     "handling started",
                     phase, sizeof(phase) / sizeof(phase[0]));
    metrics_register("imgsvc_upload_to_ready_seconds", METRICS_HISTOGRAM,
                     "From the temp object's Last-Modified to its manifest written", lag,
                     sizeof(lag) / sizeof(lag[0]));
}

const char *const h_pipe_phase_names[H_PIPE_PHASES] = {"read", "queue", "imaging", "write",
                                                       "delete"};

void h_pipe_metrics_phases(const int64_t ms[H_PIPE_PHASES])
{
    for (int i = 0; i < H_PIPE_PHASES; i++) {
        char label[32];
        snprintf(label, sizeof(label), "phase=\"%s\"", h_pipe_phase_names[i]);
        metrics_observe("imgsvc_pipeline_phase_seconds", label, (double)ms[i] / 1000.0);
    }
}

void h_pipe_metrics_wait(double ms)
{
    metrics_observe("imgsvc_pipeline_wait_seconds", "", ms / 1000.0);
}

void h_pipe_metrics_count(const struct h_pipe_result *r)
{
    char reason[H_PIPE_REASON_MAX * 2];
    char labels[H_PIPE_REASON_MAX * 2 + 64];
    h_pipe_metrics_register();
    metrics_label_escape(r->reason, reason, sizeof(reason));
    snprintf(labels, sizeof(labels), "outcome=\"%s\",reason=\"%s\"",
             h_pipe_outcome_name(r->outcome), reason);
    metrics_add("imgsvc_pipeline_records_total", labels, 1);
    if (r->outcome == H_PIPE_READY || r->outcome == H_PIPE_FAILED) {
        snprintf(labels, sizeof(labels), "outcome=\"%s\"", h_pipe_outcome_name(r->outcome));
        metrics_observe("imgsvc_pipeline_duration_seconds", labels, r->ms / 1000.0);
    }
}
