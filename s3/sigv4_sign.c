/*
 * sigv4_sign.c: header signing, query signing and S3 presigned URLs (see sigv4.h). Each entry
 * point validates its inputs, assembles the exact header and query lists to sign, and hands
 * them to sigv4_i_compute, which runs the staged pipeline.
 */
#include "s3/sigv4.h"
#include "s3/sigv4_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool has_token(const struct sigv4_credentials *c)
{
    return c->session_token != NULL && c->session_token[0] != '\0';
}

static enum err_code check_params(const struct sigv4_params *p, struct err *e)
{
    if (p->creds.access_key == NULL || p->creds.access_key[0] == '\0' ||
        strlen(p->creds.access_key) >= SIGV4_FIELD_MAX || strchr(p->creds.access_key, '/'))
        return err_set(e, ERR_INVALID, "sigv4: bad access key id");
    if (p->creds.secret_key == NULL || p->creds.secret_key[0] == '\0')
        return err_set(e, ERR_INVALID, "sigv4: missing secret key");
    if (has_token(&p->creds) && strlen(p->creds.session_token) > SIGV4_TOKEN_MAX)
        return err_set(e, ERR_INVALID, "sigv4: session token too long");
    char scope[SIGV4_SCOPE_MAX];
    if (sigv4_scope(scope, sizeof(scope), p->time, p->region, p->service) != ERR_OK)
        return err_set(e, ERR_INVALID, "sigv4: bad region, service or time");
    return ERR_OK;
}

static enum err_code check_request(const struct sigv4_request *r, struct err *e)
{
    if (!sigv4_i_is_token(r->method))
        return err_set(e, ERR_INVALID, "sigv4: bad method");
    if (sigv4_i_header(r->headers, r->nheaders, "host", NULL) == NULL)
        return err_set(e, ERR_INVALID, "sigv4: the host header must be signed");
    if (r->payload_hash && !sigv4_i_is_hex64(r->payload_hash) &&
        strcmp(r->payload_hash, SIGV4_UNSIGNED) != 0)
        return err_set(e, ERR_INVALID, "sigv4: bad payload hash");
    static const char *const reserved[] = {"authorization", "x-amz-date", "x-amz-security-token"};
    for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
        if (sigv4_i_header(r->headers, r->nheaders, reserved[i], NULL) != NULL)
            return err_set(e, ERR_INVALID, "sigv4: header %s is set by the signer", reserved[i]);
    return ERR_OK;
}

static enum err_code finish_err(enum err_code rc, struct err *e, const char *what)
{
    if (rc == ERR_OK)
        return ERR_OK;
    return err_set(e, rc, "sigv4: %s: %s", what, err_name(rc));
}

/* Copies the caller's pairs into a new array with room for `extra` more. */
static struct sigv4_pair *pairs_with_room(const struct sigv4_pair *src, size_t n, size_t extra)
{
    struct sigv4_pair *d = calloc(n + extra, sizeof(*d));
    if (d != NULL && n > 0)
        memcpy(d, src, n * sizeof(*d));
    return d;
}

/* The caller's headers plus the ones the signer adds (x-amz-date, the token, the payload hash),
 * recorded in `out` for the caller to send. Returns a new array (caller frees) or NULL. */
static struct sigv4_pair *signer_headers(const struct sigv4_params *p,
                                         const struct sigv4_request *req,
                                         struct sigv4_header_auth *out, size_t *nh)
{
    struct sigv4_pair *hs = pairs_with_room(req->headers, req->nheaders, 3);
    *nh = req->nheaders;
    if (hs == NULL)
        return NULL;
    ts_amz(p->time, out->amz_date, sizeof(out->amz_date));
    hs[(*nh)++] = (struct sigv4_pair){"x-amz-date", out->amz_date};
    if (has_token(&p->creds)) {
        out->security_token = p->creds.session_token;
        if (!p->omit_session_token)
            hs[(*nh)++] = (struct sigv4_pair){"x-amz-security-token", p->creds.session_token};
    }
    if (p->add_content_sha256) {
        out->content_sha256 = req->payload_hash ? req->payload_hash : SIGV4_EMPTY_SHA256;
        hs[(*nh)++] = (struct sigv4_pair){"x-amz-content-sha256", out->content_sha256};
    }
    return hs;
}

