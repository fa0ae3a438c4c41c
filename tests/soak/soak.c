/*
 * The game side of `make soak`: many connections, many messages, every one checked.
 *
 *     soak PORT CONNECTIONS MESSAGES SEED
 *
 * One thread per connection to ws://127.0.0.1:PORT/soak/<conn>?seed=SEED&n=MESSAGES
 * (tests/soak/soak_trainer.py). Message i of connection c has a kind, a size from 0 B to 256 KiB
 * and content derived from (SEED, c, i), as the trainer derives them; the trainer checks each
 * one byte for byte and echoes it, and this program checks every echo the same way, in order,
 * with up to WINDOW messages in flight. RSS (VmRSS, /proc/self/status) is sampled once all
 * connections are open, when half of the messages came back, and when all did. From start to
 * end it may grow by what can legitimately be in flight (per connection WINDOW messages of at
 * most 256 KiB each way plus one frame being read; the allocator keeps that memory for reuse)
 * plus SLACK_MIB; from half-way to the end, while a million more messages pass, by SLACK_MIB
 * at most: memory that grew with traffic would be a leak. Prints one summary line; exits 0 when everything arrived exactly once.
 */
#define _GNU_SOURCE

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/c/proc.h"
#include "wsbridge.h"

#define MAX_SIZE (256 * 1024)
#define POOL_SIZE (2 * MAX_SIZE)
#define WINDOW 4
#define SLACK_MIB 32

static uint8_t raw_pool[POOL_SIZE], text_pool[POOL_SIZE];
static int port, messages;
static uint64_t seed;
static pthread_barrier_t all_open, all_done;
static long half_of_all, received_so_far;
static pthread_mutex_t half_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t half_way = PTHREAD_COND_INITIALIZER;
static int failed_flag;

static int any_failed(void) {
    return __atomic_load_n(&failed_flag, __ATOMIC_RELAXED);
}

