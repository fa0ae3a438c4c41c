/* The workloads every C client row runs, over a small driver interface.
 *
 * A row is one driver (raw_tcp.c, wsbridge.c, lws.c) linked with harness.c. The program speaks
 * the benchmark's worker protocol (bench/README.md): commands on stdin, one JSON line per command
 * on stdout. Python (clients/py) and C# (clients/cs) rows implement the same protocol. */
#ifndef BENCH_HARNESS_H
#define BENCH_HARNESS_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    /* Shown in errors. */
    const char *name;
    /* 1: talks WebSocket (URL path selects the mode); 0: raw TCP (the path is the first message). */
    int websocket;
    /* Connects (TCP, and the upgrade for WebSocket) and blocks until open. NULL on failure, with
     * bench_fail() called. */
    void *(*open)(const char *host, int port, const char *path);
    /* Sends one whole binary message. 0 on success, -1 on failure (bench_fail called). */
    int (*send)(void *conn, const uint8_t *data, size_t len);
    /* Receives one whole message into buf, blocking. Its length, or -1 (bench_fail called). */
    long (*recv)(void *conn, uint8_t *buf, size_t cap);
    /* Closes the connection (close handshake where there is one) and frees it. */
    void (*close)(void *conn);
    /* Optional (NULL: send/recv in a loop), for event-driven libraries whose natural way to
     * serve many connections is one pass of their loop: the same message on every connection,
     * then one message from every connection into `buf` (lengths in `lens`). 0 or -1. */
    int (*send_many)(void **conns, long n, const uint8_t *data, size_t len);
    int (*recv_many)(void **conns, long n, uint8_t *buf, size_t cap, long *lens);
} bench_driver;

/* The driver linked into this program. */
extern const bench_driver DRIVER;

/* Records why the current command failed (printf-style); the harness reports it. */
void bench_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Counts an event worth reporting with the current command (e.g. a send retried after
 * WSB_WOULD_BLOCK); reported as "retries". */
void bench_count_retry(void);

#endif
