/*
 * cmd_process.h: `imgsvc process`, the event handler run once from the command line, and the
 * event runner it shares with `imgsvc lambda`.
 *
 *   imgsvc process FILE|-        one event document (what Lambda would receive)
 *   imgsvc process --key KEY     one temp key, without an event
 *
 * An event document is an S3 notification ({"Records":[...]} from AWS, Ceph RGW or MinIO, or an
 * s3:TestEvent), or one wrapped the ways Lambda receives it: an SNS HTTP envelope whose Message
 * is one, a Lambda SNS event ({"Records":[{"Sns":{"Message":...}}]}) or an SQS batch
 * ({"Records":[{"body":...}]}), nested at most SRV_EVENT_MAX_DEPTH deep. The documents come from
 * Lambda or the operator, so SNS signatures are not checked here (the webhook checks them).
 * Each record goes through h_pipeline_handle_record synchronously, against a real S3
 * (IMGSVC_S3_ENDPOINT). The results are printed as {"results":[...]} (h_pipe_result_json).
 * Exit: 0 when every record ended ready, done_before or ignored; 1 when one failed or must be
 * retried; 2 for bad use, bad settings or a malformed event.
 */
#ifndef IMGSVC_SERVER_CMD_PROCESS_H
#define IMGSVC_SERVER_CMD_PROCESS_H

#include <stdbool.h>
#include <stddef.h>

#include "handlers/pipeline.h"
#include "server/config.h"

#define SRV_EVENT_MAX_DEPTH 3 /* envelopes inside envelopes: SQS > SNS > S3 */

/* What one event document did. Free with srv_event_outcome_free. */
struct srv_event_outcome {
    struct h_pipe_result *results; /* one per record started, in order (owned) */
    size_t count;
    size_t records;  /* records in the document (count < records when the gate stopped it) */
    bool test_event; /* an s3:TestEvent: nothing to do */
};

/* Asked before each record; false stops the run before that record (e.g. a deadline). */
typedef bool (*srv_event_gate_fn)(void *arg);

/*
 * Parses the event document `json` (`len` bytes, borrowed), unwrapping envelopes, and runs
 * each record (at most `max_records`) through `p`, asking `gate` (optional) first. Each result
 * is also logged (subsystem `subsys`, request id `rid`, both may be NULL). ERR_OK when every
 * record ran (whatever the outcomes); ERR_INVALID / ERR_TOO_LARGE with a message for a
 * malformed document (nothing ran); ERR_TIMEOUT when the gate stopped the run (`out` holds
 * the records that did run). The caller frees `out` whatever the result.
 */
enum err_code srv_event_run(struct h_pipeline *p, const char *json, size_t len, size_t max_records,
                            srv_event_gate_fn gate, void *gate_arg, const char *subsys,
                            const char *rid, struct srv_event_outcome *out, struct err *e);
void srv_event_outcome_free(struct srv_event_outcome *o);

/* {"results":[...]} for `o` (plus "testEvent":true for an s3:TestEvent). Caller frees; NULL
 * on ERR_NOMEM. */
char *srv_event_results_json(const struct srv_event_outcome *o);

/* True when some result is FAILED (`failed`) or RETRY (`retry`); either pointer may be NULL. */
void srv_event_tally(const struct srv_event_outcome *o, bool *failed, bool *retry);

/*
 * The pipeline the one-shot commands run: an S3 client for IMGSVC_S3_ENDPOINT (refused when it
 * is empty: the embedded store runs only inside `imgsvc serve`), the presets and the job
 * options from the settings, and libvips started. `s3_timeout_ms` caps the S3 client's
 * per-attempt timeout (0 = IMGSVC_S3_TIMEOUT_MS). NULL + `e` (naming the setting at fault).
 */
struct srv_cmd_pipe;
struct srv_cmd_pipe *srv_cmd_pipe_open(const struct srv_config *cfg, long s3_timeout_ms,
                                       struct err *e);
/* The pipeline (borrowed from `cp`). */
struct h_pipeline *srv_cmd_pipe_handler(struct srv_cmd_pipe *cp);
/* Frees the pipeline and its client. NULL is a no-op. */
void srv_cmd_pipe_close(struct srv_cmd_pipe *cp);

/* Runs the command with argv after "process"; returns the exit code (0, 1 or 2). */
int srv_cmd_process(const struct srv_config *cfg, int argc, char **argv);

#endif
