/*
 * sns_fetch.h: the two HTTPS fetches an SNS delivery needs, and nothing else.
 *
 * SNS signs every message with a certificate named by SigningCertURL, and confirms a
 * subscription when the SubscribeURL is visited. Both URLs come from the (not yet trusted)
 * request body, so each is checked with s3_sns_url_check (https, an allowed host pattern, port
 * 443, a .pem path for certificates) BEFORE any connection is made, then fetched over HTTPS
 * with libcurl: TLS verified against the system CAs or a CA file, no redirects, https only,
 * connect and total timeouts, a capped answer. Certificates are cached by URL (a bounded LRU)
 * so a burst of notifications costs one fetch. Thread-safe.
 */
#ifndef IMGSVC_S3_SNS_FETCH_H
#define IMGSVC_S3_SNS_FETCH_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

/* Settings; strings are copied by s3_sns_fetcher_new. */
struct s3_sns_fetch_opts {
    const char *cert_hosts; /* allowed host patterns, e.g. "sns.*.amazonaws.com" (required) */
    const char *ca_file;    /* PEM bundle; NULL or "" = the system CAs */
    const char *connect_to; /* curl CONNECT_TO pins "HOST:PORT:ADDR:PORT", comma-separated
                               (proxies and tests); NULL or "" = none */
    long timeout_ms;        /* whole fetch, connect included */
    size_t max_bytes;       /* largest answer body */
    size_t cache_entries;   /* certificates kept, >= 1 */
};

struct s3_sns_fetcher;

/* Copies the settings. NULL with a message in `e` on error. Free with s3_sns_fetcher_free. */
struct s3_sns_fetcher *s3_sns_fetcher_new(const struct s3_sns_fetch_opts *o, struct err *e);

/* Frees the fetcher and its cache. NULL is a no-op. */
void s3_sns_fetcher_free(struct s3_sns_fetcher *f);

/*
 * The PEM certificate at `url`: checked first (ERR_FORBIDDEN, nothing fetched), then from the
 * cache or fetched (ERR_UPSTREAM when the fetch fails or answers non-2xx, ERR_TOO_LARGE past
 * the cap, ERR_INVALID when the answer is not a PEM certificate; nothing is cached then). On
 * ERR_OK *pem is a malloc'd NUL-terminated copy the caller frees, *len its length.
 */
enum err_code s3_sns_fetcher_cert(struct s3_sns_fetcher *f, const char *url, char **pem,
                                  size_t *len, struct err *e);

/*
 * Visits a SubscribeURL (GET, the answer read up to the cap and dropped): checked first like a
 * certificate URL but without the .pem rule. ERR_OK on a 2xx answer. Never logs the URL (it
 * carries the subscription token).
 */
enum err_code s3_sns_fetcher_confirm(struct s3_sns_fetcher *f, const char *url, struct err *e);

/* Fetches actually made (cache misses and confirmations), for tests and metrics. */
size_t s3_sns_fetcher_fetches(struct s3_sns_fetcher *f);

#endif
