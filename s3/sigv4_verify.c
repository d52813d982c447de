/*
 * sigv4_verify.c: the verifier the embedded store puts in front of every S3 request (see
 * sigv4.h). It reads the claim (Authorization header or X-Amz-* query parameters), checks it
 * the way S3 does, in S3's order (shape, scope, time, access key, token, unsigned headers,
 * signature), and answers with S3's error code and message. The signature is recomputed with
 * the same pipeline the signer uses and compared in constant time.
 */
#include "s3/sigv4.h"
#include "s3/sigv4_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

static const char *const VERDICT_CODES[SIGV4_VERDICT_COUNT] = {
    [SIGV4_OK] = "OK",
    [SIGV4_SIGNATURE_MISMATCH] = "SignatureDoesNotMatch",
    [SIGV4_ACCESS_DENIED] = "AccessDenied",
    [SIGV4_QUERY_PARAMS_ERROR] = "AuthorizationQueryParametersError",
    [SIGV4_HEADER_MALFORMED] = "AuthorizationHeaderMalformed",
    [SIGV4_INVALID_ACCESS_KEY] = "InvalidAccessKeyId",
    [SIGV4_TIME_SKEWED] = "RequestTimeTooSkewed",
    [SIGV4_INVALID_TOKEN] = "InvalidToken",
    [SIGV4_INVALID_ARGUMENT] = "InvalidArgument",
    [SIGV4_INVALID_REQUEST] = "InvalidRequest",
};

const char *sigv4_verdict_code(enum sigv4_verdict v)
{
    if ((int)v < 0 || v >= SIGV4_VERDICT_COUNT)
        return "InternalError";
    return VERDICT_CODES[v];
}

#define MSG_SIGNATURE                                                                              \
    "The request signature we calculated does not match the signature you provided. Check your "   \
    "key and signing method."
#define MSG_UNSIGNED "There were headers present in the request which were not signed"
#define MSG_CRED_SHAPE                                                                             \
    "the Credential is mal-formed; expecting "                                                     \
    "\"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\"."
#define MSG_QUERY_REQUIRED                                                                         \
    "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "       \
    "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."

/* Records a verdict and returns false, so checks read `if (!ok) return false;`. */
__attribute__((format(printf, 3, 4))) static bool deny(struct sigv4_verify_result *r,
                                                       enum sigv4_verdict v, const char *fmt, ...)
{
    va_list ap;
    r->verdict = v;
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof(r->message), fmt, ap);
    va_end(ap);
    return false;
}

/* What the request claims. Strings borrowed from the request, except the parsed scope parts. */
struct claim {
    bool presigned;
    const char *credential;
    const char *signed_list;
    const char *signature;
    const char *amz_date;
    const char *token;
    int64_t expires;
    time_t t;
    char date[SIGV4_DATE_LEN + 1];
    char region[SIGV4_FIELD_MAX];
    char service[SIGV4_FIELD_MAX];
    char terminal[SIGV4_FIELD_MAX];
    char *hdr_copy; /* owned: the Authorization header split in place */
};

/* Copies the next '/'-separated part of *s into out; false when empty or too long. */
static bool next_part(const char **s, char *out, size_t cap, bool last)
{
    const char *end = last ? *s + strlen(*s) : strchr(*s, '/');
    if (end == NULL || end == *s || (size_t)(end - *s) >= cap)
        return false;
    memcpy(out, *s, (size_t)(end - *s));
    out[end - *s] = '\0';
    *s = *end ? end + 1 : end;
    return true;
}

