/*
 * lambda_rt.c: the Lambda Runtime API client. See lambda_rt.h.
 *
 * One curl easy handle is kept for the life of the client so the HTTP/1.1 connection to the
 * local Runtime API is reused between /next and the answers. /next has no timeout (it blocks
 * until Lambda has an event, and the sandbox may be frozen meanwhile); a progress callback polls
 * the stop flag about once a second so SIGTERM ends the wait. Answers have a short timeout: the
 * API is on the same host.
 */
#include "server/lambda_rt.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "common/buf.h"
#include "common/json.h"

#define LRT_PREFIX          "/2018-06-01/runtime"
#define LRT_CONNECT_MS      5000L
#define LRT_POST_TIMEOUT_MS 30000L
#define LRT_URL_MAX         (SRV_LRT_API_MAX + SRV_LRT_ID_MAX + 64)
#define LRT_REPLY_MAX       (64 * 1024) /* bodies of the API's own answers (202, errors) */
#define LRT_TYPE_MAX        128

struct srv_lrt {
    CURL *h;
    char api[SRV_LRT_API_MAX];
    size_t max_event_bytes;
    const volatile sig_atomic_t *stop;
    bool global_init;
};

/* What one exchange received. */
struct lrt_reply {
    const struct srv_lrt *c;
    struct buf body;
    struct srv_lrt_invocation *inv; /* /next only: headers go here */
    bool deadline_bad;
    bool too_large; /* the body passed its cap */
};

static bool api_valid(const char *api)
{
    const char *colon = strrchr(api, ':');
    if (colon == NULL || colon == api || colon[1] == '\0' || strlen(api) >= SRV_LRT_API_MAX)
        return false;
    for (const char *p = api; *p; p++)
        if (!isalnum((unsigned char)*p) && strchr(".-:[]", *p) == NULL)
            return false;
    char *end = NULL;
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    return errno == 0 && *end == '\0' && port > 0 && port <= 65535;
}

bool srv_lrt_id_valid(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n >= SRV_LRT_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)id[i]) && strchr("._:-", id[i]) == NULL)
            return false;
    return true;
}

struct srv_lrt *srv_lrt_new(const char *api, size_t max_event_bytes,
                            const volatile sig_atomic_t *stop, struct err *e)
{
    struct srv_lrt *c = NULL;
    if (api == NULL || !api_valid(api)) {
        err_set(e, ERR_INVALID, "AWS_LAMBDA_RUNTIME_API=%s is not host:port",
                api ? api : "(unset)");
        goto fail;
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        err_set(e, ERR_NOMEM, "out of memory");
        goto fail;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        err_set(e, ERR_INTERNAL, "curl_global_init failed");
        goto fail;
    }
    c->global_init = true;
    c->h = curl_easy_init();
    if (c->h == NULL) {
        err_set(e, ERR_NOMEM, "curl_easy_init failed");
        goto fail;
    }
    snprintf(c->api, sizeof(c->api), "%s", api);
    c->max_event_bytes = max_event_bytes;
    c->stop = stop;
    return c;
fail:
    srv_lrt_free(c);
    return NULL;
}

void srv_lrt_free(struct srv_lrt *c)
{
    if (c == NULL)
        return;
    if (c->h)
        curl_easy_cleanup(c->h);
    if (c->global_init)
        curl_global_cleanup();
    free(c);
}

void srv_lrt_invocation_free(struct srv_lrt_invocation *inv)
{
    if (inv == NULL)
        return;
    free(inv->event);
    memset(inv, 0, sizeof(*inv));
}

static size_t write_cb(char *p, size_t size, size_t n, void *arg)
{
    struct lrt_reply *r = arg;
    enum err_code rc = buf_append(&r->body, p, size * n);
    r->too_large = rc == ERR_TOO_LARGE;
    return rc == ERR_OK ? size * n : 0;
}