/* splitmix64's finaliser: tests/soak/soak_trainer.py has the same function. */
static uint64_t mix(uint64_t x) {
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

static void make_pools(void) {
    for (uint64_t i = 0; i < POOL_SIZE / 8; i++) {
        uint64_t v = mix(seed ^ (i << 20));
        for (int b = 0; b < 8; b++) raw_pool[i * 8 + b] = (uint8_t)(v >> (8 * b));
    }
    for (size_t i = 0; i < POOL_SIZE; i++) text_pool[i] = (uint8_t)('a' + raw_pool[i] % 26);
}

struct message {
    const uint8_t *data;
    size_t size;
    uint32_t kind;
};

static struct message expected(uint64_t conn, uint64_t index) {
    uint64_t r = mix(seed ^ (conn << 40) ^ index);
    uint64_t size_class = (r >> 1) % 20; /* 0: empty; k: 2^(k-1) to 2^k bytes; 19: 256 KiB */
    size_t size = 0;
    if (size_class > 0) {
        uint64_t low = 1ULL << (size_class - 1);
        size = (size_t)(low + (r >> 8) % (low + 1));
        if (size > MAX_SIZE) size = MAX_SIZE;
    }
    size_t offset = (size_t)((r >> 32) % (POOL_SIZE - size + 1));
    int text = (int)(r & 1);
    return (struct message){(text ? text_pool : raw_pool) + offset, size, text ? WSB_TEXT : WSB_BINARY};
}

struct worker {
    int conn;
    long received;
    unsigned long long bytes;
    char error[512];
};

static void *run(void *arg) {
    struct worker *w = arg;
    char url[160], msg[256];
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/soak/%d?seed=%llu&n=%d", port, w->conn,
             (unsigned long long)seed, messages);
    wsb_handle h = 0;
    wsb_result r = wsb_connect(url, "{\"max_message_size\": 262144}", &h);
    if (r != WSB_OK) {
        wsb_last_error(msg, sizeof msg);
        snprintf(w->error, sizeof w->error, "connect: %s %s", wsb_result_name(r), msg);
    }
    uint8_t *buf = malloc(MAX_SIZE); /* before the first RSS sample: the game's own buffer */
    memset(buf, 0xa5, MAX_SIZE); /* touched, so it counts in RSS from the start */
    pthread_barrier_wait(&all_open);
    long sent = 0;
    while (!w->error[0] && w->received < messages) {
        /* Keep up to WINDOW messages in flight; WOULD_BLOCK just means "receive first". */
        while (sent < messages && sent - w->received < WINDOW) {
            struct message m = expected((uint64_t)w->conn, (uint64_t)sent);
            r = wsb_send(h, m.data, m.size, m.kind);
            if (r == WSB_WOULD_BLOCK) break;
            if (r != WSB_OK) {
                wsb_last_error(msg, sizeof msg);
                snprintf(w->error, sizeof w->error, "send %ld: %s %s", sent, wsb_result_name(r), msg);
                break;
            }
            sent++;
        }
        if (w->error[0]) break;
        size_t len = 0;
        uint32_t kind = 0;
        r = wsb_recv(h, buf, MAX_SIZE, &len, &kind, 60000);
        if (r != WSB_OK) {
            wsb_last_error(msg, sizeof msg);
            snprintf(w->error, sizeof w->error, "recv %ld: %s %s", w->received, wsb_result_name(r), msg);
            break;
        }
        struct message m = expected((uint64_t)w->conn, (uint64_t)w->received);
        if (len != m.size || kind != m.kind || memcmp(buf, m.data, len) != 0) {
            snprintf(w->error, sizeof w->error, "echo %ld: %zu bytes of kind %u, want %zu of kind %u%s",
                     w->received, len, kind, m.size, m.kind, len == m.size ? " (content differs)" : "");
            break;
        }
        w->received++;
        w->bytes += len;
        if (__atomic_add_fetch(&received_so_far, 1, __ATOMIC_RELAXED) == half_of_all) {
            pthread_mutex_lock(&half_lock);
            pthread_cond_signal(&half_way);
            pthread_mutex_unlock(&half_lock);
        }
    }
    free(buf);
    if (w->error[0]) { /* the half-way mark may never come: do not leave main waiting for it */
        pthread_mutex_lock(&half_lock);
        __atomic_store_n(&failed_flag, 1, __ATOMIC_RELAXED);
        pthread_cond_signal(&half_way);
        pthread_mutex_unlock(&half_lock);
    }
    pthread_barrier_wait(&all_done);
    if (h) wsb_close(h, 1000, "soak done", 10000);
    return NULL;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s PORT CONNECTIONS MESSAGES SEED\n", argv[0]);
        return 2;
    }
    port = atoi(argv[1]);
    int connections = atoi(argv[2]);
    messages = atoi(argv[3]);
    seed = strtoull(argv[4], NULL, 10);
    make_pools();
    struct worker *workers = calloc((size_t)connections, sizeof *workers);
    pthread_t *threads = calloc((size_t)connections, sizeof *threads);
    pthread_barrier_init(&all_open, NULL, (unsigned)connections + 1);
    pthread_barrier_init(&all_done, NULL, (unsigned)connections + 1);
    half_of_all = (long)connections * messages / 2;
    for (int i = 0; i < connections; i++) {
        workers[i].conn = i;
        pthread_create(&threads[i], NULL, run, &workers[i]);
    }
    pthread_barrier_wait(&all_open);
    double t0 = now_s();
    long rss_start = proc_kib("VmRSS");
    /* Half-way (or never, if connections fail: then the end barrier comes first). */
    pthread_mutex_lock(&half_lock);
    while (__atomic_load_n(&received_so_far, __ATOMIC_RELAXED) < half_of_all && !any_failed())
        pthread_cond_wait(&half_way, &half_lock);
    pthread_mutex_unlock(&half_lock);
    long rss_mid = proc_kib("VmRSS");
    pthread_barrier_wait(&all_done);
    long rss_end = proc_kib("VmRSS"), peak = proc_kib("VmHWM");
    double took = now_s() - t0;
    for (int i = 0; i < connections; i++) pthread_join(threads[i], NULL);
    long total = 0, failed = 0;
    unsigned long long bytes = 0;
    for (int i = 0; i < connections; i++) {
        total += workers[i].received;
        bytes += workers[i].bytes;
        if (workers[i].error[0]) {
            if (failed++ < 10) fprintf(stderr, "soak: connection %d: %s\n", i, workers[i].error);
        }
    }
    /* Per connection: WINDOW messages queued to send, WINDOW echoes queued to receive, one
     * frame being read. */
    long in_flight_mib = (long)connections * (2 * WINDOW + 1) * MAX_SIZE / 1048576;
    long grown = (rss_end - rss_start) / 1024, late = (rss_end - rss_mid) / 1024;
    long bound = in_flight_mib + SLACK_MIB;
    printf("soak: %d connections x %d messages: %ld echoed in order (%.2f GiB each way) in %.0f s "
           "(%.0f MiB/s each way); RSS %ld MiB at start, %ld half-way, %ld at the end (%+ld MiB, "
           "bound %ld; %+ld MiB in the second half, bound %d), peak %ld MiB; %ld connections failed\n",
           connections, messages, total, bytes / 1073741824.0, took, bytes / 1048576.0 / took,
           rss_start / 1024, rss_mid / 1024, rss_end / 1024, grown, bound, late, SLACK_MIB, peak / 1024,
           failed);
    wsb_shutdown(10000);
    free(workers);
    free(threads);
    int ok = failed == 0 && total == (long)connections * messages && grown <= bound && late <= SLACK_MIB;
    return ok ? 0 : 1;
}
