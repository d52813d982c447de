/*
 * imaging_bench.c: in-process throughput and memory of imaging/ on the ingest workload.
 *
 *   imaging_bench [-m ingest|service|floor] [-j INFLIGHT] [-p PASSES] [-w PASSES] [-c THREADS] DIR
 *   imaging_bench -m rss|rss-service [-c THREADS] FILE
 *
 * The ingest workload (issue 5): every *.jpg in DIR (the corpus's photos/) into three JPEG
 * variants 1080, 640 and 320 wide (fit inside, quality 80, EXIF orientation applied, metadata
 * stripped), exactly as the service does it: img_probe, then img_variants_make (one decode with
 * shrink-on-load, the smaller sizes derived from the larger). Every output is checked (three
 * JPEGs of the planned widths) or the program fails. -m service runs the same presets through
 * img_process with the service's defaults instead (placeholders and the location-free origin
 * too), which is what one upload costs the event handler.
 *
 * -m floor is the least work that can produce the same outputs: each JPEG decoded at libjpeg
 * shrink 2 (vips_jpegload_buffer "shrink", 2, into memory) plus the three JPEG encodes (same
 * encoder options as imaging/: Q 80, strip, optimize_coding) of images already resized and
 * rotated before the clock starts. Calling libvips directly is allowed here, in the benchmark
 * tool only.
 *
 * INFLIGHT threads (default 1) each take the next image until PASSES passes over DIR (default
 * 2) are done, after -w untimed warm-up passes (default 1, with one thread). -c is libvips'
 * worker threads per image (img_init_opts.concurrency; default 1, the service's
 * IMGSVC_VIPS_CONCURRENCY default). Prints one JSON line on stdout:
 *   {"tool":"imgsvc","mode":..,"inflight":..,"vips_concurrency":..,"images":..,"seconds":..,
 *    "images_per_s":..,"cpu_seconds":..,"images_per_cpu_s":..,"output_bytes":..,"vips":".."}
 *
 * -m rss processes FILE once (img_probe + img_variants_make, the same three presets) and
 * -m rss-service once through img_process with the service's defaults (placeholders and the
 * location-free origin too); both print the process's peak resident set (VmHWM of
 * /proc/self/status) before and after, in MB: {"mode":"rss",..,"baseline_mb":..,"peak_mb":..}.
 * Run each in a fresh process so that the peak is this file's alone.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <vips/vips.h>

#include "common/log.h"
#include "imaging/img_init.h"
#include "imaging/img_process.h"
#include "imaging/img_variant.h"

#define BENCH_MAX_PHOTOS   256
#define BENCH_MAX_INFLIGHT 16
#define BENCH_NVARIANTS    3

static const int widths[BENCH_NVARIANTS] = {1080, 640, 320};

struct photo {
    char name[256];
    void *data;
    size_t len;
    VipsImage *resized[BENCH_NVARIANTS]; /* floor mode: the outputs' pixels, made untimed */
};

/* Shared by the worker threads of one measurement. */
struct bench {
    bool floor;
    bool service; /* img_process with the defaults instead of img_variants_make */
    struct photo *photos;
    int nphotos;
    int total; /* images to process */
    atomic_int next;
    atomic_int failures;
    atomic_llong output_bytes;
    struct img_preset presets[BENCH_NVARIANTS];
};

struct opts {
    const char *mode;
    const char *path;
    int inflight, passes, warmup, concurrency;
};

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Reads a whole file into *data (malloc'd; the caller frees). 0 on success. */
static int read_file(const char *path, void **data, size_t *len)
{
    int rc = -1;
    FILE *f = fopen(path, "rb");
    void *p = NULL;
    long n = 0;
    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) <= 0 ||
        fseek(f, 0, SEEK_SET) != 0)
        goto cleanup;
    if ((p = malloc((size_t)n)) == NULL || fread(p, 1, (size_t)n, f) != (size_t)n)
        goto cleanup;
    *data = p;
    *len = (size_t)n;
    p = NULL;
    rc = 0;
cleanup:
    free(p);
    if (f != NULL)
        fclose(f);
    return rc;
}

static int cmp_photo(const void *a, const void *b)
{
    return strcmp(((const struct photo *)a)->name, ((const struct photo *)b)->name);
}

