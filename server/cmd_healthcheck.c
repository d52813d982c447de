/*
 * cmd_healthcheck.c: `imgsvc healthcheck`, one GET to the local service (see the header).
 *
 * The probe connects to the API's own address (a wildcard address is probed on its loopback),
 * sends `GET <path> HTTP/1.0` with a Host header and reads the status line; every socket call
 * is bounded by a 3-second send/receive timeout, so a hung server fails the check instead of
 * hanging it. HTTP/1.0 makes the server close the connection after the answer.
 */
#include "server/cmd_healthcheck.h"

#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define HC_TIMEOUT_S 3

/* The address to probe for a listen address: loopback for the wildcards. */
static const char *probe_addr(const char *listen)
{
    if (strcmp(listen, "0.0.0.0") == 0)
        return "127.0.0.1";
    if (strcmp(listen, "::") == 0)
        return "::1";
    return listen;
}

/* Connects to host:port with bounded send/receive times; returns the socket or -1. */
static int hc_connect(const char *host, const char *port)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    int fd = -1;
    if (getaddrinfo(host, port, &hints, &res) != 0 || res == NULL)
        goto cleanup;
    fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
    if (fd < 0)
        goto cleanup;
    struct timeval tv = {.tv_sec = HC_TIMEOUT_S};
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)); /* bounds connect too */
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
        close(fd);
        fd = -1;
    }
cleanup:
    if (res != NULL)
        freeaddrinfo(res);
    return fd;
}

/* Sends the request and reads the status code into *status; returns 0, or -1 on I/O error. */
static int hc_exchange(int fd, const char *host, const char *path, int *status)
{
    char req[512];
    int n = snprintf(req, sizeof(req),
                     "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: imgsvc-healthcheck\r\n\r\n", path,
                     host);
    if (n < 0 || (size_t)n >= sizeof(req) || send(fd, req, (size_t)n, MSG_NOSIGNAL) != n)
        return -1;
    char line[64];
    size_t got = 0;
    while (got < sizeof(line) - 1 && memchr(line, '\n', got) == NULL) {
        ssize_t r = recv(fd, line + got, sizeof(line) - 1 - got, 0);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    line[got] = '\0';
    /* "HTTP/1.x NNN ..." */
    if (got < 12 || strncmp(line, "HTTP/1.", 7) != 0 || line[8] != ' ')
        return -1;
    int code = 0;
    for (int i = 9; i < 12; i++) {
        if (line[i] < '0' || line[i] > '9')
            return -1;
        code = code * 10 + (line[i] - '0');
    }
    *status = code;
    return 0;
}

int srv_cmd_healthcheck(const struct srv_config *cfg, int argc, char **argv)
{
    const char *path = "/healthz";
    if (argc == 2 && strcmp(argv[0], "--path") == 0 && argv[1][0] == '/' &&
        strcspn(argv[1], " \r\n") == strlen(argv[1]) && strlen(argv[1]) < 256) {
        path = argv[1];
    } else if (argc != 0) {
        fprintf(stderr, "usage: imgsvc healthcheck [--path /healthz|/readyz]\n");
        return 2;
    }
    if (cfg->port == 0) {
        fprintf(stderr, "imgsvc healthcheck: IMGSVC_PORT=0 (a random port) cannot be probed\n");
        return 1;
    }
    const char *host = probe_addr(cfg->listen_addr);
    char port[16];
    (void)snprintf(port, sizeof(port), "%lld", cfg->port);
    int rc = 1;
    int status = 0;
    int fd = hc_connect(host, port);
    if (fd < 0) {
        fprintf(stderr, "imgsvc healthcheck: cannot connect to %s port %s\n", host, port);
        goto cleanup;
    }
    if (hc_exchange(fd, host, path, &status) != 0) {
        fprintf(stderr, "imgsvc healthcheck: no HTTP answer from %s port %s\n", host, port);
        goto cleanup;
    }
    if (status != 200) {
        fprintf(stderr, "imgsvc healthcheck: GET %s answered %d\n", path, status);
        goto cleanup;
    }
    rc = 0;
cleanup:
    if (fd >= 0)
        close(fd);
    return rc;
}
