/*
 * debug.h: diagnostic routes, off unless IMGSVC_DEBUG_ROUTES=true.
 *
 * POST /debug/echo answers the body's length and SHA-256 (exercises body reading and caps);
 * GET /debug/sleep?ms=N answers after N milliseconds (at most 60000; exercises timeouts and
 * graceful shutdown). They exist for tests and for operators checking a deployment's limits.
 */
#ifndef IMGSVC_HANDLERS_DEBUG_H
#define IMGSVC_HANDLERS_DEBUG_H

#include "handlers/http.h"

void h_debug_echo(const struct h_request *req, struct h_response *resp);
void h_debug_sleep(const struct h_request *req, struct h_response *resp);

#endif
