/*
 * pipeline_manifest.c: the manifest and the failed record as JSON, both ways, and the presets
 * fingerprint. Pure functions (no S3, no clock): the layout is documented in
 * pipeline_internal.h and h_manifest_parse(h_manifest_json(m)) gives m back.
 */
#include "handlers/pipeline_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/json.h"
#include "common/timeutil.h"

/* Copies src into dst (cap bytes with its NUL); false when src is NULL or does not fit. */
static bool copy_str(char *dst, size_t cap, const char *src)
{
    if (src == NULL)
        return false;
    size_t n = strlen(src);
    if (n >= cap)
        return false;
    memcpy(dst, src, n + 1);
    return true;
}

void h_manifest_init(struct h_manifest *m, const struct s3_key *k, const struct h_pipe_source *src)
{
    memset(m, 0, sizeof(*m));
    m->version = H_MANIFEST_VERSION;
    const struct s3_key_domain_desc *d = s3_key_domain_get(k->domain);
    copy_str(m->upload_id, sizeof(m->upload_id), k->upload_id);
    if (d != NULL) {
        copy_str(m->domain, sizeof(m->domain), d->name);
        for (size_t i = 0; i < d->nids && i < S3_KEY_MAX_IDS; i++)
            copy_str(m->ids[i], sizeof(m->ids[i]), k->ids[i]);
    }
    if (src != NULL)
        m->source = *src;
}

/* ---- writing ---- */

static bool add_str(cJSON *o, const char *name, const char *v)
{
    return cJSON_AddStringToObject(o, name, v) != NULL;
}

static bool add_num(cJSON *o, const char *name, double v)
{
    return cJSON_AddNumberToObject(o, name, v) != NULL;
}

static bool add_bool(cJSON *o, const char *name, bool v)
{
    return cJSON_AddBoolToObject(o, name, v) != NULL;
}

/* Adds the "ids" and "source" members. */
static bool add_envelope(cJSON *root, const struct h_manifest *m)
{
    const struct s3_key_domain_desc *d = s3_key_domain_find(m->domain);
    cJSON *ids = cJSON_AddObjectToObject(root, "ids");
    bool ok = ids != NULL;
    for (size_t i = 0; ok && d != NULL && i < d->nids; i++)
        ok = add_str(ids, d->id_names[i], m->ids[i]);
    cJSON *s = ok ? cJSON_AddObjectToObject(root, "source") : NULL;
    char lm[H_PIPE_TIME_MAX] = "";
    if (m->source.last_modified > 0)
        ts_rfc3339(m->source.last_modified, lm, sizeof(lm));
    return s != NULL && add_str(s, "key", m->source.key) &&
           add_num(s, "size", (double)m->source.size) && add_str(s, "etag", m->source.etag) &&
           add_str(s, "sequencer", m->source.sequencer) &&
           add_str(s, "contentType", m->source.content_type) &&
           (lm[0] != '\0' ? add_str(s, "lastModified", lm)
                          : cJSON_AddNullToObject(s, "lastModified") != NULL);
}

/* Adds facts, placeholders and origin. */
static bool add_facts(cJSON *root, const struct h_manifest *m)
{
    const struct img_facts *f = &m->facts;
    cJSON *o = cJSON_AddObjectToObject(root, "facts");
    bool ok = o != NULL && add_str(o, "format", img_format_name(f->format)) &&
              add_num(o, "width", f->width) && add_num(o, "height", f->height) &&
              add_num(o, "orientation", f->orientation) && add_bool(o, "alpha", f->has_alpha) &&
              add_num(o, "frames", f->frames);
    if (ok && f->placeholders) {
        o = cJSON_AddObjectToObject(root, "placeholders");
        ok = o != NULL && add_str(o, "blurhash", f->blurhash) &&
             add_str(o, "thumbhash", f->thumbhash) && add_str(o, "dominant", f->dominant);
    } else if (ok) {
        ok = cJSON_AddNullToObject(root, "placeholders") != NULL;
    }
    o = ok ? cJSON_AddObjectToObject(root, "origin") : NULL;
    return o != NULL && add_str(o, "key", m->origin_key) &&
           add_num(o, "bytes", (double)m->origin_bytes) && add_str(o, "format", m->origin_format) &&
           add_bool(o, "gpsRemoved", m->origin_gps_removed);
}

