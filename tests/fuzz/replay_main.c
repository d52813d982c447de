/*
 * replay_main.c: a standalone main for the fuzz targets when they are built without libFuzzer
 * (gcc, the normal and ASan builds). It runs every regular file of each folder (or each file)
 * named on the command line through LLVMFuzzerTestOneInput, in name order, so ctest replays
 * the seed corpora and the regression inputs on every run.
 *
 *   fuzz_<target> DIR|FILE...
 *
 * Each input is copied into a heap block of exactly its size, so ASan sees any read past it.
 * A target reports a broken invariant with abort(); the exit status is 0 when every input ran,
 * 1 when a folder or file could not be read or a folder held no input at all.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define REPLAY_MAX_INPUT (16u * 1024u * 1024u) /* larger files are refused, not truncated */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads `path` into a malloc'd block of exactly its size (*len); NULL on error. */
static uint8_t *read_input(const char *path, size_t *len)
{
    uint8_t *data = NULL, *rc = NULL;
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (f == NULL || fstat(fileno(f), &st) != 0 || st.st_size < 0 ||
        (uint64_t)st.st_size > REPLAY_MAX_INPUT)
        goto cleanup;
    *len = (size_t)st.st_size;
    data = malloc(*len ? *len : 1);
    if (data == NULL || (*len > 0 && fread(data, 1, *len, f) != *len))
        goto cleanup;
    rc = data;
    data = NULL;
cleanup:
    free(data);
    if (f != NULL)
        fclose(f);
    return rc;
}

static int run_file(const char *path)
{
    size_t len = 0;
    uint8_t *data = read_input(path, &len);
    if (data == NULL) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        return 1;
    }
    fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
    LLVMFuzzerTestOneInput(data, len);
    free(data);
    return 0;
}

static int cmp_names(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

/* Runs every regular file of `dir`; counts them into *count. */
static int run_dir(const char *dir, size_t *count)
{
    struct dirent **names = NULL;
    int n = scandir(dir, &names, NULL, cmp_names), status = 0;
    if (n < 0) {
        fprintf(stderr, "replay: cannot list %s\n", dir);
        return 1;
    }
    for (int i = 0; i < n; i++) {
        char path[4096];
        struct stat st;
        int w = snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
        if (w > 0 && (size_t)w < sizeof(path) && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            status |= run_file(path);
            (*count)++;
        }
        free(names[i]);
    }
    free(names);
    return status;
}

int main(int argc, char **argv)
{
    int status = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        size_t count = 0;
        if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            status |= run_dir(argv[i], &count);
            if (count == 0) {
                fprintf(stderr, "replay: no input in %s\n", argv[i]);
                status = 1;
            }
        } else {
            status |= run_file(argv[i]);
            count = 1;
        }
        fprintf(stderr, "replay: %zu inputs from %s\n", count, argv[i]);
    }
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
        status = 1;
    }
    return status;
}
