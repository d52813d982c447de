/*
 * sigv4_crypto.c: the keyed stages of SigV4 (see sigv4.h): hashing, credential scope, string
 * to sign, signing key, signature, Authorization value, the signing-key cache, and the one
 * internal routine that chains every stage (sigv4_i_compute) for the signer and the verifier.
 * Secret material lives only in fixed arrays that are wiped with OPENSSL_cleanse.
 *
 * Speed: HMAC-SHA256 is done here on OpenSSL's low-level SHA-256 (SHA256_Init/Update/Final).
 * OpenSSL 3 marks that interface deprecated in favour of EVP, but it is the one whose state is a
 * plain struct: a precomputed HMAC key schedule (the states after the inner and outer pad
 * blocks) is copied with an assignment, with no provider dispatch, lock or allocation, and the
 * digest still uses the CPU's SHA extensions. For our 100..400-byte messages EVP's per-call
 * overhead cost more than the hashing (bench/presign). The key cache keeps that schedule per
 * signing key, so a presign on a cache hit is a few SHA-256 blocks.
 */
/* Keeps OpenSSL 3's deprecation attributes off the SHA256_* declarations (see above). */
#define OPENSSL_SUPPRESS_DEPRECATED

#include "s3/sigv4.h"
#include "s3/sigv4_internal.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

static void to_hex(const uint8_t *in, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 15];
    }
    out[2 * n] = '\0';
}

void sigv4_sha256_hex(const void *data, size_t n, char out[SIGV4_HEX_LEN + 1])
{
    uint8_t md[SHA256_DIGEST_LENGTH];
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Update(&c, data, n);
    SHA256_Final(md, &c);
    to_hex(md, sizeof(md), out);
}

/* An HMAC-SHA256 key schedule: SHA-256 states after the key's inner and outer pad blocks. */
struct hmac_pads {
    SHA256_CTX in, out;
};

static void pads_init(struct hmac_pads *p, const uint8_t *key, size_t klen)
{
    uint8_t k[SHA256_CBLOCK] = {0}, pad[SHA256_CBLOCK];
    if (klen > SHA256_CBLOCK) { /* RFC 2104: a long key is hashed first */
        SHA256_CTX c;
        SHA256_Init(&c);
        SHA256_Update(&c, key, klen);
        SHA256_Final(k, &c);
        OPENSSL_cleanse(&c, sizeof(c));
    } else if (klen > 0) {
        memcpy(k, key, klen);
    }
    for (size_t i = 0; i < sizeof(pad); i++)
        pad[i] = k[i] ^ 0x36;
    SHA256_Init(&p->in);
    SHA256_Update(&p->in, pad, sizeof(pad));
    for (size_t i = 0; i < sizeof(pad); i++)
        pad[i] = k[i] ^ 0x5c;
    SHA256_Init(&p->out);
    SHA256_Update(&p->out, pad, sizeof(pad));
    OPENSSL_cleanse(k, sizeof(k));
    OPENSSL_cleanse(pad, sizeof(pad));
}

/* HMAC(key of p, msg[0..n)) into out; p is not changed. */
static void pads_mac(const struct hmac_pads *p, const void *msg, size_t n,
                     uint8_t out[SIGV4_KEY_LEN])
{
    uint8_t inner[SHA256_DIGEST_LENGTH];
    SHA256_CTX c = p->in;
    SHA256_Update(&c, msg, n);
    SHA256_Final(inner, &c);
    c = p->out;
    SHA256_Update(&c, inner, sizeof(inner));
    SHA256_Final(out, &c);
    OPENSSL_cleanse(&c, sizeof(c));
    OPENSSL_cleanse(inner, sizeof(inner));
}

char *sigv4_i_strdup_lower(const char *s)
{
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d == NULL)
        return NULL;
    for (size_t i = 0; i <= n; i++)
        d[i] = (char)tolower((unsigned char)s[i]);
    return d;
}

bool sigv4_i_is_hex64(const char *s)
{
    size_t i = 0;
    for (; s[i]; i++)
        if (!isxdigit((unsigned char)s[i]))
            return false;
    return i == SIGV4_HEX_LEN;
}

const char *sigv4_i_header(const struct sigv4_pair *h, size_t n, const char *name, size_t *count)
{
    const char *found = NULL;
    size_t c = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcasecmp(h[i].name, name) == 0) {
            if (found == NULL)
                found = h[i].value ? h[i].value : "";
            c++;
        }
    }
    if (count)
        *count = c;
    return found;
}

const char *sigv4_i_query(const struct sigv4_pair *q, size_t n, const char *name, size_t *count)
{
    const char *found = NULL;
    size_t c = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(q[i].name, name) == 0) {
            if (found == NULL)
                found = q[i].value ? q[i].value : "";
            c++;
        }
    }
    if (count)
        *count = c;
    return found;
}