/* Loads every *.jpg of `dir` (sorted by name) into `photos`; returns how many, -1 on error. */
static int load_photos(const char *dir, struct photo *photos)
{
    int n = 0, rc = -1;
    GDir *d = g_dir_open(dir, 0, NULL);
    const char *name;
    if (d == NULL)
        return -1;
    while ((name = g_dir_read_name(d)) != NULL && n < BENCH_MAX_PHOTOS) {
        if (g_str_has_suffix(name, ".jpg"))
            snprintf(photos[n++].name, sizeof(photos[0].name), "%s", name);
    }
    qsort(photos, (size_t)n, sizeof(*photos), cmp_photo);
    for (int i = 0; i < n; i++) {
        gchar *path = g_build_filename(dir, photos[i].name, NULL);
        int r = read_file(path, &photos[i].data, &photos[i].len);
        if (r != 0)
            fprintf(stderr, "imaging_bench: cannot read %s\n", path);
        g_free(path);
        if (r != 0)
            goto cleanup;
    }
    rc = n;
cleanup:
    g_dir_close(d);
    return rc;
}

/* The workload's presets: 1080, 640, 320 wide, inside, JPEG q80, never enlarged. */
static void make_presets(struct img_preset *p)
{
    for (int i = 0; i < BENCH_NVARIANTS; i++) {
        memset(&p[i], 0, sizeof(p[i]));
        snprintf(p[i].name, sizeof(p[i].name), "%d", widths[i]);
        p[i].width = widths[i];
        p[i].fit = IMG_FIT_INSIDE;
        p[i].format = IMG_OUT_JPEG;
        p[i].quality = 80;
    }
}

/* One image through the service's path; checks the three outputs. 0 on success. */
static int ingest_one(struct bench *b, const struct photo *ph)
{
    struct img_probe pr;
    struct img_result r = {0};
    struct img_variants *v = &r.variants;
    struct img_job_opts jo = img_job_opts_default();
    struct img_error e = {0};
    long long bytes = 0;
    int rc = -1;
    if (b->service
            ? img_process(ph->data, ph->len, &jo, b->presets, BENCH_NVARIANTS, &r, &e) != ERR_OK
            : img_probe(ph->data, ph->len, NULL, &pr, &e) != ERR_OK ||
                  img_variants_make(ph->data, ph->len, &pr, b->presets, BENCH_NVARIANTS, v, NULL,
                                    &e) != ERR_OK) {
        fprintf(stderr, "imaging_bench: %s: %s\n", ph->name, e.msg);
        goto cleanup;
    }
    for (int i = 0; i < BENCH_NVARIANTS; i++) {
        const struct img_variant *it = &v->items[i];
        if (v->count != BENCH_NVARIANTS || it->format != IMG_FMT_JPEG || it->width != widths[i] ||
            it->len < 3 || memcmp(it->data, "\xff\xd8\xff", 3) != 0) {
            fprintf(stderr, "imaging_bench: %s: unexpected variant %d (%dx%d)\n", ph->name, i,
                    it->width, it->height);
            goto cleanup;
        }
        bytes += (long long)it->len;
    }
    atomic_fetch_add(&b->output_bytes, bytes);
    rc = 0;
cleanup:
    img_result_free(&r);
    return rc;
}

/* The floor for one image: decode at shrink 2 into memory, then the three final encodes. */
static int floor_one(struct bench *b, const struct photo *ph)
{
    VipsImage *in = NULL, *mem = NULL;
    long long bytes = 0;
    int rc = -1;
    if (vips_jpegload_buffer(ph->data, ph->len, &in, "shrink", 2, "access", VIPS_ACCESS_SEQUENTIAL,
                             NULL) != 0 ||
        (mem = vips_image_copy_memory(in)) == NULL)
        goto cleanup;
    for (int i = 0; i < BENCH_NVARIANTS; i++) {
        void *out = NULL;
        size_t len = 0;
        if (vips_jpegsave_buffer(ph->resized[i], &out, &len, "Q", 80, "strip", TRUE,
                                 "optimize_coding", TRUE, NULL) != 0)
            goto cleanup;
        bytes += (long long)len;
        g_free(out);
    }
    atomic_fetch_add(&b->output_bytes, bytes);
    rc = 0;
cleanup:
    if (rc != 0)
        fprintf(stderr, "imaging_bench: floor %s: %s\n", ph->name, vips_error_buffer());
    if (mem != NULL)
        g_object_unref(mem);
    if (in != NULL)
        g_object_unref(in);
    return rc;
}

