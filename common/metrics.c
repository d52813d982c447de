/*
 * metrics.c: the Prometheus registry. See metrics.h.
 */
#include "common/metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"

#define MAX_FAMILIES 96
#define RENDER_MAX   (16u * 1024u * 1024u)

struct series {
    char *labels;
    double value;             /* counter/gauge; histogram sum */
    unsigned long long count; /* histogram observations */
    unsigned long long bucket[METRICS_MAX_BUCKETS];
    struct series *next;
};

struct family {
    char *name;
    char *help;
    enum metrics_type type;
    double buckets[METRICS_MAX_BUCKETS];
    size_t nbuckets;
    double (*fn)(void *arg);
    void *fn_arg;
    struct series *series;
};

static struct family families[MAX_FAMILIES];
static size_t nfamilies;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static struct family *find_family(const char *name)
{
    for (size_t i = 0; i < nfamilies; i++) {
        if (strcmp(families[i].name, name) == 0)
            return &families[i];
    }
    return NULL;
}

static bool add_family(const char *name, enum metrics_type type, const char *help,
                       const double *buckets, size_t nbuckets, double (*fn)(void *), void *arg)
{
    if (name == NULL || help == NULL || nbuckets > METRICS_MAX_BUCKETS)
        return false;
    bool ok = true;
    pthread_mutex_lock(&lock);
    if (find_family(name) == NULL) {
        if (nfamilies >= MAX_FAMILIES) {
            ok = false;
        } else {
            struct family *f = &families[nfamilies];
            memset(f, 0, sizeof(*f));
            f->name = strdup(name);
            f->help = strdup(help);
            if (f->name == NULL || f->help == NULL) {
                free(f->name);
                free(f->help);
                ok = false;
            } else {
                f->type = type;
                f->nbuckets = nbuckets;
                for (size_t i = 0; i < nbuckets; i++)
                    f->buckets[i] = buckets[i];
                f->fn = fn;
                f->fn_arg = arg;
                nfamilies++;
            }
        }
    }
    pthread_mutex_unlock(&lock);
    return ok;
}

bool metrics_register(const char *name, enum metrics_type type, const char *help,
                      const double *buckets, size_t nbuckets)
{
    if (type == METRICS_HISTOGRAM && (buckets == NULL || nbuckets == 0))
        return false;
    return add_family(name, type, help, buckets, nbuckets, NULL, NULL);
}

bool metrics_register_fn(const char *name, const char *help, double (*fn)(void *arg), void *arg)
{
    return fn != NULL && add_family(name, METRICS_GAUGE, help, NULL, 0, fn, arg);
}

/* The series for `labels` in `f`, created when absent. Called with the lock held. */
static struct series *get_series(struct family *f, const char *labels)
{
    if (labels == NULL)
        labels = "";
    for (struct series *s = f->series; s != NULL; s = s->next) {
        if (strcmp(s->labels, labels) == 0)
            return s;
    }
    struct series *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->labels = strdup(labels);
    if (s->labels == NULL) {
        free(s);
        return NULL;
    }
    s->next = f->series;
    f->series = s;
    return s;
}

static void update(const char *name, const char *labels, double v, int op)
{
    pthread_mutex_lock(&lock);
    struct family *f = find_family(name);
    struct series *s = f != NULL && f->fn == NULL ? get_series(f, labels) : NULL;
    if (s != NULL) {
        if (op == 0 && f->type != METRICS_HISTOGRAM) {
            s->value += v;
        } else if (op == 1 && f->type == METRICS_GAUGE) {
            s->value = v;
        } else if (op == 2 && f->type == METRICS_HISTOGRAM) {
            s->value += v;
            s->count++;
            for (size_t i = 0; i < f->nbuckets; i++) {
                if (v <= f->buckets[i])
                    s->bucket[i]++;
            }
        }
    }
    pthread_mutex_unlock(&lock);
}

void metrics_add(const char *name, const char *labels, double v)
{
    update(name, labels, v, 0);
}

void metrics_set(const char *name, const char *labels, double v)
{
    update(name, labels, v, 1);
}

void metrics_observe(const char *name, const char *labels, double v)
{
    update(name, labels, v, 2);
}

double metrics_get(const char *name, const char *labels)
{
    double v = 0;
    pthread_mutex_lock(&lock);
    struct family *f = find_family(name);
    for (struct series *s = f ? f->series : NULL; s != NULL; s = s->next) {
        if (strcmp(s->labels, labels ? labels : "") == 0)
            v = f->type == METRICS_HISTOGRAM ? (double)s->count : s->value;
    }
    pthread_mutex_unlock(&lock);
    return v;
}

