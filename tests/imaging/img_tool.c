/*
 * img_tool.c: a small command-line driver of imaging/ for the corpus tests (tests/imaging).
 *
 *   img_tool probe FILE                       header facts as JSON, or {"error":...}
 *   img_tool unwrap FILE [--no-recover]       resolve a multipart envelope, print JSON
 *   img_tool variants FILE OUTDIR PRESETS     make variants; PRESETS is a JSON presets file
 *                                             path plus ":domain", or "builtin:domain"
 *   img_tool resize FILE OUT w h fit gravity format quality
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
#include "imaging/img_probe.h"

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

__attribute__((unused)) static int write_file(const char *path, const void *data, size_t len)
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

int main(int argc, char **argv)
{
    int rc = 2;
    size_t len = 0;
    unsigned char *data = NULL;
    struct err ie = {0};
    if (argc < 3) {
        fprintf(stderr, "usage: img_tool probe|unwrap|variants|resize|strip|facts FILE ...\n");
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
    else
        fprintf(stderr, "unknown command %s\n", argv[1]);
cleanup:
    free(data);
    img_global_shutdown();
    return rc;
}
