/*
 * app_events.c: the event webhook's settings turned into its context. See routes.h
 * (srv_app_init_events).
 *
 * The rule for an empty IMGSVC_EVENTS_TOKEN follows the API's own: when API authentication is
 * off (which srv_app_init allows only on a loopback listen address) plain S3 events are let in
 * without a token, with a warning; otherwise only SNS-signed deliveries are.
 */
#include <string.h>

#include "common/log.h"
#include "server/routes.h"

#define EVENTS_PREFIX "delete/"

enum err_code srv_app_init_events(struct srv_app *app, const struct srv_config *cfg, struct err *e)
{
    struct h_events_ctx *c = &app->events;
    if (cfg->events_token[0] != '\0' && !h_events_token_valid(cfg->events_token))
        return err_set(e, ERR_INVALID,
                       "IMGSVC_EVENTS_TOKEN must be %d to %d characters of A-Z a-z 0-9 . _ ~ -",
                       H_EVENTS_TOKEN_MIN, H_EVENTS_TOKEN_MAX);
    struct s3_sns_fetch_opts so = {
        .cert_hosts = cfg->sns_cert_hosts,
        .ca_file = cfg->sns_ca_file,
        .connect_to = cfg->sns_connect_to,
        .timeout_ms = (long)cfg->sns_timeout_ms,
        .max_bytes = (size_t)cfg->sns_max_cert_bytes,
        .cache_entries = (size_t)cfg->sns_cert_cache,
    };
    c->sns = s3_sns_fetcher_new(&so, e);
    if (c->sns == NULL)
        return e->code != ERR_OK ? e->code : ERR_INTERNAL;
    c->token = cfg->events_token;
    c->allow_unauthenticated = cfg->events_token[0] == '\0' && app->auth == NULL;
    c->bucket = cfg->s3_bucket;
    c->prefix = EVENTS_PREFIX;
    c->max_records = (size_t)cfg->events_max_records;
    c->retry_after_s = (int)cfg->events_retry_after_s;
    c->topic_arns = cfg->sns_topic_arns;
    h_events_register_metrics();
    if (c->allow_unauthenticated)
        log_msg(LOGL_WARN, "events", NULL,
                "EVENT WEBHOOK IS OPEN: POST /v1/events/s3 accepts unauthenticated S3 events "
                "because IMGSVC_EVENTS_TOKEN is empty and API authentication is off on loopback "
                "(development only; set IMGSVC_EVENTS_TOKEN)");
    else if (c->token[0] == '\0')
        log_msg(LOGL_INFO, "events", NULL,
                "IMGSVC_EVENTS_TOKEN is empty: POST /v1/events/s3 accepts SNS-signed deliveries "
                "only");
    if (cfg->sns_topic_arns[0] == '\0')
        log_msg(LOGL_INFO, "events", NULL,
                "IMGSVC_SNS_TOPIC_ARNS is empty: signed SNS deliveries of any topic are accepted");
    return ERR_OK;
}

void srv_app_free_events(struct srv_app *app)
{
    s3_sns_fetcher_free(app->events.sns);
    app->events.sns = NULL;
}
