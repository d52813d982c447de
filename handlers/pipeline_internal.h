/*
 * pipeline_internal.h: the pieces of the event pipeline shared by its own files (pipeline.c,
 * pipeline_core.c, pipeline_write.c, pipeline_manifest.c, pipeline_status.c) and by reprocess
 * (pipeline_reprocess.c).
 *
 * Not for other modules: the public contract is handlers/pipeline.h. What lives here:
 *   - struct h_pipeline itself (settings, the in-flight set that serialises one upload);
 *   - the manifest and failed record as a C value (struct h_manifest), its JSON both ways;
 *   - h_pipe_write_outputs: PUT every variant, optionally the origin, and the manifest last;
 *   - h_pipe_manifest_read: GET and parse an existing manifest or failed record;
 *   - the presets fingerprint, the retry helpers, the lock on one upload, result helpers.
 *
 * Manifest JSON (version 1, Content-Type application/json; a failed record has the same
 * envelope with "status":"failed", "error" and "failedAt" instead of facts..processingMs):
 *   {"version":1,"status":"ready","uploadId":"<uuid>_<ts>","domain":"profile",
 *    "ids":{"userId":"42"},
 *    "source":{"key":"delete/...","size":123,"etag":"...","sequencer":"...",
 *              "contentType":"image/jpeg","lastModified":"2026-11-24T14:46:00Z"},
 *    "facts":{"format":"jpeg","width":4000,"height":3000,"orientation":1,"alpha":false,
 *             "frames":1},
 *    "placeholders":{"blurhash":"...","thumbhash":"...","dominant":"#aabbcc"},
 *    "origin":{"key":"profile/42/origin/...","bytes":123,"format":"jpeg","gpsRemoved":true},
 *    "variants":[{"name":"640","key":"profile/42/640/....jpeg","width":640,"height":640,
 *                 "bytes":4567,"format":"jpeg","contentType":"image/jpeg"}],
 *    "warnings":["multipart_unwrapped"],"presets":"fnv1a64:0123456789abcdef",
 *    "processedAt":"2026-11-24T14:46:01.234Z","processingMs":312}
 * A variant's key has its own format's extension (a HEIC upload's JPEG variant ends .jpeg);
 * the origin keeps the upload's extension.
 */
#ifndef IMGSVC_HANDLERS_PIPELINE_INTERNAL_H
#define IMGSVC_HANDLERS_PIPELINE_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "handlers/pipeline.h"

#define H_MANIFEST_VERSION  1
#define H_PIPE_FP_MAX       32 /* "fnv1a64:" + 16 hex digits + NUL, with room */
#define H_PIPE_WARNINGS_MAX 4
#define H_PIPE_WARNING_MAX  32
#define H_PIPE_TIME_MAX     32 /* RFC 3339 with milliseconds */
#define H_PIPE_FORMAT_MAX   16
#define H_PIPE_CTYPE_MAX    64
#define H_PIPE_DOMAIN_MAX   32

/* Cache-Control of variants and origins: their keys never get other bytes. */
#define H_PIPE_IMMUTABLE "public, max-age=31536000, immutable"

struct h_pipeline {
    struct h_pipeline_cfg cfg; /* copied by h_pipeline_new; s3 and presets borrowed */
    pthread_mutex_t mu;        /* guards the in-flight set and the fields marked (mu) */
    pthread_cond_t cv;         /* signalled when a name leaves the set */
    char (*inflight)[S3_KEY_MAX];
    size_t ninflight, capinflight;
    int imaging;               /* img_process calls running (guarded by mu) */
    pthread_cond_t imaging_cv; /* signalled when one ends */
    bool no_origin_copy;       /* the store refused CopyObject, or its copies kept other ETags
                                  H_PIPE_COPY_MISSES times in a row: origins are PUT (mu) */
    int copy_misses;           /* copies in a row whose ETag was not the upload's (mu) */
};

/* Copies in a row that gave another ETag than the upload's before origins are only PUT (a store
 * whose copies do not keep the ETag, e.g. SSE-KMS on AWS; once is an overwrite race). */
