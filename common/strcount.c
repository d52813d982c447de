/*
 * strcount.c: see strcount.h.
 */
#include "common/strcount.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct strcount_entry {
    struct strcount_entry *next;
    size_t count;
    char key[]; /* NUL-terminated */
};

struct strcount {
    pthread_mutex_t mu;
    struct strcount_entry **chains;
    size_t mask; /* chains - 1 (a power of two minus one) */
    size_t size; /* distinct keys */
};

/* FNV-1a, 64-bit: spreads keys that differ in their last characters (upload ids). */
static size_t hash(const char *s)
{
    uint64_t h = 14695981039346656037ull;
    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return (size_t)h;
}

struct strcount *strcount_new(size_t buckets)
{
    size_t n = 16;
    while (n < buckets && n < ((size_t)1 << 24))
        n *= 2;
    struct strcount *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->chains = calloc(n, sizeof(*s->chains));
    if (s->chains == NULL) {
        free(s);
        return NULL;
    }
    s->mask = n - 1;
    pthread_mutex_init(&s->mu, NULL);
    return s;
}

void strcount_free(struct strcount *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i <= s->mask; i++) {
        struct strcount_entry *e = s->chains[i];
        while (e != NULL) {
            struct strcount_entry *next = e->next;
            free(e);
            e = next;
        }
    }
    free(s->chains);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* The link that points at `key`'s entry (or at the NULL ending its chain). Under s->mu. */
static struct strcount_entry **find(struct strcount *s, const char *key)
{
    struct strcount_entry **at = &s->chains[hash(key) & s->mask];
    while (*at != NULL && strcmp((*at)->key, key) != 0)
        at = &(*at)->next;
    return at;
}

enum err_code strcount_add(struct strcount *s, const char *key)
{
    enum err_code rc = ERR_OK;
    pthread_mutex_lock(&s->mu);
    struct strcount_entry **at = find(s, key);
    if (*at != NULL) {
        (*at)->count++;
        goto cleanup;
    }
    size_t len = strlen(key);
    struct strcount_entry *e = malloc(sizeof(*e) + len + 1);
    if (e == NULL) {
        rc = ERR_NOMEM;
        goto cleanup;
    }
    e->next = NULL;
    e->count = 1;
    memcpy(e->key, key, len + 1);
    *at = e;
    s->size++;
cleanup:
    pthread_mutex_unlock(&s->mu);
    return rc;
}

void strcount_remove(struct strcount *s, const char *key)
{
    pthread_mutex_lock(&s->mu);
    struct strcount_entry **at = find(s, key);
    struct strcount_entry *e = *at;
    if (e != NULL && --e->count == 0) {
        *at = e->next;
        free(e);
        s->size--;
    }
    pthread_mutex_unlock(&s->mu);
}

size_t strcount_get(struct strcount *s, const char *key)
{
    pthread_mutex_lock(&s->mu);
    struct strcount_entry *e = *find(s, key);
    size_t n = e != NULL ? e->count : 0;
    pthread_mutex_unlock(&s->mu);
    return n;
}

size_t strcount_size(struct strcount *s)
{
    pthread_mutex_lock(&s->mu);
    size_t n = s->size;
    pthread_mutex_unlock(&s->mu);
    return n;
}
