/*
 * guard.h: authentication at the door of a route, shared by every protected handler.
 */
#ifndef IMGSVC_HANDLERS_GUARD_H
#define IMGSVC_HANDLERS_GUARD_H

#include <stdbool.h>

#include "handlers/auth.h"
#include "handlers/http.h"

/*
 * Authenticates `req` with `auth` (NULL = authentication off: everyone is let in as an
 * anonymous principal). On refusal fills `resp` with 401 `unauthenticated` (plus
 * WWW-Authenticate) or 403 `forbidden` and returns false.
 */
bool h_guard(const struct h_request *req, struct h_response *resp, const struct h_auth *auth,
             struct h_auth_principal *who);

/* Turns an owner-check refusal into a 403 response; true when `rc` is ERR_OK. */
bool h_guard_owner(const struct h_request *req, struct h_response *resp, enum err_code rc,
                   const struct err *e);

#endif