/* Floor mode set-up (untimed): each photo's three outputs as upright pixels in memory. */
static int prepare_floor(struct photo *photos, int n)
{
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < BENCH_NVARIANTS; k++) {
            VipsImage *t = NULL;
            if (vips_thumbnail_buffer(photos[i].data, photos[i].len, &t, widths[k], "height",
                                      VIPS_MAX_COORD, NULL) != 0)
                return -1;
            photos[i].resized[k] = vips_image_copy_memory(t);
            g_object_unref(t);
            if (photos[i].resized[k] == NULL || photos[i].resized[k]->Xsize != widths[k])
                return -1;
        }
    }
    return 0;
}

/* Frees what load_photos, prepare_floor and memory() gave the photos. */
static void free_photos(struct photo *photos, int n)
{
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < BENCH_NVARIANTS; k++) {
            if (photos[i].resized[k] != NULL)
                g_object_unref(photos[i].resized[k]);
        }
        free(photos[i].data);
        memset(&photos[i], 0, sizeof(photos[i]));
    }
}

static void *worker(void *arg)
{
    struct bench *b = arg;
    int j;
    while ((j = atomic_fetch_add(&b->next, 1)) < b->total) {
        const struct photo *ph = &b->photos[j % b->nphotos];
        if ((b->floor ? floor_one(b, ph) : ingest_one(b, ph)) != 0)
            atomic_fetch_add(&b->failures, 1);
    }
    img_thread_cleanup();
    return NULL;
}

/* Runs `total` images on `inflight` threads; returns the wall time, -1 on any failure. */
static double run_images(struct bench *b, int total, int inflight)
{
    pthread_t th[BENCH_MAX_INFLIGHT];
    int started = 0;
    b->total = total;
    atomic_store(&b->next, 0);
    atomic_store(&b->output_bytes, 0);
    double t0 = clock_s(CLOCK_MONOTONIC);
    for (; started < inflight; started++) {
        if (pthread_create(&th[started], NULL, worker, b) != 0)
            break;
    }
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    double secs = clock_s(CLOCK_MONOTONIC) - t0;
    return started == inflight && atomic_load(&b->failures) == 0 ? secs : -1;
}

/* One measurement of -m ingest or -m floor over the photos of o->path. */
static int throughput(const struct opts *o, struct photo *photos)
{
    struct bench b = {.floor = strcmp(o->mode, "floor") == 0,
                      .service = strcmp(o->mode, "service") == 0,
                      .photos = photos};
    make_presets(b.presets);
    if ((b.nphotos = load_photos(o->path, photos)) <= 0) {
        fprintf(stderr, "imaging_bench: no readable *.jpg in %s\n", o->path);
        return 1;
    }
    if (b.floor && prepare_floor(photos, b.nphotos) != 0) {
        fprintf(stderr, "imaging_bench: floor set-up failed: %s\n", vips_error_buffer());
        return 1;
    }
    if (o->warmup > 0 && run_images(&b, b.nphotos * o->warmup, 1) < 0)
        return 1;
    int total = b.nphotos * o->passes;
    double cpu0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    double secs = run_images(&b, total, o->inflight);
    double cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
    if (secs <= 0)
        return 1;
    printf("{\"tool\":\"imgsvc\",\"mode\":\"%s\",\"inflight\":%d,\"vips_concurrency\":%d,"
           "\"photos\":%d,\"images\":%d,\"seconds\":%.3f,\"images_per_s\":%.3f,"
           "\"cpu_seconds\":%.3f,\"images_per_cpu_s\":%.3f,\"output_bytes\":%lld,"
           "\"vips\":\"%s\"}\n",
           o->mode, o->inflight, o->concurrency, b.nphotos, total, secs, total / secs, cpu,
           cpu > 0 ? total / cpu : 0.0, (long long)atomic_load(&b.output_bytes),
           vips_version_string());
    return 0;
}

/* The peak resident set so far (VmHWM), in MB; -1 if unknown. */
static double peak_rss_mb(void)
{
    char line[256];
    double mb = -1;
    FILE *f = fopen("/proc/self/status", "r");
    while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "VmHWM:", 6) == 0)
            mb = strtod(line + 6, NULL) / 1024.0; /* kB */
    }
    if (f != NULL)
        fclose(f);
    return mb;
}

