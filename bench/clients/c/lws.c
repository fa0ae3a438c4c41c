/* The libwebsockets row: its C client (Debian libwebsockets-dev), one context and one thread,
 * used the way lws asks to be used: writes only from the WRITEABLE callback (after
 * lws_callback_on_writable), data delivered in RECEIVE callbacks and reassembled here, the event
 * loop driven by lws_service().
 *
 * Configured as a user who reads the lws docs for throughput would: the defaults (4 KiB service
 * buffer, 4 KiB receive chunks, sends cut to 4 KiB with the rest buffered) are raised to 128 KiB,
 * as lws-context-vhost.h suggests. A whole message is one lws_write (one frame); what the socket
 * does not take at once lws buffers and drains on POLLOUT.
 *
 * Blocking calls on top of the event loop: send and recv service the context until their
 * message is written or received. A message that arrives for a connection nobody is waiting on
 * (lockstep over many connections) is kept in that connection's backlog. */

#include "harness.h"

#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK (128u << 10)

enum lstate { CONNECTING, OPEN, FAILED, CLOSED };

struct msg {
    struct msg *next;
    size_t len;
    uint8_t data[];
};

struct lconn {
    struct lws *wsi;
    enum lstate state;
    char err[256];
    /* receiving: 0 between messages, 1 straight into the waiting caller's buffer, 2 into `acc` */
    int in_msg;
    int want;
    uint8_t *dest;
    size_t cap, got;
    int overflow;
    uint8_t *acc;
    size_t acc_len, acc_cap;
    struct msg *head, *tail;
    /* sending: LWS_PRE bytes of headroom, then the message */
    uint8_t *tx;
    size_t tx_cap, tx_len;
    int tx_pending;
    int closing;
};

static struct lws_context *ctx;

static void grow(uint8_t **p, size_t *cap, size_t need) {
    if (need <= *cap) return;
    size_t c = *cap ? *cap : 4096;
    while (c < need) c *= 2;
    *p = realloc(*p, c);
    *cap = c;
}

