/*
 * guard.c: authentication at the door of a route. See guard.h.
 */
#include "handlers/guard.h"

#include <string.h>
#include <time.h>

bool h_guard(const struct h_request *req, struct h_response *resp, const struct h_auth *auth,
             struct h_auth_principal *who)
{
    memset(who, 0, sizeof(*who));
    if (auth == NULL)
        return true;
    struct err e = {0};
    enum err_code rc =
        h_auth_authenticate(auth, h_header(req, "Authorization"), h_header(req, "X-Api-Key"),
                            (int64_t)time(NULL), who, &e);
    if (rc == ERR_OK)
        return true;
    h_resp_error(resp, req, h_auth_http_status(rc), h_auth_error_code(rc), "%s", e.msg);
    if (rc == ERR_AUTH)
        (void)h_resp_header(resp, "WWW-Authenticate", h_auth_www_authenticate(&e));
    return false;
}

bool h_guard_owner(const struct h_request *req, struct h_response *resp, enum err_code rc,
                   const struct err *e)
{
    if (rc == ERR_OK)
        return true;
    h_resp_error(resp, req, h_auth_http_status(rc), h_auth_error_code(rc), "%s", e->msg);
    return false;
}
