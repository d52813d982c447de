/*
 * img_tool.c: a small command-line driver of imaging/ for the corpus tests (tests/imaging).
 *
 *   img_tool probe FILE                       header facts as JSON, or {"error":...}
 *   img_tool unwrap FILE [--no-recover]       resolve a multipart envelope, print JSON
 *   img_tool variants FILE OUTDIR PRESETS     make variants into OUTDIR; PRESETS is
 *                                             "FILE.json:domain" or "builtin:domain"
 *   img_tool resize FILE OUTDIR w h fit gravity format quality
 *   img_tool strip FILE OUT                   origin privacy (GPS/XMP removal)
 *   img_tool facts FILE                       facts and placeholders as JSON
 *   img_tool hashpixels FILE OUT.rgba         the RGBA pixels the placeholders are made from
 *
 * Exit status: 0 success, 1 refused or failed (the reason is in the JSON), 2 usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "imaging/img_init.h"
#include "imaging/img_input.h"
#include "imaging/img_facts.h"
#include "imaging/img_preset.h"
#include "imaging/img_process.h"
#include "imaging/img_privacy.h"
#include "imaging/img_probe.h"
#include "imaging/img_variant.h"

static unsigned char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *data = NULL;
    size_t cap = 0, n = 0;
    if (f == NULL)
        return NULL;
    for (;;) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 65536;
            unsigned char *nd = realloc(data, ncap);
            if (nd == NULL) {
                free(data);
                fclose(f);
                return NULL;
            }
            data = nd;
            cap = ncap;
        }
        size_t got = fread(data + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    *len = n;
    return data;
}

static int write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return -1;
    size_t w = fwrite(data, 1, len, f);
    int rc = fclose(f);
    return w == len && rc == 0 ? 0 : -1;
}

static int print_error(const struct img_error *e)
{
    printf("{\"error\":\"%s\",\"class\":\"%s\",\"message\":\"", img_reason_name(e->reason),
           err_name(e->code));
    for (const char *c = e->msg; *c; c++) {
        if (*c == '"' || *c == '\\')
            putchar('\\');
        putchar(*c >= 0x20 ? *c : ' ');
    }
    printf("\"}\n");
    return 1;
}

static int cmd_probe(const unsigned char *data, size_t len)
{
    struct img_error e = {0};
    struct img_probe p;
    if (img_probe(data, len, NULL, &p, &e) != ERR_OK)
        return print_error(&e);
    printf("{\"format\":\"%s\",\"width\":%d,\"height\":%d,\"bands\":%d,\"frames\":%d,"
           "\"orientation\":%d,\"interlaced\":%s,\"alpha\":%s}\n",
           img_format_name(p.format), p.width, p.height, p.bands, p.frames, p.orientation,
           p.interlaced ? "true" : "false", p.has_alpha ? "true" : "false");
    return 0;
}

static int cmd_unwrap(const unsigned char *data, size_t len, int argc, char **argv)
{
    struct img_error e = {0};
    struct img_span img;
    bool unwrapped = false;
    bool recover = !(argc > 3 && strcmp(argv[3], "--no-recover") == 0);
    if (img_input_unwrap(data, len, recover, &img, &unwrapped, &e) != ERR_OK)
        return print_error(&e);
    printf("{\"unwrapped\":%s,\"offset\":%zu,\"length\":%zu,\"format\":\"%s\"}\n",
           unwrapped ? "true" : "false", (size_t)(img.data - data), img.len,
           img_format_name(img_sniff(img.data, img.len)));
    return 0;
}

/* Loads presets for "builtin:DOMAIN" or "FILE.json:DOMAIN" into `d`. */
static int load_presets(const char *spec, struct img_domain_presets *d)
{
    struct img_preset_table t;
    struct img_error e = {0};
    const char *colon = strrchr(spec, ':');
    img_presets_builtin(&t);
    if (colon == NULL)
        return -1;
    if (strncmp(spec, "builtin:", 8) != 0) {
        char path[1024];
        size_t len = 0;
        snprintf(path, sizeof(path), "%.*s", (int)(colon - spec), spec);
        unsigned char *json = read_file(path, &len);
        if (json == NULL || img_presets_parse((const char *)json, len, &t, &e) != ERR_OK) {
            free(json);
            print_error(&e);
            return -1;
        }
        free(json);
    }
    const struct img_domain_presets *found = img_presets_find(&t, colon + 1);
    if (found == NULL)
        return -1;
    *d = *found;
    return 0;
}

