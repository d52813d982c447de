/*
 * pipeline.c: the event handler — the flow drawn in pipeline.h, one record at a time.
 *
 * A call checks the record (bucket, event name, key schema) without touching S3, takes the
 * upload's in-process lock (its manifest key), then runs attempts: each attempt starts again
 * from the GET of the temp object (a HEAD only when its body is over the cap), so a retry
 * after a half-written upload simply redoes it (every PUT is idempotent; the manifest, written
 * last, decides "ready"). Transient S3 errors
 * end an attempt; after max_attempts the answer is RETRY and the temp stays for later.
 * The pipeline object, the per-upload lock, the imaging slots and the retry loop live in
 * pipeline_core.c, the S3 writes in pipeline_write.c, the JSON in pipeline_manifest.c, status
 * in pipeline_status.c.
 */
#include "handlers/pipeline_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/metrics.h"
#include "common/par.h"
#include "common/timeutil.h"

/* Working state of one call. */
struct job {
    struct h_pipeline *p;
    const struct s3_event_record *rec; /* NULL for a key without an event */
    struct s3_key k;
    char temp_key[S3_KEY_MAX];
    char manifest_key[S3_KEY_MAX];
    struct h_pipe_result *out;
    int64_t t0;
    int64_t read_ms; /* the last attempt's reads (temp and records), for the phase metric */
};

/* The reason code at the start of a key module message ("bad_id: ..." -> "bad_id"). */
static void key_reason(const struct err *e, char *out, size_t cap)
{
    size_t n = strcspn(e->msg, ":");
    if (n == 0 || n >= cap || e->msg[n] != ':')
        snprintf(out, cap, "bad_key");
    else
        snprintf(out, cap, "%.*s", (int)n, e->msg);
}

/* ---- one attempt ---- */

/* Deletes the temp only while it still holds `etag` (an overwrite waits for its own event).
 * A failure is logged, not returned: the reconciler finds the temp and its manifest later. */
static void delete_temp_if(struct job *j, const char *etag)
{
    struct s3_object_info info = {0};
    struct err e = {0};
    char now[S3_ETAG_MAX];
    enum err_code rc = s3_client_head(j->p->cfg.s3, j->temp_key, &info, NULL, &e);
    if (rc == ERR_OK) {
        h_pipe_unquote_etag(info.etag, now, sizeof(now));
        if (strcmp(now, etag) == 0)
            rc = s3_client_delete(j->p->cfg.s3, j->temp_key, NULL, &e);
        else
            log_msg(LOGL_INFO, "pipeline", NULL,
                    "temp overwritten meanwhile, left for its own event");
    }
    if (rc != ERR_OK && rc != ERR_NOT_FOUND)
        log_msg(LOGL_WARN, "pipeline", NULL, "temp not deleted: %s", e.msg);
    s3_object_info_free(&info);
}

/* The records of an upload as read at the start of an attempt: the manifest and the failed
 * record, each with the read's answer (ERR_OK, ERR_NOT_FOUND, ERR_INVALID when unreadable, or
 * an S3 error) and its error. */
struct records {
    struct h_manifest manifest, failed;
    enum err_code manifest_rc, failed_rc;
    struct err manifest_e, failed_e;
};

/* The temp is gone: finished before (a manifest or failed record) or nothing to do. */
static enum err_code temp_gone(struct job *j, const struct records *r, struct err *e)
{
    if (r->manifest_rc == ERR_OK) {
        snprintf(j->out->manifest_key, sizeof(j->out->manifest_key), "%s", j->manifest_key);
        h_pipe_result_set(j->out, H_PIPE_DONE_BEFORE, "ready", "already processed");
        return ERR_OK;
    }
    if (r->manifest_rc != ERR_NOT_FOUND && r->manifest_rc != ERR_INVALID) {
        *e = r->manifest_e;
        return r->manifest_rc;
    }
    if (r->failed_rc == ERR_OK) {
        h_pipe_result_set(j->out, H_PIPE_DONE_BEFORE, "failed", "already failed: %s",
                          r->failed.error_code);
    } else if (r->failed_rc == ERR_NOT_FOUND || r->failed_rc == ERR_INVALID) {
        h_pipe_result_set(j->out, H_PIPE_IGNORED, "temp_missing", "no temp object and no record");
    } else {
        *e = r->failed_e;
        return r->failed_rc;
    }
    return ERR_OK;
}