/* Adds variants, warnings, presets, processedAt, processingMs. */
static bool add_outputs(cJSON *root, const struct h_manifest *m)
{
    cJSON *arr = cJSON_AddArrayToObject(root, "variants");
    bool ok = arr != NULL;
    for (int i = 0; ok && i < m->nvariants; i++) {
        const struct h_manifest_variant *v = &m->variants[i];
        cJSON *o = cJSON_CreateObject();
        ok = o != NULL && cJSON_AddItemToArray(arr, o) && add_str(o, "name", v->name) &&
             add_str(o, "key", v->key) && add_num(o, "width", v->width) &&
             add_num(o, "height", v->height) && add_num(o, "bytes", (double)v->bytes) &&
             add_str(o, "format", v->format) && add_str(o, "contentType", v->content_type);
    }
    cJSON *w = ok ? cJSON_AddArrayToObject(root, "warnings") : NULL;
    ok = w != NULL;
    for (int i = 0; ok && i < m->nwarnings; i++) {
        cJSON *s = cJSON_CreateString(m->warnings[i]);
        ok = s != NULL && cJSON_AddItemToArray(w, s);
    }
    return ok && add_str(root, "presets", m->presets) && add_str(root, "processedAt", m->at) &&
           add_num(root, "processingMs", (double)m->processing_ms);
}

char *h_manifest_json(const struct h_manifest *m)
{
    char *text = NULL;
    cJSON *root = cJSON_CreateObject();
    bool ok = root != NULL && add_num(root, "version", m->version) &&
              add_str(root, "status", m->failed ? "failed" : "ready") &&
              add_str(root, "uploadId", m->upload_id) && add_str(root, "domain", m->domain) &&
              add_envelope(root, m);
    if (ok && m->failed) {
        cJSON *er = cJSON_AddObjectToObject(root, "error");
        ok = er != NULL && add_str(er, "code", m->error_code) &&
             add_str(er, "message", m->error_message) && add_str(root, "failedAt", m->at);
    } else if (ok) {
        ok = add_facts(root, m) && add_outputs(root, m);
    }
    if (ok)
        text = json_print(root);
    cJSON_Delete(root);
    return text;
}

/* ---- reading ---- */

/* A string member copied into dst; false when absent, not a string or too long. */
static bool get_str(const cJSON *o, const char *name, char *dst, size_t cap)
{
    return copy_str(dst, cap, json_get_str(o, name));
}

static bool get_int(const cJSON *o, const char *name, long long lo, long long hi, long long *out)
{
    return json_get_int(o, name, out) && *out >= lo && *out <= hi;
}

static enum err_code parse_envelope(const cJSON *root, struct h_manifest *m, struct err *e)
{
    const struct s3_key_domain_desc *d = NULL;
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(root, "ids");
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(root, "source");
    long long n = 0;
    if (!get_str(root, "uploadId", m->upload_id, sizeof(m->upload_id)) ||
        !get_str(root, "domain", m->domain, sizeof(m->domain)) ||
        (d = s3_key_domain_find(m->domain)) == NULL || !cJSON_IsObject(ids))
        return err_set(e, ERR_INVALID, "manifest: bad uploadId, domain or ids");
    for (size_t i = 0; i < d->nids; i++) {
        if (!get_str(ids, d->id_names[i], m->ids[i], sizeof(m->ids[i])))
            return err_set(e, ERR_INVALID, "manifest: ids.%s missing", d->id_names[i]);
    }
    const char *lm = cJSON_IsObject(s) ? json_get_str(s, "lastModified") : NULL;
    if (!cJSON_IsObject(s) || !get_str(s, "key", m->source.key, sizeof(m->source.key)) ||
        !get_int(s, "size", 0, INT64_MAX, &n) ||
        !get_str(s, "etag", m->source.etag, sizeof(m->source.etag)) ||
        !get_str(s, "sequencer", m->source.sequencer, sizeof(m->source.sequencer)) ||
        !get_str(s, "contentType", m->source.content_type, sizeof(m->source.content_type)) ||
        (lm != NULL && !ts_parse_rfc3339(lm, &m->source.last_modified)))
        return err_set(e, ERR_INVALID, "manifest: bad source");
    m->source.size = (uint64_t)n;
    return ERR_OK;
}

