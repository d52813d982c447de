/*
 * presign_bench.c: in-process presigns per second of the URL POST /v1/uploads makes.
 *
 *   presign_bench [-d SECONDS] [-r RUNS] [-k KEYS] [-w SECONDS]
 *
 * Each presign is exactly the endpoint's: sigv4_s3_presign_url for a PUT of
 * "delete/profile/<userId>/<uuid>_<ts>.jpeg" in bucket "imgsvc", path-style on the default
 * public endpoint http://127.0.0.1:9000, region us-east-1, lifetime 600 s, Content-Type
 * "image/jpeg" signed, the time read with time(NULL) per presign, the URL freed afterwards.
 * The keys (uuid and all) are made once before timing and used in turn, so what is measured is
 * the signing, not the random number generator. One thread.
 *
 * Two modes, alternated run by run: "cached" passes a signing-key cache as the server does
 * (the HMAC chain of the signing key is derived once per day), "uncached" derives the key on
 * every presign. Each run lasts SECONDS (default 2), after one warm-up of -w SECONDS per mode
 * (default 0.5, not reported); the median of RUNS runs (default 5) is reported, as presigns
 * per wall-clock second and, less sensitive to a busy machine, per second of the process's
 * CPU time. Before timing, both modes must produce the same URL for a fixed time, or the
 * program fails.
 *
 * Prints one JSON document on stdout:
 *   {"benchmark":"presign-inprocess","implementation":..,"params":{..},"runs":N,
 *    "cached":{"per_s":[..],"median_per_s":..,"ns_per_presign":..,"per_cpu_s":[..],
 *              "median_per_cpu_s":..},"uncached":{..},
 *    "sample_url":".."}
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "common/uuid.h"
#include "s3/sigv4.h"

#define BENCH_BATCH      256 /* presigns between two clock reads */
#define BENCH_KEYS_MAX   1000000
#define BENCH_RUNS_MAX   101
#define BENCH_FIXED_TIME 1767225600 /* 2026-01-01T00:00:00Z, for the equality check */

/* The endpoint's parameters (server defaults: see server/config.c). */
#define P_SCHEME       "http"
#define P_HOST         "127.0.0.1:9000"
#define P_BUCKET       "imgsvc"
#define P_REGION       "us-east-1"
#define P_EXPIRES      600
#define P_CONTENT_TYPE "image/jpeg"
#define P_ACCESS_KEY   "AKIDEXAMPLE"
#define P_SECRET_KEY   "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

struct opts {
    double seconds, warmup;
    int runs;
    int nkeys;
};

/* One presign as POST /v1/uploads does it. On success *url is the caller's to free. */
static enum err_code presign(const char *key, time_t now, struct sigv4_key_cache *cache, char **url,
                             struct err *e)
{
    struct sigv4_pair hdrs[1] = {{"Content-Type", P_CONTENT_TYPE}};
    struct sigv4_params p = {.creds = {P_ACCESS_KEY, P_SECRET_KEY, NULL},
                             .region = P_REGION,
                             .service = "s3",
                             .time = now,
                             .expires = P_EXPIRES,
                             .cache = cache};
    struct sigv4_s3_presign o = {.method = "PUT",
                                 .scheme = P_SCHEME,
                                 .host = P_HOST,
                                 .bucket = P_BUCKET,
                                 .key = key,
                                 .headers = hdrs,
                                 .nheaders = 1};
    return sigv4_s3_presign_url(&p, &o, url, NULL, e);
}

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One run's rates: presigns per wall-clock second and per CPU second. */
struct rate {
    double wall, cpu;
};

