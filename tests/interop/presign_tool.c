/*
 * presign_tool.c: prints presigned S3 URLs made by s3/sigv4, one per input line, so the
 * interop tests can compare them byte for byte with botocore and the AWS SDK for JavaScript.
 *
 *   presign_tool --endpoint https://s3.example.com[:port] --region R --bucket B
 *                --access-key AK --secret SK [--token T] [--style path|virtual]
 *                [--profile aws|jssdk]  < lines
 *
 * Each input line is tab-separated: METHOD, KEY (raw bytes, no tab or newline), CONTENT-TYPE
 * ("-" for none; when set it is a signed header), EXPIRES (seconds), TIME (YYYYMMDDTHHMMSSZ).
 * Each output line is the URL, or "ERROR <message>".
 *
 * Profiles: `aws` (default) is the library's own layout, the one AWS documents and botocore
 * emits. `jssdk` adds the two query parameters the JavaScript SDK v3 always signs
 * (X-Amz-Content-Sha256=UNSIGNED-PAYLOAD and x-id=PutObject|GetObject) and sorts the query
 * string as its URL formatter does.
 */
#include "s3/sigv4.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct opts {
    const char *scheme, *host, *region, *bucket, *ak, *sk, *token;
    bool virtual_hosted, jssdk;
};

static bool parse_endpoint(const char *url, struct opts *o)
{
    static char scheme[8];
    const char *sep = strstr(url, "://");
    if (sep == NULL || (size_t)(sep - url) >= sizeof(scheme))
        return false;
    memcpy(scheme, url, (size_t)(sep - url));
    scheme[sep - url] = '\0';
    o->scheme = scheme;
    o->host = sep + 3;
    return true;
}

static bool parse_args(int argc, char **argv, struct opts *o)
{
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (strcmp(k, "--endpoint") == 0) {
            if (!parse_endpoint(v, o))
                return false;
        } else if (strcmp(k, "--region") == 0) {
            o->region = v;
        } else if (strcmp(k, "--bucket") == 0) {
            o->bucket = v;
        } else if (strcmp(k, "--access-key") == 0) {
            o->ak = v;
        } else if (strcmp(k, "--secret") == 0) {
            o->sk = v;
        } else if (strcmp(k, "--token") == 0) {
            o->token = v;
        } else if (strcmp(k, "--style") == 0) {
            o->virtual_hosted = strcmp(v, "virtual") == 0;
        } else if (strcmp(k, "--profile") == 0) {
            o->jssdk = strcmp(v, "jssdk") == 0;
        } else {
            return false;
        }
    }
    return argc % 2 == 1 && o->host && o->region && o->bucket && o->ak && o->sk;
}

/* Splits `line` at tabs into exactly n fields. */
static bool split_fields(char *line, char **f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        f[i] = line;
        char *tab = strchr(line, '\t');
        if ((tab == NULL) != (i + 1 == n))
            return false;
        if (tab) {
            *tab = '\0';
            line = tab + 1;
        }
    }
    return true;
}

static void presign_line(const struct opts *o, char *line, struct sigv4_key_cache *cache)
{
    char *f[5], *end = NULL, *url = NULL;
    struct err e = {0};
    time_t t = 0;
    if (!split_fields(line, f, 5) || !ts_parse_amz(f[4], &t)) {
        printf("ERROR bad input line\n");
        return;
    }
    long long expires = strtoll(f[3], &end, 10);
    struct sigv4_pair hdr = {"content-type", f[2]};
    struct sigv4_pair extra[2] = {{"X-Amz-Content-Sha256", SIGV4_UNSIGNED},
                                  {"x-id", strcmp(f[0], "PUT") == 0 ? "PutObject" : "GetObject"}};
    struct sigv4_params p = {
        {o->ak, o->sk, o->token}, o->region, "s3", t, SIGV4_RULES_S3, false, false, expires, cache};
    struct sigv4_s3_presign req = {f[0],
                                   o->scheme,
                                   o->host,
                                   o->virtual_hosted,
                                   o->bucket,
                                   f[1],
                                   &hdr,
                                   strcmp(f[2], "-") == 0 ? 0 : 1,
                                   extra,
                                   o->jssdk ? 2 : 0,
                                   o->jssdk ? SIGV4_ORDER_SORTED : SIGV4_ORDER_AWS};
    if (*end != '\0' || sigv4_s3_presign_url(&p, &req, &url, NULL, &e) != ERR_OK)
        printf("ERROR %s\n", e.msg[0] ? e.msg : "bad expires");
    else
        printf("%s\n", url);
    free(url);
}

int main(int argc, char **argv)
{
    struct opts o = {0};
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    if (!parse_args(argc, argv, &o)) {
        fprintf(stderr, "usage: see the comment at the top of presign_tool.c\n");
        return 2;
    }
    struct sigv4_key_cache *cache = sigv4_key_cache_new(0);
    while ((n = getline(&line, &cap, stdin)) > 0) {
        if (line[n - 1] == '\n')
            line[n - 1] = '\0';
        presign_line(&o, line, cache);
    }
    free(line);
    sigv4_key_cache_destroy(cache);
    return 0;
}
