/*
 * log.c: JSON line logger. See log.h.
 */
#include "common/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/timeutil.h"

static enum log_level min_level = LOGL_INFO;
static int out_fd = 2;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_set_level(enum log_level level)
{
    min_level = level;
}

enum log_level log_get_level(void)
{
    return min_level;
}

bool log_level_parse(const char *s, enum log_level *out)
{
    for (int i = 0; i < 4; i++) {
        if (s != NULL && strcasecmp(s, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return true;
        }
    }
    return false;
}

const char *log_level_name(enum log_level level)
{
    if ((int)level < 0 || level > LOGL_ERROR)
        return "info";
    return level_names[level];
}

void log_set_fd(int fd)
{
    out_fd = fd;
}

bool log_is_secret_name(const char *name)
{
    static const char *const needles[] = {"secret",   "token",     "password",   "passwd",
                                          "authoriz", "signature", "credential", "cookie",
                                          "apikey",   "api_key",   "x-api-key",  "private"};
    char lower[128]; /* lowercased once: strstr is much cheaper than strcasestr per needle */
    size_t n = name != NULL ? strlen(name) : 0;
    if (name == NULL)
        return false;
    for (size_t i = 0; i < n && n < sizeof(lower); i++)
        lower[i] = name[i] >= 'A' && name[i] <= 'Z' ? (char)(name[i] - 'A' + 'a') : name[i];
    if (n < sizeof(lower))
        lower[n] = '\0';
    for (size_t i = 0; i < sizeof(needles) / sizeof(needles[0]); i++) {
        if ((n < sizeof(lower) ? strstr(lower, needles[i]) : strcasestr(name, needles[i])) != NULL)
            return true;
    }
    return false;
}

static void redact(cJSON *fields)
{
    cJSON *f = fields ? fields->child : NULL;
    while (f != NULL) {
        cJSON *next = f->next;
        if (f->string != NULL && log_is_secret_name(f->string)) {
            cJSON *r = cJSON_CreateString("[redacted]");
            if (r == NULL || !cJSON_ReplaceItemInObjectCaseSensitive(fields, f->string, r)) {
                cJSON_Delete(r);
                cJSON_Delete(cJSON_DetachItemViaPointer(fields, f));
            }
        }
        f = next;
    }
}

char *log_format_line(enum log_level level, const char *subsys, const char *rid, const char *msg,
                      cJSON *fields)
{
    char ts[40];
    ts_rfc3339_ms(ts_now_realtime_ms(), ts, sizeof(ts));
    cJSON *o = cJSON_CreateObject();
    if (o == NULL) {
        cJSON_Delete(fields);
        return NULL;
    }
    cJSON_AddStringToObject(o, "ts", ts);
    cJSON_AddStringToObject(o, "level", log_level_name(level));
    cJSON_AddStringToObject(o, "subsys", subsys ? subsys : "main");
    if (rid != NULL && rid[0] != '\0')
        cJSON_AddStringToObject(o, "requestId", rid);
    cJSON_AddStringToObject(o, "msg", msg ? msg : "");
    if (fields != NULL) {
        redact(fields);
        cJSON *f = fields->child;
        while (f != NULL) {
            cJSON *next = f->next;
            cJSON *item = cJSON_DetachItemViaPointer(fields, f);
            if (cJSON_GetObjectItemCaseSensitive(o, item->string) != NULL)
                cJSON_Delete(item); /* reserved names win */
            else
                cJSON_AddItemToObject(o, item->string, item);
            f = next;
        }
        cJSON_Delete(fields);
    }
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (text == NULL)
        return NULL;
    size_t n = strlen(text);
    char *line = realloc(text, n + 2);
    if (line == NULL) {
        free(text);
        return NULL;
    }
    line[n] = '\n';
    line[n + 1] = '\0';
    return line;
}

void log_fields(enum log_level level, const char *subsys, const char *rid, const char *msg,
                cJSON *fields)
{
    if (level < min_level) {
        cJSON_Delete(fields);
        return;
    }
    char *line = log_format_line(level, subsys, rid, msg, fields);
    if (line == NULL)
        return;
    size_t len = strlen(line);
    pthread_mutex_lock(&out_lock);
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(out_fd, line + off, len - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    pthread_mutex_unlock(&out_lock);
    free(line);
}

void log_msg(enum log_level level, const char *subsys, const char *rid, const char *fmt, ...)
{
    if (level < min_level)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (n < 0)
        msg[0] = '\0';
    log_fields(level, subsys, rid, msg, NULL);
}
