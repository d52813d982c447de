/*
 * events.h: POST /v1/events/s3, the webhook S3 stores push ObjectCreated notifications to.
 *
 * Senders and how they authenticate:
 *   MinIO            webhook target with auth_token    Authorization: Bearer <token> (or bare)
 *   Ceph RGW         topic push-endpoint URL            ...?token=<token> (RGW cannot add headers)
 *   AWS S3 via SNS   HTTPS subscription                 the SNS envelope's signature
 * The token (IMGSVC_EVENTS_TOKEN) is compared in constant time and never logged. An SNS
 * envelope is always verified (signature with the certificate from its checked SigningCertURL,
 * and the TopicArn when a list is set), whatever else the request carries; a
 * SubscriptionConfirmation is confirmed (SubscribeURL visited) only after that. With no token
 * configured the endpoint accepts SNS deliveries only, unless `allow_unauthenticated` (API
 * authentication off on loopback: development).
 *
 * Each record is classified: ObjectCreated, in the service's bucket and under delete/ → handed
 * to the submit hook (the worker pool); anything else is acknowledged and counted as ignored.
 * Answers: 202 {"queued":n,"ignored":m}; 200 for an s3:TestEvent and SNS confirmations; 400
 * malformed; 401 missing or wrong token; 403 SNS verification failed; 413 too many records;
 * 503 + Retry-After when the queue is full (the sender retries the batch; the pipeline is
 * idempotent) or a certificate cannot be fetched. HEAD answers 200 without a body.
 */
#ifndef IMGSVC_HANDLERS_EVENTS_H
#define IMGSVC_HANDLERS_EVENTS_H

#include <stdbool.h>
#include <stddef.h>

#include "handlers/http.h"
#include "handlers/pipeline.h"
#include "s3/sns_fetch.h"

#define H_EVENTS_TOKEN_MIN 16  /* characters */
#define H_EVENTS_TOKEN_MAX 256 /* characters */

/* Borrowed by the routes; every pointer must outlive the server. */
struct h_events_ctx {
    const char *token;          /* "" = no shared token */
    bool allow_unauthenticated; /* dev only: no token needed for plain S3 events */
    const char *bucket;         /* records of other buckets are ignored */
    const char *prefix;         /* keys outside it are ignored: "delete/" */
    size_t max_records;
    int retry_after_s;
    const char *topic_arns;     /* comma-separated accepted TopicArns; "" = any */
    struct s3_sns_fetcher *sns; /* NULL = SNS deliveries refused */
    h_pipe_submit_fn submit;    /* NULL = the pipeline is not running (503) */
    void *submit_arg;
};

/* Registers the imgsvc_events_* metric families (once, at start). */
void h_events_register_metrics(void);

void h_events_post(const struct h_request *req, struct h_response *resp);
void h_events_head(const struct h_request *req, struct h_response *resp);

/*
 * True when `presented` equals `configured` (both NUL-terminated), compared in constant time
 * over digests so neither the content nor the length leaks. False when either is NULL or
 * `configured` is empty.
 */
bool h_events_token_ok(const char *configured, const char *presented);

/* True when `token` is usable as IMGSVC_EVENTS_TOKEN: 16..256 characters of [A-Za-z0-9._~-]
 * (safe unescaped in a URL query). */
bool h_events_token_valid(const char *token);

/* True when `topic_arn` is in the comma-separated `allowed` list, or the list is empty. */
bool h_events_topic_allowed(const char *allowed, const char *topic_arn);

#endif