/* Checks an existing record (the manifest or failed record `m`, read with answer `read_rc` and
 * error `read_e`) against the temp's ETag and the event's sequencer. *done is set when the
 * call's answer is decided (DONE_BEFORE or stale). */
static enum err_code check_record(struct job *j, enum s3_key_kind kind, const char *etag,
                                  const struct h_manifest *m, enum err_code read_rc,
                                  const struct err *read_e, bool *done, struct err *e)
{
    *done = false;
    if (read_rc == ERR_NOT_FOUND || read_rc == ERR_INVALID)
        return ERR_OK; /* none (or unreadable: processing writes a good one) */
    if (read_rc != ERR_OK) {
        *e = *read_e;
        return read_rc;
    }
    if (strcmp(m->source.etag, etag) == 0) {
        delete_temp_if(j, etag);
        if (kind == S3_KEY_MANIFEST)
            snprintf(j->out->manifest_key, sizeof(j->out->manifest_key), "%s", j->manifest_key);
        h_pipe_result_set(j->out, H_PIPE_DONE_BEFORE, kind == S3_KEY_MANIFEST ? "ready" : "failed",
                          "already processed");
        *done = true;
    } else if (j->rec != NULL && j->rec->sequencer[0] != '\0' && m->source.sequencer[0] != '\0' &&
               s3_event_sequencer_cmp(j->rec->sequencer, m->source.sequencer) < 0) {
        h_pipe_result_set(j->out, H_PIPE_IGNORED, "stale_sequencer",
                          "the event is older than the one already processed");
        *done = true;
    }
    return ERR_OK;
}

/* Writes the failed record for a bad upload and removes the temp. */
static enum err_code fail_upload(struct job *j, const struct h_pipe_source *src, const char *code,
                                 const char *msg, struct err *e)
{
    enum err_code rc = ERR_NOMEM;
    char key[S3_KEY_MAX];
    char *text = NULL;
    struct h_manifest *m = calloc(1, sizeof(*m));
    if (m == NULL)
        goto cleanup;
    h_manifest_init(m, &j->k, src);
    m->failed = true;
    snprintf(m->error_code, sizeof(m->error_code), "%s", code);
    snprintf(m->error_message, sizeof(m->error_message), "%s", msg);
    ts_rfc3339_ms(ts_now_realtime_ms(), m->at, sizeof(m->at));
    text = h_manifest_json(m);
    if (text == NULL)
        goto cleanup;
    rc = h_pipe_key(&j->k, S3_KEY_FAILED, NULL, NULL, key, e);
    if (rc != ERR_OK)
        goto cleanup;
    struct s3_put_opts po = {.content_type = "application/json", .cache_control = "no-cache"};
    rc = s3_client_put(j->p->cfg.s3, key, text, strlen(text), &po, NULL, e);
    if (rc != ERR_OK)
        goto cleanup;
    delete_temp_if(j, src->etag);
    h_pipe_result_set(j->out, H_PIPE_FAILED, code, "%s", msg);
cleanup:
    free(text);
    free(m);
    return rc;
}

/* Fills the source description from the object's headers (the GET's, or the HEAD's when the
 * GET refused the body) and the record. */
static void fill_source(const struct job *j, const struct s3_object_info *info,
                        struct h_pipe_source *src)
{
    memset(src, 0, sizeof(*src));
    snprintf(src->key, sizeof(src->key), "%s", j->temp_key);
    src->size = info->size;
    h_pipe_unquote_etag(info->etag, src->etag, sizeof(src->etag));
    if (j->rec != NULL && (j->rec->etag[0] == '\0' || strcmp(j->rec->etag, src->etag) == 0))
        snprintf(src->sequencer, sizeof(src->sequencer), "%s", j->rec->sequencer);
    snprintf(src->content_type, sizeof(src->content_type), "%s", info->content_type);
    src->last_modified = info->last_modified;
}

/* Whether the temp was made by CopyObject rather than uploaded: the record says so, for this very
 * version (a later upload over the copy has its own record). Not an upload: on Ceph RGW 16.2 a
 * presigned upload URL accepts an unsigned x-amz-copy-source, so its holder could make the temp
 * a copy of any object whose key they know (docs/security.md). */
