/*
 * fuzz_sigv4.c: SigV4 canonicalisation, verification and the presign round trip (s3/sigv4.h).
 *
 * Input: one mode byte, then an HTTP request in the AWS test suite's request.txt shape:
 *   "METHOD TARGET[ HTTP/1.1]\n" then "Name:value\n" header lines (a line starting with a space
 *   or tab continues the previous value) up to an empty line, then the body.
 * Modes (byte % 4):
 *   0, 1, 2  rules S3 / generic / generic-normalize: every canonical stage runs on the request,
 *            then sigv4_verify with the test suite's credentials (AKIDEXAMPLE) at its time
 *            (20150830T123600Z), service "s3" under S3 rules, "service" otherwise. Invariant:
 *            a request that verifies is refused under any other secret (a signature that does
 *            not depend on the secret would be accepted from anyone).
 *   3        presign: TARGET's path (without the leading '/') is the object key, the headers
 *            are signed. Invariants: the fast path and the staged path (asked for with a trace)
 *            give the same answer and the same URL, and the URL verifies as SIGV4_OK.
 */
#include "fuzz.h"

#include <stdbool.h>
#include <strings.h>

#include "s3/sigv4.h"

#define FZ_MAX_HEADERS 32
#define FZ_TIME        1440938160 /* 2015-08-30T12:36:00Z */
#define FZ_AK          "AKIDEXAMPLE"
#define FZ_SECRET      "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define FZ_REGION      "us-east-1"

struct fz_req {
    char *method, *path, *rawquery, *body;
    size_t body_len;
    struct sigv4_pair headers[FZ_MAX_HEADERS];
    size_t nheaders;
    struct sigv4_pair *query;
    size_t nquery;
};

/* Splits "METHOD TARGET[ HTTP/x]" in place. */
static bool split_request_line(char *line, struct fz_req *r)
{
    char *sp = strchr(line, ' ');
    if (sp == NULL)
        return false;
    *sp = '\0';
    r->method = line;
    r->path = sp + 1;
    char *ver = strstr(r->path, " HTTP/");
    if (ver != NULL)
        *ver = '\0';
    char *q = strchr(r->path, '?');
    r->rawquery = q ? q + 1 : "";
    if (q)
        *q = '\0';
    return true;
}

/* Header lines in place up to an empty line; returns the body or NULL. */
static char *split_headers(char *p, struct fz_req *r)
{
    while (*p && *p != '\n') {
        char *eol = strchr(p, '\n');
        char *next = eol ? eol + 1 : p + strlen(p);
        while (*next == ' ' || *next == '\t') {
            eol = strchr(next, '\n');
            next = eol ? eol + 1 : next + strlen(next);
        }
        if (eol)
            *eol = '\0';
        char *colon = strchr(p, ':');
        if (colon == NULL || r->nheaders == FZ_MAX_HEADERS)
            return NULL;
        *colon = '\0';
        r->headers[r->nheaders++] = (struct sigv4_pair){p, colon + 1};
        p = next;
    }
    return *p == '\n' ? p + 1 : p;
}

static bool parse_request(char *text, size_t len, struct fz_req *r)
{
    memset(r, 0, sizeof(*r));
    char *eol = strchr(text, '\n');
    if (eol == NULL)
        return false;
    *eol = '\0';
    if (!split_request_line(text, r) || (r->body = split_headers(eol + 1, r)) == NULL)
        return false;
    r->body_len = len - (size_t)(r->body - text);
    return sigv4_query_parse(r->rawquery, 64, &r->query, &r->nquery) == ERR_OK;
}

/* Every stage of the canonical request alone, as a signer would chain them. */
static void run_stages(const struct fz_req *r, enum sigv4_rules rules, const char *service)
{
    struct buf m, u, q, h, sl, cr, sts;
    buf_init(&m, SIGV4_TEXT_MAX);
    buf_init(&u, SIGV4_TEXT_MAX);
    buf_init(&q, SIGV4_TEXT_MAX);
    buf_init(&h, SIGV4_TEXT_MAX);
    buf_init(&sl, SIGV4_TEXT_MAX);
    buf_init(&cr, SIGV4_TEXT_MAX);
    buf_init(&sts, SIGV4_TEXT_MAX);
    char scope[SIGV4_SCOPE_MAX];
    if (sigv4_canonical_method(&m, r->method) == ERR_OK &&
        sigv4_canonical_uri(&u, r->path, rules) == ERR_OK &&
        sigv4_canonical_query(&q, r->query, r->nquery) == ERR_OK &&
        sigv4_canonical_headers(&h, &sl, r->headers, r->nheaders) == ERR_OK &&
        buf_append(&m, "", 1) == ERR_OK && buf_append(&u, "", 1) == ERR_OK &&
        buf_append(&q, "", 1) == ERR_OK && buf_append(&h, "", 1) == ERR_OK &&
        buf_append(&sl, "", 1) == ERR_OK &&
        sigv4_canonical_request(&cr, m.data, u.data, q.data, h.data, sl.data, SIGV4_UNSIGNED) ==
            ERR_OK &&
        buf_append(&cr, "", 1) == ERR_OK &&
        sigv4_scope(scope, sizeof(scope), FZ_TIME, FZ_REGION, service) == ERR_OK &&
        sigv4_string_to_sign(&sts, FZ_TIME, scope, cr.data) == ERR_OK) {
        /* The canonical URI never holds a byte that needs encoding, whatever came in. */
        for (const char *c = u.data; *c; c++)
            FUZZ_CHECK(*c > ' ' && *c < 0x7f && *c != '?' && *c != '#');
    }
    buf_free(&m);
    buf_free(&u);
    buf_free(&q);
    buf_free(&h);
    buf_free(&sl);
    buf_free(&cr);
    buf_free(&sts);
}