/* Copies a header's value (trimmed) into `out` when its name is `name`; true when it was. */
static bool header_value(const char *line, size_t len, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    if (len <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
        return false;
    const char *v = line + nl + 1;
    const char *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    size_t vl = (size_t)(end - v);
    if (vl >= cap)
        vl = cap - 1; /* overlong: cut; the request id is validated afterwards */
    memcpy(out, v, vl);
    out[vl] = '\0';
    return true;
}

static size_t header_cb(char *p, size_t size, size_t n, void *arg)
{
    struct lrt_reply *r = arg;
    size_t len = size * n;
    struct srv_lrt_invocation *inv = r->inv;
    char deadline[32];
    if (inv == NULL)
        return len;
    if (header_value(p, len, "Lambda-Runtime-Deadline-Ms", deadline, sizeof(deadline))) {
        char *end = NULL;
        errno = 0;
        long long v = strtoll(deadline, &end, 10);
        r->deadline_bad = errno != 0 || end == deadline || *end != '\0' || v < 0;
        inv->deadline_ms = r->deadline_bad ? 0 : (int64_t)v;
    } else if (!header_value(p, len, "Lambda-Runtime-Aws-Request-Id", inv->request_id,
                             sizeof(inv->request_id)) &&
               !header_value(p, len, "Lambda-Runtime-Invoked-Function-Arn", inv->function_arn,
                             sizeof(inv->function_arn))) {
        (void)header_value(p, len, "Lambda-Runtime-Trace-Id", inv->trace_id, sizeof(inv->trace_id));
    }
    return len;
}

/* Ends the wait for work on `stop`, but not once an invocation's headers have arrived: the
 * event is then ours, and is received, run and answered before the loop ends. */
static int progress_cb(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt, (void)dn, (void)ut, (void)un;
    const struct lrt_reply *r = arg;
    bool stopping = r->c->stop != NULL && *r->c->stop;
    return stopping && (r->inv == NULL || r->inv->request_id[0] == '\0') ? 1 : 0;
}

/* One exchange: `body` NULL = GET. Fills `status` and `r`; ERR_IO when no answer arrived. */
static enum err_code exchange(struct srv_lrt *c, const char *path, const char *body, size_t len,
                              struct curl_slist *headers, struct lrt_reply *r, long *status,
                              struct err *e)
{
    char url[LRT_URL_MAX];
    snprintf(url, sizeof(url), "http://%s" LRT_PREFIX "%s", c->api, path);
    CURL *h = c->h;
    curl_easy_reset(h);
    bool next = body == NULL;
    bool ok =
        curl_easy_setopt(h, CURLOPT_URL, url) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http") == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, LRT_CONNECT_MS) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, next ? 0L : LRT_POST_TIMEOUT_MS) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_WRITEDATA, r) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_HEADERDATA, r) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers) == CURLE_OK;
    if (ok && next) /* only the wait for work ends on `stop`; answers always go out */
        ok = curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, progress_cb) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_XFERINFODATA, r) == CURLE_OK;
    else if (ok)
        ok = curl_easy_setopt(h, CURLOPT_POSTFIELDS, body) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len) == CURLE_OK;
    if (!ok)
        return err_set(e, ERR_INTERNAL, "runtime API: cannot set up the request");
    CURLcode cc = curl_easy_perform(h);
    if (cc == CURLE_ABORTED_BY_CALLBACK)
        return err_set(e, ERR_BUSY, "runtime API: stopped while waiting");
    if (cc == CURLE_WRITE_ERROR && r->too_large)
        return err_set(e, ERR_TOO_LARGE, "runtime API: body larger than %zu bytes", r->body.max);
    if (cc != CURLE_OK)
        return err_set(e, ERR_IO, "runtime API %s: %s", path, curl_easy_strerror(cc));
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    return ERR_OK;
}

enum err_code srv_lrt_next(struct srv_lrt *c, struct srv_lrt_invocation *out, struct err *e)
{
    memset(out, 0, sizeof(*out));
    struct lrt_reply r = {.c = c, .inv = out};
    buf_init(&r.body, c->max_event_bytes);
    long status = 0;
    enum err_code rc = exchange(c, "/invocation/next", NULL, 0, NULL, &r, &status, e);
    if (rc == ERR_OK && status != 200)
        rc = err_set(e, ERR_IO, "runtime API /invocation/next answered %ld: %.200s", status,
                     r.body.data ? r.body.data : "");
    if ((rc == ERR_OK || rc == ERR_TOO_LARGE) && !srv_lrt_id_valid(out->request_id))
        rc = err_set(e, ERR_INVALID, "runtime API: the invocation has no usable request id");
    if (rc == ERR_OK && r.deadline_bad)
        rc = err_set(e, ERR_INVALID, "runtime API: Lambda-Runtime-Deadline-Ms is not a number");
    if (rc == ERR_OK) {
        out->event = buf_take(&r.body, &out->event_len);
        if (out->event == NULL)
            rc = err_set(e, ERR_NOMEM, "out of memory");
    }
    buf_free(&r.body);
    return rc;
}