static bool copied_temp(const struct job *j, const char *etag)
{
    return j->rec != NULL && strcmp(j->rec->event_name, "ObjectCreated:Copy") == 0 &&
           (j->rec->etag[0] == '\0' || strcmp(j->rec->etag, etag) == 0);
}

/* img_process → PUT outputs (or the failed record) → DELETE temp, for the temp's body
 * `data` (NULL when `too_large`) and the headers `info` of its GET (or HEAD). `fresh`: the
 * upload has no manifest or failed record yet, so its origin's PUT may start before the
 * variants are made (overlapping them) and be undone if they fail; an upload with a record
 * keeps its stored origin until its new variants exist. */
static enum err_code process(struct job *j, const struct s3_object_info *info, const char *data,
                             size_t len, bool too_large, bool fresh, struct err *e)
{
    struct h_pipeline *p = j->p;
    struct img_result res = {0};
    struct img_error ie = {0};
    struct img_prepared prep;
    struct h_pipe_source src;
    struct h_pipe_origin_put op = {0};
    bool early = false;
    enum err_code rc;
    fill_source(j, info, &src);
    if (copied_temp(j, src.etag)) {
        rc = fail_upload(
            j, &src, "copied_object",
            "the temp object was made by CopyObject, not uploaded: it is not processed", e);
        goto cleanup;
    }
    if (too_large) {
        char msg[H_PIPE_MESSAGE_MAX];
        snprintf(msg, sizeof(msg), "the upload has %llu bytes, more than the cap of %llu",
                 (unsigned long long)src.size, (unsigned long long)p->cfg.max_object_bytes);
        rc = fail_upload(j, &src, "too_large", msg, e);
        goto cleanup;
    }
    const struct img_domain_presets *ps = h_pipe_presets_for(p, j->k.domain);
    if (ps == NULL || ps->count == 0) {
        rc = fail_upload(j, &src, "no_presets", "the domain has no presets", e);
        goto cleanup;
    }
    int64_t t_begin = ts_now_mono_ms();
    rc = img_process_begin(data, len, &p->cfg.job, &prep, &res, &ie);
    if (rc == ERR_OK && fresh && res.origin != NULL) {
        h_pipe_origin_put_start(p, &j->k, &res, &src, data, len, &op);
        early = true;
    }
    int64_t t_queue = ts_now_mono_ms(), t_slot = t_queue;
    if (rc == ERR_OK) {
        h_pipe_imaging_enter(p);
        t_slot = ts_now_mono_ms();
        rc = img_process_finish(&prep, &p->cfg.job, ps->presets, ps->count, &res, &ie);
        h_pipe_imaging_leave(p);
    }
    if (rc != ERR_OK) {
        if (early)
            h_pipe_origin_put_undo(&op);
        early = false;
        rc = fail_upload(j, &src, img_reason_name(ie.reason), ie.msg, e);
        goto cleanup;
    }
    struct h_pipe_write_opts wo = {
        .put_origin = true, .origin_put = early ? &op : NULL, .started_mono_ms = j->t0};
    int64_t t_write = ts_now_mono_ms();
    rc = h_pipe_write_outputs(p, &j->k, &res, &src, &wo, NULL, e);
    if (rc != ERR_OK)
        goto cleanup;
    int64_t t_delete = ts_now_mono_ms();
    delete_temp_if(j, src.etag);
    int64_t phases[H_PIPE_PHASES] = {j->read_ms, t_slot - t_queue,
                                     t_write - t_begin - (t_slot - t_queue), t_delete - t_write,
                                     ts_now_mono_ms() - t_delete};
    h_pipe_metrics_phases(phases);
    memcpy(j->out->phase_ms, phases, sizeof(j->out->phase_ms));
    j->out->variants = res.variants.count;
    snprintf(j->out->manifest_key, sizeof(j->out->manifest_key), "%s", j->manifest_key);
    h_pipe_result_set(j->out, H_PIPE_READY, "", "%d variants", res.variants.count);
    if (src.last_modified > 0) {
        double lag = (double)ts_now_realtime_ms() / 1000.0 - (double)src.last_modified;
        metrics_observe("imgsvc_upload_to_ready_seconds", "", lag < 0 ? 0 : lag);
    }
cleanup:
    if (early) {
        h_pipe_origin_put_wait(&op, NULL);
        h_pipe_origin_put_free(&op);
    }
    img_result_free(&res);
    return rc;
}

