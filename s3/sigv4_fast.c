/*
 * sigv4_fast.c: the common presigned S3 URL with one allocation, the URL itself (see
 * sigv4_s3_presign_url and sigv4_internal.h).
 *
 * The staged pipeline (sigv4_sign.c, sigv4_canon.c, sigv4_crypto.c) builds every stage in its
 * own growable buffer, sorts arbitrary query and header lists and keeps the intermediate texts
 * for tracing. POST /v1/uploads presigns one object per request with no extra query parameter
 * and one to three signed headers, so this file writes exactly that case's canonical request
 * into one stack buffer, in the order the stages define (the X-Amz-* names are already sorted),
 * formats the timestamp by hand, signs through the key cache's precomputed HMAC schedule and
 * lays the URL out from the pieces of the canonical request it already encoded.
 *
 * Anything outside that case (extra query parameters, a trace, more than SIGV4_I_FAST_HEADERS
 * headers, a text longer than the stack buffer, an input the staged path would refuse) answers
 * ERR_UNSUPPORTED before anything is built, and the caller takes the staged path, which also
 * writes every error message. Tests check that both paths give byte-identical URLs.
 */
#include "s3/sigv4.h"
#include "s3/sigv4_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FAST_TEXT_MAX  16384          /* canonical request; longer ones take the staged path */
#define FAST_NAMES_MAX 512            /* lowercased header names, NUL-terminated, together */
#define AMZ_MAX_TIME   253402300799LL /* 9999-12-31T23:59:59Z */

/* A bounded writer over a caller's array: once something does not fit, `full` stays set. */
struct w {
    char *p;
    size_t len, cap;
    bool full;
};

static void w_put(struct w *w, const char *s, size_t n)
{
    if (w->full || n > w->cap - w->len) {
        w->full = true;
        return;
    }
    memcpy(w->p + w->len, s, n);
    w->len += n;
}

static void w_str(struct w *w, const char *s)
{
    w_put(w, s, strlen(s));
}

static void w_enc(struct w *w, const char *s, size_t n, bool keep_slash)
{
    if (w->full)
        return;
    size_t k = sigv4_i_uri_encode_raw(w->p + w->len, w->cap - w->len, s, n, keep_slash);
    if (k == SIZE_MAX)
        w->full = true;
    else
        w->len += k;
}

static void put_digits(char *out, int64_t v, int width)
{
    for (int i = width - 1; i >= 0; i--, v /= 10)
        out[i] = (char)('0' + v % 10);
}

bool sigv4_i_amz_time(time_t t, char out[TS_AMZ_LEN + 1])
{
    out[0] = '\0';
    if (t < 0 || (long long)t > AMZ_MAX_TIME)
        return false;
    /* Days since 1970-01-01 to a civil date (H. Hinnant's days_from_civil, inverted). */
    int64_t secs = (int64_t)t % 86400, z = (int64_t)t / 86400 + 719468;
    int64_t era = z / 146097, doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    int64_t day = doy - (153 * mp + 2) / 5 + 1, month = mp < 10 ? mp + 3 : mp - 9;
    int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
    put_digits(out, year, 4);
    put_digits(out + 4, month, 2);
    put_digits(out + 6, day, 2);
    out[8] = 'T';
    put_digits(out + 9, secs / 3600, 2);
    put_digits(out + 11, secs / 60 % 60, 2);
    put_digits(out + 13, secs % 60, 2);
    out[15] = 'Z';
    out[16] = '\0';
    return true;
}

static bool scope_part_ok(const char *s)
{
    return s != NULL && *s != '\0' && strlen(s) < SIGV4_FIELD_MAX && strchr(s, '/') == NULL;
}

static bool has_token(const struct sigv4_credentials *c)
{
    return c->session_token != NULL && c->session_token[0] != '\0';
}