/* -m rss / rss-service: one ingest of one file, and the peak resident set around it. */
static int memory(const struct opts *o, struct photo *ph)
{
    struct bench b = {.photos = ph, .nphotos = 1};
    bool service = strcmp(o->mode, "rss-service") == 0;
    struct img_job_opts jo = img_job_opts_default();
    struct img_result r;
    struct img_error e = {0};
    int rc = 1;
    make_presets(b.presets);
    snprintf(ph->name, sizeof(ph->name), "%s", o->path);
    if (read_file(o->path, &ph->data, &ph->len) != 0) {
        fprintf(stderr, "imaging_bench: cannot read %s\n", o->path);
        return 1;
    }
    double base = peak_rss_mb(), t0 = clock_s(CLOCK_MONOTONIC);
    if (service) {
        if (img_process(ph->data, ph->len, &jo, b.presets, BENCH_NVARIANTS, &r, &e) != ERR_OK) {
            fprintf(stderr, "imaging_bench: %s: %s\n", o->path, e.msg);
            goto cleanup;
        }
        img_result_free(&r);
    } else if (ingest_one(&b, ph) != 0) {
        goto cleanup;
    }
    printf("{\"tool\":\"imgsvc\",\"mode\":\"%s\",\"file\":\"%s\",\"bytes\":%zu,"
           "\"vips_concurrency\":%d,\"seconds\":%.3f,\"baseline_mb\":%.1f,\"peak_mb\":%.1f}\n",
           o->mode, o->path, ph->len, o->concurrency, clock_s(CLOCK_MONOTONIC) - t0, base,
           peak_rss_mb());
    rc = 0;
cleanup:
    return rc;
}

/* Parses a decimal int in [lo, hi] into *out; false otherwise. */
static bool parse_int(const char *s, int lo, int hi, int *out)
{
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || v < lo || v > hi)
        return false;
    *out = (int)v;
    return true;
}

static bool parse_opts(int argc, char **argv, struct opts *o)
{
    int c;
    bool ok = true;
    *o = (struct opts){.mode = "ingest", .inflight = 1, .passes = 2, .warmup = 1};
    o->concurrency = 1;
    while (ok && (c = getopt(argc, argv, "m:j:p:w:c:")) != -1) {
        switch (c) {
        case 'm':
            o->mode = optarg;
            break;
        case 'j':
            ok = parse_int(optarg, 1, BENCH_MAX_INFLIGHT, &o->inflight);
            break;
        case 'p':
            ok = parse_int(optarg, 1, 1000, &o->passes);
            break;
        case 'w':
            ok = parse_int(optarg, 0, 100, &o->warmup);
            break;
        case 'c':
            ok = parse_int(optarg, 0, 64, &o->concurrency);
            break;
        default:
            ok = false;
        }
    }
    ok = ok && optind == argc - 1;
    if (ok)
        o->path = argv[optind];
    return ok && (strcmp(o->mode, "ingest") == 0 || strcmp(o->mode, "floor") == 0 ||
                  strcmp(o->mode, "service") == 0 || strcmp(o->mode, "rss") == 0 ||
                  strcmp(o->mode, "rss-service") == 0);
}

int main(int argc, char **argv)
{
    static struct photo photos[BENCH_MAX_PHOTOS];
    struct opts o;
    struct err e = {0};
    int rc = 2;
    if (!parse_opts(argc, argv, &o)) {
        fprintf(stderr, "usage: imaging_bench [-m ingest|service|floor] [-j INFLIGHT] [-p PASSES] "
                        "[-w PASSES] [-c THREADS] DIR\n"
                        "       imaging_bench -m rss|rss-service [-c THREADS] FILE\n");
        return 2;
    }
    log_set_level(LOGL_ERROR);
    struct img_init_opts io = {.concurrency = o.concurrency};
    if (img_global_init(&io, &e) != ERR_OK) {
        fprintf(stderr, "imaging_bench: %s\n", e.msg);
        return 1;
    }
    if (strncmp(o.mode, "rss", 3) == 0)
        rc = memory(&o, &photos[0]);
    else
        rc = throughput(&o, photos);
    free_photos(photos, BENCH_MAX_PHOTOS);
    img_thread_cleanup();
    img_global_shutdown();
    return rc;
}