#define H_PIPE_COPY_MISSES 3

/* The bytes a manifest or failed record was made from. Plain value. */
struct h_pipe_source {
    char key[S3_KEY_MAX];                 /* the temp key (or the origin key when reprocessing) */
    uint64_t size;                        /* bytes */
    char etag[S3_ETAG_MAX];               /* without quotes */
    char sequencer[S3_EVENT_SEQ_MAX + 1]; /* the event's, "" when none (reconciler, reprocess) */
    char content_type[S3_CONTENT_TYPE_MAX];
    time_t last_modified; /* 0 when unknown */
};

struct h_manifest_variant {
    char name[IMG_PRESET_NAME_MAX];
    char key[S3_KEY_MAX];
    int width;
    int height;
    uint64_t bytes;
    char format[H_PIPE_FORMAT_MAX];      /* img_format_name: "jpeg", "png", ... */
    char content_type[H_PIPE_CTYPE_MAX]; /* "image/jpeg", ... */
};

/* A manifest (failed == false) or a failed record (failed == true) as a value. */
struct h_manifest {
    int version;
    bool failed;
    char upload_id[S3_KEY_UPLOAD_ID_MAX];
    char domain[H_PIPE_DOMAIN_MAX];
    char ids[S3_KEY_MAX_IDS][S3_KEY_ID_MAX + 1]; /* in the domain's id order */
    struct h_pipe_source source;
    /* ready only: */
    struct img_facts facts; /* facts.placeholders says whether the placeholders are set */
    char origin_key[S3_KEY_MAX];
    uint64_t origin_bytes;
    char origin_format[H_PIPE_FORMAT_MAX];
    bool origin_gps_removed;
    int nvariants;
    struct h_manifest_variant variants[IMG_PRESET_MAX];
    int nwarnings;
    char warnings[H_PIPE_WARNINGS_MAX][H_PIPE_WARNING_MAX];
    char presets[H_PIPE_FP_MAX]; /* h_pipe_presets_fingerprint of the domain's presets */
    long processing_ms;
    /* failed only: */
    char error_code[H_PIPE_REASON_MAX];
    char error_message[H_PIPE_MESSAGE_MAX];
    /* processedAt (ready) or failedAt (failed) */
    char at[H_PIPE_TIME_MAX];
};

/* ---- pipeline_manifest.c: the JSON, pure functions ---- */

/* The manifest or failed record text of `m` (malloc'd, caller frees); NULL on ERR_NOMEM. */
char *h_manifest_json(const struct h_manifest *m);

/* Parses a manifest or failed record (exactly `len` bytes) into `m` (overwritten). ERR_INVALID
 * with a message for anything that h_manifest_json could not have written. */
enum err_code h_manifest_parse(const char *text, size_t len, struct h_manifest *m, struct err *e);

/* Fills the envelope of `m` (version, upload id, domain, ids, source) for the upload `k`
 * (any kind) from `src` (NULL = leave the source empty). `m` is zeroed first. */
void h_manifest_init(struct h_manifest *m, const struct s3_key *k, const struct h_pipe_source *src);

/* A fingerprint of one domain's presets (every field of every preset, in order), written to
 * `out` as "fnv1a64:<16 hex>". Equal presets give equal fingerprints across runs and hosts. */
void h_pipe_presets_fingerprint(const struct img_domain_presets *d, char out[H_PIPE_FP_MAX]);

/* ---- pipeline_core.c / pipeline_write.c: S3 work and its locks, shared with reprocess ---- */

/* The presets of the upload's domain, or NULL (a domain missing from the table). Borrowed. */
const struct img_domain_presets *h_pipe_presets_for(const struct h_pipeline *p,
                                                    enum s3_key_domain d);

/*
 * The origin's PUT started ahead of the variants (h_pipe_origin_put_start), on a thread of its
 * own, so that it overlaps the imaging. It owns the origin's bytes from the start.
 */
