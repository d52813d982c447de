/*
 * sigv4_vector.c: runs one case of the AWS SigV4 test suite (../shared/vectors/
 * aws-signing-test-suite/v4/<case>) against s3/sigv4 in one signing location.
 *
 *   sigv4_vector <case-dir> header|query
 *
 * Reads context.json and request.txt, signs the request (generic service rules, honouring
 * `normalize`, `sign_body` and `omit_session_token`), and checks the canonical request, string
 * to sign and signature against <loc>-canonical-request.txt, <loc>-string-to-sign.txt and
 * <loc>-signature.txt, and the Authorization header / X-Amz-* parameters against
 * <loc>-signed-request.txt. Then it verifies <loc>-signed-request.txt with sigv4_verify (must
 * be OK) and the same request with one signature digit changed (must be
 * SignatureDoesNotMatch). Exit 0 pass, 1 fail, 77 when the case folder is absent.
 */
#include "common/json.h"
#include "common/timeutil.h"
#include "s3/sigv4.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_HEADERS 64

static int failures;

#define FAILF(...)                                                                                 \
    do {                                                                                           \
        fprintf(stderr, "FAIL: " __VA_ARGS__);                                                     \
        fputc('\n', stderr);                                                                       \
        failures++;                                                                                \
    } while (0)

struct vctx {
    char *json_text;
    cJSON *json;
    const char *access_key, *secret, *token, *region, *service;
    long long expires;
    bool normalize, sign_body, omit_token;
    time_t time;
};

/* A parsed HTTP request; every string points into `text`. */
struct vreq {
    char *text;
    char *method, *path, *rawquery, *body;
    size_t body_len;
    struct sigv4_pair headers[MAX_HEADERS];
    size_t nheaders;
    struct sigv4_pair *query;
    size_t nquery;
};

