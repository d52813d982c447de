/*
 * store_chunked.c: aws-chunked request bodies (Content-Encoding: aws-chunked), as the AWS SDKs
 * send streams:
 *
 *   STREAMING-UNSIGNED-PAYLOAD-TRAILER   <hex>\r\n<data>\r\n ... 0\r\n<trailer>:<v>\r\n\r\n
 *   STREAMING-AWS4-HMAC-SHA256-PAYLOAD   <hex>;chunk-signature=<sig>\r\n<data>\r\n ...
 *                                        0;chunk-signature=<sig>\r\n\r\n
 *
 * Signed chunks are verified in order, each signature chaining from the previous one (the first
 * from the Authorization header's "seed" signature):
 *   HMAC(signing key, "AWS4-HMAC-SHA256-PAYLOAD\n" date "\n" scope "\n" previous "\n"
 *        hex(sha256("")) "\n" hex(sha256(chunk)))
 * The trailing checksum (x-amz-trailer) is returned for the caller to check like a header.
 */
#include "handlers/store_internal.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CHUNK_LINE_MAX 256

struct chunk_signer {
    uint8_t key[SIGV4_KEY_LEN];
    char amz_date[TS_AMZ_LEN + 1];
    char scope[SIGV4_SCOPE_MAX];
    char prev[SIGV4_HEX_LEN + 1];
};

/* Finds "\r\n" in p[0..n); returns the line length or -1. */
static long line_len(const char *p, size_t n)
{
    for (size_t i = 0; i + 1 < n && i < CHUNK_LINE_MAX; i++)
        if (p[i] == '\r' && p[i + 1] == '\n')
            return (long)i;
    return -1;
}

static bool chunk_sig_ok(struct chunk_signer *s, const char *data, size_t n, const char *sig)
{
    char hash[SIGV4_HEX_LEN + 1], expect[SIGV4_HEX_LEN + 1], sts[1024];
    sigv4_sha256_hex(data, n, hash);
    int len = snprintf(sts, sizeof(sts), "AWS4-HMAC-SHA256-PAYLOAD\n%s\n%s\n%s\n%s\n%s",
                       s->amz_date, s->scope, s->prev, SIGV4_EMPTY_SHA256, hash);
    if (len < 0 || (size_t)len >= sizeof(sts))
        return false;
    sigv4_signature(s->key, sts, (size_t)len, expect);
    if (strlen(sig) != SIGV4_HEX_LEN || CRYPTO_memcmp(expect, sig, SIGV4_HEX_LEN) != 0)
        return false;
    memcpy(s->prev, sig, sizeof(s->prev));
    return true;
}

/* Parses "<hex>[;chunk-signature=<sig>]"; false when malformed. */
static bool chunk_header(const char *line, size_t n, size_t *size, char sig[SIGV4_HEX_LEN + 1])
{
    char buf[CHUNK_LINE_MAX + 1];
    memcpy(buf, line, n);
    buf[n] = '\0';
    char *end = NULL;
    unsigned long long v = strtoull(buf, &end, 16);
    if (end == buf || v > SIZE_MAX)
        return false;
    sig[0] = '\0';
    if (*end == ';') {
        if (strncmp(end + 1, "chunk-signature=", 16) != 0 || strlen(end + 17) != SIGV4_HEX_LEN)
            return false;
        memcpy(sig, end + 17, SIGV4_HEX_LEN + 1);
    } else if (*end != '\0') {
        return false;
    }
    *size = (size_t)v;
    return true;
}

/* Reads "name:value" trailer lines up to the empty line. */
static bool trailers(const char *p, size_t n, struct h_store_chunked *out)
{
    for (;;) {
        long ll = line_len(p, n);
        if (ll < 0)
            return false;
        if (ll == 0)
            return true;
        const char *colon = memchr(p, ':', (size_t)ll);
        if (colon != NULL && strncasecmp(p, "x-amz-checksum-", 15) == 0) {
            snprintf(out->trailer_name, sizeof(out->trailer_name), "%.*s", (int)(colon - p), p);
            const char *v = colon + 1;
            while (v < p + ll && *v == ' ')
                v++;
            if ((size_t)(p + ll - v) >= sizeof(out->trailer_value))
                return false;
            snprintf(out->trailer_value, sizeof(out->trailer_value), "%.*s", (int)(p + ll - v), v);
        }
        p += ll + 2;
        n -= (size_t)ll + 2;
    }
}