struct h_pipe_origin_put {
    struct h_pipeline *p;
    struct s3_client *s3;
    char key[S3_KEY_MAX];
    char copy_from[S3_KEY_MAX]; /* the temp key when the origin is its bytes exactly, else "" */
    char etag[S3_ETAG_MAX];     /* with copy_from: the temp's ETag the variants were made from */
    uint8_t *body;              /* malloc'd, owned */
    size_t len;
    const char *content_type; /* static */
    pthread_t thread;
    bool started; /* a thread runs the PUT (else it ran, or runs, on the caller's) */
    bool joined;
    enum err_code rc;
    struct err e;
};

/*
 * Starts storing res->origin at `k`'s origin key; takes res->origin (set to NULL; the rest of
 * the origin fields stay). When the origin is byte for byte the temp object `src` (no location
 * to remove, no envelope), it is copied on the server (CopyObject from src->key with
 * x-amz-copy-source-if-match src->etag, so the bytes do not travel again); the copy counts only
 * when its ETag is src->etag, else (a store that ignores the condition and copied a newer
 * upload, or does not keep ETags) the bytes are PUT over it, as they are when the copy fails.
 * `src` NULL: PUT. On a failure to make the key, rc is set and nothing is sent.
 */
void h_pipe_origin_put_start(struct h_pipeline *p, const struct s3_key *k, struct img_result *res,
                             const struct h_pipe_source *src, const void *temp, size_t temp_len,
                             struct h_pipe_origin_put *op);
/* Waits for the PUT: its answer (and `e`). Idempotent. */
enum err_code h_pipe_origin_put_wait(struct h_pipe_origin_put *op, struct err *e);
/* Waits for the PUT and, when it stored the origin, deletes it again (the upload failed after
 * all); frees the bytes. Errors are logged. */
void h_pipe_origin_put_undo(struct h_pipe_origin_put *op);
/* Frees the bytes (after h_pipe_origin_put_wait or _undo). */
void h_pipe_origin_put_free(struct h_pipe_origin_put *op);

/* What h_pipe_write_outputs writes besides the variants. */
struct h_pipe_write_opts {
    bool put_origin;                      /* PUT res->origin at the origin key (the upload's ext) */
    struct h_pipe_origin_put *origin_put; /* with put_origin: that PUT is already under way
                                             (res->origin is NULL); wait for it instead */
    const struct h_manifest *prev; /* when !put_origin: origin fields and warnings are carried
                                      over from this earlier manifest; NULL = from `res` */
    int64_t started_mono_ms;       /* ts_now_mono_ms() when the work began (processingMs) */
};

/*
 * PUTs every variant of `res` (key P/<name>/U.<its format>, its content type, Cache-Control
 * H_PIPE_IMMUTABLE) and the origin when o->put_origin, all at once (one thread each), then,
 * once all of them succeeded, the manifest (application/json, no-cache) last, for the upload `k`
 * (any kind: domain, ids, upload id and ext are used) made from `src`. `m` (optional) receives the
 * manifest written. One attempt: no retry here; the first S3 error is returned (the client's code,
 * e.g. ERR_UPSTREAM) with `e` set.
 */
enum err_code h_pipe_write_outputs(struct h_pipeline *p, const struct s3_key *k,
                                   const struct img_result *res, const struct h_pipe_source *src,
                                   const struct h_pipe_write_opts *o, struct h_manifest *m,
                                   struct err *e);

/*
 * GETs and parses the manifest (kind S3_KEY_MANIFEST) or the failed record (S3_KEY_FAILED) of
 * the upload `k` (any kind). ERR_NOT_FOUND when absent, ERR_INVALID when it does not parse,
 * else the S3 error. `text` (optional) receives the raw JSON (malloc'd, caller frees).
 */
enum err_code h_pipe_manifest_read(struct h_pipeline *p, const struct s3_key *k,
                                   enum s3_key_kind kind, struct h_manifest *m, char **text,
                                   struct err *e);

/*
 * h_pipe_manifest_read for a record that is usually absent (an upload being processed, a status
 * poll while pending): a HEAD first, the GET only when the record is there. On Ceph RGW 16.2 a
 * HEAD of a missing key costs half the CPU of a GET of it (bench/store/rgw_request_cost.py).
 */
