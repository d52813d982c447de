/*
 * conn_tracker.h: cuts off clients that are too slow to send a request.
 *
 * libmicrohttpd's own timeout is an idle timeout: a client sending one byte every few seconds
 * never trips it. The tracker records, per connection, when the current "reading" phase began
 * (connection start, or the end of the previous response) and a watchdog thread shuts down the
 * socket of any connection still reading after the timeout. Once a request is complete (the
 * handler runs or an early error is queued) the connection is "busy" and is not timed.
 */
#ifndef IMGSVC_SERVER_CONN_TRACKER_H
#define IMGSVC_SERVER_CONN_TRACKER_H

struct srv_conn_tracker;
struct srv_conn;
struct MHD_Connection;

/* Starts the watchdog. NULL on failure. */
struct srv_conn_tracker *srv_conn_tracker_new(unsigned timeout_s, const char *server_name);

/* Stops the watchdog and frees every record. NULL is a no-op. Call after MHD_stop_daemon. */
void srv_conn_tracker_destroy(struct srv_conn_tracker *t);

/* A new connection, reading from now. Returns its record (MHD's socket context). */
struct srv_conn *srv_conn_tracker_add(struct srv_conn_tracker *t, struct MHD_Connection *mc);

/* The connection closed; frees its record. NULL is a no-op. */
void srv_conn_tracker_remove(struct srv_conn_tracker *t, struct srv_conn *c);

/* The current request is fully received: stop timing the connection. */
void srv_conn_tracker_busy(struct srv_conn_tracker *t, struct MHD_Connection *mc);

/* The response is done: the connection reads its next request from now. */
void srv_conn_tracker_reading(struct srv_conn_tracker *t, struct MHD_Connection *mc);

/* Connections currently open. */
unsigned srv_conn_tracker_count(struct srv_conn_tracker *t);

#endif
