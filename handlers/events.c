/*
 * events.c: the S3 event webhook and SNS deliveries. See events.h.
 *
 * h_events_post is a list of steps: credentials (token) → SNS envelope? (verify, then by type)
 * → parse the S3 event → classify and submit each record → answer. Every refusal goes through
 * reject(), which counts it in imgsvc_events_rejected_total{reason} and answers the API's error
 * shape. Nothing here logs the token, the query string or a SubscribeURL.
 */
#include "handlers/events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "common/log.h"
#include "common/metrics.h"
#include "s3/sns.h"

enum cred { CRED_NONE, CRED_OK, CRED_BAD };

void h_events_register_metrics(void)
{
    metrics_register("imgsvc_events_received_total", METRICS_COUNTER,
                     "S3 event records received by the webhook, by eventSource", NULL, 0);
    metrics_register("imgsvc_events_ignored_total", METRICS_COUNTER,
                     "S3 event records acknowledged without processing, by reason", NULL, 0);
    metrics_register("imgsvc_events_rejected_total", METRICS_COUNTER,
                     "Webhook deliveries refused (4xx/5xx), by reason", NULL, 0);
}

static void count(const char *family, const char *label, const char *value)
{
    char labels[96];
    snprintf(labels, sizeof(labels), "%s=\"%s\"", label, value);
    metrics_add(family, labels, 1);
}

bool h_events_token_ok(const char *configured, const char *presented)
{
    if (configured == NULL || presented == NULL || configured[0] == '\0')
        return false;
    unsigned char a[SHA256_DIGEST_LENGTH], b[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)configured, strlen(configured), a);
    SHA256((const unsigned char *)presented, strlen(presented), b);
    return CRYPTO_memcmp(a, b, sizeof(a)) == 0;
}

bool h_events_token_valid(const char *token)
{
    size_t n = token ? strlen(token) : 0;
    if (n < H_EVENTS_TOKEN_MIN || n > H_EVENTS_TOKEN_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = token[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '~' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

bool h_events_topic_allowed(const char *allowed, const char *topic_arn)
{
    if (allowed == NULL || allowed[0] == '\0')
        return true;
    if (topic_arn == NULL)
        return false;
    size_t tn = strlen(topic_arn);
    const char *p = allowed;
    while (p != NULL && *p != '\0') {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        while (n > 0 && *p == ' ')
            p++, n--;
        while (n > 0 && p[n - 1] == ' ')
            n--;
        if (n == tn && n > 0 && memcmp(p, topic_arn, n) == 0)
            return true;
        p = comma ? comma + 1 : NULL;
    }
    return false;
}

/* Counts the refusal and answers the error shape (with Retry-After on 503). */
static void reject(const struct h_events_ctx *c, const struct h_request *req,
                   struct h_response *resp, int status, const char *reason, const char *msg)
{
    const char *code = status == 400   ? "bad_request"
                       : status == 401 ? "unauthenticated"
                       : status == 403 ? "forbidden"
                       : status == 413 ? "payload_too_large"
                       : status == 503 ? "unavailable"
                                       : "internal";
    count("imgsvc_events_rejected_total", "reason", reason);
    h_resp_error(resp, req, status, code, "%s: %s", reason, msg);
    if (status == 401)
        (void)h_resp_header(resp, "WWW-Authenticate", "Bearer realm=\"imgsvc events\"");
    if (status == 503) {
        char ra[16];
        snprintf(ra, sizeof(ra), "%d", c->retry_after_s);
        (void)h_resp_header(resp, "Retry-After", ra);
    }
    log_msg(LOGL_WARN, "events", req->request_id, "delivery refused (%d %s): %s", status, reason,
            msg);
}

/* The shared token as presented (Bearer header and/or ?token=), judged against the setting. */
static enum cred check_credentials(const struct h_events_ctx *c, const struct h_request *req)
{
    const char *auth = h_header(req, "Authorization");
    const char *query = h_query(req, "token");
    const char *bearer = NULL;
    if (auth == NULL && query == NULL)
        return CRED_NONE;
    if (c->allow_unauthenticated && c->token[0] == '\0')
        return CRED_NONE; /* dev: whatever was sent does not matter */
    if (auth != NULL) {   /* "Bearer <token>", or the bare token older MinIO releases send */
        bearer = auth;
        if (strncasecmp(auth, "Bearer ", 7) == 0)
            bearer = auth + 7;
        else if (strchr(auth, ' ') != NULL)
            return CRED_BAD; /* another scheme */
        while (*bearer == ' ')
            bearer++;
        if (!h_events_token_ok(c->token, bearer))
            return CRED_BAD;
    }
    if (query != NULL && !h_events_token_ok(c->token, query))
        return CRED_BAD;
    return CRED_OK;
}

/* Why a record is not for us, or NULL when it goes to the pipeline. */
static const char *ignore_reason(const struct h_events_ctx *c, const struct s3_event_record *r)
{
    if (!s3_event_is_created(r))
        return "not_created";
    if (strcmp(r->bucket, c->bucket) != 0)
        return "other_bucket";
    if (strncmp(r->key, c->prefix, strlen(c->prefix)) != 0)
        return "outside_prefix";
    return NULL;
}

static void answer_counts(struct h_response *resp, int status, size_t queued, size_t ignored,
                          bool test_event)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "queued", (double)queued);
    cJSON_AddNumberToObject(o, "ignored", (double)ignored);
    if (test_event)
        cJSON_AddBoolToObject(o, "testEvent", true);
    h_resp_json(resp, status, o);
}

static void log_delivery(const struct h_request *req, const char *via, size_t records,
                         size_t queued, size_t ignored)
{
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "via", via);
    cJSON_AddNumberToObject(f, "records", (double)records);
    cJSON_AddNumberToObject(f, "queued", (double)queued);
    cJSON_AddNumberToObject(f, "ignored", (double)ignored);
    log_fields(LOGL_INFO, "events", req->request_id, "s3 events", f);
}