static char *read_file(const char *dir, const char *name, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    struct buf b;
    buf_init(&b, 1 << 20);
    char chunk[4096];
    size_t n;
    enum err_code rc = ERR_OK;
    while (rc == ERR_OK && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        rc = buf_append(&b, chunk, n);
    fclose(f);
    if (rc != ERR_OK) {
        buf_free(&b);
        return NULL;
    }
    return buf_take(&b, len);
}

static bool load_context(const char *dir, struct vctx *c)
{
    size_t len = 0;
    struct err e = {0};
    if ((c->json_text = read_file(dir, "context.json", &len)) == NULL ||
        (c->json = json_parse(c->json_text, len, &e)) == NULL)
        return false;
    const cJSON *cr = cJSON_GetObjectItemCaseSensitive(c->json, "credentials");
    c->access_key = json_get_str(cr, "access_key_id");
    c->secret = json_get_str(cr, "secret_access_key");
    c->token = json_get_str(cr, "token");
    c->region = json_get_str(c->json, "region");
    c->service = json_get_str(c->json, "service");
    const char *ts = json_get_str(c->json, "timestamp");
    json_get_bool(c->json, "normalize", &c->normalize);
    json_get_bool(c->json, "sign_body", &c->sign_body);
    json_get_bool(c->json, "omit_session_token", &c->omit_token);
    return c->access_key && c->secret && c->region && c->service && ts &&
           ts_parse_rfc3339(ts, &c->time) &&
           json_get_int(c->json, "expiration_in_seconds", &c->expires);
}

/* Splits the request line "METHOD TARGET HTTP/1.1" (the target may contain spaces). */
static bool parse_request_line(char *line, struct vreq *r)
{
    char *sp = strchr(line, ' ');
    char *ver = strstr(line, " HTTP/");
    if (sp == NULL || ver == NULL || ver <= sp)
        return false;
    *sp = '\0';
    *ver = '\0';
    r->method = line;
    r->path = sp + 1;
    char *q = strchr(r->path, '?');
    r->rawquery = q ? q + 1 : "";
    if (q)
        *q = '\0';
    return true;
}

/* Header lines until an empty line; continuation lines stay in the value (the canonicalizer
 * folds them). Returns the start of the body. */
static char *parse_headers(char *p, struct vreq *r)
{
    while (*p && *p != '\n') {
        char *eol = strchr(p, '\n');
        char *next = eol ? eol + 1 : p + strlen(p);
        while (*next == ' ' || *next == '\t') { /* folded continuation */
            char *e2 = strchr(next, '\n');
            eol = e2;
            next = e2 ? e2 + 1 : next + strlen(next);
        }
        if (eol)
            *eol = '\0';
        char *colon = strchr(p, ':');
        if (colon == NULL || r->nheaders == MAX_HEADERS)
            return NULL;
        *colon = '\0';
        r->headers[r->nheaders++] = (struct sigv4_pair){p, colon + 1};
        p = next;
    }
    return *p == '\n' ? p + 1 : p;
}

static bool load_request(const char *dir, const char *name, struct vreq *r)
{
    size_t len = 0;
    memset(r, 0, sizeof(*r));
    if ((r->text = read_file(dir, name, &len)) == NULL)
        return false;
    char *eol = strchr(r->text, '\n');
    if (eol == NULL)
        return false;
    *eol = '\0';
    if (!parse_request_line(r->text, r) || (r->body = parse_headers(eol + 1, r)) == NULL)
        return false;
    r->body_len = len - (size_t)(r->body - r->text);
    return sigv4_query_parse(r->rawquery, 256, &r->query, &r->nquery) == ERR_OK;
}

static void free_request(struct vreq *r)
{
    free(r->text);
    free(r->query);
}

static void expect_file(const char *dir, const char *name, const char *got)
{
    char *want = read_file(dir, name, NULL);
    if (want == NULL) {
        FAILF("cannot read %s", name);
        return;
    }
    size_t n = strlen(want);
    while (n > 0 && want[n - 1] == '\n') /* the files may end with a newline */
        want[--n] = '\0';
    if (strcmp(want, got) != 0)
        FAILF("%s differs\n--- want\n%s\n--- got\n%s", name, want, got);
    free(want);
}

static struct sigv4_params make_params(const struct vctx *c)
{
    struct sigv4_params p = {{c->access_key, c->secret, c->token},
                             c->region,
                             c->service,
                             c->time,
                             c->normalize ? SIGV4_RULES_GENERIC_NORMALIZE : SIGV4_RULES_GENERIC,
                             c->omit_token,
                             c->sign_body,
                             c->expires,
                             NULL};
    return p;
}

static enum err_code lookup(void *ctx, const char *ak, struct sigv4_credentials *out)
{
    const struct vctx *c = ctx;
    if (strcmp(ak, c->access_key) != 0)
        return ERR_NOT_FOUND;
    out->secret_key = c->secret;
    out->session_token = c->token;
    return ERR_OK;
}

/* Verifies `r` (a signed request from the suite) and expects `want`. */
static void expect_verdict(const struct vctx *c, const struct vreq *r, const char *payload,
                           enum sigv4_verdict want, const char *what)
{
    struct sigv4_verify_params vp = {
        c->region, c->service,
        c->time,   c->normalize ? SIGV4_RULES_GENERIC_NORMALIZE : SIGV4_RULES_GENERIC,
        0,         c->omit_token,
        lookup,    (void *)c,
        NULL};
    struct sigv4_verify_request vr = {r->method,  r->path,     r->query, r->nquery,
                                      r->headers, r->nheaders, payload};
    struct sigv4_verify_result res;
    struct err e = {0};
    if (sigv4_verify(&vp, &vr, &res, &e) != ERR_OK)
        FAILF("%s: verify failed: %s", what, e.msg);
    else if (res.verdict != want)
        FAILF("%s: verdict %s (%s), expected %s", what, sigv4_verdict_code(res.verdict),
              res.message, sigv4_verdict_code(want));
}

/* Changes one hex digit of the 64-digit signature that starts at `sig`. */
static void tamper(char *sig)
{
    sig[10] = sig[10] == '0' ? '1' : '0';
}

static void run_header(const char *dir, const struct vctx *c, const struct vreq *req,
                       const char *payload)
{
    struct sigv4_params p = make_params(c);
    struct sigv4_request sr = {req->method,  req->path,     req->query, req->nquery,
                               req->headers, req->nheaders, payload};
    struct sigv4_header_auth a;
    struct sigv4_trace t;
    struct err e = {0};
    struct vreq signed_req;
    if (sigv4_sign_headers(&p, &sr, &a, &t, &e) != ERR_OK) {
        FAILF("sign_headers: %s", e.msg);
        return;
    }
    expect_file(dir, "header-canonical-request.txt", t.canonical_request);
    expect_file(dir, "header-string-to-sign.txt", t.string_to_sign);
    expect_file(dir, "header-signature.txt", a.signature);
    if (!load_request(dir, "header-signed-request.txt", &signed_req)) {
        FAILF("cannot parse header-signed-request.txt");
    } else {
        const char *want = NULL;
        size_t ai = 0;
        for (size_t i = 0; i < signed_req.nheaders; i++)
            if (strcmp(signed_req.headers[i].name, "Authorization") == 0)
                want = signed_req.headers[ai = i].value;
        if (want == NULL || strcmp(want, a.authorization) != 0)
            FAILF("Authorization differs:\n want %s\n got  %s", want ? want : "(none)",
                  a.authorization);
        expect_verdict(c, &signed_req, payload, SIGV4_OK, "header verify");
        char *sig = want ? strstr(signed_req.headers[ai].value, "Signature=") : NULL;
        if (sig != NULL) {
            tamper(sig + 10);
            expect_verdict(c, &signed_req, payload, SIGV4_SIGNATURE_MISMATCH, "header tamper");
        }
    }
    free_request(&signed_req);
    sigv4_header_auth_free(&a);
    sigv4_trace_free(&t);
}

/* Every X-Amz-* parameter we produced must appear, encoded, in the suite's signed URL. */
static void expect_params(const struct sigv4_query_auth *qa, const struct vreq *signed_req)
{
    for (size_t i = 0; i < qa->nparams; i++) {
        struct buf b;
        buf_init(&b, SIGV4_TEXT_MAX);
        const struct sigv4_pair *pp = &qa->params[i];
        bool found = false;
        if (sigv4_uri_encode(&b, pp->name, strlen(pp->name), false) == ERR_OK &&
            buf_append(&b, "=", 1) == ERR_OK &&
            sigv4_uri_encode(&b, pp->value, strlen(pp->value), false) == ERR_OK) {
            for (const char *s = signed_req->rawquery; s && !found;) {
                found = strncmp(s, b.data, b.len) == 0 && (s[b.len] == '&' || s[b.len] == '\0');
                s = strchr(s, '&');
                s = s ? s + 1 : NULL;
            }
        }
        if (!found)
            FAILF("query parameter %s not in the signed request", b.data ? b.data : pp->name);
        buf_free(&b);
    }
}

static void run_query(const char *dir, const struct vctx *c, const struct vreq *req,
                      const char *payload)
{
    struct sigv4_params p = make_params(c);
    struct sigv4_request sr = {req->method,  req->path,     req->query, req->nquery,
                               req->headers, req->nheaders, payload};
    struct sigv4_query_auth qa;
    struct sigv4_trace t;
    struct err e = {0};
    struct vreq signed_req;
    p.add_content_sha256 = false;
    if (sigv4_sign_query(&p, &sr, &qa, &t, &e) != ERR_OK) {
        FAILF("sign_query: %s", e.msg);
        return;
    }
    expect_file(dir, "query-canonical-request.txt", t.canonical_request);
    expect_file(dir, "query-string-to-sign.txt", t.string_to_sign);
    expect_file(dir, "query-signature.txt", qa.signature);
    if (!load_request(dir, "query-signed-request.txt", &signed_req)) {
        FAILF("cannot parse query-signed-request.txt");
    } else {
        expect_params(&qa, &signed_req);
        expect_verdict(c, &signed_req, payload, SIGV4_OK, "query verify");
        for (size_t i = 0; i < signed_req.nquery; i++)
            if (strcmp(signed_req.query[i].name, "X-Amz-Signature") == 0)
                tamper((char *)signed_req.query[i].value);
        expect_verdict(c, &signed_req, payload, SIGV4_SIGNATURE_MISMATCH, "query tamper");
    }
    free_request(&signed_req);
    sigv4_query_auth_free(&qa);
    sigv4_trace_free(&t);
}

int main(int argc, char **argv)
{
    struct vctx c;
    struct vreq req;
    char payload[SIGV4_HEX_LEN + 1];
    memset(&c, 0, sizeof(c));
    memset(&req, 0, sizeof(req));
    if (argc != 3 || (strcmp(argv[2], "header") != 0 && strcmp(argv[2], "query") != 0)) {
        fprintf(stderr, "usage: %s <case-dir> header|query\n", argv[0]);
        return 2;
    }
    char *probe = read_file(argv[1], "request.txt", NULL);
    if (probe == NULL) {
        printf("SKIP: %s/request.txt not found (../shared/vectors absent)\n", argv[1]);
        return 77;
    }
    free(probe);
    if (!load_context(argv[1], &c) || !load_request(argv[1], "request.txt", &req)) {
        FAILF("cannot parse context.json or request.txt");
    } else {
        sigv4_sha256_hex(req.body, req.body_len, payload);
        if (strcmp(argv[2], "header") == 0)
            run_header(argv[1], &c, &req, payload);
        else
            run_query(argv[1], &c, &req, payload);
    }
    free_request(&req);
    cJSON_Delete(c.json);
    free(c.json_text);
    printf("%s %s %s\n", failures ? "FAIL" : "ok  ", argv[2], argv[1]);
    return failures ? 1 : 0;
}
