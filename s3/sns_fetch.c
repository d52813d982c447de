/*
 * sns_fetch.c: checked HTTPS fetches of SNS certificates and SubscribeURLs. See sns_fetch.h.
 *
 * One libcurl easy handle per fetch (they are rare: certificates are cached); the cache is a
 * small array searched linearly under a mutex, the least recently used entry evicted.
 */
#include "s3/sns_fetch.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/buf.h"
#include "s3/sns.h"

#ifndef IMGSVC_VERSION
#define IMGSVC_VERSION "0"
#endif

struct cache_entry {
    char *url; /* NULL = free slot */
    char *pem;
    size_t len;
    uint64_t used; /* fetcher->clock at the last hit */
};

struct s3_sns_fetcher {
    char *cert_hosts;
    char *ca_file;                 /* NULL = system CAs */
    struct curl_slist *connect_to; /* NULL = none */
    long timeout_ms;
    size_t max_bytes;
    pthread_mutex_t lock;
    struct cache_entry *cache;
    size_t ncache;
    uint64_t clock;
    size_t fetches;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Splits "a,b" into a curl list of pins; false on ERR_NOMEM. */
static bool pins_parse(const char *s, struct curl_slist **out)
{
    *out = NULL;
    const char *p = s;
    while (p != NULL && *p != '\0') {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        while (n > 0 && *p == ' ')
            p++, n--;
        if (n > 0) {
            char *one = malloc(n + 1);
            struct curl_slist *next = NULL;
            if (one != NULL) {
                memcpy(one, p, n);
                one[n] = '\0';
                next = curl_slist_append(*out, one);
                free(one);
            }
            if (next == NULL)
                return false;
            *out = next;
        }
        p = comma ? comma + 1 : NULL;
    }
    return true;
}

struct s3_sns_fetcher *s3_sns_fetcher_new(const struct s3_sns_fetch_opts *o, struct err *e)
{
    struct s3_sns_fetcher *f = NULL;
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK) {
        err_set(e, ERR_INTERNAL, "sns: curl_global_init failed");
        return NULL;
    }
    if (o->cert_hosts == NULL || o->cert_hosts[0] == '\0' || o->cache_entries == 0 ||
        o->max_bytes == 0 || o->timeout_ms <= 0) {
        err_set(e, ERR_INVALID, "sns: host patterns, cache size, size cap and timeout required");
        return NULL;
    }
    f = calloc(1, sizeof(*f));
    if (f == NULL)
        goto nomem;
    pthread_mutex_init(&f->lock, NULL);
    f->timeout_ms = o->timeout_ms;
    f->max_bytes = o->max_bytes;
    f->ncache = o->cache_entries;
    f->cache = calloc(o->cache_entries, sizeof(*f->cache));
    f->cert_hosts = strdup(o->cert_hosts);
    if (f->cache == NULL || f->cert_hosts == NULL)
        goto nomem;
    if (o->ca_file != NULL && o->ca_file[0] != '\0' && (f->ca_file = strdup(o->ca_file)) == NULL)
        goto nomem;
    if (o->connect_to != NULL && !pins_parse(o->connect_to, &f->connect_to))
        goto nomem;
    return f;
nomem:
    s3_sns_fetcher_free(f);
    err_set(e, ERR_NOMEM, "out of memory");
    return NULL;
}

void s3_sns_fetcher_free(struct s3_sns_fetcher *f)
{
    if (f == NULL)
        return;
    for (size_t i = 0; f->cache != NULL && i < f->ncache; i++) {
        free(f->cache[i].url);
        free(f->cache[i].pem);
    }
    free(f->cache);
    free(f->cert_hosts);
    free(f->ca_file);
    curl_slist_free_all(f->connect_to);
    pthread_mutex_destroy(&f->lock);
    free(f);
}

size_t s3_sns_fetcher_fetches(struct s3_sns_fetcher *f)
{
    pthread_mutex_lock(&f->lock);
    size_t n = f->fetches;
    pthread_mutex_unlock(&f->lock);
    return n;
}

/* ---- one HTTPS GET ------------------------------------------------------------------------ */

struct sink {
    struct buf body;
    bool too_large;
};

static size_t on_data(char *p, size_t size, size_t nmemb, void *arg)
{
    struct sink *s = arg;
    size_t n = size * nmemb;
    if (buf_append(&s->body, p, n) != ERR_OK) {
        s->too_large = true;
        return 0; /* libcurl stops with CURLE_WRITE_ERROR */
    }
    return n;
}

static bool setup(CURL *h, const struct s3_sns_fetcher *f, const char *url, struct sink *s)
{
    bool ok =
        curl_easy_setopt(h, CURLOPT_URL, url) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https") == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, f->timeout_ms) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, f->timeout_ms) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)f->max_bytes) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_USERAGENT, "imgsvc/" IMGSVC_VERSION) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_WRITEDATA, s) == CURLE_OK;
    if (ok && f->ca_file != NULL)
        ok = curl_easy_setopt(h, CURLOPT_CAINFO, f->ca_file) == CURLE_OK;
    if (ok && f->connect_to != NULL)
        ok = curl_easy_setopt(h, CURLOPT_CONNECT_TO, f->connect_to) == CURLE_OK;
    return ok;
}

