/*
 * alloc.h: the process's memory allocator set-up (docs/deploy.md, "Allocator").
 */
#ifndef IMGSVC_SERVER_ALLOC_H
#define IMGSVC_SERVER_ALLOC_H

/* The glibc malloc arenas imgsvc asks for when MALLOC_ARENA_MAX is not set. */
#define SRV_MALLOC_ARENAS 2

struct srv_alloc {
    const char *allocator; /* "glibc", "jemalloc" (preloaded) or "sanitizer" */
    int arenas;            /* glibc's arena limit in force; 0: glibc's own default */
    /* where `arenas` comes from: "imgsvc", "MALLOC_ARENA_MAX", "GLIBC_TUNABLES" or "none" */
    const char *from;
};

/*
 * Sets the allocator up; call first in main, before any thread exists. Under glibc's malloc it
 * limits the arenas to SRV_MALLOC_ARENAS unless MALLOC_ARENA_MAX or the tunable
 * glibc.malloc.arena_max is set (then glibc applies that value itself): glibc's default of 8 per
 * core let a long resize load grow to 0.6-0.7 GB, and two arenas cost the least CPU of the
 * allocators measured. Does nothing under a preloaded jemalloc or a sanitizer's allocator.
 */
void srv_alloc_setup(void);

/* What srv_alloc_setup found and did (for the start-up log). */
struct srv_alloc srv_alloc_info(void);

#endif
