/*
 * cmd_reprocess.h: `imgsvc reprocess`, regenerate the variants and manifests of existing uploads
 * from their stored origins after the presets changed.
 *
 *   imgsvc reprocess --prefix P [--force] [--dry-run] [--concurrency N]
 *
 * P is a folder of the output schema ("profile/", "profile/42/", "chatroom/7/chat/9/"; see
 * h_reprocess_prefix_check). Every origin key under it is listed first (so the total is known),
 * then reprocessed by N threads (default IMGSVC_WORKERS) with h_pipeline_reprocess. Resumable
 * and idempotent: an upload whose manifest already records the current presets is done_before
 * (unless --force), so a second run, or a run after an interruption, only does what is left.
 * --dry-run writes nothing: one line per upload says whether it would be regenerated
 * ("would_reprocess") or is current ("done_before"), by the same fingerprint check.
 *
 * Output: on a terminal (stderr is a tty) one progress line, rewritten in place: done/total,
 * counts by outcome, rate and ETA (info logs are held back meanwhile); otherwise one JSON line
 * per upload on stdout (h_pipe_result_json) and a final {"summary":{...}} line.
 * Needs a real S3 (IMGSVC_S3_ENDPOINT) with the service's settings; the embedded store runs
 * only inside `imgsvc serve` (use POST /v1/objects/reprocess there).
 * Exit: 0 when every upload ended ready, done_before or ignored; 1 when one failed or must be
 * retried; 2 for bad use, bad settings or a failed listing.
 */
#ifndef IMGSVC_SERVER_CMD_REPROCESS_H
#define IMGSVC_SERVER_CMD_REPROCESS_H

#include <stdbool.h>

#include "server/config.h"

#define SRV_REPROCESS_CONCURRENCY_MAX 64

/* The command line, parsed. */
struct srv_reprocess_args {
    const char *prefix; /* borrowed from argv */
    bool force;
    bool dry_run;
    int concurrency; /* 0 = IMGSVC_WORKERS */
};

/*
 * Parses argv after "reprocess" into `a`. Returns -1 to go on, else the exit code (0 after
 * --help, 2 with a message on stderr for bad use).
 */
int srv_reprocess_parse_args(int argc, char **argv, struct srv_reprocess_args *a);

/* Runs the command with argv after "reprocess"; returns the exit code (0, 1 or 2). */
int srv_cmd_reprocess(const struct srv_config *cfg, int argc, char **argv);

#endif
