/*
 * router.c: route matching. See router.h.
 */
#include "server/router.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hex.h"

char *srv_percent_decode(const char *in, size_t len)
{
    char *out = malloc(len + 1);
    if (out == NULL)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c == '%') {
            int hi = i + 2 < len ? hex_digit_value(in[i + 1]) : -1;
            int lo = i + 2 < len ? hex_digit_value(in[i + 2]) : -1;
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                free(out);
                return NULL;
            }
            out[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else if (c == '\0') {
            free(out);
            return NULL;
        } else {
            out[o++] = c;
        }
    }
    out[o] = '\0';
    return out;
}

/* Splits the next segment of a '/'-separated string: returns its length and advances *p. */
static size_t next_segment(const char **p)
{
    const char *s = *p;
    if (*s == '/')
        s++;
    const char *e = strchr(s, '/');
    size_t n = e ? (size_t)(e - s) : strlen(s);
    *p = s + n;
    return n;
}

/* Matches one pattern against the path; fills params on success (values owned). */
static int match_pattern(const char *pattern, const char *path, struct srv_match_result *out)
{
    const char *pp = pattern, *rp = path;
    out->nparams = 0;
    while (*pp != '\0' || *rp != '\0') {
        if (*pp == '\0' || *rp == '\0')
            return 0;
        const char *pseg = pp + (*pp == '/');
        const char *rseg = rp + (*rp == '/');
        size_t pn = next_segment(&pp), rn = next_segment(&rp);
        char *dec = srv_percent_decode(rseg, rn);
        if (dec == NULL)
            return -1;
        if (pn >= 3 && pseg[0] == '{' && pseg[pn - 2] == '+' && pseg[pn - 1] == '}') {
            /* greedy: the rest of the path (one or more segments), decoded once */
            free(dec);
            size_t rest = strlen(rseg);
            if (rest == 0 || out->nparams >= H_MAX_PARAMS || *pp != '\0')
                return 0;
            dec = srv_percent_decode(rseg, rest);
            if (dec == NULL)
                return -1;
            size_t nl =
                pn - 3 < sizeof(out->params[0].name) - 1 ? pn - 3 : sizeof(out->params[0].name) - 1;
            memcpy(out->params[out->nparams].name, pseg + 1, nl);
            out->params[out->nparams].name[nl] = '\0';
            out->params[out->nparams].value = dec;
            out->nparams++;
            return 1;
        }
        if (pn >= 2 && pseg[0] == '{' && pseg[pn - 1] == '}') {
            if (rn == 0 || out->nparams >= H_MAX_PARAMS) {
                free(dec);
                return 0;
            }
            size_t nl =
                pn - 2 < sizeof(out->params[0].name) - 1 ? pn - 2 : sizeof(out->params[0].name) - 1;
            memcpy(out->params[out->nparams].name, pseg + 1, nl);
            out->params[out->nparams].name[nl] = '\0';
            out->params[out->nparams].value = dec;
            out->nparams++;
            continue;
        }
        bool same = strlen(dec) == pn && memcmp(dec, pseg, pn) == 0;
        free(dec);
        if (!same)
            return 0;
    }
    return 1;
}

void srv_match_free(struct srv_match_result *m)
{
    for (size_t i = 0; i < m->nparams; i++)
        free(m->params[i].value);
    m->nparams = 0;
}

static void allow_add(char *allow, size_t cap, const char *method)
{
    if (strstr(allow, method) != NULL)
        return;
    size_t n = strlen(allow);
    snprintf(allow + n, cap - n, "%s%s", n ? ", " : "", method);
}

enum srv_match srv_router_match(const struct srv_route *routes, size_t n, const char *method,
                                const char *raw_path, struct srv_match_result *out)
{
    bool path_seen = false;
    memset(out, 0, sizeof(*out));
    if (raw_path == NULL || raw_path[0] != '/')
        return SRV_MATCH_BAD_PATH;
    for (size_t i = 0; i < n; i++) {
        struct srv_match_result m;
        memset(&m, 0, sizeof(m));
        int r = match_pattern(routes[i].pattern, raw_path, &m);
        if (r < 0) {
            srv_match_free(&m);
            return SRV_MATCH_BAD_PATH;
        }
        if (r == 0) {
            srv_match_free(&m);
            continue;
        }
        path_seen = true;
        bool head_ok = strcmp(method, "HEAD") == 0 && strcmp(routes[i].method, "GET") == 0;
        if (strcmp(routes[i].method, method) == 0 || head_ok) {
            memcpy(out->params, m.params, sizeof(m.params));
            out->nparams = m.nparams;
            out->route = &routes[i];
            return SRV_MATCH_OK;
        }
        srv_match_free(&m);
        allow_add(out->allow, sizeof(out->allow), routes[i].method);
        if (strcmp(routes[i].method, "GET") == 0)
            allow_add(out->allow, sizeof(out->allow), "HEAD");
    }
    return path_seen ? SRV_MATCH_NO_METHOD : SRV_MATCH_NO_PATH;
}
