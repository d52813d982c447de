/*
 * timeutil.c: clocks and timestamp formats. See timeutil.h.
 */
#include "common/timeutil.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

int64_t ts_now_realtime_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t ts_now_mono_ms(void)
{
    return ts_now_mono_ns() / 1000000;
}

int64_t ts_now_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

struct timespec ts_realtime_in(int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

long ts_backoff_ms(long base_ms, long max_ms, int retry, uint64_t rnd)
{
    if (base_ms <= 0 || max_ms <= 0)
        return 0;
    long ceiling = base_ms;
    for (int i = 0; i < retry && ceiling < max_ms; i++)
        ceiling = ceiling > max_ms / 2 ? max_ms : ceiling * 2;
    if (ceiling > max_ms)
        ceiling = max_ms;
    return (long)(rnd % ((uint64_t)ceiling + 1));
}

void ts_sleep_ms(long ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static size_t fmt_tm(time_t t, const char *fmt, char *out, size_t cap)
{
    struct tm tm;
    if (cap == 0)
        return 0;
    out[0] = '\0';
    if (gmtime_r(&t, &tm) == NULL)
        return 0;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    size_t n = strftime(out, cap, fmt, &tm); /* fmt is one of this file's literals */
#pragma GCC diagnostic pop
    if (n == 0)
        out[0] = '\0';
    return n;
}

size_t ts_rfc3339(time_t t, char *out, size_t cap)
{
    return fmt_tm(t, "%Y-%m-%dT%H:%M:%SZ", out, cap);
}

size_t ts_rfc3339_ms(int64_t ms, char *out, size_t cap)
{
    char base[32];
    time_t t = (time_t)(ms / 1000);
    if (fmt_tm(t, "%Y-%m-%dT%H:%M:%S", base, sizeof(base)) == 0)
        return 0;
    int n = snprintf(out, cap, "%s.%03dZ", base, (int)(ms % 1000));
    if (n < 0 || (size_t)n >= cap) {
        if (cap > 0)
            out[0] = '\0';
        return 0;
    }
    return (size_t)n;
}

size_t ts_amz(time_t t, char *out, size_t cap)
{
    return fmt_tm(t, "%Y%m%dT%H%M%SZ", out, cap);
}

size_t ts_http_date(time_t t, char *out, size_t cap)
{
    /* strftime's %a/%b depend on the locale; HTTP dates must be English. */
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm tm;
    if (cap == 0 || gmtime_r(&t, &tm) == NULL)
        return 0;
    int n = snprintf(out, cap, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
                     months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    if (n < 0 || (size_t)n >= cap) {
        out[0] = '\0';
        return 0;
    }
    return (size_t)n;
}

/* Reads exactly `n` digits at `s` into *v. */
static bool digits(const char *s, int n, int *v)
{
    int x = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return false;
        x = x * 10 + (s[i] - '0');
    }
    *v = x;
    return true;
}

static bool make_time(int y, int mo, int d, int h, int mi, int s, time_t *out)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || s > 60)
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap)
        return false;
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    *out = timegm(&tm);
    return *out != (time_t)-1;
}

bool ts_parse_amz(const char *s, time_t *out)
{
    int y, mo, d, h, mi, sec;
    if (s == NULL || strlen(s) != TS_AMZ_LEN || s[8] != 'T' || s[15] != 'Z')
        return false;
    if (!digits(s, 4, &y) || !digits(s + 4, 2, &mo) || !digits(s + 6, 2, &d) ||
        !digits(s + 9, 2, &h) || !digits(s + 11, 2, &mi) || !digits(s + 13, 2, &sec))
        return false;
    return make_time(y, mo, d, h, mi, sec, out);
}

bool ts_parse_rfc3339(const char *s, time_t *out)
{
    int y, mo, d, h, mi, sec;
    if (s == NULL || strlen(s) < TS_RFC3339_LEN)
        return false;
    if (s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':')
        return false;
    if (!digits(s, 4, &y) || !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d) ||
        !digits(s + 11, 2, &h) || !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &sec))
        return false;
    const char *p = s + 19;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return false;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (p[0] != 'Z' || p[1] != '\0')
        return false;
    return make_time(y, mo, d, h, mi, sec, out);
}

bool ts_parse_http_date(const char *s, time_t *out)
{
    struct tm tm = {0};
    const char *end = s ? strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm) : NULL;
    if (end == NULL || *end != '\0')
        return false;
    *out = timegm(&tm);
    return *out != (time_t)-1;
}