static bool scope_part_ok(const char *s)
{
    return s != NULL && *s != '\0' && strlen(s) < SIGV4_FIELD_MAX && strchr(s, '/') == NULL;
}

enum err_code sigv4_scope(char *out, size_t cap, time_t t, const char *region, const char *service)
{
    char amz[TS_AMZ_LEN + 1];
    if (!scope_part_ok(region) || !scope_part_ok(service) || ts_amz(t, amz, sizeof(amz)) == 0)
        return ERR_INVALID;
    int n = snprintf(out, cap, "%.8s/%s/%s/aws4_request", amz, region, service);
    if (n < 0 || (size_t)n >= cap)
        return ERR_INVALID;
    return ERR_OK;
}

enum err_code sigv4_string_to_sign(struct buf *out, time_t t, const char *scope,
                                   const char *canonical_request)
{
    char amz[TS_AMZ_LEN + 1], hash[SIGV4_HEX_LEN + 1];
    if (ts_amz(t, amz, sizeof(amz)) == 0)
        return ERR_INVALID;
    sigv4_sha256_hex(canonical_request, strlen(canonical_request), hash);
    return buf_printf(out, "%s\n%s\n%s\n%s", SIGV4_ALGORITHM, amz, scope, hash);
}

static void hmac(const uint8_t *key, size_t klen, const char *msg, size_t mlen,
                 uint8_t out[SIGV4_KEY_LEN])
{
    struct hmac_pads p;
    pads_init(&p, key, klen);
    pads_mac(&p, msg, mlen, out);
    OPENSSL_cleanse(&p, sizeof(p));
}

enum err_code sigv4_signing_key(uint8_t out[SIGV4_KEY_LEN], const char *secret, const char *date,
                                const char *region, const char *service)
{
    enum err_code rc = ERR_INVALID;
    uint8_t k[SIGV4_KEY_LEN];
    char seed[4 + 512];
    size_t slen = secret ? strlen(secret) : 0;
    if (secret == NULL || slen > sizeof(seed) - 4 || date == NULL ||
        strlen(date) != SIGV4_DATE_LEN || !scope_part_ok(region) || !scope_part_ok(service))
        goto cleanup;
    memcpy(seed, "AWS4", 4);
    memcpy(seed + 4, secret, slen);
    hmac((const uint8_t *)seed, 4 + slen, date, SIGV4_DATE_LEN, k);
    hmac(k, sizeof(k), region, strlen(region), out);
    hmac(out, SIGV4_KEY_LEN, service, strlen(service), k);
    hmac(k, sizeof(k), "aws4_request", 12, out);
    rc = ERR_OK;
cleanup:
    OPENSSL_cleanse(seed, sizeof(seed));
    OPENSSL_cleanse(k, sizeof(k));
    return rc;
}

void sigv4_signature(const uint8_t key[SIGV4_KEY_LEN], const char *sts, size_t len,
                     char out[SIGV4_HEX_LEN + 1])
{
    uint8_t mac[SIGV4_KEY_LEN];
    hmac(key, SIGV4_KEY_LEN, sts, len, mac);
    to_hex(mac, sizeof(mac), out);
    OPENSSL_cleanse(mac, sizeof(mac));
}

enum err_code sigv4_authorization(struct buf *out, const char *access_key, const char *scope,
                                  const char *signed_list, const char *signature)
{
    return buf_printf(out, "%s Credential=%s/%s, SignedHeaders=%s, Signature=%s", SIGV4_ALGORITHM,
                      access_key, scope, signed_list, signature);
}

/* ---- signing-key cache ------------------------------------------------------------------- */

struct cache_entry {
    bool live;
    uint64_t used;
    uint8_t fp[SIGV4_KEY_LEN]; /* HMAC(salt, secret): tells a rotated secret apart */
    char access_key[SIGV4_FIELD_MAX];
    char date[SIGV4_DATE_LEN + 1];
    char region[SIGV4_FIELD_MAX];
    char service[SIGV4_FIELD_MAX];
    uint8_t key[SIGV4_KEY_LEN];
    struct hmac_pads pads; /* the key's HMAC schedule, for sigv4_i_signature */
};

struct sigv4_key_cache {
    pthread_mutex_t lock;
    struct hmac_pads salt; /* HMAC schedule of a random key, for the secrets' fingerprints */
    uint64_t clock;
    size_t cap;
    struct cache_entry *e;
};

struct sigv4_key_cache *sigv4_key_cache_new(size_t capacity)
{
    struct sigv4_key_cache *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->cap = capacity ? capacity : SIGV4_CACHE_DEFAULT;
    c->e = calloc(c->cap, sizeof(*c->e));
    uint8_t salt[SIGV4_KEY_LEN];
    if (c->e == NULL || RAND_bytes(salt, sizeof(salt)) != 1 ||
        pthread_mutex_init(&c->lock, NULL) != 0) {
        free(c->e);
        free(c);
        c = NULL;
    } else {
        pads_init(&c->salt, salt, sizeof(salt));
    }
    OPENSSL_cleanse(salt, sizeof(salt));
    return c;
}