/* "AK/YYYYMMDD/region/service/aws4_request" into r->access_key and the claim's scope parts. */
static bool parse_credential(struct claim *c, struct sigv4_verify_result *r, enum sigv4_verdict v,
                             const char *prefix)
{
    const char *s = c->credential;
    bool ok = next_part(&s, r->access_key, sizeof(r->access_key), false) &&
              next_part(&s, c->date, sizeof(c->date), false) && strlen(c->date) == 8 &&
              next_part(&s, c->region, sizeof(c->region), false) &&
              next_part(&s, c->service, sizeof(c->service), false) &&
              next_part(&s, c->terminal, sizeof(c->terminal), true) &&
              strchr(c->terminal, '/') == NULL;
    for (size_t i = 0; ok && i < SIGV4_DATE_LEN; i++)
        ok = isdigit((unsigned char)c->date[i]) != 0;
    if (!ok)
        return deny(r, v, "%s" MSG_CRED_SHAPE, prefix);
    return true;
}

/* Region, service and terminal must be this endpoint's. */
static bool check_scope(const struct claim *c, const struct sigv4_verify_params *p,
                        struct sigv4_verify_result *r, enum sigv4_verdict v, const char *prefix)
{
    if (strcmp(c->region, p->region) != 0)
        return deny(r, v, "%sthe region '%s' is wrong; expecting '%s'", prefix, c->region,
                    p->region);
    if (strcmp(c->service, p->service) != 0)
        return deny(r, v, "%sincorrect service \"%s\". This endpoint belongs to \"%s\".", prefix,
                    c->service, p->service);
    if (strcmp(c->terminal, "aws4_request") != 0)
        return deny(r, v, "%sincorrect terminal \"%s\". This endpoint uses \"aws4_request\".",
                    prefix, c->terminal);
    return true;
}

static bool parse_expires(const char *s, int64_t *out, struct sigv4_verify_result *r)
{
    char *end = NULL;
    const char *d = (*s == '-') ? s + 1 : s;
    if (*d == '\0' || strspn(d, "0123456789") != strlen(d))
        return deny(r, SIGV4_QUERY_PARAMS_ERROR, "X-Amz-Expires should be a number");
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || v > SIGV4_EXPIRES_MAX)
        return deny(r, SIGV4_QUERY_PARAMS_ERROR,
                    "X-Amz-Expires must be less than a week (in seconds) that is 604800");
    if (v < 0)
        return deny(r, SIGV4_QUERY_PARAMS_ERROR, "X-Amz-Expires must be non-negative");
    if (v < SIGV4_EXPIRES_MIN)
        return deny(r, SIGV4_QUERY_PARAMS_ERROR, "X-Amz-Expires must be at least 1 second");
    *out = v;
    return true;
}

/* Fetches one X-Amz-* query parameter; refuses duplicates. */
static bool query_param(const struct sigv4_verify_request *q, const char *name, const char **out,
                        struct sigv4_verify_result *r)
{
    size_t n = 0;
    *out = sigv4_i_query(q->query, q->nquery, name, &n);
    if (n > 1)
        return deny(r, SIGV4_QUERY_PARAMS_ERROR, "Duplicate query parameter %s", name);
    return true;
}

