/*
 * cmd_presign.h: `imgsvc presign`, a presigned S3 URL on standard output.
 *
 *   imgsvc presign --method PUT|GET --key KEY [--content-type T] [--expires N]
 *                  [--at YYYYMMDDTHHMMSSZ]
 * Uses the same settings as the service (bucket, endpoint or public endpoint, addressing,
 * region, credentials), so operators and tests can reproduce exactly what the API hands out.
 */
#ifndef IMGSVC_SERVER_CMD_PRESIGN_H
#define IMGSVC_SERVER_CMD_PRESIGN_H

#include "server/config.h"

/* Runs the command with argv after "presign"; returns the exit code (0, or 2 on bad use). */
int srv_cmd_presign(const struct srv_config *cfg, int argc, char **argv);

#endif