static enum err_code decode(const char *p, size_t n, struct chunk_signer *signer,
                            struct h_store_chunked *out)
{
    struct buf b;
    buf_init(&b, n);
    enum err_code rc = ERR_INVALID;
    for (;;) {
        long ll = line_len(p, n);
        size_t size = 0;
        char sig[SIGV4_HEX_LEN + 1];
        if (ll <= 0 || !chunk_header(p, (size_t)ll, &size, sig) || (signer && !sig[0]))
            goto cleanup;
        p += ll + 2;
        n -= (size_t)ll + 2;
        if (size > n || (signer != NULL && !chunk_sig_ok(signer, p, size, sig))) {
            rc = size > n ? ERR_INVALID : ERR_AUTH;
            goto cleanup;
        }
        if (size == 0)
            break;
        if (n < size + 2 || p[size] != '\r' || p[size + 1] != '\n' ||
            buf_append(&b, p, size) != ERR_OK)
            goto cleanup;
        p += size + 2;
        n -= size + 2;
    }
    if (!trailers(p, n, out))
        goto cleanup;
    out->data = buf_take(&b, &out->len);
    rc = out->data ? ERR_OK : ERR_NOMEM;
cleanup:
    buf_free(&b);
    return rc;
}

/* The seed signature, date and scope of a header-signed streaming request. */
static bool signer_init(const struct h_request *req, const struct h_store_ctx *ctx,
                        struct chunk_signer *s)
{
    const char *auth = h_header(req, "Authorization");
    const char *date = h_header(req, "x-amz-date");
    const char *cred = auth ? strstr(auth, "Credential=") : NULL;
    const char *sig = auth ? strstr(auth, "Signature=") : NULL;
    if (cred == NULL || sig == NULL || date == NULL || strlen(date) != TS_AMZ_LEN)
        return false;
    cred = strchr(cred, '/');
    const char *cend = cred ? strchr(cred, ',') : NULL;
    if (cend == NULL || (size_t)(cend - cred - 1) >= sizeof(s->scope) ||
        strlen(sig + 10) < SIGV4_HEX_LEN)
        return false;
    snprintf(s->scope, sizeof(s->scope), "%.*s", (int)(cend - cred - 1), cred + 1);
    snprintf(s->amz_date, sizeof(s->amz_date), "%s", date);
    snprintf(s->prev, sizeof(s->prev), "%.*s", SIGV4_HEX_LEN, sig + 10);
    char day[SIGV4_DATE_LEN + 1];
    snprintf(day, sizeof(day), "%.8s", date);
    return sigv4_key_cache_get(ctx->key_cache, ctx->access_key, ctx->secret_key, day, ctx->region,
                               "s3", s->key, NULL) == ERR_OK;
}

bool h_store_is_chunked(const struct h_request *req)
{
    const char *sha = h_header(req, "x-amz-content-sha256");
    return sha != NULL && strncmp(sha, "STREAMING-", 10) == 0;
}

bool h_store_dechunk(const struct h_request *req, struct h_response *resp,
                     const struct h_store_ctx *ctx, struct h_store_chunked *out)
{
    const char *sha = h_header(req, "x-amz-content-sha256");
    const char *dlen = h_header(req, "x-amz-decoded-content-length");
    struct chunk_signer signer;
    struct chunk_signer *sp = NULL;
    memset(out, 0, sizeof(*out));
    if (strcmp(sha, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD") == 0) {
        if (!signer_init(req, ctx, &signer)) {
            h_s3_error(resp, req, S3E_INVALID_REQUEST, "Invalid streaming signature context");
            return false;
        }
        sp = &signer;
    } else if (strcmp(sha, "STREAMING-UNSIGNED-PAYLOAD-TRAILER") != 0) {
        h_s3_error(resp, req, S3E_NOT_IMPLEMENTED, NULL);
        return false;
    }
    if (dlen == NULL) {
        h_s3_error(resp, req, S3E_MISSING_CONTENT_LENGTH, NULL);
        return false;
    }
    enum err_code rc = decode(req->body ? req->body : "", req->body_len, sp, out);
    if (sp != NULL)
        OPENSSL_cleanse(signer.key, sizeof(signer.key));
    char want[32];
    snprintf(want, sizeof(want), "%zu", out->len);
    if (rc == ERR_OK && strcmp(want, dlen) != 0)
        rc = ERR_INVALID;
    if (rc != ERR_OK) {
        free(out->data);
        out->data = NULL;
        if (rc == ERR_AUTH)
            h_s3_error_code(resp, req, 403, "SignatureDoesNotMatch",
                            "The request signature we calculated does not match the signature "
                            "you provided.");
        else
            h_s3_error(resp, req, rc == ERR_NOMEM ? S3E_INTERNAL : S3E_INCOMPLETE_BODY, NULL);
        return false;
    }
    return true;
}
