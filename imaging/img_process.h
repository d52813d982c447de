/*
 * img_process.h: the imaging entry points the handlers call — one upload in, everything out.
 *
 * img_process() runs the whole ingest for one body: unwrap a multipart envelope (policy in
 * the options), probe with limits, decode once into every preset's variant, compute facts and
 * placeholders, and make the origin copy without location metadata. img_info() does the facts
 * only (for POST /v1/info). img_resize() makes one variant from request options (for
 * POST /v1/resize). All three borrow the input and return owned results.
 */
#ifndef IMGSVC_IMAGING_IMG_PROCESS_H
#define IMGSVC_IMAGING_IMG_PROCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imaging/img_error.h"
#include "imaging/img_facts.h"
#include "imaging/img_input.h"
#include "imaging/img_preset.h"
#include "imaging/img_probe.h"
#include "imaging/img_variant.h"

struct img_job_opts {
    struct img_limits limits;   /* default img_limits_default() */
    bool recover_multipart;     /* default true: extract the file part, record a warning */
    bool strip_origin_location; /* default true: see img_privacy.h */
    bool placeholders;          /* default true: BlurHash, ThumbHash, dominant colour */
};

/* The defaults documented on each field. */
struct img_job_opts img_job_opts_default(void);

struct img_result {
    struct img_facts facts;
    struct img_variants variants;
    bool multipart_unwrapped; /* warning: the body was a form envelope; the file was used */
    enum img_format origin_format;
    uint8_t *origin; /* the bytes to store as the origin (malloc'd; location removed when the
                        option is on, else a copy of the image bytes) */
    size_t origin_len;
    bool origin_gps_removed; /* location metadata was found and removed */
};

/*
 * Processes one upload body against `presets` (1..IMG_PRESET_MAX). `opts` NULL = defaults.
 * On ERR_OK `out` owns everything (free with img_result_free); on failure `out` is empty and
 * `e` holds the reason (any of img_probe's, multipart_upload, corrupt_image, truncated,
 * invalid_option, internal). Needs img_global_init.
 */
enum err_code img_process(const void *buf, size_t len, const struct img_job_opts *opts,
                          const struct img_preset *presets, int n, struct img_result *out,
                          struct img_error *e);

/*
 * img_process in two steps, so that the origin can be stored while the variants are made.
 * img_process_begin does the cheap part, without decoding: unwrap, probe with limits (their
 * failures are returned at once, `out` empty) and the origin into out->origin, or, when that
 * fails, nothing (out->origin NULL) and the failure kept in `prep` for img_process_finish.
 * img_process_finish decodes once into the variants, facts and placeholders; it returns the
 * decode's failure first, then the origin's, exactly as img_process would, and frees `out`
 * on any failure. `prep` points into `buf`, which must outlive both calls; `opts` must be the
 * same for both (NULL = defaults).
 */
struct img_prepared {
    struct img_span img; /* the image inside the body (after any unwrapping) */
    struct img_probe probe;
    enum err_code origin_rc; /* ERR_OK, or why the origin could not be made */
    struct img_error origin_err;
};
enum err_code img_process_begin(const void *buf, size_t len, const struct img_job_opts *opts,
                                struct img_prepared *prep, struct img_result *out,
                                struct img_error *e);
enum err_code img_process_finish(const struct img_prepared *prep, const struct img_job_opts *opts,
                                 const struct img_preset *presets, int n, struct img_result *out,
                                 struct img_error *e);

/*
 * Facts (and placeholders when opts->placeholders) of one body, decoding only a small
 * shrink-on-load version. `unwrapped` (may be NULL) reports a recovered multipart envelope.
 */
enum err_code img_info(const void *buf, size_t len, const struct img_job_opts *opts,
                       struct img_facts *out, bool *unwrapped, struct img_error *e);

/*
 * One variant per `preset` (e.g. built from /v1/resize's w, h, fit, gravity, format, q).
 * On ERR_OK `out` holds exactly one item (free with img_variants_free).
 */
enum err_code img_resize(const void *buf, size_t len, const struct img_job_opts *opts,
                         const struct img_preset *preset, struct img_variants *out, bool *unwrapped,
                         struct img_error *e);

/* Frees everything `r` owns and zeroes it. NULL is a no-op. */
void img_result_free(struct img_result *r);

#endif
