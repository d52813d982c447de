/*
 * pipeline_reprocess.c: h_pipeline_reprocess — regenerate one finished upload's variants and
 * manifest from its stored origin with the current presets (see pipeline.h).
 *
 *   origin key ── not an origin ──▶ IGNORED(not_origin)
 *        ▼ (under the upload's in-process lock, like the event handler)
 *   manifest present and its "presets" fingerprint == the current one (and !force) ──▶ DONE_BEFORE
 *        ▼
 *   GET origin ── gone ──▶ IGNORED(origin_missing); too large / bad image ──▶ FAILED (nothing
 *        │                                                  written: the upload stays as it was)
 *        ▼
 *   img_process → PUT every current variant → PUT manifest (last)
 *
 * The origin is never rewritten: the manifest's origin block, source block (temp key, ETag,
 * sequencer: late events for the upload still find it finished) and warnings are carried over
 * from the earlier manifest. Without one (it was lost), the origin itself is the source.
 * Variants of preset names that no longer exist are left in the bucket (URLs handed out keep
 * working; a lifecycle rule or a manual cleanup may remove them) but the new manifest lists
 * only the current presets; the result's message names the ones left behind. Transient S3
 * errors are retried like the event handler's (max_attempts, backoff), then RETRY.
 */
#include "handlers/pipeline_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/timeutil.h"
#include "handlers/reprocess.h"

/* Working state of one reprocess call. */
struct rjob {
    struct h_pipeline *p;
    const char *origin_key;
    bool force;
    struct s3_key k;
    char manifest_key[S3_KEY_MAX];
    struct h_pipe_result *out;
    int64_t t0;
};

/* A manifest standing in for a lost one: the origin as the source and as the origin block. */
static void synthetic_prev(const struct rjob *j, const struct s3_object_info *info, size_t len,
                           const struct img_result *res, struct h_manifest *m)
{
    struct h_pipe_source src = {0};
    snprintf(src.key, sizeof(src.key), "%s", j->origin_key);
    src.size = len;
    h_pipe_unquote_etag(info->etag, src.etag, sizeof(src.etag));
    snprintf(src.content_type, sizeof(src.content_type), "%s", info->content_type);
    src.last_modified = info->last_modified;
    h_manifest_init(m, &j->k, &src);
    snprintf(m->origin_key, sizeof(m->origin_key), "%s", j->origin_key);
    m->origin_bytes = len;
    snprintf(m->origin_format, sizeof(m->origin_format), "%s", img_format_name(res->origin_format));
}

/* Appends to the result's message the earlier variants whose preset is gone (left in place). */
static void note_dropped(const struct h_manifest *prev, const struct img_domain_presets *ps,
                         struct h_pipe_result *out)
{
    size_t len = strlen(out->message);
    bool first = true;
    for (int i = 0; prev != NULL && i < prev->nvariants; i++) {
        bool kept = false;
        for (int j = 0; j < ps->count && !kept; j++)
            kept = strcmp(prev->variants[i].name, ps->presets[j].name) == 0;
        if (kept || len + 2 >= sizeof(out->message))
            continue;
        int n = snprintf(out->message + len, sizeof(out->message) - len, "%s%s",
                         first ? "; left in place (no longer a preset): " : ", ",
                         prev->variants[i].name);
        if (n > 0)
            len = strlen(out->message);
        first = false;
    }
}

/* GET origin → img_process → PUT variants and manifest. `prev` NULL when there is none. */
static enum err_code regenerate(struct rjob *j, const struct h_manifest *prev, struct err *e)
{
    struct h_pipeline *p = j->p;
    struct s3_object_info info = {0};
    struct img_result res = {0};
    struct img_error ie = {0};
    struct h_manifest *made = NULL;
    char *data = NULL;
    size_t len = 0;
    enum err_code rc = s3_client_get(p->cfg.s3, j->origin_key, p->cfg.max_object_bytes, &data, &len,
                                     &info, NULL, e);
    if (rc == ERR_NOT_FOUND || rc == ERR_TOO_LARGE) {
        h_pipe_result_set(j->out, rc == ERR_NOT_FOUND ? H_PIPE_IGNORED : H_PIPE_FAILED,
                          rc == ERR_NOT_FOUND ? "origin_missing" : "too_large", "%s", e->msg);
        rc = ERR_OK;
        goto cleanup;
    }
    if (rc != ERR_OK)
        goto cleanup;
    const struct img_domain_presets *ps = h_pipe_presets_for(p, j->k.domain);
    if (ps == NULL || ps->count == 0) {
        h_pipe_result_set(j->out, H_PIPE_FAILED, "no_presets", "the domain has no presets");
        goto cleanup;
    }
    if (h_pipe_img_process(p, data, len, ps, &res, &ie) != ERR_OK) {
        h_pipe_result_set(j->out, H_PIPE_FAILED, img_reason_name(ie.reason), "%s", ie.msg);
        goto cleanup;
    }
    rc = ERR_NOMEM;
    made = calloc(1, sizeof(*made));
    if (made == NULL)
        goto cleanup;
    if (prev == NULL)
        synthetic_prev(j, &info, len, &res, made);
    const struct h_manifest *base = prev != NULL ? prev : made;
    struct h_pipe_write_opts wo = {.put_origin = false, .prev = base, .started_mono_ms = j->t0};
    rc = h_pipe_write_outputs(p, &j->k, &res, &base->source, &wo, NULL, e);
    if (rc != ERR_OK)
        goto cleanup;
    j->out->variants = res.variants.count;
    snprintf(j->out->manifest_key, sizeof(j->out->manifest_key), "%s", j->manifest_key);
    h_pipe_result_set(j->out, H_PIPE_READY, "", "%d variants regenerated%s", res.variants.count,
                      prev == NULL ? " (no earlier manifest)" : "");
    note_dropped(prev, ps, j->out);
cleanup:
    free(made);
    img_result_free(&res);
    s3_object_info_free(&info);
    free(data);
    return rc;
}