enum err_code h_pipe_record_read(struct h_pipeline *p, const struct s3_key *k,
                                 enum s3_key_kind kind, struct h_manifest *m, char **text,
                                 struct err *e);

/* Builds the key of kind `kind` for the upload `k` into out (S3_KEY_MAX). For a variant, `size`
 * is the preset name and `ext` the format's extension; both ignored otherwise (ext NULL = k's). */
enum err_code h_pipe_key(const struct s3_key *k, enum s3_key_kind kind, const char *size,
                         const char *ext, char out[S3_KEY_MAX], struct err *e);

/* True for the S3 errors worth another attempt: ERR_UPSTREAM, ERR_TIMEOUT, ERR_IO. */
bool h_pipe_transient(enum err_code c);

/* The wait before attempt `attempt` (2, 3, ...) with the random `rnd`: full jitter in
 * [0, min(retry_max_ms, retry_base_ms * 2^(attempt-2))] (ts_backoff_ms); 0 before the first. */
long h_pipe_backoff_ms(const struct h_pipeline *p, int attempt, uint64_t rnd);

/* Sleeps h_pipe_backoff_ms with a per-thread random before attempt `attempt`. */
void h_pipe_backoff(const struct h_pipeline *p, int attempt);

/* An S3 ETag without its surrounding quotes, into out (cap bytes). */
void h_pipe_unquote_etag(const char *in, char *out, size_t cap);

/* Runs `try_once(ctx, e)` under the upload's in-process lock (its manifest key, written into
 * `manifest_key`), again after a backoff while the error is transient, up to the configured
 * attempts. When none succeeds, `out` gets RETRY with the last error. `what` and `subject` name
 * the work in the log line of each failed attempt. */
void h_pipe_run_attempts(struct h_pipeline *p, const struct s3_key *k,
                         char manifest_key[S3_KEY_MAX], struct h_pipe_result *out, const char *what,
                         const char *subject, enum err_code (*try_once)(void *ctx, struct err *e),
                         void *ctx);

/* Serialises work on one upload inside the process: waits while `name` (use the upload's
 * manifest key) is held by another thread, then holds it. Pair with h_pipe_unlock. */
enum err_code h_pipe_lock(struct h_pipeline *p, const char *name);
void h_pipe_unlock(struct h_pipeline *p, const char *name);

/* Takes one of cfg.imaging_slots, waiting until one is free (no-op when the setting is 0);
 * h_pipe_imaging_leave gives it back. */
void h_pipe_imaging_enter(struct h_pipeline *p);
void h_pipe_imaging_leave(struct h_pipeline *p);

/* img_process with the pipeline's job options, inside an imaging slot: the decode and resizes
 * of at most cfg.imaging_slots uploads run at a time, whatever the number of threads doing S3
 * requests. */
enum err_code h_pipe_img_process(struct h_pipeline *p, const void *data, size_t len,
                                 const struct img_domain_presets *ps, struct img_result *res,
                                 struct img_error *ie);

/* Sets outcome, reason and a printf-style message of `out` (other fields untouched). */
void h_pipe_result_set(struct h_pipe_result *out, enum h_pipe_outcome o, const char *reason,
                       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Counts `r` in imgsvc_pipeline_records_total{outcome,reason} and, for READY/FAILED, observes
 * imgsvc_pipeline_duration_seconds. Registers the pipeline's metric families on first use. */
void h_pipe_metrics_count(const struct h_pipe_result *r);

/* The names of the steps of an upload made ready (H_PIPE_PHASES, pipeline.h), in order. */
extern const char *const h_pipe_phase_names[H_PIPE_PHASES];

/* Observes the steps of an upload made ready, in ms (imgsvc_pipeline_phase_seconds{phase}). */
void h_pipe_metrics_phases(const int64_t ms[H_PIPE_PHASES]);
/* Observes a record's wait in the job queue (imgsvc_pipeline_wait_seconds). */
void h_pipe_metrics_wait(double ms);

/* Registers the pipeline's metric families (idempotent). */
void h_pipe_metrics_register(void);

#endif