/* POSTs `body` to `path` with `headers`; 202 is success. */
static enum err_code post(struct srv_lrt *c, const char *path, const char *body, size_t len,
                          struct curl_slist *headers, struct err *e)
{
    struct lrt_reply r = {.c = c};
    buf_init(&r.body, LRT_REPLY_MAX);
    long status = 0;
    enum err_code rc = exchange(c, path, body, len, headers, &r, &status, e);
    if (rc == ERR_OK && status == 413)
        rc = err_set(e, ERR_TOO_LARGE, "runtime API %s: payload too large", path);
    else if (rc == ERR_OK && status != 202)
        rc = err_set(e, ERR_IO, "runtime API %s answered %ld: %.200s", path, status,
                     r.body.data ? r.body.data : "");
    buf_free(&r.body);
    return rc;
}

/* Content-Type: application/json, no "Expect: 100-continue" wait, and `extra` (optional).
 * NULL on ERR_NOMEM; free with curl_slist_free_all. */
static struct curl_slist *json_headers(const char *extra)
{
    struct curl_slist *hl = curl_slist_append(NULL, "Content-Type: application/json");
    struct curl_slist *l = hl ? curl_slist_append(hl, "Expect:") : NULL;
    if (l != NULL && extra != NULL)
        l = curl_slist_append(l, extra);
    if (l == NULL) {
        curl_slist_free_all(hl);
        return NULL;
    }
    return hl;
}

enum err_code srv_lrt_respond(struct srv_lrt *c, const char *request_id, const char *body,
                              size_t len, struct err *e)
{
    if (!srv_lrt_id_valid(request_id))
        return err_set(e, ERR_INVALID, "runtime API: bad request id");
    char path[SRV_LRT_ID_MAX + 32];
    snprintf(path, sizeof(path), "/invocation/%s/response", request_id);
    struct curl_slist *hl = json_headers(NULL);
    if (hl == NULL)
        return err_set(e, ERR_NOMEM, "out of memory");
    enum err_code rc = post(c, path, body, len, hl, e);
    curl_slist_free_all(hl);
    return rc;
}

/* The error document; NULL on ERR_NOMEM. */
static char *error_doc(const char *type, const char *message)
{
    char *text = NULL;
    cJSON *o = cJSON_CreateObject();
    if (o && cJSON_AddStringToObject(o, "errorMessage", message) &&
        cJSON_AddStringToObject(o, "errorType", type) && cJSON_AddArrayToObject(o, "stackTrace"))
        text = json_print(o);
    cJSON_Delete(o);
    return text;
}

enum err_code srv_lrt_error(struct srv_lrt *c, const char *request_id, const char *type,
                            const char *message, struct err *e)
{
    enum err_code rc = ERR_OK;
    char path[SRV_LRT_ID_MAX + 32];
    char hdr[LRT_TYPE_MAX + 64];
    struct curl_slist *hl = NULL;
    char *doc = NULL;
    if (request_id != NULL && !srv_lrt_id_valid(request_id))
        return err_set(e, ERR_INVALID, "runtime API: bad request id");
    if (strlen(type) >= LRT_TYPE_MAX || strpbrk(type, "\r\n") != NULL)
        return err_set(e, ERR_INVALID, "runtime API: bad error type");
    if (request_id == NULL)
        snprintf(path, sizeof(path), "/init/error");
    else
        snprintf(path, sizeof(path), "/invocation/%s/error", request_id);
    snprintf(hdr, sizeof(hdr), "Lambda-Runtime-Function-Error-Type: %s", type);
    doc = error_doc(type, message);
    hl = doc ? json_headers(hdr) : NULL;
    if (hl == NULL) {
        rc = err_set(e, ERR_NOMEM, "out of memory");
        goto cleanup;
    }
    rc = post(c, path, doc, strlen(doc), hl, e);
cleanup:
    curl_slist_free_all(hl);
    free(doc);
    return rc;
}
