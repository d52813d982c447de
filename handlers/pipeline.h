/*
 * pipeline.h: the event handler — one temp object in, every size, the origin and a manifest out.
 *
 * One function (h_pipeline_handle_record / _key) is what the webhook (POST /v1/events/s3), the
 * embedded store's in-process events, the reconciler, `imgsvc process` and `imgsvc lambda` all
 * call. It talks to S3 only through s3/client.h (in embedded mode the client points at the
 * store's own listener), so it behaves the same on every backend:
 *
 *   GET temp (cap) ─ gone ─▶ manifest or failed record present? DONE_BEFORE : IGNORED(temp_missing)
 *        │ present (over the cap: HEAD instead, for its ETag and size)
 *        ▼
 *   manifest (or failed record) for this ETag present? ──▶ DELETE temp, DONE_BEFORE
 *        │ no
 *        ▼
 *   img_process (sniff, probe, limits, multipart, variants, origin, facts)
 *        │ bad upload, or over the cap ──▶ PUT failed record (code, message) → DELETE temp → FAILED
 *        ▼
 *   PUT every variant → PUT origin → PUT manifest (last: its presence means "ready") → DELETE temp
 *
 * Keys come from s3/keys.h (temp, origin, variant, manifest, failed). The manifest records the
 * source's ETag and the event's sequencer: an event whose sequencer sorts before the manifest's
 * is stale and ignored; one for an overwrite (newer sequencer, new ETag) is processed again.
 * Records for the same key are serialised inside one process. Transient S3 errors (after the
 * client's own retries) are retried `max_attempts` times with backoff, then answered RETRY: the
 * temp stays where it is and the reconciler picks it up later, so nothing is lost.
 */
#ifndef IMGSVC_HANDLERS_PIPELINE_H
#define IMGSVC_HANDLERS_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "imaging/img_preset.h"
#include "imaging/img_process.h"
#include "s3/client.h"
#include "s3/events.h"
#include "s3/keys.h"

#define H_PIPE_REASON_MAX  48
#define H_PIPE_MESSAGE_MAX 256

struct h_pipeline_cfg {
    struct s3_client *s3;                   /* the bucket with temp and outputs (borrowed) */
    const struct img_preset_table *presets; /* per-domain presets (borrowed) */
    struct img_job_opts job;                /* limits, multipart recovery, origin privacy */
    uint64_t max_object_bytes;              /* GET cap on a temp object */
    int max_attempts;                       /* whole-job attempts on transient errors, >= 1 */
    long retry_base_ms;                     /* backoff between attempts (full jitter) */
    long retry_max_ms;
    int imaging_slots; /* img_process calls at once over every thread (0: no limit); the S3
                          requests of other calls go on meanwhile */
};

enum h_pipe_outcome {
    H_PIPE_READY,       /* processed now: variants, origin, manifest written; temp deleted */
    H_PIPE_DONE_BEFORE, /* a no-op: this upload was already finished (ready or failed) */
    H_PIPE_FAILED,      /* a bad upload: failed record written, temp deleted; never retried */
    H_PIPE_IGNORED,     /* not for us: other bucket, key outside delete/ or the schema, not
                           ObjectCreated, a stale sequencer, a temp gone without any record */
    H_PIPE_RETRY,       /* transient errors outlasted the attempts: the temp stays for later */
};

/* The steps of an upload made ready, as timed in h_pipe_result.phase_ms: read (the temp and its
 * records), queue (waiting for an imaging slot), imaging, write (variants, origin, manifest),
 * delete (the temp). */
#define H_PIPE_PHASES 5

/* What one call did. Plain value; `reason` is a stable code (ignore reason, failure code such
 * as "unsupported_format", or the transient error), `message` a sentence for people. */
