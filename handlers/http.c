/*
 * http.c: request accessors and response builders shared by all handlers. See http.h.
 */
#include "handlers/http.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *h_param(const struct h_request *req, const char *name)
{
    for (size_t i = 0; i < req->nparams; i++) {
        if (strcmp(req->params[i].name, name) == 0)
            return req->params[i].value;
    }
    return NULL;
}

const char *h_header(const struct h_request *req, const char *name)
{
    return req->lookup ? req->lookup(req->conn, H_KV_HEADER, name) : NULL;
}

const char *h_query(const struct h_request *req, const char *name)
{
    return req->lookup ? req->lookup(req->conn, H_KV_QUERY, name) : NULL;
}

static void set_body(struct h_response *resp, int status, const char *ctype, char *data, size_t len)
{
    free(resp->body);
    resp->status = status;
    resp->content_type = ctype;
    resp->body = data;
    resp->body_len = len;
}

bool h_resp_json(struct h_response *resp, int status, cJSON *body)
{
    char *text = body ? cJSON_PrintUnformatted(body) : NULL;
    cJSON_Delete(body);
    if (text == NULL) {
        set_body(resp, 500, "application/json", NULL, 0);
        resp->error_code = "internal";
        return false;
    }
    set_body(resp, status, "application/json", text, strlen(text));
    return true;
}

void h_resp_take(struct h_response *resp, int status, const char *content_type, char *data,
                 size_t len)
{
    set_body(resp, status, content_type, data, len);
}

bool h_resp_text(struct h_response *resp, int status, const char *content_type, const char *text)
{
    size_t n = strlen(text);
    char *copy = malloc(n + 1);
    if (copy == NULL) {
        set_body(resp, 500, "text/plain", NULL, 0);
        return false;
    }
    memcpy(copy, text, n + 1);
    set_body(resp, status, content_type, copy, n);
    return true;
}

void h_resp_error(struct h_response *resp, const struct h_request *req, int status,
                  const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (n < 0)
        msg[0] = '\0';
    cJSON *root = cJSON_CreateObject();
    cJSON *e = cJSON_AddObjectToObject(root, "error");
    if (e != NULL) {
        cJSON_AddStringToObject(e, "code", code);
        cJSON_AddStringToObject(e, "message", msg);
        if (req != NULL && req->request_id != NULL)
            cJSON_AddStringToObject(e, "requestId", req->request_id);
    }
    h_resp_json(resp, status, root);
    resp->error_code = code;
}

bool h_resp_header(struct h_response *resp, const char *name, const char *value)
{
    if (resp->nheaders >= H_MAX_HEADERS)
        return false;
    char *n = strdup(name);
    char *v = strdup(value);
    if (n == NULL || v == NULL) {
        free(n);
        free(v);
        return false;
    }
    resp->headers[resp->nheaders].name = n;
    resp->headers[resp->nheaders].value = v;
    resp->nheaders++;
    return true;
}

const char *h_resp_get_header(const struct h_response *resp, const char *name)
{
    for (size_t i = 0; i < resp->nheaders; i++) {
        if (strcasecmp(resp->headers[i].name, name) == 0)
            return resp->headers[i].value;
    }
    return NULL;
}

void h_resp_free(struct h_response *resp)
{
    free(resp->body);
    for (size_t i = 0; i < resp->nheaders; i++) {
        free(resp->headers[i].name);
        free(resp->headers[i].value);
    }
    memset(resp, 0, sizeof(*resp));
}
