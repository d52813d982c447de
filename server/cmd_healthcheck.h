/*
 * cmd_healthcheck.h: `imgsvc healthcheck`, the container's HEALTHCHECK probe.
 *
 *   imgsvc healthcheck [--path /healthz|/readyz]
 * Sends one GET to the running service on this host (IMGSVC_LISTEN_ADDR, with 0.0.0.0 and ::
 * probed on loopback, and IMGSVC_PORT) and exits 0 when it answers 200, 1 otherwise, with one
 * line on stderr saying why. No curl in the image: a socket, a request line, a status line.
 */
#ifndef IMGSVC_SERVER_CMD_HEALTHCHECK_H
#define IMGSVC_SERVER_CMD_HEALTHCHECK_H

#include "server/config.h"

/* Runs the command with argv after "healthcheck"; returns the exit code (0 healthy, 1 not,
 * 2 on bad use). Reads only cfg->listen_addr and cfg->port. */
int srv_cmd_healthcheck(const struct srv_config *cfg, int argc, char **argv);

#endif