struct h_pipe_result {
    enum h_pipe_outcome outcome;
    char key[S3_KEY_MAX];                 /* the temp key ("" when the record had none) */
    char upload_id[S3_KEY_UPLOAD_ID_MAX]; /* "" when the key is not in the schema */
    char manifest_key[S3_KEY_MAX];        /* READY / DONE_BEFORE(ready) */
    char reason[H_PIPE_REASON_MAX];       /* "" on READY */
    char message[H_PIPE_MESSAGE_MAX];
    int variants; /* written (READY) */
    int attempts;
    double ms;        /* wall time of the call */
    double waited_ms; /* time the record waited in the job queue before the call; -1: not queued */
    int64_t phase_ms[H_PIPE_PHASES]; /* READY: the wall time of each step (H_PIPE_PHASES) */
};

struct h_pipeline;

/* Checks and copies the settings (strings and objects stay borrowed). NULL + `e` on error. */
struct h_pipeline *h_pipeline_new(const struct h_pipeline_cfg *cfg, struct err *e);
void h_pipeline_free(struct h_pipeline *p);

/*
 * Handles one event record. Thread-safe. Records of another bucket than the client's, of
 * keys outside delete/ or not ObjectCreated are IGNORED without touching S3. Returns ERR_OK
 * whenever `out` says what happened (any outcome); another code only for a programming error.
 */
enum err_code h_pipeline_handle_record(struct h_pipeline *p, const struct s3_event_record *r,
                                       struct h_pipe_result *out);

/*
 * The same for a record that waited `waited_ms` in the service's job queue (IMGSVC_PIPELINE_JOBS
 * jobs at a time) before this call: observed in imgsvc_pipeline_wait_seconds and logged with the
 * record as waited_ms.
 */
enum err_code h_pipeline_handle_queued(struct h_pipeline *p, const struct s3_event_record *r,
                                       double waited_ms, struct h_pipe_result *out);

/* The same for a temp key found without an event (the reconciler, `imgsvc process --key`). */
enum err_code h_pipeline_handle_key(struct h_pipeline *p, const char *temp_key,
                                    struct h_pipe_result *out);

/* "ready", "done_before", "failed", "ignored", "retry". */
const char *h_pipe_outcome_name(enum h_pipe_outcome o);

/* The result as a JSON object text (malloc'd; caller frees); NULL on ERR_NOMEM. */
char *h_pipe_result_json(const struct h_pipe_result *r);

/*
 * Regenerates the variants and the manifest of one finished upload from its stored origin
 * (`origin_key`, an origin key of s3/keys.h) with the current presets: GET origin →
 * img_process → PUT variants → PUT manifest. Idempotent and resumable: when the manifest
 * already records the current presets (a fingerprint of them) it is DONE_BEFORE unless `force`.
 */
enum err_code h_pipeline_reprocess(struct h_pipeline *p, const char *origin_key, bool force,
                                   struct h_pipe_result *out);

enum h_upload_state { H_UPLOAD_UNKNOWN, H_UPLOAD_PENDING, H_UPLOAD_READY, H_UPLOAD_FAILED };

/*
 * The state of one upload, from S3 alone (any replica answers the same): the manifest →
 * READY (*manifest_json = its text, malloc'd), the failed record → FAILED (*manifest_json =
 * the record's text), the temp object → PENDING, none → UNKNOWN. `k` names the upload (any
 * kind; its domain, ids, upload id and ext are used). ERR_OK with the state, or the S3 error.
 */
enum err_code h_pipeline_status(struct h_pipeline *p, const struct s3_key *k,
                                enum h_upload_state *state, char **manifest_json, struct err *e);

/* "unknown", "pending", "ready", "failed". */
const char *h_upload_state_name(enum h_upload_state s);

/* Hands one record to whoever runs the pipeline asynchronously (the worker pool in serve).
 * ERR_BUSY when the queue is full (the caller answers 503 + Retry-After); the record is
 * borrowed for the call (copy it). */
typedef enum err_code (*h_pipe_submit_fn)(void *arg, const struct s3_event_record *r);

#endif
