/*
 * alloc.c: the process's memory allocator set-up. See alloc.h.
 */
#include "server/alloc.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#ifdef __GLIBC__
#include <malloc.h>
#endif

static struct srv_alloc the_alloc = {"glibc", 0, "none"};

#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
/* A positive decimal number of arenas from `v` up to `stop` (a character or the end), else 0. */
static int arenas_value(const char *v, char stop)
{
    if (v == NULL || *v == '\0')
        return 0;
    char *end = NULL;
    long n = strtol(v, &end, 10);
    if (end == v || (*end != '\0' && *end != stop) || n <= 0)
        return 0;
    return n < INT_MAX ? (int)n : INT_MAX;
}

/* The arena limit the environment sets, as glibc reads it: MALLOC_ARENA_MAX, or the tunable
 * glibc.malloc.arena_max in GLIBC_TUNABLES (name=value pairs separated by ':'). */
static int env_arenas(const char **from)
{
    int n = arenas_value(getenv("MALLOC_ARENA_MAX"), '\0');
    *from = "MALLOC_ARENA_MAX";
    const char *t = getenv("GLIBC_TUNABLES"), *key = "glibc.malloc.arena_max=";
    for (const char *p = t; n == 0 && p != NULL && (p = strstr(p, key)) != NULL; p++)
        if (p == t || p[-1] == ':') {
            n = arenas_value(p + strlen(key), ':');
            *from = "GLIBC_TUNABLES";
        }
    return n;
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
    const char *from = NULL;
    int n = env_arenas(&from);
    if (n > 0) { /* glibc applied it already */
        the_alloc = (struct srv_alloc){"glibc", n, from};
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