/* GETs the temp (body in *data, *len bytes; headers in `info`). A body over the cap is not read:
 * *too_large is set and `info` comes from a HEAD instead. ERR_OK in both cases; else the S3
 * error (ERR_NOT_FOUND when the temp is gone). */
static enum err_code read_temp(struct job *j, struct s3_object_info *info, char **data, size_t *len,
                               bool *too_large, struct err *e)
{
    struct h_pipeline *p = j->p;
    enum err_code rc =
        s3_client_get(p->cfg.s3, j->temp_key, p->cfg.max_object_bytes, data, len, info, NULL, e);
    *too_large = rc == ERR_TOO_LARGE;
    if (rc == ERR_OK)
        info->size = *len;
    if (*too_large) {
        err_clear(e);
        rc = s3_client_head(p->cfg.s3, j->temp_key, info, NULL, e);
    }
    return rc;
}

/* What an attempt reads at once: the temp (read_temp) and both records. */
struct reads {
    struct job *j;
    struct s3_object_info info;
    char *data;
    size_t len;
    bool too_large;
    enum err_code temp_rc;
    struct err temp_e;
    struct records r;
};

static void read_one(void *ctx, size_t i)
{
    struct reads *rd = ctx;
    struct h_pipeline *p = rd->j->p;
    if (i == 0)
        rd->temp_rc = read_temp(rd->j, &rd->info, &rd->data, &rd->len, &rd->too_large, &rd->temp_e);
    else if (i == 1)
        rd->r.manifest_rc = h_pipe_record_read(p, &rd->j->k, S3_KEY_MANIFEST, &rd->r.manifest, NULL,
                                               &rd->r.manifest_e);
    else
        rd->r.failed_rc =
            h_pipe_record_read(p, &rd->j->k, S3_KEY_FAILED, &rd->r.failed, NULL, &rd->r.failed_e);
}

/* One attempt of the whole flow. ERR_OK when j->out holds the answer; else the S3 error.
 * The temp and both records are read at once (their round trips overlap); the records are
 * checked against the temp's ETag (the GET's), so the common case (no record yet) needs no
 * other request before the processing. */
static enum err_code attempt(void *ctx, struct err *e)
{
    struct job *j = ctx;
    char etag[S3_ETAG_MAX];
    bool done = false;
    enum err_code rc = ERR_NOMEM;
    struct reads *rd = calloc(1, sizeof(*rd));
    if (rd == NULL)
        goto cleanup;
    rd->j = j;
    int64_t t_read = ts_now_mono_ms();
    par_run(read_one, rd, 3);
    j->read_ms = ts_now_mono_ms() - t_read;
    rc = rd->temp_rc;
    if (rc == ERR_NOT_FOUND) {
        rc = temp_gone(j, &rd->r, e);
        goto cleanup;
    }
    if (rc != ERR_OK) {
        *e = rd->temp_e;
        goto cleanup;
    }
    h_pipe_unquote_etag(rd->info.etag, etag, sizeof(etag));
    rc = check_record(j, S3_KEY_MANIFEST, etag, &rd->r.manifest, rd->r.manifest_rc,
                      &rd->r.manifest_e, &done, e);
    if (rc == ERR_OK && !done)
        rc = check_record(j, S3_KEY_FAILED, etag, &rd->r.failed, rd->r.failed_rc, &rd->r.failed_e,
                          &done, e);
    if (rc == ERR_OK && !done)
        rc = process(j, &rd->info, rd->data, rd->len, rd->too_large,
                     rd->r.manifest_rc == ERR_NOT_FOUND && rd->r.failed_rc == ERR_NOT_FOUND, e);
cleanup:
    if (rd != NULL) {
        s3_object_info_free(&rd->info);
        free(rd->data);
    }
    free(rd);
    return rc;
}