/* The checks of the staged path that check_presign (sigv4_presign.c) does not make. */
static bool fast_applies(const struct sigv4_params *p, const struct sigv4_s3_presign *o)
{
    const char *ak = p->creds.access_key;
    if (o->nquery != 0 || p->omit_session_token || o->nheaders + 1 > SIGV4_I_FAST_HEADERS ||
        p->expires < SIGV4_EXPIRES_MIN || p->expires > SIGV4_EXPIRES_MAX ||
        !sigv4_i_is_token(o->method))
        return false;
    if (ak == NULL || ak[0] == '\0' || strlen(ak) >= SIGV4_FIELD_MAX || strchr(ak, '/') != NULL ||
        p->creds.secret_key == NULL || p->creds.secret_key[0] == '\0')
        return false;
    if (has_token(&p->creds) && strlen(p->creds.session_token) > SIGV4_TOKEN_MAX)
        return false;
    static const char *const reserved[] = {"authorization", "x-amz-date", "x-amz-security-token"};
    for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
        if (sigv4_i_header(o->headers, o->nheaders, reserved[i], NULL) != NULL)
            return false;
    return scope_part_ok(p->region) && scope_part_ok(p->service);
}

/* A header to sign: its lowercased name and its value. */
struct fhdr {
    const char *name;
    const char *value;
};

/* Lowercases the names into `names` and sorts by name, keeping the given order of equal names
 * (insertion sort: the list is short). False when a name is not a token or does not fit. */
static bool sort_headers(const struct sigv4_pair *h, size_t n, const char *host, struct fhdr *hs,
                         char names[FAST_NAMES_MAX])
{
    size_t used = 0;
    for (size_t i = 0; i <= n; i++) {
        const char *name = i < n ? h[i].name : "host";
        size_t len = name ? strlen(name) : 0;
        if (!sigv4_i_is_token(name) || len + 1 > FAST_NAMES_MAX - used)
            return false;
        for (size_t k = 0; k <= len; k++) {
            char c = name[k];
            names[used + k] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
        }
        struct fhdr cur = {names + used, i < n ? (h[i].value ? h[i].value : "") : host};
        used += len + 1;
        size_t j = i;
        for (; j > 0 && strcmp(hs[j - 1].name, cur.name) > 0; j--)
            hs[j] = hs[j - 1];
        hs[j] = cur;
    }
    return true;
}

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* As sigv4_canon.c's append_trimmed: trimmed, inner whitespace runs as one space. */
static void w_trimmed(struct w *w, const char *v)
{
    while (is_ws(*v))
        v++;
    while (*v) {
        const char *start = v;
        while (*v && !is_ws(*v))
            v++;
        w_put(w, start, (size_t)(v - start));
        while (is_ws(*v))
            v++;
        if (*v)
            w_put(w, " ", 1);
    }
}

/* Canonical header lines into `lines` and the signed list into `list` (sigv4_canon.c's
 * emit_headers: duplicate names joined with ','). */
static void write_headers(struct w *lines, struct w *list, const struct fhdr *hs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        bool first = i == 0 || strcmp(hs[i].name, hs[i - 1].name) != 0;
        bool last = i + 1 == n || strcmp(hs[i].name, hs[i + 1].name) != 0;
        if (first) {
            if (list->len > 0)
                w_put(list, ";", 1);
            w_str(list, hs[i].name);
            w_str(lines, hs[i].name);
            w_put(lines, ":", 1);
        } else {
            w_put(lines, ",", 1);
        }
        w_trimmed(lines, hs[i].value);
        if (last)
            w_put(lines, "\n", 1);
    }
}

/* Where the pieces the URL reuses sit in the canonical request. */
enum { SPAN_URI, SPAN_ALG, SPAN_CRED, SPAN_DATE, SPAN_EXPIRES, SPAN_TOKEN, SPAN_LIST, SPAN_N };

struct span {
    size_t off, len;
};

struct fast_ctx {
    char amz[TS_AMZ_LEN + 1];
    char scope[SIGV4_SCOPE_MAX];
    char host[SIGV4_FIELD_MAX * 4];
    char list[FAST_NAMES_MAX];
    size_t list_len;
    struct span spans[SPAN_N];
    bool token;
};

/* Appends one "Name=value" query pair (value encoded), after '&' unless first, and records
 * its span. */
static void w_param(struct w *w, struct span *sp, const char *name, const char *v, size_t n,
                    bool first)
{
    if (!first)
        w_put(w, "&", 1);
    sp->off = w->len;
    w_str(w, name);
    w_put(w, "=", 1);
    w_enc(w, v, n, false);
    sp->len = w->len - sp->off;
}

