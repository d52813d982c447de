/*
 * cmd_lambda.h: `imgsvc lambda`, imgsvc as an AWS Lambda function (a custom runtime or a
 * container image whose entry point runs this command).
 *
 * The loop of the Lambda Runtime API (server/lambda_rt.h) around the event runner of
 * `imgsvc process` (server/cmd_process.h): init (settings, S3 client, presets; a failure is
 * posted to /init/error and the process exits 1), then for each invocation: export the trace
 * id as _X_AMZN_TRACE_ID, run every record unless the deadline is closer than
 * IMGSVC_LAMBDA_DEADLINE_MARGIN_MS, answer /response with {"results":[...]} or /error when the
 * event is malformed, the deadline is too close, or a record must be retried (so Lambda's own
 * retry of asynchronous invocations delivers the event again; the handler is idempotent).
 * Logs are JSON lines on standard error (CloudWatch). SIGTERM or SIGINT: the invocation in
 * progress is finished and answered, then the process exits 0.
 */
#ifndef IMGSVC_SERVER_CMD_LAMBDA_H
#define IMGSVC_SERVER_CMD_LAMBDA_H

#include "server/config.h"

/* Runs the command with argv after "lambda"; returns the exit code (0 after SIGTERM, 1 when
 * init failed or the Runtime API went away, 2 for bad use). */
int srv_cmd_lambda(const struct srv_config *cfg, int argc, char **argv);

/*
 * Exports an invocation's trace id (Lambda-Runtime-Trace-Id) as _X_AMZN_TRACE_ID, as Lambda's
 * own runtimes do, so X-Ray aware code in the process sees the invocation's trace; NULL or ""
 * (an invocation without one) removes the previous invocation's. Copies trace_id.
 */
void srv_lambda_export_trace(const char *trace_id);

/*
 * For main.c: the settings could not be loaded, so `imgsvc lambda` cannot start. Posts
 * `message` to the Runtime API's /init/error (when AWS_LAMBDA_RUNTIME_API is set) so Lambda
 * shows the reason, and logs it. Returns the exit code to use (1).
 */
int srv_cmd_lambda_init_failed(const char *message);

#endif