/* Runs the attempts for an already checked temp key, under the upload's lock. */
static void run(struct job *j)
{
    h_pipe_run_attempts(j->p, &j->k, j->manifest_key, j->out, "pipeline", j->temp_key, attempt, j);
}

/* Starts a result and checks the temp key; false (with out set to IGNORED) when unusable. */
static bool start(struct job *j, struct h_pipeline *p, const char *key, struct h_pipe_result *out)
{
    struct err e = {0};
    memset(out, 0, sizeof(*out));
    memset(j, 0, sizeof(*j));
    j->p = p;
    j->out = out;
    j->t0 = ts_now_mono_ms();
    metrics_add("imgsvc_pipeline_records_received_total", "", 1);
    out->waited_ms = -1;
    snprintf(out->key, sizeof(out->key), "%s", key != NULL ? key : "");
    if (key == NULL || s3_key_parse_temp(key, &j->k, &e) != ERR_OK) {
        char reason[H_PIPE_REASON_MAX];
        key_reason(&e, reason, sizeof(reason));
        h_pipe_result_set(out, H_PIPE_IGNORED, reason, "%s", e.msg);
        return false;
    }
    snprintf(j->temp_key, sizeof(j->temp_key), "%s", key);
    snprintf(out->upload_id, sizeof(out->upload_id), "%s", j->k.upload_id);
    return true;
}

/* Logs and counts a finished call. */
static void finish(struct job *j)
{
    struct h_pipe_result *r = j->out;
    r->ms = (double)(ts_now_mono_ms() - j->t0);
    h_pipe_metrics_count(r);
    cJSON *f = cJSON_CreateObject();
    if (f != NULL) {
        cJSON_AddStringToObject(f, "outcome", h_pipe_outcome_name(r->outcome));
        cJSON_AddStringToObject(f, "key", r->key);
        cJSON_AddStringToObject(f, "reason", r->reason);
        cJSON_AddStringToObject(f, "detail", r->message);
        cJSON_AddNumberToObject(f, "attempts", r->attempts);
        cJSON_AddNumberToObject(f, "ms", r->ms);
        if (r->waited_ms >= 0)
            cJSON_AddNumberToObject(f, "waited_ms", r->waited_ms);
        cJSON *ph = r->outcome == H_PIPE_READY ? cJSON_AddObjectToObject(f, "phases_ms") : NULL;
        for (int i = 0; ph != NULL && i < H_PIPE_PHASES; i++)
            cJSON_AddNumberToObject(ph, h_pipe_phase_names[i], (double)r->phase_ms[i]);
    }
    log_fields(r->outcome == H_PIPE_RETRY ? LOGL_WARN : LOGL_INFO, "pipeline", NULL, "record", f);
}

enum err_code h_pipeline_handle_queued(struct h_pipeline *p, const struct s3_event_record *r,
                                       double waited_ms, struct h_pipe_result *out)
{
    struct job j;
    if (p == NULL || r == NULL || out == NULL)
        return ERR_INVALID;
    bool usable = start(&j, p, r->key, out); /* IGNORED with the key's reason when !usable */
    if (waited_ms >= 0) {
        out->waited_ms = waited_ms;
        h_pipe_metrics_wait(waited_ms);
    }
    j.rec = r;
    if (strcmp(r->bucket, s3_client_bucket(p->cfg.s3)) != 0)
        h_pipe_result_set(out, H_PIPE_IGNORED, "other_bucket", "the record is for bucket %.63s",
                          r->bucket);
    else if (!s3_event_is_created(r))
        h_pipe_result_set(out, H_PIPE_IGNORED, "not_created", "event %.64s is not ObjectCreated",
                          r->event_name);
    else if (usable)
        run(&j);
    finish(&j);
    return ERR_OK;
}

enum err_code h_pipeline_handle_record(struct h_pipeline *p, const struct s3_event_record *r,
                                       struct h_pipe_result *out)
{
    return h_pipeline_handle_queued(p, r, -1, out);
}

enum err_code h_pipeline_handle_key(struct h_pipeline *p, const char *temp_key,
                                    struct h_pipe_result *out)
{
    struct job j;
    if (p == NULL || temp_key == NULL || out == NULL)
        return ERR_INVALID;
    if (start(&j, p, temp_key, out))
        run(&j);
    finish(&j);
    return ERR_OK;
}