void sigv4_key_cache_destroy(struct sigv4_key_cache *c)
{
    if (c == NULL)
        return;
    OPENSSL_cleanse(c->e, c->cap * sizeof(*c->e));
    OPENSSL_cleanse(&c->salt, sizeof(c->salt));
    pthread_mutex_destroy(&c->lock);
    free(c->e);
    free(c);
}

size_t sigv4_key_cache_size(struct sigv4_key_cache *c)
{
    size_t n = 0;
    if (c == NULL)
        return 0;
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < c->cap; i++)
        n += c->e[i].live ? 1 : 0;
    pthread_mutex_unlock(&c->lock);
    return n;
}

static bool entry_matches(const struct cache_entry *en, const uint8_t fp[SIGV4_KEY_LEN],
                          const char *ak, const char *date, const char *region, const char *service)
{
    return en->live && strcmp(en->date, date) == 0 && strcmp(en->access_key, ak) == 0 &&
           strcmp(en->region, region) == 0 && strcmp(en->service, service) == 0 &&
           CRYPTO_memcmp(en->fp, fp, SIGV4_KEY_LEN) == 0;
}

/* Drops entries of older dates, then picks a free slot or the least recently used one. Called
 * with the lock held. The chosen slot is wiped. */
static struct cache_entry *cache_slot(struct sigv4_key_cache *c, const char *date)
{
    struct cache_entry *victim = NULL;
    for (size_t i = 0; i < c->cap; i++) {
        struct cache_entry *en = &c->e[i];
        if (en->live && strcmp(en->date, date) < 0)
            OPENSSL_cleanse(en, sizeof(*en)); /* live = false */
        if (victim == NULL || (victim->live && (!en->live || en->used < victim->used)))
            victim = en;
    }
    OPENSSL_cleanse(victim, sizeof(*victim));
    return victim;
}

/* A cached signing key and its HMAC schedule. */
struct cached_key {
    uint8_t key[SIGV4_KEY_LEN];
    struct hmac_pads pads;
};

static bool lookup_locked(struct sigv4_key_cache *c, const uint8_t fp[SIGV4_KEY_LEN],
                          const char *ak, const char *date, const char *region, const char *service,
                          struct cached_key *out)
{
    for (size_t i = 0; i < c->cap; i++) {
        if (entry_matches(&c->e[i], fp, ak, date, region, service)) {
            c->e[i].used = ++c->clock;
            memcpy(out->key, c->e[i].key, SIGV4_KEY_LEN);
            out->pads = c->e[i].pads;
            return true;
        }
    }
    return false;
}

static void insert_locked(struct sigv4_key_cache *c, const uint8_t fp[SIGV4_KEY_LEN],
                          const char *ak, const char *date, const char *region, const char *service,
                          const struct cached_key *k)
{
    struct cache_entry *en = cache_slot(c, date);
    en->live = true;
    en->used = ++c->clock;
    memcpy(en->fp, fp, SIGV4_KEY_LEN);
    memcpy(en->key, k->key, SIGV4_KEY_LEN);
    en->pads = k->pads;
    snprintf(en->access_key, sizeof(en->access_key), "%s", ak);
    snprintf(en->date, sizeof(en->date), "%s", date);
    snprintf(en->region, sizeof(en->region), "%s", region);
    snprintf(en->service, sizeof(en->service), "%s", service);
}

/* The signing key and its schedule, through the cache when c is non-NULL. The caller wipes
 * `out`. */
static enum err_code cache_get(struct sigv4_key_cache *c, const char *access_key,
                               const char *secret, const char *date, const char *region,
                               const char *service, struct cached_key *out, bool *hit)
{
    uint8_t fp[SIGV4_KEY_LEN];
    const char *ak = access_key ? access_key : "";
    enum err_code rc = ERR_OK;
    bool found = false;
    if (hit)
        *hit = false;
    if (c != NULL && strlen(ak) < SIGV4_FIELD_MAX && secret != NULL) {
        pads_mac(&c->salt, secret, strlen(secret), fp);
        pthread_mutex_lock(&c->lock);
        found = lookup_locked(c, fp, ak, date, region, service, out);
        pthread_mutex_unlock(&c->lock);
        if (found) {
            if (hit)
                *hit = true;
            goto cleanup;
        }
    }
    if ((rc = sigv4_signing_key(out->key, secret, date, region, service)) != ERR_OK)
        goto cleanup;
    pads_init(&out->pads, out->key, SIGV4_KEY_LEN);
    if (c == NULL || strlen(ak) >= SIGV4_FIELD_MAX || secret == NULL)
        goto cleanup;
    pthread_mutex_lock(&c->lock);
    struct cached_key again;
    if (!lookup_locked(c, fp, ak, date, region, service, &again))
        insert_locked(c, fp, ak, date, region, service, out);
    pthread_mutex_unlock(&c->lock);
    OPENSSL_cleanse(&again, sizeof(again));
cleanup:
    OPENSSL_cleanse(fp, sizeof(fp));
    return rc;
}