/* method \n uri \n query \n headers \n signed-list \n UNSIGNED-PAYLOAD */
static void write_creq(struct w *w, struct fast_ctx *f, const struct sigv4_params *p,
                       const struct sigv4_s3_presign *o, struct w *lines)
{
    char cred_buf[SIGV4_FIELD_MAX + SIGV4_SCOPE_MAX + 2], expires[24];
    struct span *s = f->spans;
    struct w cred = {cred_buf, 0, sizeof(cred_buf), false};
    w_str(&cred, p->creds.access_key);
    w_put(&cred, "/", 1);
    w_str(&cred, f->scope);
    int m = 0;
    for (int64_t v = p->expires; v > 0; v /= 10) /* 1..604800, checked */
        m++;
    put_digits(expires, p->expires, m);
    w_str(w, o->method);
    w_put(w, "\n", 1);
    s[SPAN_URI].off = w->len;
    w_put(w, "/", 1);
    if (!o->virtual_hosted) {
        w_enc(w, o->bucket, strlen(o->bucket), true);
        w_put(w, "/", 1);
    }
    w_enc(w, o->key, strlen(o->key), true);
    s[SPAN_URI].len = w->len - s[SPAN_URI].off;
    w_put(w, "\n", 1);
    w->full = w->full || cred.full;
    w_param(w, &s[SPAN_ALG], "X-Amz-Algorithm", SIGV4_ALGORITHM, sizeof(SIGV4_ALGORITHM) - 1, true);
    w_param(w, &s[SPAN_CRED], "X-Amz-Credential", cred.p, cred.len, false);
    w_param(w, &s[SPAN_DATE], "X-Amz-Date", f->amz, TS_AMZ_LEN, false);
    w_param(w, &s[SPAN_EXPIRES], "X-Amz-Expires", expires, (size_t)m, false);
    if (f->token)
        w_param(w, &s[SPAN_TOKEN], "X-Amz-Security-Token", p->creds.session_token,
                strlen(p->creds.session_token), false);
    w_param(w, &s[SPAN_LIST], "X-Amz-SignedHeaders", f->list, f->list_len, false);
    w_put(w, "\n", 1);
    w_put(w, lines->p, lines->len);
    w_put(w, "\n", 1);
    w_put(w, f->list, f->list_len);
    w_put(w, "\n" SIGV4_UNSIGNED, sizeof(SIGV4_UNSIGNED));
}

/* The URL: scheme://host uri ?params, the auth parameters in the order asked for. */
static char *build_url(const struct fast_ctx *f, const struct sigv4_s3_presign *o, const char *creq,
                       const char sig[SIGV4_HEX_LEN + 1])
{
    static const int aws[] = {SPAN_ALG, SPAN_CRED, SPAN_DATE, SPAN_EXPIRES, SPAN_LIST, SPAN_TOKEN};
    static const int sorted[] = {SPAN_ALG, SPAN_CRED, SPAN_DATE, SPAN_EXPIRES, SPAN_TOKEN};
    const struct span *s = f->spans;
    size_t cap = strlen(o->scheme) + 3 + strlen(f->host) + s[SPAN_URI].len + 1;
    for (int i = SPAN_ALG; i < SPAN_N; i++)
        cap += s[i].len + 1;
    cap += sizeof("X-Amz-Signature=") + SIGV4_HEX_LEN + 1;
    char *url = malloc(cap);
    if (url == NULL)
        return NULL;
    struct w w = {url, 0, cap, false};
    w_str(&w, o->scheme);
    w_put(&w, "://", 3);
    w_str(&w, f->host);
    w_put(&w, creq + s[SPAN_URI].off, s[SPAN_URI].len);
    bool is_sorted = o->order == SIGV4_ORDER_SORTED;
    const int *order = is_sorted ? sorted : aws;
    size_t norder = is_sorted ? sizeof(sorted) / sizeof(sorted[0]) : sizeof(aws) / sizeof(aws[0]);
    for (size_t i = 0; i < norder; i++) {
        if (order[i] == SPAN_TOKEN && !f->token)
            continue;
        w_put(&w, i == 0 ? "?" : "&", 1);
        w_put(&w, creq + s[order[i]].off, s[order[i]].len);
    }
    w_str(&w, "&X-Amz-Signature=");
    w_put(&w, sig, SIGV4_HEX_LEN);
    if (is_sorted) {
        w_put(&w, "&", 1);
        w_put(&w, creq + s[SPAN_LIST].off, s[SPAN_LIST].len);
    }
    w_put(&w, "", 1);
    if (w.full) { /* cannot happen: cap counts every piece */
        free(url);
        url = NULL;
    }
    return url;
}