/* GETs `url` (already checked) into `s`. `what` names it in messages (never the URL). */
static enum err_code https_get(struct s3_sns_fetcher *f, const char *url, const char *what,
                               struct sink *s, struct err *e)
{
    enum err_code rc = ERR_UPSTREAM;
    long status = 0;
    CURL *h = curl_easy_init();
    pthread_mutex_lock(&f->lock);
    f->fetches++;
    pthread_mutex_unlock(&f->lock);
    if (h == NULL || !setup(h, f, url, s)) {
        rc = err_set(e, ERR_NOMEM, "sns: cannot set up the %s fetch", what);
        goto cleanup;
    }
    CURLcode cc = curl_easy_perform(h);
    if (s->too_large || cc == CURLE_FILESIZE_EXCEEDED) {
        rc = err_set(e, ERR_TOO_LARGE, "sns: the %s is larger than %zu bytes", what, f->max_bytes);
        goto cleanup;
    }
    if (cc != CURLE_OK) {
        err_set(e, ERR_UPSTREAM, "sns: fetching the %s failed: %s", what, curl_easy_strerror(cc));
        goto cleanup;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status > 299) {
        err_set(e, ERR_UPSTREAM, "sns: fetching the %s answered HTTP %ld", what, status);
        goto cleanup;
    }
    rc = ERR_OK;
cleanup:
    curl_easy_cleanup(h);
    return rc;
}

/* ---- the certificate cache ---------------------------------------------------------------- */

/* A copy of the cached certificate of `url`, or false. Called with the lock held. */
static bool cache_get(struct s3_sns_fetcher *f, const char *url, char **pem, size_t *len)
{
    for (size_t i = 0; i < f->ncache; i++) {
        struct cache_entry *c = &f->cache[i];
        if (c->url == NULL || strcmp(c->url, url) != 0)
            continue;
        *pem = malloc(c->len + 1);
        if (*pem == NULL)
            return false;
        memcpy(*pem, c->pem, c->len + 1);
        *len = c->len;
        c->used = ++f->clock;
        return true;
    }
    return false;
}

/* Keeps a copy of `pem` for `url` in a free or the least recently used slot (best effort). */
static void cache_put(struct s3_sns_fetcher *f, const char *url, const char *pem, size_t len)
{
    char *u = strdup(url);
    char *p = malloc(len + 1);
    if (u == NULL || p == NULL) {
        free(u);
        free(p);
        return;
    }
    memcpy(p, pem, len + 1);
    pthread_mutex_lock(&f->lock);
    struct cache_entry *slot = &f->cache[0];
    for (size_t i = 0; i < f->ncache; i++) {
        struct cache_entry *c = &f->cache[i];
        if (c->url != NULL && strcmp(c->url, url) == 0) {
            slot = c; /* another thread fetched it meanwhile: replace */
            break;
        }
        if (c->url == NULL || c->used < slot->used)
            slot = c;
        if (c->url == NULL)
            break;
    }
    free(slot->url);
    free(slot->pem);
    *slot = (struct cache_entry){u, p, len, ++f->clock};
    pthread_mutex_unlock(&f->lock);
}

static bool is_pem_cert(const char *pem, size_t len)
{
    BIO *b = BIO_new_mem_buf(pem, (int)len);
    X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    bool ok = x != NULL;
    X509_free(x);
    BIO_free(b);
    return ok;
}

enum err_code s3_sns_fetcher_cert(struct s3_sns_fetcher *f, const char *url, char **pem,
                                  size_t *len, struct err *e)
{
    enum err_code rc = ERR_OK;
    struct sink s = {0};
    *pem = NULL;
    *len = 0;
    if ((rc = s3_sns_url_check(url, f->cert_hosts, true, e)) != ERR_OK)
        return rc;
    pthread_mutex_lock(&f->lock);
    bool hit = cache_get(f, url, pem, len);
    pthread_mutex_unlock(&f->lock);
    if (hit)
        return ERR_OK;
    buf_init(&s.body, f->max_bytes);
    if ((rc = https_get(f, url, "signing certificate", &s, e)) != ERR_OK)
        goto cleanup;
    if (s.body.len == 0 || !is_pem_cert(s.body.data, s.body.len)) {
        rc = err_set(e, ERR_INVALID, "sns: the signing certificate is not a PEM certificate");
        goto cleanup;
    }
    cache_put(f, url, s.body.data, s.body.len);
    *pem = buf_take(&s.body, len);
    if (*pem == NULL)
        rc = err_set(e, ERR_NOMEM, "out of memory");
cleanup:
    buf_free(&s.body);
    return rc;
}

enum err_code s3_sns_fetcher_confirm(struct s3_sns_fetcher *f, const char *url, struct err *e)
{
    enum err_code rc = s3_sns_url_check(url, f->cert_hosts, false, e);
    if (rc != ERR_OK)
        return rc;
    struct sink s = {0};
    buf_init(&s.body, f->max_bytes);
    rc = https_get(f, url, "SubscribeURL", &s, e);
    buf_free(&s.body);
    return rc;
}