enum err_code sigv4_key_cache_get(struct sigv4_key_cache *c, const char *access_key,
                                  const char *secret, const char *date, const char *region,
                                  const char *service, uint8_t out[SIGV4_KEY_LEN], bool *hit)
{
    struct cached_key k;
    enum err_code rc = cache_get(c, access_key, secret, date, region, service, &k, hit);
    if (rc == ERR_OK)
        memcpy(out, k.key, SIGV4_KEY_LEN);
    OPENSSL_cleanse(&k, sizeof(k));
    return rc;
}

enum err_code sigv4_i_signature(struct sigv4_key_cache *c, const char *access_key,
                                const char *secret, const char *date, const char *region,
                                const char *service, const char *sts, size_t len,
                                char out[SIGV4_HEX_LEN + 1])
{
    struct cached_key k;
    uint8_t mac[SIGV4_KEY_LEN];
    enum err_code rc = cache_get(c, access_key, secret, date, region, service, &k, NULL);
    if (rc == ERR_OK) {
        pads_mac(&k.pads, sts, len, mac);
        to_hex(mac, sizeof(mac), out);
    }
    OPENSSL_cleanse(&k, sizeof(k));
    OPENSSL_cleanse(mac, sizeof(mac));
    return rc;
}

/* ---- the whole chain --------------------------------------------------------------------- */

void sigv4_i_output_free(struct sigv4_i_output *o)
{
    if (o == NULL)
        return;
    buf_free(&o->signed_list);
    buf_free(&o->creq);
    buf_free(&o->sts);
}

static enum err_code compute_texts(const struct sigv4_i_input *in, struct sigv4_i_output *out)
{
    enum err_code rc;
    struct buf q, h;
    buf_init(&q, SIGV4_TEXT_MAX);
    buf_init(&h, SIGV4_TEXT_MAX);
    if ((rc = sigv4_canonical_query(&q, in->query, in->nquery)) != ERR_OK ||
        (rc = sigv4_canonical_headers(&h, &out->signed_list, in->headers, in->nheaders)) !=
            ERR_OK ||
        (rc = sigv4_canonical_request(
             &out->creq, in->method, in->uri, q.data ? q.data : "", h.data ? h.data : "",
             out->signed_list.data ? out->signed_list.data : "", in->payload_hash)) != ERR_OK)
        goto cleanup;
    rc = sigv4_scope(out->scope, sizeof(out->scope), in->time, in->region, in->service);
    if (rc == ERR_OK)
        rc = sigv4_string_to_sign(&out->sts, in->time, out->scope, out->creq.data);
cleanup:
    buf_free(&q);
    buf_free(&h);
    return rc;
}

enum err_code sigv4_i_compute(const struct sigv4_i_input *in, struct sigv4_i_output *out)
{
    enum err_code rc;
    char date[SIGV4_DATE_LEN + 1] = {0};
    memset(out, 0, sizeof(*out));
    buf_init(&out->signed_list, SIGV4_TEXT_MAX);
    buf_init(&out->creq, SIGV4_TEXT_MAX);
    buf_init(&out->sts, SIGV4_TEXT_MAX);
    if (!sigv4_i_is_token(in->method)) {
        rc = ERR_INVALID;
        goto cleanup;
    }
    if ((rc = compute_texts(in, out)) != ERR_OK)
        goto cleanup;
    memcpy(date, out->scope, SIGV4_DATE_LEN);
    rc = sigv4_i_signature(in->cache, in->access_key, in->secret, date, in->region, in->service,
                           out->sts.data, out->sts.len, out->signature);
cleanup:
    return rc;
}

enum err_code sigv4_i_trace_fill(struct sigv4_trace *t, struct sigv4_i_output *o)
{
    if (t == NULL)
        return ERR_OK;
    t->canonical_request = buf_take(&o->creq, NULL);
    t->string_to_sign = buf_take(&o->sts, NULL);
    if (t->canonical_request == NULL || t->string_to_sign == NULL) {
        sigv4_trace_free(t);
        return ERR_NOMEM;
    }
    return ERR_OK;
}

void sigv4_trace_free(struct sigv4_trace *t)
{
    if (t == NULL)
        return;
    free(t->canonical_request);
    free(t->string_to_sign);
    t->canonical_request = NULL;
    t->string_to_sign = NULL;
}