static const char *type_name(enum metrics_type t)
{
    return t == METRICS_COUNTER ? "counter" : t == METRICS_GAUGE ? "gauge" : "histogram";
}

/* Prints a number the way Prometheus expects (+Inf, integers without exponent). */
static enum err_code put_num(struct buf *b, double v)
{
    if (isinf(v))
        return buf_append_str(b, v > 0 ? "+Inf" : "-Inf");
    if (isnan(v))
        return buf_append_str(b, "NaN");
    char text[40];
    snprintf(text, sizeof(text), "%.15g", v);
    if (strtod(text, NULL) != v) /* shortest text that reads back exactly */
        snprintf(text, sizeof(text), "%.17g", v);
    return buf_append_str(b, text);
}

static enum err_code render_histogram(struct buf *b, const struct family *f, const struct series *s)
{
    enum err_code rc = ERR_OK;
    const char *sep = s->labels[0] ? "," : "";
    for (size_t i = 0; i < f->nbuckets && rc == ERR_OK; i++) {
        rc = buf_printf(b, "%s_bucket{%s%sle=\"", f->name, s->labels, sep);
        if (rc == ERR_OK)
            rc = put_num(b, f->buckets[i]);
        if (rc == ERR_OK)
            rc = buf_printf(b, "\"} %llu\n", s->bucket[i]);
    }
    if (rc == ERR_OK)
        rc = buf_printf(b, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", f->name, s->labels, sep, s->count);
    if (rc == ERR_OK)
        rc = buf_printf(b, "%s_sum%s%s%s ", f->name, s->labels[0] ? "{" : "", s->labels,
                        s->labels[0] ? "}" : "");
    if (rc == ERR_OK)
        rc = put_num(b, s->value);
    if (rc == ERR_OK)
        rc = buf_printf(b, "\n%s_count%s%s%s %llu\n", f->name, s->labels[0] ? "{" : "", s->labels,
                        s->labels[0] ? "}" : "", s->count);
    return rc;
}

static enum err_code render_family(struct buf *b, const struct family *f)
{
    enum err_code rc = buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name,
                                  type_name(f->type));
    if (rc == ERR_OK && f->fn != NULL) {
        rc = buf_printf(b, "%s ", f->name);
        if (rc == ERR_OK)
            rc = put_num(b, f->fn(f->fn_arg));
        if (rc == ERR_OK)
            rc = buf_append_str(b, "\n");
    }
    for (const struct series *s = f->series; s != NULL && rc == ERR_OK; s = s->next) {
        if (f->type == METRICS_HISTOGRAM) {
            rc = render_histogram(b, f, s);
            continue;
        }
        rc = buf_printf(b, "%s%s%s%s ", f->name, s->labels[0] ? "{" : "", s->labels,
                        s->labels[0] ? "}" : "");
        if (rc == ERR_OK)
            rc = put_num(b, s->value);
        if (rc == ERR_OK)
            rc = buf_append_str(b, "\n");
    }
    return rc;
}

char *metrics_render(size_t *len)
{
    struct buf b;
    buf_init(&b, RENDER_MAX);
    enum err_code rc = ERR_OK;
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < nfamilies && rc == ERR_OK; i++)
        rc = render_family(&b, &families[i]);
    pthread_mutex_unlock(&lock);
    if (rc != ERR_OK) {
        buf_free(&b);
        return NULL;
    }
    return buf_take(&b, len);
}

void metrics_label_escape(const char *in, char *out, size_t cap)
{
    size_t o = 0;
    for (const char *p = in; *p != '\0'; p++) {
        size_t need = (*p == '\\' || *p == '"' || *p == '\n') ? 2 : 1;
        if (o + need >= cap)
            break;
        if (*p == '\\' || *p == '"') {
            out[o++] = '\\';
            out[o++] = *p;
        } else if (*p == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else {
            out[o++] = *p;
        }
    }
    if (cap > 0)
        out[o < cap ? o : cap - 1] = '\0';
}

void metrics_reset(void)
{
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < nfamilies; i++) {
        struct series *s = families[i].series;
        while (s != NULL) {
            struct series *next = s->next;
            free(s->labels);
            free(s);
            s = next;
        }
        free(families[i].name);
        free(families[i].help);
    }
    nfamilies = 0;
    pthread_mutex_unlock(&lock);
}