static bool parse_query_claim(const struct sigv4_verify_request *q, struct claim *c,
                              struct sigv4_verify_result *r)
{
    const char *alg = NULL, *exp = NULL;
    if (!query_param(q, "X-Amz-Algorithm", &alg, r) ||
        !query_param(q, "X-Amz-Credential", &c->credential, r) ||
        !query_param(q, "X-Amz-Signature", &c->signature, r) ||
        !query_param(q, "X-Amz-Date", &c->amz_date, r) ||
        !query_param(q, "X-Amz-SignedHeaders", &c->signed_list, r) ||
        !query_param(q, "X-Amz-Expires", &exp, r) ||
        !query_param(q, "X-Amz-Security-Token", &c->token, r))
        return false;
    if (alg == NULL || c->credential == NULL || c->signature == NULL || c->amz_date == NULL ||
        c->signed_list == NULL || exp == NULL)
        return deny(r, SIGV4_QUERY_PARAMS_ERROR, MSG_QUERY_REQUIRED);
    if (strcmp(alg, SIGV4_ALGORITHM) != 0)
        return deny(r, SIGV4_QUERY_PARAMS_ERROR,
                    "X-Amz-Algorithm only supports \"" SIGV4_ALGORITHM "\"");
    if (!ts_parse_amz(c->amz_date, &c->t))
        return deny(r, SIGV4_QUERY_PARAMS_ERROR,
                    "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"");
    if (!parse_expires(exp, &c->expires, r) ||
        !parse_credential(c, r, SIGV4_QUERY_PARAMS_ERROR,
                          "Error parsing the X-Amz-Credential parameter; "))
        return false;
    if (strncmp(c->date, c->amz_date, SIGV4_DATE_LEN) != 0)
        return deny(r, SIGV4_QUERY_PARAMS_ERROR,
                    "Invalid credential date \"%s\". This date is not the same as X-Amz-Date: "
                    "\"%.8s\".",
                    c->date, c->amz_date);
    return true;
}

/* Splits "Credential=..., SignedHeaders=..., Signature=..." (after the algorithm) in place. */
static bool split_auth_components(char *s, struct claim *c)
{
    for (char *part = s; part != NULL;) {
        char *comma = strchr(part, ',');
        if (comma)
            *comma = '\0';
        part += strspn(part, " ");
        size_t len = strlen(part);
        while (len > 0 && part[len - 1] == ' ')
            part[--len] = '\0';
        if (strncmp(part, "Credential=", 11) == 0 && c->credential == NULL)
            c->credential = part + 11;
        else if (strncmp(part, "SignedHeaders=", 14) == 0 && c->signed_list == NULL)
            c->signed_list = part + 14;
        else if (strncmp(part, "Signature=", 10) == 0 && c->signature == NULL)
            c->signature = part + 10;
        else
            return false;
        part = comma ? comma + 1 : NULL;
    }
    return c->credential && c->signed_list && c->signature;
}

static bool parse_header_claim(const struct sigv4_verify_request *q, const char *auth,
                               struct claim *c, struct sigv4_verify_result *r)
{
    static const char prefix[] = "The authorization header is malformed; ";
    size_t alen = strlen(SIGV4_ALGORITHM);
    if (strncmp(auth, SIGV4_ALGORITHM, alen) != 0 || auth[alen] != ' ')
        return deny(r, SIGV4_INVALID_ARGUMENT, "Unsupported Authorization Type");
    if ((c->hdr_copy = strdup(auth + alen + 1)) == NULL)
        return false; /* verdict stays OK; caller turns this into ERR_NOMEM */
    if (!split_auth_components(c->hdr_copy, c))
        return deny(r, SIGV4_HEADER_MALFORMED,
                    "%sthe authorization header requires three components: Credential, "
                    "SignedHeaders, and Signature.",
                    prefix);
    if (!parse_credential(c, r, SIGV4_HEADER_MALFORMED, prefix))
        return false;
    c->amz_date = sigv4_i_header(q->headers, q->nheaders, "x-amz-date", NULL);
    if (c->amz_date == NULL || !ts_parse_amz(c->amz_date, &c->t))
        return deny(r, SIGV4_ACCESS_DENIED,
                    "AWS authentication requires a valid Date or x-amz-date header");
    if (strncmp(c->date, c->amz_date, SIGV4_DATE_LEN) != 0)
        return deny(r, SIGV4_HEADER_MALFORMED,
                    "%sInvalid credential date. Date is not the same as X-Amz-Date.", prefix);
    c->token = sigv4_i_header(q->headers, q->nheaders, "x-amz-security-token", NULL);
    return true;
}

static bool check_time(const struct claim *c, const struct sigv4_verify_params *p,
                       struct sigv4_verify_result *r)
{
    int64_t skew = p->max_skew > 0 ? p->max_skew : SIGV4_MAX_SKEW;
    if (c->presigned) {
        r->expires_at = c->t + (time_t)c->expires;
        /* AWS S3 takes an X-Amz-Date up to 15 minutes ahead of its clock (a signer whose
         * clock runs ahead, or one read a moment later than time() which lags by up to a
         * tick) */
        if ((int64_t)c->t - (int64_t)p->now > skew)
            return deny(r, SIGV4_ACCESS_DENIED, "Request is not valid yet");
        if (p->now > r->expires_at)
            return deny(r, SIGV4_ACCESS_DENIED, "Request has expired");
        return true;
    }
    int64_t d = (int64_t)p->now - (int64_t)c->t;
    if (d > skew || -d > skew)
        return deny(r, SIGV4_TIME_SKEWED,
                    "The difference between the request time and the current time is too large.");
    return true;
}

static bool same_secret_text(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    return la == lb && CRYPTO_memcmp(a, b, la) == 0;
}

static bool check_token(const struct claim *c, const struct sigv4_credentials *cr,
                        struct sigv4_verify_result *r)
{
    bool want = cr->session_token != NULL && cr->session_token[0] != '\0';
    bool have = c->token != NULL && c->token[0] != '\0';
    if (want != have || (want && !same_secret_text(cr->session_token, c->token)))
        return deny(r, SIGV4_INVALID_TOKEN,
                    "The provided token is malformed or otherwise invalid.");
    return true;
}

/* True when `name` (any case) is one of the ';'-separated lowercase names in `list`. */
static bool in_list(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *semi = strchr(p, ';');
        size_t len = semi ? (size_t)(semi - p) : strlen(p);
        if (len == n && strncasecmp(p, name, n) == 0)
            return true;
        p += len + (semi ? 1 : 0);
    }
    return false;
}