enum err_code sigv4_sign_headers(const struct sigv4_params *p, const struct sigv4_request *req,
                                 struct sigv4_header_auth *out, struct sigv4_trace *trace,
                                 struct err *e)
{
    enum err_code rc;
    struct sigv4_i_output o;
    struct buf uri, auth;
    struct sigv4_pair *hs = NULL;
    size_t nh = 0;
    memset(&o, 0, sizeof(o));
    memset(out, 0, sizeof(*out));
    if (trace)
        memset(trace, 0, sizeof(*trace));
    buf_init(&uri, SIGV4_TEXT_MAX);
    buf_init(&auth, SIGV4_TEXT_MAX);
    if ((rc = check_params(p, e)) != ERR_OK || (rc = check_request(req, e)) != ERR_OK)
        goto cleanup;
    if (p->add_content_sha256 &&
        sigv4_i_header(req->headers, req->nheaders, "x-amz-content-sha256", NULL) != NULL) {
        rc = err_set(e, ERR_INVALID, "sigv4: header x-amz-content-sha256 is set by the signer");
        goto cleanup;
    }
    if ((hs = signer_headers(p, req, out, &nh)) == NULL) {
        rc = ERR_NOMEM;
        goto fail;
    }
    if ((rc = sigv4_canonical_uri(&uri, req->path, p->rules)) != ERR_OK)
        goto fail;
    struct sigv4_i_input in = {
        req->method, uri.data,          req->query, req->nquery,         hs,
        nh,          req->payload_hash, p->time,    p->creds.secret_key, p->creds.access_key,
        p->region,   p->service,        p->cache};
    if ((rc = sigv4_i_compute(&in, &o)) != ERR_OK)
        goto fail;
    memcpy(out->signature, o.signature, sizeof(out->signature));
    if ((rc = sigv4_authorization(&auth, p->creds.access_key, o.scope, o.signed_list.data,
                                  o.signature)) != ERR_OK ||
        (rc = sigv4_i_trace_fill(trace, &o)) != ERR_OK)
        goto fail;
    if ((out->authorization = buf_take(&auth, NULL)) == NULL)
        rc = ERR_NOMEM;
fail:
    rc = finish_err(rc, e, "header signing");
cleanup:
    if (rc != ERR_OK) {
        sigv4_header_auth_free(out);
        sigv4_trace_free(trace);
    }
    free(hs);
    buf_free(&uri);
    buf_free(&auth);
    sigv4_i_output_free(&o);
    return rc;
}

void sigv4_header_auth_free(struct sigv4_header_auth *a)
{
    if (a == NULL)
        return;
    free(a->authorization);
    a->authorization = NULL;
}

void sigv4_query_auth_free(struct sigv4_query_auth *a)
{
    if (a == NULL)
        return;
    free(a->storage_);
    a->storage_ = NULL;
    a->nparams = 0;
}

/*
 * Lays out the X-Amz-* values in one allocation: credential, date, expires, signed list, each
 * NUL-terminated; `offs` receives their offsets.
 */
static enum err_code auth_storage(const struct sigv4_params *p, const char *scope,
                                  const char *signed_list, char **storage, size_t offs[4])
{
    enum err_code rc;
    struct buf b;
    char amz[TS_AMZ_LEN + 1];
    buf_init(&b, SIGV4_TEXT_MAX);
    ts_amz(p->time, amz, sizeof(amz));
    offs[0] = 0;
    if ((rc = buf_printf(&b, "%s/%s", p->creds.access_key, scope)) != ERR_OK)
        goto cleanup;
    offs[1] = b.len + 1;
    if ((rc = buf_printf(&b, "%c%s", '\0', amz)) != ERR_OK)
        goto cleanup;
    offs[2] = b.len + 1;
    if ((rc = buf_printf(&b, "%c%" PRId64, '\0', p->expires)) != ERR_OK)
        goto cleanup;
    offs[3] = b.len + 1;
    if ((rc = buf_append(&b, "", 1)) != ERR_OK || (rc = buf_append_str(&b, signed_list)) != ERR_OK)
        goto cleanup;
    if ((*storage = buf_take(&b, NULL)) == NULL)
        rc = ERR_NOMEM;
cleanup:
    buf_free(&b);
    return rc;
}

/* Fills out->params (all but the signature) from the storage laid out by auth_storage. */
static void auth_params(const struct sigv4_params *p, struct sigv4_query_auth *out,
                        const size_t offs[4])
{
    const char *s = out->storage_;
    size_t n = 0;
    out->params[n++] = (struct sigv4_pair){"X-Amz-Algorithm", SIGV4_ALGORITHM};
    out->params[n++] = (struct sigv4_pair){"X-Amz-Credential", s + offs[0]};
    out->params[n++] = (struct sigv4_pair){"X-Amz-Date", s + offs[1]};
    out->params[n++] = (struct sigv4_pair){"X-Amz-Expires", s + offs[2]};
    out->params[n++] = (struct sigv4_pair){"X-Amz-SignedHeaders", s + offs[3]};
    if (has_token(&p->creds))
        out->params[n++] = (struct sigv4_pair){"X-Amz-Security-Token", p->creds.session_token};
    out->nparams = n;
}