/* Classifies and submits every record of `b`; answers 202, or 503 at the first refusal. */
static void submit_batch(const struct h_events_ctx *c, const struct h_request *req,
                         struct h_response *resp, const struct s3_event_batch *b, const char *via)
{
    size_t queued = 0, ignored = 0;
    for (size_t i = 0; i < b->count; i++)
        count("imgsvc_events_received_total", "source", s3_event_source_name(b->records[i].source));
    for (size_t i = 0; i < b->count; i++) {
        const struct s3_event_record *r = &b->records[i];
        const char *why = ignore_reason(c, r);
        if (why != NULL) {
            count("imgsvc_events_ignored_total", "reason", why);
            ignored++;
            continue;
        }
        enum err_code rc = c->submit ? c->submit(c->submit_arg, r) : ERR_UNSUPPORTED;
        if (rc == ERR_BUSY) {
            reject(c, req, resp, 503, "busy", "the event queue is full; retry later");
            return;
        }
        if (rc != ERR_OK) {
            reject(c, req, resp, 503, "unavailable", "the event pipeline is not accepting work");
            return;
        }
        queued++;
    }
    log_delivery(req, via, b->count, queued, ignored);
    answer_counts(resp, 202, queued, ignored, false);
}

/* Parses an S3 event document (a body or an SNS Message) and hands it on. */
static void handle_s3_event(const struct h_events_ctx *c, const struct h_request *req,
                            struct h_response *resp, const char *json, size_t len, const char *via)
{
    struct s3_event_batch b = {0};
    struct err e = {0};
    enum err_code rc = s3_events_parse(json, len, c->max_records, &b, &e);
    if (rc == ERR_TOO_LARGE) {
        reject(c, req, resp, 413, "too_many_records", e.msg);
    } else if (rc != ERR_OK) {
        reject(c, req, resp, 400, "malformed", e.msg);
    } else if (b.test_event) {
        count("imgsvc_events_received_total", "source", "s3:TestEvent");
        log_delivery(req, via, 0, 0, 0);
        answer_counts(resp, 200, 0, 0, true);
    } else {
        submit_batch(c, req, resp, &b, via);
    }
    s3_event_batch_free(&b);
}

/* Topic, certificate URL, certificate, signature: ERR_OK when `m` is a genuine SNS message
 * (the refusal is answered otherwise). */