/* Host must be signed; under S3 rules every x-amz-* header too; every signed header present. */
static bool check_signed_headers(const struct claim *c, const struct sigv4_verify_params *p,
                                 const struct sigv4_verify_request *q,
                                 struct sigv4_verify_result *r)
{
    if (!in_list(c->signed_list, "host"))
        return deny(r, SIGV4_ACCESS_DENIED, MSG_UNSIGNED);
    for (size_t i = 0; p->rules == SIGV4_RULES_S3 && i < q->nheaders; i++)
        if (strncasecmp(q->headers[i].name, "x-amz-", 6) == 0 &&
            !in_list(c->signed_list, q->headers[i].name))
            return deny(r, SIGV4_ACCESS_DENIED, MSG_UNSIGNED);
    for (const char *s = c->signed_list; *s;) {
        const char *semi = strchr(s, ';');
        size_t len = semi ? (size_t)(semi - s) : strlen(s);
        bool found = false;
        for (size_t i = 0; i < q->nheaders && !found; i++)
            found =
                strlen(q->headers[i].name) == len && strncasecmp(q->headers[i].name, s, len) == 0;
        if (!found) /* as S3: the canonical request then differs from the signed one */
            return deny(r, SIGV4_SIGNATURE_MISMATCH, MSG_SIGNATURE);
        s += len + (semi ? 1 : 0);
    }
    return true;
}

/* Picks the payload hash that was signed; records a hex claim for the store. */
static bool payload_hash(const struct claim *c, const struct sigv4_verify_params *p,
                         const struct sigv4_verify_request *q, const char **out,
                         struct sigv4_verify_result *r)
{
    const char *h = sigv4_i_header(q->headers, q->nheaders, "x-amz-content-sha256", NULL);
    if (c->presigned) {
        const char *qh = sigv4_i_query(q->query, q->nquery, "X-Amz-Content-Sha256", NULL);
        *out = p->rules == SIGV4_RULES_S3 ? (qh ? qh : SIGV4_UNSIGNED) : q->payload_hash;
        return true;
    }
    if (h == NULL && p->rules == SIGV4_RULES_S3)
        return deny(r, SIGV4_INVALID_REQUEST,
                    "Missing required header for this request: x-amz-content-sha256");
    if (h != NULL && !sigv4_i_is_hex64(h) && strcmp(h, SIGV4_UNSIGNED) != 0 &&
        strncmp(h, "STREAMING-", 10) != 0)
        return deny(r, SIGV4_INVALID_ARGUMENT,
                    "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-... or a valid "
                    "sha256 value.");
    if (h != NULL && sigv4_i_is_hex64(h)) {
        for (size_t i = 0; i < SIGV4_HEX_LEN; i++)
            r->payload_hash[i] = (char)tolower((unsigned char)h[i]);
        r->payload_hash[SIGV4_HEX_LEN] = '\0';
    }
    *out = h ? h : (p->rules == SIGV4_RULES_S3 ? NULL : q->payload_hash);
    return true;
}