static enum err_code check_query(const struct sigv4_params *p, const struct sigv4_request *req,
                                 struct err *e)
{
    if (p->expires < SIGV4_EXPIRES_MIN || p->expires > SIGV4_EXPIRES_MAX)
        return err_set(e, ERR_INVALID, "sigv4: expiry %" PRId64 " s is outside %d..%d", p->expires,
                       SIGV4_EXPIRES_MIN, SIGV4_EXPIRES_MAX);
    for (size_t i = 0; i < req->nquery; i++) {
        const char *name = req->query[i].name, *value = req->query[i].value;
        /* X-Amz-Content-Sha256 may come along (AWS SDK v3 sends it) only as the payload hash a
         * presigned URL signs: a verifier signs with whatever value it reads there. */
        bool payload = strcasecmp(name, "X-Amz-Content-Sha256") == 0 && value != NULL &&
                       strcmp(value, SIGV4_UNSIGNED) == 0;
        if (strncasecmp(name, "X-Amz-", 6) == 0 && !payload)
            return err_set(e, ERR_INVALID, "sigv4: query parameter %s is set by the signer", name);
    }
    return ERR_OK;
}

/* Builds the scope and the signed-headers list the X-Amz-* parameters need, then the params. */
static enum err_code prepare_query_auth(const struct sigv4_params *p,
                                        const struct sigv4_request *req,
                                        struct sigv4_query_auth *out)
{
    enum err_code rc;
    struct buf h, list;
    char scope[SIGV4_SCOPE_MAX];
    size_t offs[4] = {0};
    buf_init(&h, SIGV4_TEXT_MAX);
    buf_init(&list, SIGV4_TEXT_MAX);
    if ((rc = sigv4_scope(scope, sizeof(scope), p->time, p->region, p->service)) != ERR_OK ||
        (rc = sigv4_canonical_headers(&h, &list, req->headers, req->nheaders)) != ERR_OK ||
        (rc = auth_storage(p, scope, list.data ? list.data : "", &out->storage_, offs)) != ERR_OK)
        goto cleanup;
    auth_params(p, out, offs);
cleanup:
    buf_free(&h);
    buf_free(&list);
    return rc;
}

enum err_code sigv4_sign_query(const struct sigv4_params *p, const struct sigv4_request *req,
                               struct sigv4_query_auth *out, struct sigv4_trace *trace,
                               struct err *e)
{
    enum err_code rc;
    struct sigv4_i_output o;
    struct buf uri;
    struct sigv4_pair *qs = NULL;
    size_t nq = req->nquery;
    memset(&o, 0, sizeof(o));
    memset(out, 0, sizeof(*out));
    if (trace)
        memset(trace, 0, sizeof(*trace));
    buf_init(&uri, SIGV4_TEXT_MAX);
    if ((rc = check_params(p, e)) != ERR_OK || (rc = check_request(req, e)) != ERR_OK ||
        (rc = check_query(p, req, e)) != ERR_OK)
        goto cleanup;
    if ((rc = prepare_query_auth(p, req, out)) != ERR_OK)
        goto fail;
    if ((qs = pairs_with_room(req->query, nq, SIGV4_QUERY_AUTH_MAX)) == NULL) {
        rc = ERR_NOMEM;
        goto fail;
    }
    for (size_t i = 0; i < out->nparams; i++)
        if (!(p->omit_session_token && strcmp(out->params[i].name, "X-Amz-Security-Token") == 0))
            qs[nq++] = out->params[i];
    if ((rc = sigv4_canonical_uri(&uri, req->path, p->rules)) != ERR_OK)
        goto fail;
    struct sigv4_i_input in = {req->method,
                               uri.data,
                               qs,
                               nq,
                               req->headers,
                               req->nheaders,
                               req->payload_hash,
                               p->time,
                               p->creds.secret_key,
                               p->creds.access_key,
                               p->region,
                               p->service,
                               p->cache};
    if ((rc = sigv4_i_compute(&in, &o)) != ERR_OK || (rc = sigv4_i_trace_fill(trace, &o)) != ERR_OK)
        goto fail;
    memcpy(out->signature, o.signature, sizeof(out->signature));
    out->params[out->nparams++] = (struct sigv4_pair){"X-Amz-Signature", out->signature};
fail:
    rc = finish_err(rc, e, "query signing");
cleanup:
    if (rc != ERR_OK)
        sigv4_query_auth_free(out);
    free(qs);
    buf_free(&uri);
    sigv4_i_output_free(&o);
    return rc;
}
