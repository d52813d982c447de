/*
 * fuzz.h: small helpers shared by the fuzz targets (tests/fuzz/fuzz_*.c).
 *
 * FUZZ_CHECK(cond) is the invariant check of every target: when `cond` is false it prints the
 * file, line and condition and calls abort(), which libFuzzer (and replay_main.c under ctest)
 * reports as a crash with the input that caused it.
 */
#ifndef IMGSVC_TESTS_FUZZ_H
#define IMGSVC_TESTS_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* A NUL-terminated heap copy of data[0..size) (caller frees); aborts when out of memory. */
static inline char *fuzz_strdup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    FUZZ_CHECK(s != NULL);
    if (size > 0)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

#endif