static enum err_code parse_facts(const cJSON *root, struct h_manifest *m, struct err *e)
{
    struct img_facts *f = &m->facts;
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(root, "facts");
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(root, "placeholders");
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(root, "origin");
    const char *fmt = cJSON_IsObject(o) ? json_get_str(o, "format") : NULL;
    long long w = 0, h = 0, orient = 0, frames = 0, bytes = 0;
    if (fmt == NULL || !get_int(o, "width", 0, INT32_MAX, &w) ||
        !get_int(o, "height", 0, INT32_MAX, &h) || !get_int(o, "orientation", 1, 8, &orient) ||
        !json_get_bool(o, "alpha", &f->has_alpha) || !get_int(o, "frames", 0, INT32_MAX, &frames))
        return err_set(e, ERR_INVALID, "manifest: bad facts");
    f->format = img_format_parse(fmt);
    f->width = (int)w;
    f->height = (int)h;
    f->orientation = (int)orient;
    f->frames = (int)frames;
    if (cJSON_IsObject(p)) {
        f->placeholders = get_str(p, "blurhash", f->blurhash, sizeof(f->blurhash)) &&
                          get_str(p, "thumbhash", f->thumbhash, sizeof(f->thumbhash)) &&
                          get_str(p, "dominant", f->dominant, sizeof(f->dominant));
        if (!f->placeholders)
            return err_set(e, ERR_INVALID, "manifest: bad placeholders");
    }
    if (!cJSON_IsObject(g) || !get_str(g, "key", m->origin_key, sizeof(m->origin_key)) ||
        !get_int(g, "bytes", 0, INT64_MAX, &bytes) ||
        !get_str(g, "format", m->origin_format, sizeof(m->origin_format)) ||
        !json_get_bool(g, "gpsRemoved", &m->origin_gps_removed))
        return err_set(e, ERR_INVALID, "manifest: bad origin");
    m->origin_bytes = (uint64_t)bytes;
    return ERR_OK;
}

static enum err_code parse_variant(const cJSON *o, struct h_manifest_variant *v, struct err *e)
{
    long long w = 0, h = 0, bytes = 0;
    if (!cJSON_IsObject(o) || !get_str(o, "name", v->name, sizeof(v->name)) ||
        !get_str(o, "key", v->key, sizeof(v->key)) || !get_int(o, "width", 0, INT32_MAX, &w) ||
        !get_int(o, "height", 0, INT32_MAX, &h) || !get_int(o, "bytes", 0, INT64_MAX, &bytes) ||
        !get_str(o, "format", v->format, sizeof(v->format)) ||
        !get_str(o, "contentType", v->content_type, sizeof(v->content_type)))
        return err_set(e, ERR_INVALID, "manifest: bad variant");
    v->width = (int)w;
    v->height = (int)h;
    v->bytes = (uint64_t)bytes;
    return ERR_OK;
}

