/*
 * alloc.c: the process's memory allocator set-up. See alloc.h.
 */
#include "server/alloc.h"

#include <dlfcn.h>
#include <stdlib.h>

#ifdef __GLIBC__
#include <malloc.h>
#endif

static struct srv_alloc the_alloc = {"glibc", 0, "none"};

#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
/* MALLOC_ARENA_MAX as glibc reads it: a positive decimal number, or 0 when unset or not one. */
static int env_arenas(void)
{
    const char *v = getenv("MALLOC_ARENA_MAX");
    if (v == NULL || *v == '\0')
        return 0;
    char *end = NULL;
    long n = strtol(v, &end, 10);
    return end != v && *end == '\0' && n > 0 && n <= 1024 ? (int)n : 0;
}
#endif

void srv_alloc_setup(void)
{
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    the_alloc = (struct srv_alloc){"sanitizer", 0, "none"};
#else
    if (dlsym(RTLD_DEFAULT, "mallctl") != NULL) { /* jemalloc's control entry point */
        the_alloc = (struct srv_alloc){"jemalloc", 0, "none"};
        return;
    }
    int n = env_arenas();
    if (n > 0) {
        the_alloc = (struct srv_alloc){"glibc", n, "MALLOC_ARENA_MAX"};
        return;
    }
#if defined(__GLIBC__) && defined(M_ARENA_MAX)
    if (mallopt(M_ARENA_MAX, SRV_MALLOC_ARENAS) == 1)
        the_alloc = (struct srv_alloc){"glibc", SRV_MALLOC_ARENAS, "imgsvc"};
#endif
#endif
}

struct srv_alloc srv_alloc_info(void)
{
    return the_alloc;
}
