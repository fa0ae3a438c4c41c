/* The benchmark's echo server: one thread, epoll, WebSocket on one port and length-prefixed raw
 * TCP on another, so that every client row meets the same server and the server is never the
 * bottleneck (no copy of a message, one read and one write per message in lockstep).
 *
 *     echod            prints "PORT <websocket port> <raw tcp port>", serves 127.0.0.1 until
 *                      its standard input closes
 *
 * The framings and the modes are described in conn.h. */

#define _GNU_SOURCE
#include "conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define INITIAL_BUFFER (64u << 10)
#define SOURCE_BATCH (256u << 10)

/* What an epoll event points at: one of the three static tags below, or a `struct conn`. */
enum kind { K_LISTEN_WS, K_LISTEN_RAW, K_STDIN };
struct tag {
    enum kind kind;
    int fd;
};

static int ep;

static void die(const char *what) {
    perror(what);
    exit(1);
}

/* ---- modes --------------------------------------------------------------------------------- */

int conn_route(struct conn *c, const char *path, size_t len) {
    char p[256];
    if (len >= sizeof p) return -1;
    memcpy(p, path, len);
    p[len] = 0;
    unsigned long long size, count, us;
    if (sscanf(p, "/delay/%llu", &us) == 1) {
        c->mode = MODE_DELAY;
        c->delay_ns = (long long)us * 1000;
    } else if (strncmp(p, "/echo", 5) == 0) {
        c->mode = MODE_ECHO;
    } else if (strcmp(p, "/sink") == 0) {
        c->mode = MODE_SINK;
    } else if (sscanf(p, "/source/%llu/%llu", &size, &count) == 2 && size <= MAX_MESSAGE) {
        c->mode = MODE_SOURCE;
        c->src_size = (size_t)size;
        c->src_count = count;
    } else {
        return -1;
    }
    return 0;
}

/* Builds the batch of whole frames a source connection cycles through. */
static int source_arm(struct conn *c) {
    uint8_t hdr[10];
    size_t h, n = c->src_size;
    if (c->proto == PROTO_RAW) {
        hdr[0] = (uint8_t)(n >> 24), hdr[1] = (uint8_t)(n >> 16), hdr[2] = (uint8_t)(n >> 8), hdr[3] = (uint8_t)n;
        h = 4;
    } else if (n < 126) {
        hdr[0] = 0x82, hdr[1] = (uint8_t)n;
        h = 2;
    } else if (n < 65536) {
        hdr[0] = 0x82, hdr[1] = 126, hdr[2] = (uint8_t)(n >> 8), hdr[3] = (uint8_t)n;
        h = 4;
    } else {
        hdr[0] = 0x82, hdr[1] = 127;
        for (int i = 0; i < 8; i++) hdr[2 + i] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
        h = 10;
    }
    size_t frame = h + n, k = frame >= SOURCE_BATCH ? 1 : SOURCE_BATCH / frame;
    c->batch_len = k * frame;
    c->batch = malloc(c->batch_len);
    if (!c->batch) return -1;
    for (size_t i = 0; i < k; i++) {
        uint8_t *f = c->batch + i * frame;
        memcpy(f, hdr, h);
        for (size_t j = 0; j < n; j++) f[h + j] = (uint8_t)(j * 31 + 7);
    }
    c->src_total = c->src_count * frame;
    c->src_sent = 0;
    c->src_armed = 1;
    return 0;
}

void conn_on_data(struct conn *c, const uint8_t *frame, size_t frame_len, size_t payload_len, int whole) {
    switch (c->mode) {
    case MODE_DELAY:
        c->hold = 1;
        /* fall through */
    case MODE_ECHO:
        c->out = frame;
        c->out_len = frame_len;
        break;
    case MODE_SINK:
        if (payload_len == 0 && whole) {
            c->out = frame;
            c->out_len = frame_len;
        }
        break;
    case MODE_SOURCE: /* called only once the previous burst is written: start the next one */
        if (!c->batch && source_arm(c) != 0) c->close_after = 1;
        c->src_sent = 0;
        break;
    case MODE_NONE:
        break;
    }
}

/* ---- connections --------------------------------------------------------------------------- */

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* MODE_DELAY: connections whose echo waits for its time, in no particular order. */
static struct conn *held;

static void unhold(struct conn *c) {
    for (struct conn **p = &held; *p; p = &(*p)->held_next)
        if (*p == c) {
            *p = c->held_next;
            return;
        }
}

static void conn_close(struct conn *c) {
    unhold(c);
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c->buf);
    free(c->batch);
    free(c);
}

static void watch(struct conn *c, uint32_t events) {
    struct epoll_event ev = {.events = events, .data.ptr = c};
    if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) != 0) die("epoll_ctl");
}