static enum err_code parse_outputs(const cJSON *root, struct h_manifest *m, struct err *e)
{
    const cJSON *vs = cJSON_GetObjectItemCaseSensitive(root, "variants");
    const cJSON *ws = cJSON_GetObjectItemCaseSensitive(root, "warnings");
    const cJSON *it = NULL;
    long long ms = 0;
    if (!cJSON_IsArray(vs) || cJSON_GetArraySize(vs) > IMG_PRESET_MAX || !cJSON_IsArray(ws) ||
        cJSON_GetArraySize(ws) > H_PIPE_WARNINGS_MAX)
        return err_set(e, ERR_INVALID, "manifest: bad variants or warnings");
    cJSON_ArrayForEach(it, vs)
    {
        enum err_code rc = parse_variant(it, &m->variants[m->nvariants], e);
        if (rc != ERR_OK)
            return rc;
        m->nvariants++;
    }
    cJSON_ArrayForEach(it, ws)
    {
        if (!cJSON_IsString(it) ||
            !copy_str(m->warnings[m->nwarnings], H_PIPE_WARNING_MAX, it->valuestring))
            return err_set(e, ERR_INVALID, "manifest: bad warning");
        m->nwarnings++;
    }
    if (!get_str(root, "presets", m->presets, sizeof(m->presets)) ||
        !get_str(root, "processedAt", m->at, sizeof(m->at)) ||
        !get_int(root, "processingMs", 0, INT32_MAX, &ms))
        return err_set(e, ERR_INVALID, "manifest: bad presets, processedAt or processingMs");
    m->processing_ms = (long)ms;
    return ERR_OK;
}

static enum err_code parse_failed(const cJSON *root, struct h_manifest *m, struct err *e)
{
    const cJSON *er = cJSON_GetObjectItemCaseSensitive(root, "error");
    if (!cJSON_IsObject(er) || !get_str(er, "code", m->error_code, sizeof(m->error_code)) ||
        !get_str(er, "message", m->error_message, sizeof(m->error_message)) ||
        !get_str(root, "failedAt", m->at, sizeof(m->at)))
        return err_set(e, ERR_INVALID, "failed record: bad error or failedAt");
    return ERR_OK;
}

enum err_code h_manifest_parse(const char *text, size_t len, struct h_manifest *m, struct err *e)
{
    enum err_code rc = ERR_INVALID;
    long long version = 0;
    memset(m, 0, sizeof(*m));
    cJSON *root = json_parse(text, len, e);
    if (root == NULL)
        goto cleanup;
    const char *status = json_get_str(root, "status");
    if (!json_get_int(root, "version", &version) || version != H_MANIFEST_VERSION ||
        status == NULL || (strcmp(status, "ready") != 0 && strcmp(status, "failed") != 0)) {
        err_set(e, ERR_INVALID, "manifest: unknown version or status");
        goto cleanup;
    }
    m->version = (int)version;
    m->failed = strcmp(status, "failed") == 0;
    rc = parse_envelope(root, m, e);
    if (rc == ERR_OK && m->failed)
        rc = parse_failed(root, m, e);
    else if (rc == ERR_OK)
        rc = parse_facts(root, m, e);
    if (rc == ERR_OK && !m->failed)
        rc = parse_outputs(root, m, e);
cleanup:
    cJSON_Delete(root);
    if (rc != ERR_OK)
        memset(m, 0, sizeof(*m));
    return rc;
}

/* ---- presets fingerprint ---- */

static uint64_t fnv1a(uint64_t h, const char *s)
{
    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

void h_pipe_presets_fingerprint(const struct img_domain_presets *d, char out[H_PIPE_FP_MAX])
{
    uint64_t h = 14695981039346656037ULL;
    char line[160];
    for (int i = 0; d != NULL && i < d->count; i++) {
        const struct img_preset *p = &d->presets[i];
        snprintf(line, sizeof(line), "%s|%d|%d|%s|%s|%s|%d|%d;", p->name, p->width, p->height,
                 img_fit_name(p->fit), img_gravity_name(p->gravity), img_out_format_name(p->format),
                 p->quality, p->enlarge ? 1 : 0);
        h = fnv1a(h, line);
    }
    snprintf(out, H_PIPE_FP_MAX, "fnv1a64:%016" PRIx64, h);
}