static enum err_code sns_verify(const struct h_events_ctx *c, const struct h_request *req,
                                struct h_response *resp, const struct s3_sns_msg *m)
{
    struct err e = {0};
    char *pem = NULL;
    size_t len = 0;
    enum err_code rc = ERR_FORBIDDEN;
    if (!h_events_topic_allowed(c->topic_arns, m->topic_arn)) {
        reject(c, req, resp, 403, "topic_not_allowed",
               "the TopicArn is not in IMGSVC_SNS_TOPIC_ARNS");
        goto cleanup;
    }
    rc = s3_sns_fetcher_cert(c->sns, m->signing_cert_url, &pem, &len, &e);
    if (rc == ERR_FORBIDDEN) {
        reject(c, req, resp, 403, "cert_url", e.msg);
        goto cleanup;
    }
    if (rc != ERR_OK) {
        reject(c, req, resp, 503, "cert_unavailable", e.msg);
        goto cleanup;
    }
    rc = s3_sns_verify(m, pem, len, &e);
    if (rc != ERR_OK) {
        rc = ERR_FORBIDDEN;
        reject(c, req, resp, 403, "bad_signature", e.msg);
    }
cleanup:
    free(pem);
    return rc;
}

static void sns_confirm(const struct h_events_ctx *c, const struct h_request *req,
                        struct h_response *resp, const struct s3_sns_msg *m)
{
    struct err e = {0};
    enum err_code rc = s3_sns_fetcher_confirm(c->sns, m->subscribe_url, &e);
    if (rc == ERR_FORBIDDEN) {
        reject(c, req, resp, 403, "subscribe_url", e.msg);
        return;
    }
    if (rc != ERR_OK) {
        reject(c, req, resp, 503, "confirm_failed", e.msg);
        return;
    }
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "topicArn", m->topic_arn);
    log_fields(LOGL_INFO, "events", req->request_id, "sns subscription confirmed", f);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "confirmed", true);
    h_resp_json(resp, 200, o);
}

static void handle_sns(const struct h_events_ctx *c, const struct h_request *req,
                       struct h_response *resp)
{
    struct s3_sns_msg m = {0};
    struct err e = {0};
    if (c->sns == NULL) {
        reject(c, req, resp, 403, "sns_disabled", "SNS deliveries are not accepted");
        return;
    }
    if (s3_sns_parse(req->body, req->body_len, &m, &e) != ERR_OK) {
        reject(c, req, resp, 400, "malformed", e.msg);
        return;
    }
    if (sns_verify(c, req, resp, &m) != ERR_OK)
        goto cleanup;
    if (m.type == S3_SNS_NOTIFICATION) {
        handle_s3_event(c, req, resp, m.message, strlen(m.message), "sns");
    } else if (m.type == S3_SNS_SUBSCRIPTION_CONFIRMATION) {
        sns_confirm(c, req, resp, &m);
    } else {
        cJSON *f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "topicArn", m.topic_arn);
        log_fields(LOGL_WARN, "events", req->request_id, "sns subscription ended", f);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddBoolToObject(o, "acknowledged", true);
        h_resp_json(resp, 200, o);
    }
cleanup:
    s3_sns_msg_free(&m);
}

void h_events_post(const struct h_request *req, struct h_response *resp)
{
    const struct h_events_ctx *c = req->route_ctx;
    enum cred cred = check_credentials(c, req);
    if (cred == CRED_BAD) {
        reject(c, req, resp, 401, "bad_token", "the events token is wrong");
        return;
    }
    bool has_body = req->body != NULL && req->body_len > 0;
    if (has_body && s3_sns_detect(req->body, req->body_len)) {
        handle_sns(c, req, resp);
        return;
    }
    if (cred != CRED_OK && !c->allow_unauthenticated) {
        reject(c, req, resp, 401, "missing_credentials",
               c->token[0] ? "send the events token as Authorization: Bearer or ?token="
                           : "no events token is configured: only SNS-signed deliveries");
        return;
    }
    if (!has_body) {
        reject(c, req, resp, 400, "malformed", "the body is empty");
        return;
    }
    handle_s3_event(c, req, resp, req->body, req->body_len, cred == CRED_OK ? "token" : "open");
}

void h_events_head(const struct h_request *req, struct h_response *resp)
{
    (void)req;
    resp->status = 200;
    resp->content_type = "application/json";
}
