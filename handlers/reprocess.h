/*
 * reprocess.h: POST /v1/objects/reprocess, and the pieces it shares with `imgsvc reprocess`
 * (prefix check, listing of the origins under a prefix).
 *
 * When presets change, existing uploads are regenerated from their stored origins
 * (h_pipeline_reprocess). A prefix names a folder of the output schema ("profile/",
 * "profile/42/", "chatroom/7/chat/9/"); every origin key under it (s3/keys.h, kind origin) is
 * one job. The route is bounded (IMGSVC_REPROCESS_MAX_KEYS origins: 413 past it, pointing at
 * the CLI) and only lists and queues: it answers 202 {"queued":n} and the worker pool does the
 * work. Reprocessing is idempotent (a manifest that already records the current presets is
 * skipped unless "force"), so calling it again after a 503 or a crash only redoes what is left.
 *
 * Who may call it: API-key callers only (internal services and operators). A mobile app's JWT
 * is refused with 403 even if valid: one call rewrites many users' objects. With
 * authentication off (allowed only on loopback) everyone on the machine may call it.
 */
#ifndef IMGSVC_HANDLERS_REPROCESS_H
#define IMGSVC_HANDLERS_REPROCESS_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "handlers/auth.h"
#include "handlers/http.h"
#include "handlers/pipeline.h"
#include "s3/client.h"

#define H_REPROCESS_PREFIX_MAX 200 /* bytes of a prefix, '/' added */

/* Queues one reprocess job for `origin_key` (borrowed for the call; copy it). ERR_BUSY when
 * the queue is full. */
typedef enum err_code (*h_reprocess_submit_fn)(void *arg, const char *origin_key, bool force);

struct h_reprocess_ctx {
    const struct h_auth *auth; /* NULL = authentication off */
    struct s3_client *s3;      /* the bucket (borrowed); NULL: 503 */
    size_t max_keys;           /* most origins one call queues */
    h_reprocess_submit_fn submit;
    void *submit_arg;
};

/* Body {"prefix":"profile/42/","force":false}. 202 {"queued":n,"prefix":...,"force":...}. */
void h_reprocess_post(const struct h_request *req, struct h_response *resp);

/*
 * Checks a prefix and writes its normal form (a '/' appended when missing) into `out`:
 * '/'-separated non-empty segments of [A-Za-z0-9_-], the first being a domain's top folder of
 * the output schema (profile, feed, chatroom), at most H_REPROCESS_PREFIX_MAX bytes. So
 * "delete/...", "failed/...", "..", "//", a leading '/' and "" are refused (ERR_INVALID, a
 * message for people).
 */
enum err_code h_reprocess_prefix_check(const char *prefix, char *out, size_t cap, struct err *e);

/* A list of keys (owned strings). Zero-initialise; free with h_key_list_free. */
struct h_key_list {
    char **keys;
    size_t n, cap;
};

void h_key_list_free(struct h_key_list *l);

/*
 * Lists every origin key under `prefix` (already checked) into `out` (appended, in key order).
 * `max_origins` 0 = no limit; otherwise ERR_TOO_LARGE once more than that many origins are
 * found, or more than `max_origins` * H_REPROCESS_KEYS_PER_UPLOAD keys are listed (so a call is
 * bounded however the prefix is filled). S3 errors as the client returns them.
 */
#define H_REPROCESS_KEYS_PER_UPLOAD 16
enum err_code h_reprocess_list_origins(struct s3_client *s3, const char *prefix, size_t max_origins,
                                       struct h_key_list *out, struct err *e);

/*
 * Whether h_pipeline_reprocess would regenerate `origin_key` now, without writing anything (a
 * dry run): *needed is true when `force`, or when the upload's manifest is missing, unreadable
 * or records other presets than the current ones. ERR_INVALID for a key that is not an origin;
 * S3 errors as the client returns them. (handlers/pipeline_reprocess.c)
 */
enum err_code h_reprocess_needed(struct h_pipeline *p, const char *origin_key, bool force,
                                 bool *needed, struct err *e);

/* The S3 client `p` writes to (borrowed from it), for listing what to reprocess with the same
 * bucket and settings. (handlers/pipeline_reprocess.c) */
struct s3_client *h_reprocess_s3(const struct h_pipeline *p);

#endif