/* Writes the pending output, then the source stream. 1: all written, 0: would block, -1: error. */
static int flush(struct conn *c) {
    for (;;) {
        if (c->out_len == 0) {
            if (!c->src_armed || c->src_sent == c->src_total) return 1;
            size_t off = (size_t)(c->src_sent % c->batch_len);
            uint64_t left = c->src_total - c->src_sent;
            c->out = c->batch + off;
            c->out_len = c->batch_len - off < left ? c->batch_len - off : (size_t)left;
            c->out_is_source = 1;
        }
        ssize_t n = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno == EAGAIN ? 0 : -1;
        }
        c->out += n;
        c->out_len -= (size_t)n;
        if (c->out_is_source) {
            c->src_sent += (uint64_t)n;
            if (c->out_len == 0) c->out_is_source = 0;
        }
    }
}

/* Writes what is pending and echoes every complete message in the buffer. 0: keep, -1: close. */
static int process(struct conn *c) {
    for (;;) {
        int f = flush(c);
        if (f < 0) return -1;
        if (f == 0) {
            if (!c->blocked) watch(c, EPOLLOUT);
            c->blocked = 1;
            return 0;
        }
        if (c->close_after) return -1;
        enum step s = c->proto == PROTO_WS ? ws_next(c) : raw_next(c);
        if (s == STEP_FAIL) return -1;
        if (s == STEP_NEED) break;
        if (c->hold) { /* MODE_DELAY: the echo goes out at due_ns (see main) */
            c->hold = 0;
            c->due_ns = now_ns() + c->delay_ns;
            c->held_next = held;
            held = c;
            watch(c, 0);
            return 0;
        }
    }
    if (c->blocked) {
        watch(c, EPOLLIN);
        c->blocked = 0;
    }
    /* Make room for the next message: drop what was consumed, grow to what it needs. */
    if (c->parse == c->len) {
        c->parse = c->len = 0;
    } else if (c->parse > 0 && c->cap - c->parse < c->need + 1) {
        memmove(c->buf, c->buf + c->parse, c->len - c->parse);
        c->len -= c->parse;
        c->parse = 0;
    }
    if (c->need + 1 > c->cap) {
        size_t cap = c->cap;
        while (cap < c->need + 1) cap *= 2;
        uint8_t *b = realloc(c->buf, cap);
        if (!b) return -1;
        c->buf = b;
        c->cap = cap;
    }
    return 0;
}

static int on_event(struct conn *c, uint32_t events) {
    if (c->blocked) {
        if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return 0;
        return process(c);
    }
    if (!c->buf) {
        c->buf = malloc(INITIAL_BUFFER);
        if (!c->buf) return -1;
        c->cap = INITIAL_BUFFER;
    }
    /* One read per readiness event: epoll is level-triggered, so anything left is reported again,
     * and a lockstep round trip costs no read that returns EAGAIN. One byte stays spare. */
    ssize_t n = read(c->fd, c->buf + c->len, c->cap - c->len - 1);
    if (n == 0) return -1;
    if (n < 0) return errno == EAGAIN || errno == EINTR ? 0 : -1;
    c->len += (size_t)n;
    return process(c);
}

static void accept_all(struct tag *l) {
    for (;;) {
        int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED) return;
            if (errno == EMFILE || errno == ENFILE) {
                fprintf(stderr, "echod: accept: %s (raise ulimit -n)\n", strerror(errno));
                return;
            }
            die("accept4");
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct conn *c = calloc(1, sizeof *c);
        if (!c) die("calloc");
        c->fd = fd;
        c->proto = l->kind == K_LISTEN_WS ? PROTO_WS : PROTO_RAW;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) die("epoll_ctl");
    }
}

static int listen_on(struct tag *t) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket");
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 4096) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &alen) != 0)
        die("listen");
    t->fd = fd;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = t};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) die("epoll_ctl");
    return ntohs(a.sin_port);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) die("epoll_create1");
    static struct tag ws = {K_LISTEN_WS, -1}, raw = {K_LISTEN_RAW, -1}, in = {K_STDIN, 0};
    int ws_port = listen_on(&ws), raw_port = listen_on(&raw);
    struct epoll_event sev = {.events = EPOLLIN, .data.ptr = &in};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, 0, &sev) != 0) die("epoll_ctl(stdin)");
    printf("PORT %d %d\n", ws_port, raw_port);
    fflush(stdout);
    struct epoll_event events[256];
    for (;;) {
        int timeout = -1;
        for (struct conn *c = held; c; c = c->held_next) {
            long long ms = (c->due_ns - now_ns() + 999999) / 1000000;
            if (timeout < 0 || ms < timeout) timeout = ms < 0 ? 0 : (int)ms;
        }
        int n = epoll_wait(ep, events, 256, timeout);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("epoll_wait");
        }
        for (int i = 0; i < n; i++) {
            void *p = events[i].data.ptr;
            if (p == &ws || p == &raw) {
                accept_all(p);
            } else if (p == &in) {
                char sink[256];
                if (read(0, sink, sizeof sink) <= 0) return 0; /* stdin closed: stop */
            } else if (on_event(p, events[i].events) < 0) {
                conn_close(p);
            }
        }
        for (struct conn **pp = &held; *pp;) {
            struct conn *c = *pp;
            if (c->due_ns > now_ns()) {
                pp = &c->held_next;
                continue;
            }
            *pp = c->held_next;
            watch(c, EPOLLIN);
            if (process(c) < 0) conn_close(c);
        }
    }
}