/* Presigns keys in turn for `seconds`; wall = -1 on failure. */
static struct rate run_for(char **keys, int nkeys, double seconds, struct sigv4_key_cache *cache)
{
    struct err e = {0};
    long long count = 0;
    int next = 0;
    double start = clock_s(CLOCK_MONOTONIC), cpu0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    double elapsed = 0;
    do {
        for (int i = 0; i < BENCH_BATCH; i++) {
            char *url = NULL;
            if (presign(keys[next], time(NULL), cache, &url, &e) != ERR_OK) {
                fprintf(stderr, "presign_bench: presign failed: %s\n", e.msg);
                return (struct rate){-1, -1};
            }
            free(url);
            next = next + 1 == nkeys ? 0 : next + 1;
        }
        count += BENCH_BATCH;
        elapsed = clock_s(CLOCK_MONOTONIC) - start;
    } while (elapsed < seconds);
    double cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
    return (struct rate){(double)count / elapsed, (double)count / (cpu > 0 ? cpu : elapsed)};
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(const double *v, int n)
{
    double s[BENCH_RUNS_MAX];
    memcpy(s, v, (size_t)n * sizeof(*v));
    qsort(s, (size_t)n, sizeof(*s), cmp_double);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* Makes nkeys keys "delete/profile/<1..1000>/<uuid>_<ts>.jpeg"; NULL on failure. The caller
 * frees each key and the array. */
static char **make_keys(int nkeys)
{
    char **keys = calloc((size_t)nkeys, sizeof(*keys));
    long long ts = (long long)time(NULL);
    int i = 0;
    for (; keys != NULL && i < nkeys; i++) {
        char uuid[UUID_STR_LEN], key[128];
        if (uuid_v4(uuid) != ERR_OK)
            break;
        snprintf(key, sizeof(key), "delete/profile/%d/%s_%lld.jpeg", 1 + i % 1000, uuid, ts);
        keys[i] = strdup(key);
        if (keys[i] == NULL)
            break;
    }
    if (keys != NULL && i < nkeys) {
        for (int j = 0; j < i; j++)
            free(keys[j]);
        free(keys);
        keys = NULL;
    }
    return keys;
}

/* Both modes must sign alike: same URL for a fixed time. Prints the URL as a sample. */
static bool check_and_sample(const char *key, struct sigv4_key_cache *cache, char **sample)
{
    struct err e = {0};
    char *a = NULL, *b = NULL;
    bool ok = presign(key, BENCH_FIXED_TIME, NULL, &a, &e) == ERR_OK &&
              presign(key, BENCH_FIXED_TIME, cache, &b, &e) == ERR_OK && strcmp(a, b) == 0;
    if (!ok)
        fprintf(stderr, "presign_bench: cached and uncached presigns differ (%s)\n", e.msg);
    free(b);
    *sample = ok ? a : NULL;
    if (!ok)
        free(a);
    return ok;
}

static void print_list(const char *name, const struct rate *v, int n, bool cpu)
{
    printf("\"%s\":[", name);
    for (int i = 0; i < n; i++)
        printf("%s%.0f", i ? "," : "", cpu ? v[i].cpu : v[i].wall);
    printf("]");
}

static void print_mode(const char *name, const struct rate *v, int n)
{
    double wall[BENCH_RUNS_MAX], cpu[BENCH_RUNS_MAX];
    for (int i = 0; i < n; i++) {
        wall[i] = v[i].wall;
        cpu[i] = v[i].cpu;
    }
    double m = median(wall, n);
    printf("\"%s\":{", name);
    print_list("per_s", v, n, false);
    printf(",\"median_per_s\":%.0f,\"ns_per_presign\":%.0f,", m, 1e9 / m);
    print_list("per_cpu_s", v, n, true);
    printf(",\"median_per_cpu_s\":%.0f}", median(cpu, n));
}

static void print_report(const struct opts *o, const struct rate *cached,
                         const struct rate *uncached, const char *sample)
{
    printf("{\"benchmark\":\"presign-inprocess\",\"implementation\":\"imgsvc s3/sigv4 (C)\","
           "\"threads\":1,\"params\":{\"method\":\"PUT\",\"endpoint\":\"" P_SCHEME "://" P_HOST
           "\",\"addressing\":\"path\",\"bucket\":\"" P_BUCKET "\",\"region\":\"" P_REGION
           "\",\"expires_s\":%d,\"content_type\":\"" P_CONTENT_TYPE
           "\",\"signed_headers\":\"content-type;host\","
           "\"key_shape\":\"delete/profile/<userId>/<uuid>_<ts>.jpeg\",\"keys\":%d},"
           "\"runs\":%d,\"duration_s\":%g,\"warmup_s\":%g,",
           P_EXPIRES, o->nkeys, o->runs, o->seconds, o->warmup);
    print_mode("cached", cached, o->runs);
    printf(",");
    print_mode("uncached", uncached, o->runs);
    printf(",\"sample_url\":\"%s\"}\n", sample); /* a URL has no '"' or '\\' to escape */
}

static bool parse_opts(int argc, char **argv, struct opts *o)
{
    *o = (struct opts){.seconds = 2, .warmup = 0.5, .runs = 5, .nkeys = 1024};
    for (int i = 1; i + 1 < argc; i += 2) {
        char *end = NULL;
        if (strcmp(argv[i], "-d") == 0)
            o->seconds = strtod(argv[i + 1], &end);
        else if (strcmp(argv[i], "-w") == 0)
            o->warmup = strtod(argv[i + 1], &end);
        else if (strcmp(argv[i], "-r") == 0)
            o->runs = (int)strtol(argv[i + 1], &end, 10);
        else if (strcmp(argv[i], "-k") == 0)
            o->nkeys = (int)strtol(argv[i + 1], &end, 10);
        if (end == NULL || *end != '\0')
            return false;
    }
    return argc % 2 == 1 && o->seconds > 0 && o->seconds <= 3600 && o->warmup >= 0 &&
           o->warmup <= 3600 && o->runs >= 1 && o->runs <= BENCH_RUNS_MAX && o->nkeys >= 1 &&
           o->nkeys <= BENCH_KEYS_MAX;
}

/* The warm-up (not reported) and the measured runs, alternating the modes. */
static bool measure(const struct opts *o, char **keys, struct sigv4_key_cache *cache,
                    struct rate *cached, struct rate *uncached)
{
    if (o->warmup > 0 && (run_for(keys, o->nkeys, o->warmup, cache).wall < 0 ||
                          run_for(keys, o->nkeys, o->warmup, NULL).wall < 0))
        return false;
    for (int r = 0; r < o->runs; r++) {
        cached[r] = run_for(keys, o->nkeys, o->seconds, cache);
        uncached[r] = run_for(keys, o->nkeys, o->seconds, NULL);
        if (cached[r].wall < 0 || uncached[r].wall < 0)
            return false;
        fprintf(stderr, "presign_bench: run %d: cached %.0f/s, uncached %.0f/s\n", r + 1,
                cached[r].wall, uncached[r].wall);
    }
    return true;
}

int main(int argc, char **argv)
{
    int rc = 1;
    struct opts o;
    char **keys = NULL, *sample = NULL;
    struct sigv4_key_cache *cache = NULL;
    struct rate cached[BENCH_RUNS_MAX], uncached[BENCH_RUNS_MAX];
    if (!parse_opts(argc, argv, &o)) {
        fprintf(stderr,
                "usage: presign_bench [-d SECONDS] [-r RUNS (1..%d)] [-k KEYS] [-w SECONDS]\n",
                BENCH_RUNS_MAX);
        rc = 2;
        goto cleanup;
    }
    keys = make_keys(o.nkeys);
    cache = sigv4_key_cache_new(0);
    if (keys == NULL || cache == NULL || !check_and_sample(keys[0], cache, &sample) ||
        !measure(&o, keys, cache, cached, uncached))
        goto cleanup;
    print_report(&o, cached, uncached, sample);
    rc = 0;
cleanup:
    for (int i = 0; keys != NULL && i < o.nkeys; i++)
        free(keys[i]);
    free(keys);
    free(sample);
    sigv4_key_cache_destroy(cache);
    return rc;
}
