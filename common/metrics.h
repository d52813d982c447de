/*
 * metrics.h: a small process-wide Prometheus registry.
 *
 * Families are registered once (name, type, help, histogram buckets); series are created on
 * first use from a label string such as `route="/healthz",status="200"` (build it with
 * metrics_label_escape for values that come from outside). Rendering produces the text
 * exposition format 0.0.4 that `promtool check metrics` accepts. Every layer may record
 * metrics; only the server renders them. Thread-safe (one mutex; updates are short).
 */
#ifndef IMGSVC_COMMON_METRICS_H
#define IMGSVC_COMMON_METRICS_H

#include <stdbool.h>
#include <stddef.h>

enum metrics_type { METRICS_COUNTER, METRICS_GAUGE, METRICS_HISTOGRAM };

#define METRICS_MAX_BUCKETS 16

/* Registers a family. Registering the same name again is a no-op. False when the registry is
 * full or the arguments are invalid. `buckets` (histograms only) are upper bounds, ascending. */
bool metrics_register(const char *name, enum metrics_type type, const char *help,
                      const double *buckets, size_t nbuckets);

/* Registers a gauge whose value is read from `fn(arg)` at render time. */
bool metrics_register_fn(const char *name, const char *help, double (*fn)(void *arg), void *arg);

/* Adds `v` to a counter or gauge series (created at 0). Unknown names are ignored. */
void metrics_add(const char *name, const char *labels, double v);
/* Sets a gauge series. */
void metrics_set(const char *name, const char *labels, double v);
/* Records one observation in a histogram series. */
void metrics_observe(const char *name, const char *labels, double v);

/* The current value of a counter or gauge series (0 when absent), for tests. */
double metrics_get(const char *name, const char *labels);

/* Renders every family. Caller frees with free(); NULL on ERR_NOMEM. */
char *metrics_render(size_t *len);

/* Escapes a label value (backslash, quote, newline) into `out`; truncates to fit. */
void metrics_label_escape(const char *in, char *out, size_t cap);

/* Drops every family and series (tests). */
void metrics_reset(void);

#endif