static void on_receive(struct lconn *c, struct lws *wsi, const uint8_t *in, size_t len) {
    if (c->in_msg == 0) c->in_msg = c->want && !c->head ? 1 : 2;
    int final = lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0;
    if (c->in_msg == 1) {
        if (c->got + len > c->cap)
            c->overflow = 1;
        else
            memcpy(c->dest + c->got, in, len);
        c->got += len;
        if (final) c->want = 0, c->in_msg = 0;
        return;
    }
    grow(&c->acc, &c->acc_cap, c->acc_len + len);
    memcpy(c->acc + c->acc_len, in, len);
    c->acc_len += len;
    if (final) {
        struct msg *m = malloc(sizeof *m + c->acc_len);
        m->next = NULL;
        m->len = c->acc_len;
        memcpy(m->data, c->acc, c->acc_len);
        if (c->tail)
            c->tail->next = m;
        else
            c->head = m;
        c->tail = m;
        c->acc_len = 0;
        c->in_msg = 0;
    }
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len) {
    (void)user;
    struct lconn *c = lws_get_opaque_user_data(wsi);
    if (!c) return 0;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        c->state = OPEN;
        break;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        snprintf(c->err, sizeof c->err, "%s", in ? (const char *)in : "connection error");
        c->state = FAILED;
        lws_set_opaque_user_data(wsi, NULL);
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        on_receive(c, wsi, in, len);
        break;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        if (c->closing) {
            lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
            return -1;
        }
        if (c->tx_pending) {
            c->tx_pending = 0;
            if (lws_write(wsi, c->tx + LWS_PRE, c->tx_len, LWS_WRITE_BINARY) < (int)c->tx_len) {
                snprintf(c->err, sizeof c->err, "lws_write failed");
                return -1;
            }
        }
        break;
    case LWS_CALLBACK_CLIENT_CLOSED:
    case LWS_CALLBACK_WSI_DESTROY:
        if (c->state == OPEN || c->state == CONNECTING) c->state = c->closing ? CLOSED : FAILED;
        if (c->state == FAILED && !c->err[0]) snprintf(c->err, sizeof c->err, "connection closed");
        if (c->closing) c->state = CLOSED;
        lws_set_opaque_user_data(wsi, NULL);
        break;
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols protocols[] = {
    {"bench", callback, 0, CHUNK, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void *bench_lws_open(const char *host, int port, const char *path) {
    if (!ctx) {
        lws_set_log_level(LLL_ERR, NULL);
        struct lws_context_creation_info info;
        memset(&info, 0, sizeof info);
        info.port = CONTEXT_PORT_NO_LISTEN;
        info.protocols = protocols;
        info.pt_serv_buf_size = CHUNK;
        ctx = lws_create_context(&info);
        if (!ctx) {
            bench_fail("lws_create_context failed");
            return NULL;
        }
    }
    struct lconn *c = calloc(1, sizeof *c);
    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof ci);
    ci.context = ctx;
    ci.address = host;
    ci.port = port;
    ci.path = path;
    ci.host = host;
    ci.origin = host;
    ci.local_protocol_name = "bench";
    ci.opaque_user_data = c;
    ci.pwsi = &c->wsi;
    if (!lws_client_connect_via_info(&ci)) {
        bench_fail("lws_client_connect_via_info failed for %s:%d%s", host, port, path);
        free(c);
        return NULL;
    }
    while (c->state == CONNECTING) lws_service(ctx, 0);
    if (c->state != OPEN) {
        bench_fail("libwebsockets could not connect to %s:%d%s: %s", host, port, path, c->err);
        free(c); /* lws has dropped its reference (opaque data cleared on destroy) */
        return NULL;
    }
    return c;
}

static void queue_send(struct lconn *c, const uint8_t *data, size_t len) {
    grow(&c->tx, &c->tx_cap, LWS_PRE + len);
    memcpy(c->tx + LWS_PRE, data, len);
    c->tx_len = len;
    c->tx_pending = 1;
    lws_callback_on_writable(c->wsi);
}

/* Services the context until the queued message of `c` is written. 0 or -1. */
static int sent(struct lconn *c) {
    while (c->tx_pending && c->state == OPEN) lws_service(ctx, 0);
    if (c->state != OPEN) {
        bench_fail("libwebsockets: connection lost while sending: %s", c->err);
        return -1;
    }
    return 0;
}

static int bench_lws_send(void *conn, const uint8_t *data, size_t len) {
    queue_send(conn, data, len);
    return sent(conn);
}

/* Takes the oldest message of the backlog into buf. */
static long take_backlog(struct lconn *c, uint8_t *buf, size_t cap) {
    struct msg *m = c->head;
    if (m->len > cap) {
        bench_fail("a %zu-byte message does not fit the %zu-byte buffer", m->len, cap);
        return -1;
    }
    c->head = m->next;
    if (!c->head) c->tail = NULL;
    memcpy(buf, m->data, m->len);
    long n = (long)m->len;
    free(m);
    return n;
}

static void want(struct lconn *c, uint8_t *buf, size_t cap) {
    c->dest = buf;
    c->cap = cap;
    c->got = 0;
    c->overflow = 0;
    c->want = 1;
}

/* Services the context until the message the caller waits for (see `want`) is in, or the
 * backlog has one; that message. */
static long received(struct lconn *c, uint8_t *buf, size_t cap) {
    while (c->want && !c->head && c->state == OPEN) lws_service(ctx, 0);
    if (c->want) {
        c->want = 0;
        if (c->head) return take_backlog(c, buf, cap);
        bench_fail("libwebsockets: connection lost while receiving: %s", c->err);
        return -1;
    }
    if (c->overflow) {
        bench_fail("a %zu-byte message does not fit the %zu-byte buffer", c->got, cap);
        return -1;
    }
    return (long)c->got;
}

static long bench_lws_recv(void *conn, uint8_t *buf, size_t cap) {
    struct lconn *c = conn;
    if (c->head) return take_backlog(c, buf, cap);
    want(c, buf, cap);
    return received(c, buf, cap);
}

/* Lockstep over many connections, the lws way: ask for WRITEABLE on all, one service loop. */
static int bench_lws_send_many(void **conns, long n, const uint8_t *data, size_t len) {
    for (long i = 0; i < n; i++) queue_send(conns[i], data, len);
    for (long i = 0; i < n; i++)
        if (sent(conns[i]) != 0) return -1;
    return 0;
}

static int bench_lws_recv_many(void **conns, long n, uint8_t *buf, size_t cap, long *lens) {
    for (long i = 0; i < n; i++) {
        struct lconn *c = conns[i];
        lens[i] = -2; /* not received yet */
        if (c->head)
            lens[i] = take_backlog(c, buf, cap);
        else
            want(c, buf, cap);
    }
    for (long i = 0; i < n; i++) {
        struct lconn *c = conns[i];
        if (lens[i] != -2) continue;
        lens[i] = received(c, buf, cap);
        if (lens[i] < 0) return -1;
    }
    return 0;
}

static void bench_lws_close(void *conn) {
    struct lconn *c = conn;
    if (c->state == OPEN) {
        c->closing = 1;
        lws_callback_on_writable(c->wsi);
        while (c->state == OPEN) lws_service(ctx, 0);
    }
    while (c->head) {
        struct msg *m = c->head;
        c->head = m->next;
        free(m);
    }
    free(c->acc);
    free(c->tx);
    free(c);
}

const bench_driver DRIVER = {"libwebsockets",  1,
                             bench_lws_open,   bench_lws_send,     bench_lws_recv,
                             bench_lws_close,  bench_lws_send_many, bench_lws_recv_many};