/* The canonical URI of the received path: S3 decodes the wire path and encodes it once. */
static enum err_code verify_uri(struct buf *uri, const struct sigv4_verify_params *p,
                                const char *path)
{
    enum err_code rc;
    struct buf dec;
    buf_init(&dec, SIGV4_TEXT_MAX);
    if (p->rules != SIGV4_RULES_S3) {
        rc = sigv4_canonical_uri(uri, path, p->rules);
        goto cleanup;
    }
    if ((rc = sigv4_uri_decode(&dec, path, strlen(path))) != ERR_OK ||
        (rc = buf_append(&dec, "", 0)) != ERR_OK)
        goto cleanup;
    rc = sigv4_canonical_uri(uri, dec.data ? dec.data : "/", SIGV4_RULES_S3);
cleanup:
    buf_free(&dec);
    return rc;
}

/* Recomputes the signature over exactly what the claim says was signed and compares it. */
static enum err_code check_signature(const struct claim *c, const struct sigv4_verify_params *p,
                                     const struct sigv4_verify_request *q,
                                     const struct sigv4_credentials *cr, const char *payload,
                                     struct sigv4_verify_result *r)
{
    enum err_code rc = ERR_NOMEM;
    struct sigv4_i_output o;
    struct buf uri;
    size_t nq = 0, nh = 0;
    struct sigv4_pair *qs = calloc(q->nquery + 1, sizeof(*qs));
    struct sigv4_pair *hs = calloc(q->nheaders + 1, sizeof(*hs));
    memset(&o, 0, sizeof(o));
    buf_init(&uri, SIGV4_TEXT_MAX);
    if (qs == NULL || hs == NULL)
        goto cleanup;
    for (size_t i = 0; i < q->nquery; i++)
        if (!c->presigned || (strcmp(q->query[i].name, "X-Amz-Signature") != 0 &&
                              !(p->omit_session_token && p->rules != SIGV4_RULES_S3 &&
                                strcmp(q->query[i].name, "X-Amz-Security-Token") == 0)))
            qs[nq++] = q->query[i];
    for (size_t i = 0; i < q->nheaders; i++)
        if (in_list(c->signed_list, q->headers[i].name))
            hs[nh++] = q->headers[i];
    if ((rc = verify_uri(&uri, p, q->path)) == ERR_INVALID) {
        deny(r, SIGV4_SIGNATURE_MISMATCH, MSG_SIGNATURE);
        rc = ERR_OK;
        goto cleanup;
    }
    if (rc != ERR_OK)
        goto cleanup;
    struct sigv4_i_input in = {
        q->method,      uri.data,      qs,        nq,         hs,      nh, payload, c->t,
        cr->secret_key, r->access_key, p->region, p->service, p->cache};
    if ((rc = sigv4_i_compute(&in, &o)) == ERR_INVALID) {
        deny(r, SIGV4_SIGNATURE_MISMATCH, MSG_SIGNATURE); /* e.g. a header name we cannot sign */
        rc = ERR_OK;
        goto cleanup;
    }
    if (rc == ERR_OK && (strlen(c->signature) != SIGV4_HEX_LEN ||
                         CRYPTO_memcmp(o.signature, c->signature, SIGV4_HEX_LEN) != 0))
        deny(r, SIGV4_SIGNATURE_MISMATCH, MSG_SIGNATURE);
cleanup:
    free(qs);
    free(hs);
    buf_free(&uri);
    sigv4_i_output_free(&o);
    return rc;
}

