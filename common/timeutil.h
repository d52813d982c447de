/*
 * timeutil.h: clocks and the two timestamp formats the project speaks.
 *
 * RFC 3339 ("2026-11-24T14:46:00Z") for JSON and logs, the AWS basic format
 * ("20261124T144600Z") for SigV4, and the HTTP date ("Tue, 24 Nov 2026 14:46:00 GMT") for S3
 * headers. All are UTC. Formatting functions return the number of characters written, or 0
 * when `cap` is too small (the output is then an empty string).
 */
#ifndef IMGSVC_COMMON_TIMEUTIL_H
#define IMGSVC_COMMON_TIMEUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define TS_AMZ_LEN     16 /* "YYYYMMDDTHHMMSSZ" */
#define TS_RFC3339_LEN 20 /* "YYYY-MM-DDTHH:MM:SSZ" */

/* Wall clock in milliseconds since the Unix epoch. */
int64_t ts_now_realtime_ms(void);
/* Monotonic clock in milliseconds (for durations and deadlines). */
int64_t ts_now_mono_ms(void);
/* Monotonic clock in nanoseconds. */
int64_t ts_now_mono_ns(void);

/* The realtime clock `ms` milliseconds from now, for pthread_cond_timedwait. */
struct timespec ts_realtime_in(int64_t ms);

/* Full-jitter backoff before retry number `retry` (0 = the first retry): a value in
 * [0, min(max_ms, base_ms * 2^retry)] picked with the random `rnd`; 0 when base_ms or max_ms
 * is 0 or less. Never overflows, whatever `retry`. */
long ts_backoff_ms(long base_ms, long max_ms, int retry, uint64_t rnd);

/* Sleeps `ms` milliseconds (none when 0 or less), resuming after signals. */
void ts_sleep_ms(long ms);

size_t ts_rfc3339(time_t t, char *out, size_t cap);
/* "YYYY-MM-DDTHH:MM:SS.mmmZ" from milliseconds since the epoch. */
size_t ts_rfc3339_ms(int64_t ms, char *out, size_t cap);
size_t ts_amz(time_t t, char *out, size_t cap);
size_t ts_http_date(time_t t, char *out, size_t cap);

/* Strict parsers: the whole string must match; false otherwise. */
bool ts_parse_amz(const char *s, time_t *out);
/* Accepts "YYYY-MM-DDTHH:MM:SS[.fff]Z" (UTC only). */
bool ts_parse_rfc3339(const char *s, time_t *out);
/* Accepts an HTTP date as ts_http_date writes it: "Sun, 30 Aug 2015 12:36:00 GMT". */
bool ts_parse_http_date(const char *s, time_t *out);

#endif
