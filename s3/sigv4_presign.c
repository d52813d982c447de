/*
 * sigv4_presign.c: presigned S3 URLs (see sigv4.h). Turns bucket + key + endpoint into the
 * request to sign (path-style or virtual-hosted), signs it in the query with UNSIGNED-PAYLOAD,
 * and lays the URL out in the order asked for. The path in the URL is the canonical URI
 * itself, so what the client sends is byte for byte what was signed.
 */
#include "s3/sigv4.h"
#include "s3/sigv4_internal.h"

#include <stdlib.h>
#include <string.h>

static enum err_code append_param(struct buf *out, const struct sigv4_pair *q, bool first)
{
    const char *v = q->value ? q->value : "";
    enum err_code rc = buf_append(out, first ? "?" : "&", 1);
    if (rc == ERR_OK)
        rc = sigv4_uri_encode(out, q->name, strlen(q->name), false);
    if (rc == ERR_OK)
        rc = buf_append(out, "=", 1);
    if (rc == ERR_OK)
        rc = sigv4_uri_encode(out, v, strlen(v), false);
    return rc;
}

static int cmp_pair_name(const void *pa, const void *pb)
{
    const struct sigv4_pair *const *a = pa, *const *b = pb;
    int c = strcmp((*a)->name, (*b)->name);
    /* equal names keep their order (qsort is not stable): compare addresses */
    return c != 0 ? c : ((*a) < (*b) ? -1 : ((*a) > (*b) ? 1 : 0));
}

/* Appends "?k=v&..." with the caller's params and the auth params in the requested order. */
static enum err_code append_query(struct buf *out, const struct sigv4_s3_presign *o,
                                  const struct sigv4_query_auth *auth)
{
    enum err_code rc = ERR_OK;
    size_t n = o->nquery + auth->nparams;
    const struct sigv4_pair **all = calloc(n, sizeof(*all));
    if (all == NULL)
        return ERR_NOMEM;
    for (size_t i = 0; i < o->nquery; i++)
        all[i] = &o->query[i];
    for (size_t i = 0; i < auth->nparams; i++)
        all[o->nquery + i] = &auth->params[i];
    if (o->order == SIGV4_ORDER_SORTED)
        qsort(all, n, sizeof(*all), cmp_pair_name);
    for (size_t i = 0; i < n && rc == ERR_OK; i++)
        rc = append_param(out, all[i], i == 0);
    free(all);
    return rc;
}

static enum err_code check_presign(const struct sigv4_s3_presign *o, struct err *e)
{
    if (o->scheme == NULL || (strcmp(o->scheme, "https") != 0 && strcmp(o->scheme, "http") != 0))
        return err_set(e, ERR_INVALID, "sigv4: scheme must be http or https");
    if (o->host == NULL || o->host[0] == '\0' || strpbrk(o->host, "/?#@ ") != NULL)
        return err_set(e, ERR_INVALID, "sigv4: bad endpoint host");
    if (o->bucket == NULL || o->bucket[0] == '\0' || strpbrk(o->bucket, "/?#%@ ") != NULL)
        return err_set(e, ERR_INVALID, "sigv4: bad bucket name");
    if (o->key == NULL || o->key[0] == '\0')
        return err_set(e, ERR_INVALID, "sigv4: empty object key");
    if (sigv4_i_header(o->headers, o->nheaders, "host", NULL) != NULL)
        return err_set(e, ERR_INVALID, "sigv4: the host header is derived from the endpoint");
    return ERR_OK;
}

/* Path ("/bucket/key" or "/key") and Host value ("host" or "bucket.host") into the buffers. */
static enum err_code s3_target(const struct sigv4_s3_presign *o, struct buf *path, struct buf *host)
{
    enum err_code rc;
    if (o->virtual_hosted) {
        rc = buf_printf(path, "/%s", o->key);
        return rc != ERR_OK ? rc : buf_printf(host, "%s.%s", o->bucket, o->host);
    }
    rc = buf_printf(path, "/%s/%s", o->bucket, o->key);
    return rc != ERR_OK ? rc : buf_append_str(host, o->host);
}

enum err_code sigv4_s3_presign_url(const struct sigv4_params *p, const struct sigv4_s3_presign *o,
                                   char **url, struct sigv4_trace *trace, struct err *e)
{
    enum err_code rc;
    struct buf path, host, out;
    struct sigv4_query_auth auth;
    struct sigv4_pair *hs = NULL;
    struct sigv4_params sp = *p;
    memset(&auth, 0, sizeof(auth));
    buf_init(&path, SIGV4_TEXT_MAX);
    buf_init(&host, SIGV4_TEXT_MAX);
    buf_init(&out, SIGV4_TEXT_MAX);
    *url = NULL;
    sp.rules = SIGV4_RULES_S3;
    if ((rc = check_presign(o, e)) != ERR_OK)
        goto cleanup;
    if (trace == NULL && (rc = sigv4_i_presign_fast(p, o, url)) != ERR_UNSUPPORTED) {
        if (rc != ERR_OK)
            err_set(e, rc, "sigv4: cannot build the URL: %s", err_name(rc));
        goto cleanup;
    }
    if ((rc = s3_target(o, &path, &host)) != ERR_OK ||
        (hs = calloc(o->nheaders + 1, sizeof(*hs))) == NULL) {
        rc = err_set(e, rc ? rc : ERR_NOMEM, "sigv4: cannot build the target");
        goto cleanup;
    }
    if (o->nheaders > 0)
        memcpy(hs, o->headers, o->nheaders * sizeof(*hs));
    hs[o->nheaders] = (struct sigv4_pair){"host", host.data};
    struct sigv4_request req = {o->method, path.data,       o->query,      o->nquery,
                                hs,        o->nheaders + 1, SIGV4_UNSIGNED};
    if ((rc = sigv4_sign_query(&sp, &req, &auth, trace, e)) != ERR_OK)
        goto cleanup;
    if ((rc = buf_printf(&out, "%s://%s", o->scheme, host.data)) != ERR_OK ||
        (rc = sigv4_canonical_uri(&out, path.data, SIGV4_RULES_S3)) != ERR_OK ||
        (rc = append_query(&out, o, &auth)) != ERR_OK) {
        rc = err_set(e, rc, "sigv4: cannot build the URL: %s", err_name(rc));
        goto cleanup;
    }
    if ((*url = buf_take(&out, NULL)) == NULL)
        rc = err_set(e, ERR_NOMEM, "sigv4: out of memory");
cleanup:
    if (rc != ERR_OK)
        sigv4_trace_free(trace);
    sigv4_query_auth_free(&auth);
    free(hs);
    buf_free(&path);
    buf_free(&host);
    buf_free(&out);
    return rc;
}