/* Looks the access key up; false with InvalidAccessKeyId when unknown. */
static bool lookup_key(const struct sigv4_verify_params *p, struct sigv4_credentials *cr,
                       struct sigv4_verify_result *r)
{
    memset(cr, 0, sizeof(*cr));
    if (p->lookup(p->lookup_ctx, r->access_key, cr) != ERR_OK || cr->secret_key == NULL ||
        cr->secret_key[0] == '\0')
        return deny(r, SIGV4_INVALID_ACCESS_KEY,
                    "The AWS Access Key Id you provided does not exist in our records.");
    return true;
}

/* Decides which mechanism the request uses and parses its claim. */
static bool read_claim(const struct sigv4_verify_request *q, struct claim *c,
                       struct sigv4_verify_result *r)
{
    size_t nauth = 0;
    const char *auth = sigv4_i_header(q->headers, q->nheaders, "authorization", &nauth);
    c->presigned = sigv4_i_query(q->query, q->nquery, "X-Amz-Algorithm", NULL) ||
                   sigv4_i_query(q->query, q->nquery, "X-Amz-Credential", NULL) ||
                   sigv4_i_query(q->query, q->nquery, "X-Amz-Signature", NULL);
    r->presigned = c->presigned;
    if (auth != NULL && c->presigned)
        return deny(r, SIGV4_INVALID_ARGUMENT,
                    "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
                    "Signature query string parameter or the Authorization header should be "
                    "specified");
    if (auth == NULL && !c->presigned) {
        r->anonymous = true;
        return deny(r, SIGV4_ACCESS_DENIED, "Access Denied");
    }
    if (nauth > 1)
        return deny(r, SIGV4_HEADER_MALFORMED,
                    "The authorization header is malformed; "
                    "more than one Authorization header.");
    if (c->presigned)
        return parse_query_claim(q, c, r);
    return parse_header_claim(q, auth, c, r);
}

enum err_code sigv4_verify(const struct sigv4_verify_params *p,
                           const struct sigv4_verify_request *req, struct sigv4_verify_result *out,
                           struct err *e)
{
    enum err_code rc = ERR_OK;
    struct claim c;
    struct sigv4_credentials cr = {0};
    const char *payload = NULL;
    const char *prefix = NULL;
    memset(&c, 0, sizeof(c));
    memset(out, 0, sizeof(*out));
    if (p->region == NULL || p->service == NULL || p->lookup == NULL || req->method == NULL ||
        req->path == NULL) {
        rc = err_set(e, ERR_INVALID, "sigv4: verify needs region, service, lookup, method, path");
        goto cleanup;
    }
    if (!read_claim(req, &c, out)) {
        if (out->verdict == SIGV4_OK)
            rc = err_set(e, ERR_NOMEM, "sigv4: out of memory");
        goto cleanup;
    }
    prefix = c.presigned ? "Error parsing the X-Amz-Credential parameter; "
                         : "The authorization header is malformed; ";
    if (!check_scope(&c, p, out, c.presigned ? SIGV4_QUERY_PARAMS_ERROR : SIGV4_HEADER_MALFORMED,
                     prefix) ||
        !check_time(&c, p, out) || !lookup_key(p, &cr, out) || !check_token(&c, &cr, out) ||
        !payload_hash(&c, p, req, &payload, out) || !check_signed_headers(&c, p, req, out))
        goto cleanup;
    rc = check_signature(&c, p, req, &cr, payload, out);
    if (rc != ERR_OK)
        err_set(e, rc, "sigv4: verify: %s", err_name(rc));
cleanup:
    free(c.hdr_copy);
    return rc;
}