static enum err_code lookup(void *ctx, const char *ak, struct sigv4_credentials *out)
{
    if (strcmp(ak, FZ_AK) != 0)
        return ERR_NOT_FOUND;
    out->secret_key = ctx; /* the secret under test */
    out->session_token = NULL;
    return ERR_OK;
}

static enum sigv4_verdict verify(const struct sigv4_verify_request *vr, enum sigv4_rules rules,
                                 const char *service, const char *secret, time_t now)
{
    struct sigv4_verify_params p = {FZ_REGION, service,        now, rules, 0, false,
                                    lookup,    (void *)secret, NULL};
    struct sigv4_verify_result res;
    struct err e = {0};
    memset(&res, 0, sizeof(res));
    if (sigv4_verify(&p, vr, &res, &e) != ERR_OK)
        return SIGV4_VERDICT_COUNT;
    FUZZ_CHECK(res.verdict < SIGV4_VERDICT_COUNT);
    FUZZ_CHECK(memchr(res.message, '\0', sizeof(res.message)) != NULL);
    return res.verdict;
}

static void run_verify(const struct fz_req *r, enum sigv4_rules rules, const char *service)
{
    char body_hash[SIGV4_HEX_LEN + 1];
    sigv4_sha256_hex(r->body, r->body_len, body_hash);
    struct sigv4_verify_request vr = {r->method,  r->path,     r->query, r->nquery,
                                      r->headers, r->nheaders, body_hash};
    if (verify(&vr, rules, service, FZ_SECRET, FZ_TIME) == SIGV4_OK)
        FUZZ_CHECK(verify(&vr, rules, service, "another-secret-key", FZ_TIME) != SIGV4_OK);
}

static void run_presign(struct fz_req *r)
{
    struct sigv4_pair h[FZ_MAX_HEADERS + 1];
    size_t nh = 0;
    for (size_t i = 0; i < r->nheaders; i++)
        if (strcasecmp(r->headers[i].name, "host") != 0)
            h[nh++] = r->headers[i];
    struct sigv4_params p = {{FZ_AK, FZ_SECRET, NULL},
                             FZ_REGION,
                             "s3",
                             FZ_TIME,
                             SIGV4_RULES_S3,
                             false,
                             false,
                             900,
                             NULL};
    struct sigv4_s3_presign o = {r->method,
                                 "http",
                                 "s3.example.com:9000",
                                 false,
                                 "photos",
                                 r->path[0] == '/' ? r->path + 1 : r->path,
                                 h,
                                 nh,
                                 r->query,
                                 r->nquery,
                                 SIGV4_ORDER_AWS};
    char *fast = NULL, *staged = NULL;
    struct sigv4_trace trace = {0};
    struct err e1 = {0}, e2 = {0};
    enum err_code rc1 = sigv4_s3_presign_url(&p, &o, &fast, NULL, &e1);
    enum err_code rc2 = sigv4_s3_presign_url(&p, &o, &staged, &trace, &e2);
    FUZZ_CHECK(rc1 == rc2);
    if (rc1 == ERR_OK) {
        FUZZ_CHECK(strcmp(fast, staged) == 0);
        const char *path = strchr(fast + strlen("http://"), '/');
        const char *qm = path ? strchr(path, '?') : NULL;
        FUZZ_CHECK(qm != NULL);
        char *wire_path = fuzz_strdup((const uint8_t *)path, (size_t)(qm - path));
        struct sigv4_pair *q = NULL;
        size_t nq = 0;
        FUZZ_CHECK(sigv4_query_parse(qm + 1, 256, &q, &nq) == ERR_OK);
        h[nh++] = (struct sigv4_pair){"host", "s3.example.com:9000"};
        struct sigv4_verify_request vr = {r->method, wire_path, q, nq, h, nh, NULL};
        FUZZ_CHECK(verify(&vr, SIGV4_RULES_S3, "s3", FZ_SECRET, FZ_TIME + 1) == SIGV4_OK);
        FUZZ_CHECK(verify(&vr, SIGV4_RULES_S3, "s3", "another-secret-key", FZ_TIME + 1) ==
                   SIGV4_SIGNATURE_MISMATCH);
        free(q);
        free(wire_path);
    }
    free(fast);
    free(staged);
    sigv4_trace_free(&trace);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 64 * 1024)
        return 0;
    int mode = data[0] % 4;
    char *text = fuzz_strdup(data + 1, size - 1);
    struct fz_req r;
    if (parse_request(text, strlen(text), &r)) {
        static const enum sigv4_rules rules[] = {SIGV4_RULES_S3, SIGV4_RULES_GENERIC,
                                                 SIGV4_RULES_GENERIC_NORMALIZE};
        if (mode < 3) {
            const char *service = mode == 0 ? "s3" : "service";
            run_stages(&r, rules[mode], service);
            run_verify(&r, rules[mode], service);
        } else {
            run_presign(&r);
        }
    }
    free(r.query);
    free(text);
    return 0;
}