/* The host ("host" or "bucket.host") and the scope ("YYYYMMDD/region/service/aws4_request"). */
static bool host_and_scope(struct fast_ctx *f, const struct sigv4_params *p,
                           const struct sigv4_s3_presign *o)
{
    struct w h = {f->host, 0, sizeof(f->host) - 1, false};
    struct w s = {f->scope, 0, sizeof(f->scope) - 1, false};
    if (o->virtual_hosted) {
        w_str(&h, o->bucket);
        w_put(&h, ".", 1);
    }
    w_str(&h, o->host);
    w_put(&s, f->amz, SIGV4_DATE_LEN);
    w_put(&s, "/", 1);
    w_str(&s, p->region);
    w_put(&s, "/", 1);
    w_str(&s, p->service);
    w_str(&s, "/aws4_request");
    f->host[h.len] = '\0';
    f->scope[s.len] = '\0';
    return !h.full && !s.full;
}

/* The string to sign (AWS4-HMAC-SHA256 \n amz-date \n scope \n hex(sha256(creq))) and its
 * signature through the cache. */
static bool sign(const struct fast_ctx *f, const struct sigv4_params *p, const struct w *creq,
                 char sig[SIGV4_HEX_LEN + 1])
{
    char sts_buf[sizeof(SIGV4_ALGORITHM) + TS_AMZ_LEN + SIGV4_SCOPE_MAX + SIGV4_HEX_LEN + 4];
    char hash[SIGV4_HEX_LEN + 1], date[SIGV4_DATE_LEN + 1];
    struct w sts = {sts_buf, 0, sizeof(sts_buf), false};
    sigv4_sha256_hex(creq->p, creq->len, hash);
    w_put(&sts, SIGV4_ALGORITHM "\n", sizeof(SIGV4_ALGORITHM));
    w_put(&sts, f->amz, TS_AMZ_LEN);
    w_put(&sts, "\n", 1);
    w_str(&sts, f->scope);
    w_put(&sts, "\n", 1);
    w_put(&sts, hash, SIGV4_HEX_LEN);
    memcpy(date, f->amz, SIGV4_DATE_LEN);
    date[SIGV4_DATE_LEN] = '\0';
    return !sts.full && sigv4_i_signature(p->cache, p->creds.access_key, p->creds.secret_key, date,
                                          p->region, p->service, sts.p, sts.len, sig) == ERR_OK;
}

enum err_code sigv4_i_presign_fast(const struct sigv4_params *p, const struct sigv4_s3_presign *o,
                                   char **url)
{
    char creq_buf[FAST_TEXT_MAX], lines_buf[FAST_TEXT_MAX / 4], names[FAST_NAMES_MAX];
    char sig[SIGV4_HEX_LEN + 1];
    struct fhdr hs[SIGV4_I_FAST_HEADERS];
    struct fast_ctx f;
    *url = NULL;
    if (!fast_applies(p, o) || !sigv4_i_amz_time(p->time, f.amz) || !host_and_scope(&f, p, o) ||
        !sort_headers(o->headers, o->nheaders, f.host, hs, names))
        return ERR_UNSUPPORTED;
    f.token = has_token(&p->creds);
    f.spans[SPAN_TOKEN] = (struct span){0, 0};
    struct w lines = {lines_buf, 0, sizeof(lines_buf), false};
    struct w list = {f.list, 0, sizeof(f.list), false};
    write_headers(&lines, &list, hs, o->nheaders + 1);
    f.list_len = list.len;
    struct w creq = {creq_buf, 0, sizeof(creq_buf), false};
    if (!lines.full && !list.full)
        write_creq(&creq, &f, p, o, &lines);
    if (lines.full || list.full || creq.full || !sign(&f, p, &creq, sig))
        return ERR_UNSUPPORTED;
    *url = build_url(&f, o, creq_buf, sig);
    return *url != NULL ? ERR_OK : ERR_NOMEM;
}
