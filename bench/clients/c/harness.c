/* The worker protocol and the workloads, shared by every C row (see harness.h, bench/README.md). */

#define _GNU_SOURCE
#include "harness.h"
#include "../../../tests/common/c/proc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define SMALL 64
#define HOST "127.0.0.1"

static int ws_port, raw_port;
static char error[1024];
static long retries;

void bench_fail(const char *fmt, ...) {
    if (error[0]) return; /* keep the first cause */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(error, sizeof error, fmt, ap);
    va_end(ap);
}

void bench_count_retry(void) { retries++; }

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* CPU time of the whole process (every thread: wsbridge's I/O thread too), in seconds. */
static double cpu_seconds(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

static void *open_path(const char *path) {
    return DRIVER.open(HOST, DRIVER.websocket ? ws_port : raw_port, path);
}

static uint8_t *pattern(size_t n) {
    uint8_t *p = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(i * 7 + 3);
    return p;
}

/* Receives one message and checks its size (and content when `want` is given). */
static int expect(void *c, uint8_t *buf, size_t size, const uint8_t *want) {
    long n = DRIVER.recv(c, buf, size + 1);
    if (n < 0) return -1;
    if ((size_t)n != size) {
        bench_fail("expected a %zu-byte message, got %ld bytes", size, n);
        return -1;
    }
    if (want && memcmp(buf, want, size) != 0) {
        bench_fail("the echo of a %zu-byte message differs from what was sent", size);
        return -1;
    }
    return 0;
}

/* The samples, and (cpu >= 0) the process's CPU seconds over them. */
static void print_samples(const long long *s, long n, double cpu) {
    printf("{\"samples_ns\":[");
    for (long i = 0; i < n; i++) printf(i ? ",%lld" : "%lld", s[i]);
    printf("]");
    if (cpu >= 0) printf(",\"cpu_seconds\":%.6f", cpu);
    printf("}\n");
}

static int cmd_rtt(size_t size, long count, long warmup, double maxsec) {
    void *c = open_path("/echo");
    if (!c) return -1;
    uint8_t *out = pattern(size), *in = malloc(size + 1);
    long long *samples = malloc(sizeof *samples * (size_t)(count > 0 ? count : 1));
    long k = 0;
    int rc = 0;
    for (long i = 0; i < warmup && rc == 0; i++)
        rc = DRIVER.send(c, out, size) || expect(c, in, size, i == 0 ? out : NULL);
    double start = now(), cpu0 = cpu_seconds();
    while (rc == 0 && k < count) {
        long long t0 = now_ns();
        if (DRIVER.send(c, out, size) || expect(c, in, size, NULL)) {
            rc = -1;
            break;
        }
        samples[k++] = now_ns() - t0;
        if (now() - start > maxsec) break;
    }
    double cpu = cpu_seconds() - cpu0;
    DRIVER.close(c);
    if (rc == 0) print_samples(samples, k, cpu);
    free(out);
    free(in);
    free(samples);
    return rc;
}

static int cmd_upload(size_t size, long count, double maxsec) {
    void *c = open_path("/sink");
    if (!c) return -1;
    uint8_t *out = pattern(size), *in = malloc(size + 1);
    long sent = 0;
    int rc = 0;
    double t0 = now();
    for (; sent < count; sent++) {
        if (DRIVER.send(c, out, size)) {
            rc = -1;
            break;
        }
        if ((sent & 15) == 0 && now() - t0 > maxsec) break;
    }
    if (rc == 0) rc = DRIVER.send(c, out, 0) || expect(c, in, 0, NULL); /* done marker, echoed */
    double t = now() - t0;
    DRIVER.close(c);
    if (rc == 0)
        printf("{\"messages\":%ld,\"bytes\":%.0f,\"seconds\":%.9f,\"retries\":%ld}\n", sent,
               (double)sent * (double)size, t, retries);
    free(out);
    free(in);
    return rc;
}

/* Bursts of `burst` messages from the server, each asked for with an empty message, until
 * `maxsec` has passed. */
static int cmd_download(size_t size, long burst, double maxsec) {
    char path[64];
    snprintf(path, sizeof path, "/source/%zu/%ld", size, burst);
    void *c = open_path(path);
    if (!c) return -1;
    uint8_t *in = malloc(size + 1), *go = pattern(0);
    long got = 0;
    int rc = 0;
    double t0 = now();
    do {
        rc = DRIVER.send(c, go, 0);
        for (long i = 0; rc == 0 && i < burst; i++, got++)
            if (expect(c, in, size, NULL)) rc = -1;
    } while (rc == 0 && now() - t0 < maxsec);
    double t = now() - t0;
    if (rc == 0 && size > 1 && in[1] != 38) rc = -1, bench_fail("downloaded payload is not the source pattern");
    DRIVER.close(c);
    if (rc == 0)
        printf("{\"messages\":%ld,\"bytes\":%.0f,\"seconds\":%.9f}\n", got, (double)got * (double)size, t);
    free(in);
    free(go);
    return rc;
}

/* A game waiting on a slow trainer: round trips of `size` bytes to /delay/US (the echo comes
 * back `delay_us` later) for `maxsec`; the process's CPU seconds over them. */
static int cmd_wait(size_t size, long delay_us, double maxsec) {
    char path[64];
    snprintf(path, sizeof path, "/delay/%ld", delay_us);
    void *c = open_path(path);
    if (!c) return -1;
    uint8_t *out = pattern(size), *in = malloc(size + 1);
    int rc = DRIVER.send(c, out, size) || expect(c, in, size, out); /* warm-up, checked */
    long k = 0;
    double t0 = now(), cpu0 = cpu_seconds();
    while (rc == 0 && now() - t0 < maxsec) {
        rc = DRIVER.send(c, out, size) || expect(c, in, size, NULL);
        k++;
    }
    double t = now() - t0, cpu = cpu_seconds() - cpu0;
    DRIVER.close(c);
    if (rc == 0) printf("{\"messages\":%ld,\"seconds\":%.9f,\"cpu_seconds\":%.6f}\n", k, t, cpu);
    free(out);
    free(in);
    return rc;
}

/* Opens n connections; NULL (all closed again) on failure. */
static void **open_many(long n) {
    void **cs = calloc((size_t)n, sizeof *cs);
    for (long i = 0; i < n; i++)
        if (!(cs[i] = open_path("/echo"))) {
            for (long j = 0; j < i; j++) DRIVER.close(cs[j]);
            free(cs);
            return NULL;
        }
    return cs;
}

static void close_many(void **cs, long n) {
    for (long i = 0; i < n; i++) DRIVER.close(cs[i]);
    free(cs);
}

/* One lockstep round: a small message on every connection, then every echo. */
static int round_trip_all(void **cs, long n, const uint8_t *out, uint8_t *in) {
    if (DRIVER.send_many) {
        if (DRIVER.send_many(cs, n, out, SMALL)) return -1;
    } else {
        for (long i = 0; i < n; i++)
            if (DRIVER.send(cs[i], out, SMALL)) return -1;
    }
    if (!DRIVER.recv_many) {
        for (long i = 0; i < n; i++)
            if (expect(cs[i], in, SMALL, NULL)) return -1;
        return 0;
    }
    long *lens = malloc(sizeof *lens * (size_t)n);
    int rc = DRIVER.recv_many(cs, n, in, SMALL + 1, lens);
    for (long i = 0; rc == 0 && i < n; i++)
        if (lens[i] != SMALL) rc = -1, bench_fail("expected a %d-byte message, got %ld bytes", SMALL, lens[i]);
    free(lens);
    return rc;
}

static int cmd_conns(long n, long rounds, double maxsec) {
    uint8_t *out = pattern(SMALL), in[SMALL + 1];
    double t0 = now();
    void **cs = open_many(n);
    if (!cs) return free(out), -1;
    double connected = now() - t0;
    int rc = round_trip_all(cs, n, out, in);
    long r = 0;
    double t1 = now();
    while (rc == 0 && r < rounds) {
        rc = round_trip_all(cs, n, out, in);
        r++;
        if (now() - t1 > maxsec) break;
    }
    double t = now() - t1;
    long threads = count_threads();
    close_many(cs, n);
    free(out);
    if (rc == 0)
        printf("{\"connections\":%ld,\"rounds\":%ld,\"messages\":%ld,\"seconds\":%.9f,"
               "\"threads\":%ld,\"connect_seconds\":%.6f}\n",
               n, r, n * r, t, threads, connected);
    return rc;
}

static int cmd_connect(long count, double maxsec) {
    long long *samples = malloc(sizeof *samples * (size_t)(count > 0 ? count : 1));
    long k = 0;
    double start = now();
    while (k < count) {
        long long t0 = now_ns();
        void *c = open_path("/echo");
        if (!c) return free(samples), -1;
        samples[k++] = now_ns() - t0;
        DRIVER.close(c);
        if (now() - start > maxsec) break;
    }
    print_samples(samples, k, -1);
    free(samples);
    return 0;
}

static int cmd_idle(long n) {
    uint8_t *out = pattern(SMALL), in[SMALL + 1];
    long threads0 = count_threads(), rss0 = proc_kib("VmRSS"), fds0 = count_fds();
    void **cs = open_many(n);
    if (!cs) return free(out), -1;
    int rc = round_trip_all(cs, n, out, in);
    long threads1 = count_threads(), rss1 = proc_kib("VmRSS"), fds1 = count_fds();
    close_many(cs, n);
    free(out);
    if (rc == 0)
        printf("{\"connections\":%ld,\"threads_before\":%ld,\"threads_after\":%ld,"
               "\"rss_kb_before\":%ld,\"rss_kb_after\":%ld,\"fds_before\":%ld,\"fds_after\":%ld}\n",
               n, threads0, threads1, rss0, rss1, fds0, fds1);
    return rc;
}

static void print_error(void) {
    printf("{\"error\":\"");
    for (const char *p = error[0] ? error : "failed without a message"; *p; p++) {
        if (*p == '"' || *p == '\\') putchar('\\');
        putchar((unsigned char)*p < 0x20 ? ' ' : *p);
    }
    printf("\"}\n");
}

int main(int argc, char **argv) {
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--ws-port") == 0) ws_port = atoi(argv[i + 1]);
        if (strcmp(argv[i], "--raw-port") == 0) raw_port = atoi(argv[i + 1]);
    }
    if (!ws_port || !raw_port) {
        fprintf(stderr, "usage: %s --ws-port N --raw-port N  (then commands on stdin, see bench/README.md)\n",
                argv[0]);
        return 2;
    }
    char line[256];
    while (fgets(line, sizeof line, stdin)) {
        char cmd[32] = "";
        double a = 0, b = 0, c = 1e9, d = 1e9; /* arguments: see bench/README.md */
        int n = sscanf(line, "%31s %lf %lf %lf %lf", cmd, &a, &b, &c, &d);
        if (n < 1) continue;
        error[0] = 0;
        retries = 0;
        int rc;
        if (strcmp(cmd, "quit") == 0) break;
        if (strcmp(cmd, "rtt") == 0 && n >= 4)
            rc = cmd_rtt((size_t)a, (long)b, (long)c, d);
        else if (strcmp(cmd, "upload") == 0 && n >= 3)
            rc = cmd_upload((size_t)a, (long)b, c);
        else if (strcmp(cmd, "download") == 0 && n >= 3)
            rc = cmd_download((size_t)a, (long)b, c);
        else if (strcmp(cmd, "conns") == 0 && n >= 3)
            rc = cmd_conns((long)a, (long)b, c);
        else if (strcmp(cmd, "connect") == 0 && n >= 2)
            rc = cmd_connect((long)a, n >= 3 ? b : 1e9);
        else if (strcmp(cmd, "wait") == 0 && n >= 4)
            rc = cmd_wait((size_t)a, (long)b, c);
        else if (strcmp(cmd, "idle") == 0 && n >= 2)
            rc = cmd_idle((long)a);
        else
            rc = -1, bench_fail("%s: unknown command or missing arguments: %s", DRIVER.name, cmd);
        if (rc != 0) print_error();
        fflush(stdout);
    }
    return 0;
}