/* Unwraps (recovering multipart) and probes; prints the error and returns -1 on refusal. */
static int open_image(const unsigned char *data, size_t len, struct img_span *img,
                      struct img_probe *p)
{
    struct img_error e = {0};
    bool unwrapped = false;
    if (img_input_unwrap(data, len, true, img, &unwrapped, &e) != ERR_OK ||
        img_probe(img->data, img->len, NULL, p, &e) != ERR_OK) {
        print_error(&e);
        return -1;
    }
    return 0;
}

static int write_variants(const struct img_variants *v, const char *dir)
{
    printf("\"variants\":[");
    for (int i = 0; i < v->count; i++) {
        const struct img_variant *it = &v->items[i];
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s.%s", dir, it->name, img_format_ext(it->format));
        if (write_file(path, it->data, it->len) != 0)
            return 1;
        printf("%s{\"name\":\"%s\",\"format\":\"%s\",\"width\":%d,\"height\":%d,"
               "\"bytes\":%zu,\"path\":\"%s\"}",
               i ? "," : "", it->name, img_format_name(it->format), it->width, it->height, it->len,
               path);
    }
    printf("]}\n");
    return 0;
}

static void print_facts(const struct img_facts *f)
{
    printf("{\"format\":\"%s\",\"width\":%d,\"height\":%d,\"orientation\":%d,"
           "\"alpha\":%s,\"frames\":%d",
           img_format_name(f->format), f->width, f->height, f->orientation,
           f->has_alpha ? "true" : "false", f->frames);
    if (f->placeholders)
        printf(",\"dominant\":\"%s\",\"blurhash\":\"%s\",\"thumbhash\":\"%s\"", f->dominant,
               f->blurhash, f->thumbhash);
    printf("}");
}

/* variants FILE OUTDIR PRESETS [--no-recover] [--keep-location]: the whole ingest */
static int cmd_variants(const unsigned char *data, size_t len, int argc, char **argv)
{
    struct img_domain_presets d;
    struct img_result r;
    struct img_error e = {0};
    struct img_job_opts o = img_job_opts_default();
    char path[1024];
    if (argc < 5 || load_presets(argv[4], &d) != 0)
        return 2;
    for (int i = 5; i < argc; i++) {
        o.recover_multipart = o.recover_multipart && strcmp(argv[i], "--no-recover") != 0;
        o.strip_origin_location =
            o.strip_origin_location && strcmp(argv[i], "--keep-location") != 0;
    }
    if (img_process(data, len, &o, d.presets, d.count, &r, &e) != ERR_OK)
        return print_error(&e);
    snprintf(path, sizeof(path), "%s/origin.%s", argv[3], img_format_ext(r.origin_format));
    int rc = write_file(path, r.origin, r.origin_len) == 0 ? 0 : 1;
    printf("{\"unwrapped\":%s,\"origin_gps_removed\":%s,\"origin\":\"%s\",\"facts\":",
           r.multipart_unwrapped ? "true" : "false", r.origin_gps_removed ? "true" : "false", path);
    print_facts(&r.facts);
    printf(",");
    rc |= write_variants(&r.variants, argv[3]);
    img_result_free(&r);
    return rc;
}

static int cmd_facts(const unsigned char *data, size_t len)
{
    struct img_facts f;
    struct img_error e = {0};
    bool unwrapped = false;
    if (img_info(data, len, NULL, &f, &unwrapped, &e) != ERR_OK)
        return print_error(&e);
    print_facts(&f);
    printf("\n");
    return 0;
}