/* One attempt: the fingerprint check, then the work. ERR_OK when j->out holds the answer. */
static enum err_code attempt(void *ctx, struct err *e)
{
    struct rjob *j = ctx;
    struct h_manifest *prev = calloc(1, sizeof(*prev));
    enum err_code rc = ERR_NOMEM;
    if (prev == NULL)
        goto cleanup;
    rc = h_pipe_manifest_read(j->p, &j->k, S3_KEY_MANIFEST, prev, NULL, e);
    if (rc != ERR_OK && rc != ERR_NOT_FOUND && rc != ERR_INVALID)
        goto cleanup; /* an unreadable manifest is rewritten; an S3 error is retried */
    bool have = rc == ERR_OK;
    if (have && !j->force) {
        char fp[H_PIPE_FP_MAX];
        h_pipe_presets_fingerprint(h_pipe_presets_for(j->p, j->k.domain), fp);
        if (strcmp(fp, prev->presets) == 0) {
            snprintf(j->out->manifest_key, sizeof(j->out->manifest_key), "%s", j->manifest_key);
            h_pipe_result_set(j->out, H_PIPE_DONE_BEFORE, "current_presets",
                              "the manifest already has the current presets");
            rc = ERR_OK;
            goto cleanup;
        }
    }
    err_clear(e);
    rc = regenerate(j, have ? prev : NULL, e);
cleanup:
    free(prev);
    return rc;
}

/* Attempts under the upload's lock. */
static void run(struct rjob *j)
{
    h_pipe_run_attempts(j->p, &j->k, j->manifest_key, j->out, "reprocess", j->origin_key, attempt,
                        j);
}

enum err_code h_pipeline_reprocess(struct h_pipeline *p, const char *origin_key, bool force,
                                   struct h_pipe_result *out)
{
    if (p == NULL || origin_key == NULL || out == NULL)
        return ERR_INVALID;
    struct err e = {0};
    struct rjob j = {.p = p, .origin_key = origin_key, .force = force, .out = out};
    memset(out, 0, sizeof(*out));
    j.t0 = ts_now_mono_ms();
    snprintf(out->key, sizeof(out->key), "%s", origin_key);
    if (s3_key_parse(origin_key, &j.k, &e) != ERR_OK || j.k.kind != S3_KEY_ORIGIN)
        h_pipe_result_set(out, H_PIPE_IGNORED, "not_origin", "%s",
                          e.msg[0] ? e.msg : "not an origin key");
    else {
        snprintf(out->upload_id, sizeof(out->upload_id), "%s", j.k.upload_id);
        run(&j);
    }
    out->ms = (double)(ts_now_mono_ms() - j.t0);
    return ERR_OK;
}

struct s3_client *h_reprocess_s3(const struct h_pipeline *p)
{
    return p != NULL ? p->cfg.s3 : NULL;
}

enum err_code h_reprocess_needed(struct h_pipeline *p, const char *origin_key, bool force,
                                 bool *needed, struct err *e)
{
    struct s3_key k;
    struct h_manifest *m = NULL;
    enum err_code rc = ERR_OK;
    *needed = true;
    if (p == NULL || origin_key == NULL || s3_key_parse(origin_key, &k, e) != ERR_OK ||
        k.kind != S3_KEY_ORIGIN)
        return err_set(e, ERR_INVALID, "not an origin key");
    if (force)
        return ERR_OK;
    m = calloc(1, sizeof(*m));
    if (m == NULL)
        return err_set(e, ERR_NOMEM, "out of memory");
    rc = h_pipe_manifest_read(p, &k, S3_KEY_MANIFEST, m, NULL, e);
    if (rc == ERR_OK) {
        char fp[H_PIPE_FP_MAX];
        h_pipe_presets_fingerprint(h_pipe_presets_for(p, k.domain), fp);
        *needed = strcmp(fp, m->presets) != 0;
    } else if (rc == ERR_NOT_FOUND || rc == ERR_INVALID) {
        rc = ERR_OK; /* no usable manifest: reprocessing writes one */
        err_clear(e);
    }
    free(m);
    return rc;
}
