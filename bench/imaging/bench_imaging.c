/*
 * bench_imaging.c: in-process throughput of imaging/ on the ingest workload (bench/imaging).
 *
 *   bench_imaging ingest DIR INFLIGHT ROUNDS [full]   img_process of every .jpg in DIR into the
 *       feed presets (1080, 640, 320 wide, inside, JPEG q80, rotated, stripped); "full" also
 *       computes placeholders and the location-free origin
 *   bench_imaging floor DIR INFLIGHT ROUNDS           the floor: each JPEG decoded at shrink 2,
 *       plus the three final encodes (of images prepared before the clock starts)
 *   bench_imaging rss FILE                            peak RSS (MB) of one ingest of FILE
 *
 * INFLIGHT threads each take the next image until ROUNDS passes over DIR are done. Prints one
 * JSON line: {"mode":..,"inflight":..,"images":..,"seconds":..,"images_per_s":..,
 * "cpu_ms_per_image":..} (CPU time of all threads, steadier than wall time on a busy machine).
 */
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <vips/vips.h>

#include "common/log.h"
#include "imaging/img_init.h"
#include "imaging/img_process.h"

#define MAX_FILES 256

struct photo {
    unsigned char *data;
    size_t len;
    VipsImage *final[3]; /* floor mode: the three outputs, prepared untimed */
};

static struct photo photos[MAX_FILES];
static int nphotos;
static atomic_int next_job;
static int total_jobs;
static bool full_pipeline;
static atomic_int failures;
static struct img_domain_presets feed;

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *p = n > 0 ? malloc((size_t)n) : NULL;
    if (p != NULL && fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        p = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return p;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int load_dir(const char *dir)
{
    char *names[MAX_FILES];
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d != NULL && (de = readdir(d)) != NULL && n < MAX_FILES) {
        size_t l = strlen(de->d_name);
        if (l > 4 && strcmp(de->d_name + l - 4, ".jpg") == 0)
            names[n++] = strdup(de->d_name);
    }
    if (d != NULL)
        closedir(d);
    qsort(names, (size_t)n, sizeof(names[0]), cmp_str);
    for (int i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        photos[nphotos].data = slurp(path, &photos[nphotos].len);
        if (photos[nphotos].data != NULL)
            nphotos++;
        free(names[i]);
    }
    return nphotos > 0 ? 0 : -1;
}

static void ingest_one(const struct photo *p)
{
    struct img_job_opts o = img_job_opts_default();
    struct img_result r;
    struct img_error e = {0};
    o.placeholders = full_pipeline;
    o.strip_origin_location = full_pipeline;
    if (img_process(p->data, p->len, &o, feed.presets, feed.count, &r, &e) != ERR_OK) {
        fprintf(stderr, "ingest: %s\n", e.msg);
        atomic_fetch_add(&failures, 1);
        return;
    }
    img_result_free(&r);
}

static void floor_one(const struct photo *p)
{
    VipsImage *im = NULL, *mem = NULL;
    if (vips_jpegload_buffer(p->data, p->len, &im, "shrink", 2, "access", VIPS_ACCESS_SEQUENTIAL,
                             NULL) == 0)
        mem = vips_image_copy_memory(im); /* forces the decode */
    if (mem == NULL)
        atomic_fetch_add(&failures, 1);
    for (int i = 0; i < 3; i++) {
        void *buf = NULL;
        size_t len = 0;
        if (vips_jpegsave_buffer(p->final[i], &buf, &len, "Q", 80, "strip", TRUE, "optimize_coding",
                                 TRUE, NULL))
            atomic_fetch_add(&failures, 1);
        g_free(buf);
    }
    if (mem)
        g_object_unref(mem);
    if (im)
        g_object_unref(im);
}

static int prepare_floor(void)
{
    static const int widths[3] = {1080, 640, 320};
    for (int i = 0; i < nphotos; i++) {
        for (int k = 0; k < 3; k++) {
            VipsImage *t = NULL;
            if (vips_thumbnail_buffer(photos[i].data, photos[i].len, &t, widths[k], NULL))
                return -1;
            photos[i].final[k] = vips_image_copy_memory(t);
            g_object_unref(t);
            if (photos[i].final[k] == NULL)
                return -1;
        }
    }
    return 0;
}

static void *worker(void *arg)
{
    bool floor_mode = arg != NULL;
    for (;;) {
        int j = atomic_fetch_add(&next_job, 1);
        if (j >= total_jobs)
            break;
        if (floor_mode)
            floor_one(&photos[j % nphotos]);
        else
            ingest_one(&photos[j % nphotos]);
    }
    img_thread_cleanup();
    return NULL;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* User + system CPU time of the whole process (every libvips thread included). */
static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

static int run(const char *mode, int inflight, int rounds)
{
    pthread_t th[16];
    bool floor_mode = strcmp(mode, "floor") == 0;
    if (inflight < 1 || inflight > 16 || rounds < 1)
        return 2;
    total_jobs = nphotos; /* warm-up pass, untimed */
    atomic_store(&next_job, 0);
    worker(floor_mode ? (void *)1 : NULL);
    total_jobs = nphotos * rounds;
    atomic_store(&next_job, 0);
    double t0 = now(), c0 = cpu_seconds();
    for (int i = 0; i < inflight; i++)
        pthread_create(&th[i], NULL, worker, floor_mode ? (void *)1 : NULL);
    for (int i = 0; i < inflight; i++)
        pthread_join(th[i], NULL);
    double secs = now() - t0, cpu = cpu_seconds() - c0;
    printf("{\"mode\":\"%s%s\",\"inflight\":%d,\"images\":%d,\"seconds\":%.3f,"
           "\"images_per_s\":%.2f,\"cpu_ms_per_image\":%.1f,\"failures\":%d}\n",
           mode, full_pipeline ? "-full" : "", inflight, total_jobs, secs, total_jobs / secs,
           cpu * 1000 / total_jobs, atomic_load(&failures));
    return atomic_load(&failures) ? 1 : 0;
}

static int peak_rss(const char *file)
{
    size_t len = 0;
    photos[0].data = slurp(file, &len);
    photos[0].len = len;
    if (photos[0].data == NULL)
        return 2;
    nphotos = 1;
    full_pipeline = true;
    ingest_one(&photos[0]);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("{\"mode\":\"rss\",\"file\":\"%s\",\"peak_rss_mb\":%.1f,\"failures\":%d}\n", file,
           ru.ru_maxrss / 1024.0, atomic_load(&failures));
    return atomic_load(&failures) ? 1 : 0;
}

int main(int argc, char **argv)
{
    struct err e = {0};
    struct img_preset_table t;
    int rc = 2;
    if (argc < 3) {
        fprintf(stderr,
                "usage: bench_imaging ingest|floor DIR INFLIGHT ROUNDS [full] | rss FILE\n");
        return 2;
    }
    log_set_level(LOGL_ERROR);
    if (img_global_init(NULL, &e) != ERR_OK)
        return 2;
    img_presets_builtin(&t);
    feed = *img_presets_find(&t, "feed");
    if (strcmp(argv[1], "rss") == 0) {
        rc = peak_rss(argv[2]);
    } else if (argc >= 5 && load_dir(argv[2]) == 0) {
        full_pipeline = argc > 5 && strcmp(argv[5], "full") == 0;
        if (strcmp(argv[1], "floor") == 0 && prepare_floor() != 0)
            return 1;
        rc = run(argv[1], (int)strtol(argv[3], NULL, 10), (int)strtol(argv[4], NULL, 10));
    }
    img_global_shutdown();
    return rc;
}
