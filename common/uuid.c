/*
 * uuid.c: v4 UUIDs. See uuid.h.
 *
 * The random bytes come from RAND_bytes POOL_BYTES at a time, kept per thread: one RAND_bytes
 * call (DRBG lock, fork check) cost about as much as the rest of a POST /v1/uploads, which makes
 * two UUIDs (request id, upload id). A forked child drops its copy of the forking thread's pool
 * (pthread_atfork), so parent and child never hand out the same bytes.
 */
#include "common/uuid.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#define POOL_BYTES 512

static _Thread_local struct {
    unsigned char b[POOL_BYTES];
    size_t next; /* first unused byte; POOL_BYTES = empty */
    bool filled; /* false until the first refill (zero-initialised thread-local) */
} pool;

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void pool_drop(void)
{
    OPENSSL_cleanse(pool.b, sizeof(pool.b));
    pool.next = POOL_BYTES;
}

static void register_atfork(void)
{
    pthread_atfork(NULL, NULL, pool_drop);
}

/* 16 random bytes from this thread's pool. False when the RNG fails. */
static bool pool_take(unsigned char out[16])
{
    pthread_once(&atfork_once, register_atfork);
    if (!pool.filled || pool.next + 16 > POOL_BYTES) {
        if (RAND_bytes(pool.b, sizeof(pool.b)) != 1)
            return false;
        pool.next = 0;
        pool.filled = true;
    }
    memcpy(out, pool.b + pool.next, 16);
    OPENSSL_cleanse(pool.b + pool.next, 16); /* handed out once */
    pool.next += 16;
    return true;
}

enum err_code uuid_v4(char out[UUID_STR_LEN])
{
    unsigned char b[16];
    out[0] = '\0';
    if (!pool_take(b))
        return ERR_INTERNAL;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 0x0f];
    }
    out[o] = '\0';
    return ERR_OK;
}

bool uuid_v4_valid(const char *s)
{
    if (s == NULL || strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return false;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return s[14] == '4' && strchr("89ab", s[19]) != NULL;
}
