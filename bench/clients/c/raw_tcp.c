/* The baseline row: blocking TCP with TCP_NODELAY, each message a 4-byte big-endian length and
 * the payload. The limit of this machine: one writev per send, and a buffered reader that takes
 * a small message in one read and reads the bulk of a large one straight into the caller's
 * buffer. The path (which selects the server's mode) rides in front of the first message.
 *
 * With RAW_SPIN_US set in the environment (the "spinning" row), a read that would wait first
 * tries non-blocking reads (recv with MSG_DONTWAIT) for up to that many microseconds, with the
 * CPU's spin-loop hint between them, and only then blocks: the same spin as wsbridge's waits,
 * without the adaptive rule (it always spins), the limit of a client that spins. */

#define _GNU_SOURCE
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <time.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define READ_AHEAD (64u << 10)

struct raw {
    int fd;
    char path[256];
    uint32_t path_len;
    int path_sent;
    uint8_t *rb; /* bytes read past the previous message: [rb_off, rb_len) */
    size_t rb_off, rb_len;
};

static int raw_connect(const char *host, int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        bench_fail("socket: %s", strerror(errno));
        return -1;
    }
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, host, &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        bench_fail("connect to %s:%d: %s", host, port, strerror(errno));
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static void *raw_open(const char *host, int port, const char *path) {
    int fd = raw_connect(host, port);
    if (fd < 0) return NULL;
    struct raw *r = calloc(1, sizeof *r);
    r->fd = fd;
    r->path_len = (uint32_t)strlen(path);
    memcpy(r->path, path, r->path_len < sizeof r->path ? r->path_len : sizeof r->path - 1);
    r->rb = malloc(READ_AHEAD);
    return r;
}

static int write_all(int fd, struct iovec *iov, int n) {
    while (n > 0) {
        ssize_t w = writev(fd, iov, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            bench_fail("writev: %s", strerror(errno));
            return -1;
        }
        while (n > 0 && (size_t)w >= iov->iov_len) w -= (ssize_t)iov->iov_len, iov++, n--;
        if (n > 0) iov->iov_base = (char *)iov->iov_base + w, iov->iov_len -= (size_t)w;
    }
    return 0;
}

static void be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

static int raw_send(void *conn, const uint8_t *data, size_t len) {
    struct raw *r = conn;
    uint8_t ph[4], h[4];
    be32(ph, r->path_len);
    be32(h, (uint32_t)len);
    struct iovec iov[4] = {{ph, 4}, {r->path, r->path_len}, {h, 4}, {(void *)data, len}};
    int first = r->path_sent ? 2 : 0;
    r->path_sent = 1;
    return write_all(r->fd, iov + first, 4 - first);
}

static long long spin_ns = -1; /* -1: not read from the environment yet */

static long long mono_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void spin_hint(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* RAW_SPIN_US: non-blocking reads for up to that long before a blocking one. */
static ssize_t spin_read(int fd, void *dst, size_t cap) {
    if (spin_ns < 0) spin_ns = getenv("RAW_SPIN_US") ? atoll(getenv("RAW_SPIN_US")) * 1000 : 0;
    if (spin_ns == 0) {
        errno = EAGAIN;
        return -1;
    }
    long long end = mono_ns() + spin_ns;
    for (;;) {
        ssize_t n = recv(fd, dst, cap, MSG_DONTWAIT);
        if (n >= 0 || (errno != EAGAIN && errno != EINTR)) return n;
        for (int i = 0; i < 16; i++) spin_hint();
        if (mono_ns() >= end) break;
    }
    errno = EAGAIN;
    return -1;
}

/* Reads at least one byte into dst; -1 on EOF or error. */
static ssize_t read_some(struct raw *r, void *dst, size_t cap) {
    ssize_t n = spin_read(r->fd, dst, cap);
    if (n > 0) return n;
    if (n == 0 || errno != EAGAIN) {
        bench_fail(n == 0 ? "the server closed the connection" : "recv: %s", strerror(errno));
        return -1;
    }
    for (;;) {
        ssize_t n = read(r->fd, dst, cap);
        if (n > 0) return n;
        if (n < 0 && errno == EINTR) continue;
        bench_fail(n == 0 ? "the server closed the connection" : "read: %s", strerror(errno));
        return -1;
    }
}

static long raw_recv(void *conn, uint8_t *buf, size_t cap) {
    struct raw *r = conn;
    if (r->rb_off == r->rb_len) r->rb_off = r->rb_len = 0;
    while (r->rb_len - r->rb_off < 4) {
        if (r->rb_off > 0) {
            memmove(r->rb, r->rb + r->rb_off, r->rb_len - r->rb_off);
            r->rb_len -= r->rb_off;
            r->rb_off = 0;
        }
        ssize_t n = read_some(r, r->rb + r->rb_len, READ_AHEAD - r->rb_len);
        if (n < 0) return -1;
        r->rb_len += (size_t)n;
    }
    const uint8_t *h = r->rb + r->rb_off;
    size_t len = (size_t)h[0] << 24 | (size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3];
    if (len > cap) {
        bench_fail("a %zu-byte message does not fit the %zu-byte buffer", len, cap);
        return -1;
    }
    r->rb_off += 4;
    size_t have = r->rb_len - r->rb_off < len ? r->rb_len - r->rb_off : len;
    memcpy(buf, r->rb + r->rb_off, have);
    r->rb_off += have;
    while (have < len) {
        ssize_t n = read_some(r, buf + have, len - have);
        if (n < 0) return -1;
        have += (size_t)n;
    }
    return (long)len;
}

static void raw_close(void *conn) {
    struct raw *r = conn;
    close(r->fd);
    free(r->rb);
    free(r);
}

const bench_driver DRIVER = {"raw TCP", 0, raw_open, raw_send, raw_recv, raw_close, NULL, NULL};
