/*
 * debug.c: diagnostic routes. See debug.h.
 */
#include "handlers/debug.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <openssl/sha.h>

#define SLEEP_MAX_MS 60000

void h_debug_echo(const struct h_request *req, struct h_response *resp)
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    char hex[2 * SHA256_DIGEST_LENGTH + 1];
    SHA256((const unsigned char *)(req->body ? req->body : ""), req->body_len, md);
    for (size_t i = 0; i < sizeof(md); i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "bytes", (double)req->body_len);
    cJSON_AddStringToObject(o, "sha256", hex);
    h_resp_json(resp, 200, o);
}

void h_debug_sleep(const struct h_request *req, struct h_response *resp)
{
    const char *ms_text = h_query(req, "ms");
    char *end = NULL;
    errno = 0;
    long ms = ms_text ? strtol(ms_text, &end, 10) : -1;
    if (ms_text == NULL || errno != 0 || end == ms_text || *end != '\0' || ms < 0 ||
        ms > SLEEP_MAX_MS) {
        h_resp_error(resp, req, 400, "bad_request", "query ms must be an integer from 0 to %d",
                     SLEEP_MAX_MS);
        return;
    }
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "sleptMs", (double)ms);
    h_resp_json(resp, 200, o);
}
