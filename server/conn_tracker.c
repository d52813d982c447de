/*
 * conn_tracker.c: read-timeout watchdog. See conn_tracker.h.
 */
#include "server/conn_tracker.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "common/log.h"
#include "common/metrics.h"
#include "common/timeutil.h"

#define WATCH_INTERVAL_MS 200

struct srv_conn {
    MHD_socket fd;
    atomic_llong reading_since_ms; /* 0 = busy (not timed) */
    struct srv_conn *prev, *next;
};

struct srv_conn_tracker {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct srv_conn *head;
    unsigned count;
    int64_t timeout_ms;
    bool stop;
    pthread_t thread;
    char name[32];
};

static struct srv_conn *conn_of(struct MHD_Connection *mc)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci != NULL ? ci->socket_context : NULL;
}

static void sweep(struct srv_conn_tracker *t)
{
    int64_t now = ts_now_mono_ms();
    for (struct srv_conn *c = t->head; c != NULL; c = c->next) {
        long long since = atomic_load(&c->reading_since_ms);
        if (since == 0 || now - since <= t->timeout_ms)
            continue;
        atomic_store(&c->reading_since_ms, 0);
        /* shutdown, not close: MHD still owns the descriptor and will clean up */
        shutdown(c->fd, SHUT_RDWR);
        char labels[64];
        snprintf(labels, sizeof(labels), "server=\"%s\"", t->name);
        metrics_add("imgsvc_http_read_timeouts_total", labels, 1);
        log_msg(LOGL_WARN, "http", NULL,
                "closed a connection that did not send a complete request within %lld s",
                (long long)(t->timeout_ms / 1000));
    }
}

static void *watchdog(void *arg)
{
    struct srv_conn_tracker *t = arg;
    pthread_mutex_lock(&t->mu);
    while (!t->stop) {
        struct timespec ts = ts_realtime_in(WATCH_INTERVAL_MS);
        pthread_cond_timedwait(&t->cv, &t->mu, &ts);
        if (!t->stop)
            sweep(t);
    }
    pthread_mutex_unlock(&t->mu);
    return NULL;
}

struct srv_conn_tracker *srv_conn_tracker_new(unsigned timeout_s, const char *server_name)
{
    struct srv_conn_tracker *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    t->timeout_ms = (int64_t)timeout_s * 1000;
    snprintf(t->name, sizeof(t->name), "%s", server_name ? server_name : "api");
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->cv, NULL);
    if (pthread_create(&t->thread, NULL, watchdog, t) != 0) {
        pthread_cond_destroy(&t->cv);
        pthread_mutex_destroy(&t->mu);
        free(t);
        return NULL;
    }
    return t;
}

void srv_conn_tracker_destroy(struct srv_conn_tracker *t)
{
    if (t == NULL)
        return;
    pthread_mutex_lock(&t->mu);
    t->stop = true;
    pthread_cond_signal(&t->cv);
    pthread_mutex_unlock(&t->mu);
    pthread_join(t->thread, NULL);
    while (t->head != NULL) {
        struct srv_conn *c = t->head;
        t->head = c->next;
        free(c);
    }
    pthread_cond_destroy(&t->cv);
    pthread_mutex_destroy(&t->mu);
    free(t);
}

struct srv_conn *srv_conn_tracker_add(struct srv_conn_tracker *t, struct MHD_Connection *mc)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
    struct srv_conn *c = calloc(1, sizeof(*c));
    if (c == NULL || ci == NULL) {
        free(c);
        return NULL;
    }
    c->fd = ci->connect_fd;
    atomic_store(&c->reading_since_ms, ts_now_mono_ms());
    pthread_mutex_lock(&t->mu);
    c->next = t->head;
    if (t->head != NULL)
        t->head->prev = c;
    t->head = c;
    t->count++;
    pthread_mutex_unlock(&t->mu);
    return c;
}

void srv_conn_tracker_remove(struct srv_conn_tracker *t, struct srv_conn *c)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&t->mu);
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        t->head = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    t->count--;
    pthread_mutex_unlock(&t->mu);
    free(c);
}

void srv_conn_tracker_busy(struct srv_conn_tracker *t, struct MHD_Connection *mc)
{
    (void)t;
    struct srv_conn *c = conn_of(mc);
    if (c != NULL)
        atomic_store(&c->reading_since_ms, 0);
}

void srv_conn_tracker_reading(struct srv_conn_tracker *t, struct MHD_Connection *mc)
{
    (void)t;
    struct srv_conn *c = conn_of(mc);
    if (c != NULL)
        atomic_store(&c->reading_since_ms, ts_now_mono_ms());
}

unsigned srv_conn_tracker_count(struct srv_conn_tracker *t)
{
    pthread_mutex_lock(&t->mu);
    unsigned n = t->count;
    pthread_mutex_unlock(&t->mu);
    return n;
}
