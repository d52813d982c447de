/*
 * resize_internal.h: the query parser of POST /v1/resize, exposed for tests (the fuzz target
 * tests/fuzz/fuzz_resize_query.c). Not part of the handler API; see resize.h.
 */
#ifndef IMGSVC_HANDLERS_RESIZE_INTERNAL_H
#define IMGSVC_HANDLERS_RESIZE_INTERNAL_H

#include <stdbool.h>

#include "handlers/http.h"
#include "imaging/img_preset.h"

/*
 * Builds the one preset of a resize request from its query arguments w, h, fit, gravity,
 * format and q (read through h_query(req, ...)) into `p` (overwritten). On false `resp` holds
 * the 400 invalid_option refusal (the caller frees it with h_resp_free); on true `p` passed
 * img_preset_validate.
 */
bool h_resize_parse_preset(const struct h_request *req, struct h_response *resp,
                           struct img_preset *p);

#endif
