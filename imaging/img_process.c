/*
 * img_process.c: the ingest, info and resize entry points. See img_process.h.
 *
 * Each is a short list of the steps the other imaging modules provide: unwrap -> probe ->
 * decode/variants -> facts -> origin privacy.
 */
#include "imaging/img_process.h"

#include <stdlib.h>
#include <string.h>

#include "imaging/img_input.h"
#include "imaging/img_privacy.h"

struct img_job_opts img_job_opts_default(void)
{
    struct img_job_opts o = {
        .limits = img_limits_default(),
        .recover_multipart = true,
        .strip_origin_location = true,
        .placeholders = true,
    };
    return o;
}

/* Unwraps and probes: the common first steps. `img` points into `buf`. */
static enum err_code open_input(const void *buf, size_t len, const struct img_job_opts *o,
                                struct img_span *img, bool *unwrapped, struct img_probe *p,
                                struct img_error *e)
{
    enum err_code rc = img_limits_validate(&o->limits, e);
    if (rc != ERR_OK)
        return rc;
    if (len > o->limits.max_bytes) /* before looking inside an envelope */
        return img_fail(e, IMG_R_TOO_LARGE_BYTES, "body is %zu bytes; the limit is %zu", len,
                        o->limits.max_bytes);
    rc = img_input_unwrap(buf, len, o->recover_multipart, img, unwrapped, e);
    if (rc != ERR_OK)
        return rc;
    return img_probe(img->data, img->len, &o->limits, p, e);
}

static enum err_code make_origin(const struct img_span *img, const struct img_probe *p,
                                 const struct img_job_opts *o, struct img_result *out,
                                 struct img_error *e)
{
    struct img_privacy_report rep = {0};
    out->origin_format = p->format;
    if (o->strip_origin_location) {
        enum err_code rc = img_origin_strip_location(img->data, img->len, p->format, &out->origin,
                                                     &out->origin_len, &rep, e);
        out->origin_gps_removed = rep.gps_removed;
        return rc;
    }
    if ((out->origin = malloc(img->len)) == NULL)
        return img_fail(e, IMG_R_INTERNAL, "out of memory");
    memcpy(out->origin, img->data, img->len);
    out->origin_len = img->len;
    return ERR_OK;
}

enum err_code img_process_begin(const void *buf, size_t len, const struct img_job_opts *opts,
                                struct img_prepared *prep, struct img_result *out,
                                struct img_error *e)
{
    struct img_job_opts dflt = img_job_opts_default();
    const struct img_job_opts *o = opts ? opts : &dflt;
    memset(out, 0, sizeof(*out));
    memset(prep, 0, sizeof(*prep));
    enum err_code rc =
        open_input(buf, len, o, &prep->img, &out->multipart_unwrapped, &prep->probe, e);
    if (rc != ERR_OK) {
        img_result_free(out);
        return rc;
    }
    prep->origin_rc = make_origin(&prep->img, &prep->probe, o, out, &prep->origin_err);
    if (prep->origin_rc != ERR_OK) {
        free(out->origin);
        out->origin = NULL;
        out->origin_len = 0;
    }
    return ERR_OK;
}

enum err_code img_process_finish(const struct img_prepared *prep, const struct img_job_opts *opts,
                                 const struct img_preset *presets, int n, struct img_result *out,
                                 struct img_error *e)
{
    struct img_job_opts dflt = img_job_opts_default();
    const struct img_job_opts *o = opts ? opts : &dflt;
    struct img_pixels px = {0};
    enum err_code rc = img_variants_make(prep->img.data, prep->img.len, &prep->probe, presets, n,
                                         &out->variants, o->placeholders ? &px : NULL, e);
    if (rc == ERR_OK && prep->origin_rc != ERR_OK) {
        rc = prep->origin_rc;
        if (e != NULL)
            *e = prep->origin_err;
    }
    if (rc == ERR_OK)
        img_facts_fill(&out->facts, &prep->probe, o->placeholders ? &px : NULL);
    img_pixels_free(&px);
    if (rc != ERR_OK)
        img_result_free(out);
    return rc;
}

enum err_code img_process(const void *buf, size_t len, const struct img_job_opts *opts,
                          const struct img_preset *presets, int n, struct img_result *out,
                          struct img_error *e)
{
    struct img_prepared prep;
    enum err_code rc = img_process_begin(buf, len, opts, &prep, out, e);
    return rc == ERR_OK ? img_process_finish(&prep, opts, presets, n, out, e) : rc;
}

enum err_code img_info(const void *buf, size_t len, const struct img_job_opts *opts,
                       struct img_facts *out, bool *unwrapped, struct img_error *e)
{
    struct img_job_opts dflt = img_job_opts_default();
    const struct img_job_opts *o = opts ? opts : &dflt;
    struct img_span img = {0};
    struct img_probe p;
    struct img_pixels px = {0};
    bool un = false;
    memset(out, 0, sizeof(*out));
    enum err_code rc = open_input(buf, len, o, &img, &un, &p, e);
    if (rc == ERR_OK && o->placeholders)
        rc = img_placeholder_pixels(img.data, img.len, &p, &px, e);
    if (rc == ERR_OK)
        img_facts_fill(out, &p, o->placeholders ? &px : NULL);
    if (unwrapped != NULL)
        *unwrapped = un;
    img_pixels_free(&px);
    return rc;
}

enum err_code img_resize(const void *buf, size_t len, const struct img_job_opts *opts,
                         const struct img_preset *preset, struct img_variants *out, bool *unwrapped,
                         struct img_error *e)
{
    struct img_job_opts dflt = img_job_opts_default();
    const struct img_job_opts *o = opts ? opts : &dflt;
    struct img_span img = {0};
    struct img_probe p;
    bool un = false;
    memset(out, 0, sizeof(*out));
    enum err_code rc = open_input(buf, len, o, &img, &un, &p, e);
    if (rc == ERR_OK)
        rc = img_variants_make(img.data, img.len, &p, preset, 1, out, NULL, e);
    if (unwrapped != NULL)
        *unwrapped = un;
    return rc;
}

void img_result_free(struct img_result *r)
{
    if (r == NULL)
        return;
    img_variants_free(&r->variants);
    free(r->origin);
    memset(r, 0, sizeof(*r));
}
