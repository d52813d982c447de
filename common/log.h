/*
 * log.h: one JSON object per line on standard error.
 *
 * Every line carries "ts" (RFC 3339, milliseconds, UTC), "level", "subsys", "msg" and, when
 * known, "requestId". Extra fields come as a cJSON object. Secrets never reach the output:
 * any field whose name looks like a credential (secret, token, password, authorization,
 * signature, credential, cookie, api key) is replaced by "[redacted]" whatever the caller passed.
 * Thread-safe: each line is written with a single write(2) under a lock.
 */
#ifndef IMGSVC_COMMON_LOG_H
#define IMGSVC_COMMON_LOG_H

#include <stdbool.h>

#include <cjson/cJSON.h>

enum log_level { LOGL_DEBUG = 0, LOGL_INFO, LOGL_WARN, LOGL_ERROR };

/* Only lines at `level` or above are written. Default LOGL_INFO. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* Parses "debug", "info", "warn" or "error". Returns false for anything else. */
bool log_level_parse(const char *s, enum log_level *out);
const char *log_level_name(enum log_level level);

/* Sends lines to file descriptor `fd` instead of 2 (for tests). */
void log_set_fd(int fd);

/* Writes a line with a printf-style message. `subsys` and `rid` may be NULL. */
void log_msg(enum log_level level, const char *subsys, const char *rid, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * Writes a line with extra fields. Takes ownership of `fields` (a cJSON object, may be NULL)
 * and deletes it.
 */
void log_fields(enum log_level level, const char *subsys, const char *rid, const char *msg,
                cJSON *fields);

/* True when a field named `name` must never be logged in clear. */
bool log_is_secret_name(const char *name);

/*
 * Formats a complete log line (with trailing newline) into a new string the caller frees.
 * Exposed for tests; log_fields() uses it. Takes ownership of `fields`.
 */
char *log_format_line(enum log_level level, const char *subsys, const char *rid, const char *msg,
                      cJSON *fields);

#endif
