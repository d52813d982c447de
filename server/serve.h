/*
 * serve.h: `imgsvc serve`, the long-running service and its graceful shutdown.
 */
#ifndef IMGSVC_SERVER_SERVE_H
#define IMGSVC_SERVER_SERVE_H

#include "server/config.h"

/* Runs until SIGTERM or SIGINT, then drains and returns the process exit code. */
int srv_serve(const struct srv_config *cfg);

#endif