/* hashpixels FILE OUT.rgba: the placeholder pixels, for the npm reference comparison */
static int cmd_hashpixels(const unsigned char *data, size_t len, int argc, char **argv)
{
    struct img_span img;
    struct img_probe p;
    struct img_pixels px;
    struct img_facts f;
    struct img_error e = {0};
    if (argc < 4)
        return 2;
    if (open_image(data, len, &img, &p) != 0)
        return 1;
    if (img_placeholder_pixels(img.data, img.len, &p, &px, &e) != ERR_OK)
        return print_error(&e);
    img_facts_fill(&f, &p, &px);
    int rc = write_file(argv[3], px.rgba, (size_t)px.width * px.height * 4) == 0 ? 0 : 1;
    printf("{\"width\":%d,\"height\":%d,\"blurhash\":\"%s\",\"thumbhash\":\"%s\","
           "\"dominant\":\"%s\"}\n",
           px.width, px.height, f.blurhash, f.thumbhash, f.dominant);
    img_pixels_free(&px);
    return rc;
}

/* resize FILE OUTDIR w h fit gravity format quality */
static int cmd_resize(const unsigned char *data, size_t len, int argc, char **argv)
{
    struct img_preset pr = {.name = "out", .quality = 80};
    struct img_variants v;
    struct img_error e = {0};
    bool unwrapped = false;
    if (argc < 10 || !img_fit_parse(argv[6], &pr.fit) || !img_gravity_parse(argv[7], &pr.gravity) ||
        !img_out_format_parse(argv[8], &pr.format))
        return 2;
    pr.width = (int)strtol(argv[4], NULL, 10);
    pr.height = (int)strtol(argv[5], NULL, 10);
    pr.quality = (int)strtol(argv[9], NULL, 10);
    if (img_resize(data, len, NULL, &pr, &v, &unwrapped, &e) != ERR_OK)
        return print_error(&e);
    printf("{");
    int rc = write_variants(&v, argv[3]);
    img_variants_free(&v);
    return rc;
}

static int cmd_strip(const unsigned char *data, size_t len, int argc, char **argv)
{
    struct img_error e = {0};
    struct img_privacy_report rep;
    uint8_t *out = NULL;
    size_t out_len = 0;
    if (argc < 4)
        return 2;
    if (img_origin_strip_location(data, len, img_sniff(data, len), &out, &out_len, &rep, &e) !=
        ERR_OK)
        return print_error(&e);
    int rc = write_file(argv[3], out, out_len) == 0 ? 0 : 1;
    printf("{\"bytes\":%zu,\"gps_removed\":%s,\"xmp_removed\":%s,\"iptc_removed\":%s}\n", out_len,
           rep.gps_removed ? "true" : "false", rep.xmp_removed ? "true" : "false",
           rep.iptc_removed ? "true" : "false");
    free(out);
    return rc;
}

int main(int argc, char **argv)
{
    int rc = 2;
    size_t len = 0;
    unsigned char *data = NULL;
    struct err ie = {0};
    if (argc < 3) {
        fprintf(stderr,
                "usage: img_tool probe|unwrap|variants|resize|strip|facts|hashpixels FILE ...\n");
        return 2;
    }
    log_set_level(LOGL_WARN);
    if (img_global_init(NULL, &ie) != ERR_OK) {
        fprintf(stderr, "img_global_init: %s\n", ie.msg);
        return 2;
    }
    data = read_file(argv[2], &len);
    if (data == NULL && len == 0 && strcmp(argv[1], "probe") != 0) {
        fprintf(stderr, "cannot read %s\n", argv[2]);
        goto cleanup;
    }
    if (strcmp(argv[1], "probe") == 0)
        rc = cmd_probe(data, len);
    else if (strcmp(argv[1], "unwrap") == 0)
        rc = cmd_unwrap(data, len, argc, argv);
    else if (strcmp(argv[1], "variants") == 0)
        rc = cmd_variants(data, len, argc, argv);
    else if (strcmp(argv[1], "resize") == 0)
        rc = cmd_resize(data, len, argc, argv);
    else if (strcmp(argv[1], "strip") == 0)
        rc = cmd_strip(data, len, argc, argv);
    else if (strcmp(argv[1], "facts") == 0)
        rc = cmd_facts(data, len);
    else if (strcmp(argv[1], "hashpixels") == 0)
        rc = cmd_hashpixels(data, len, argc, argv);
    else
        fprintf(stderr, "unknown command %s\n", argv[1]);
cleanup:
    free(data);
    img_global_shutdown();
    return rc;
}
