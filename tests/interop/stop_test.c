/*
 * The background-thread guarantee of wsb_shutdown and of the last wsb_close: once they have
 * returned (and every other call too), no wsbridge thread can run code of the library, so a
 * host may unload it, whichever thread released the last connection. The one documented
 * exception, a DNS lookup blocked inside getaddrinfo, is driven here deterministically: this
 * program defines its own getaddrinfo (the library's reference binds to it), which blocks for
 * the host BLOCKED_HOST until the test writes to a pipe.
 *
 *     stop_test CASE ROUNDS            linked with the library (shared or static)
 *     stop_test CASE ROUNDS LIBRARY    built with -DSTOP_TEST_DLOPEN: every round dlopen()s
 *                                      LIBRARY, runs the case on a thread of its own (as a
 *                                      host's game thread; the library's thread-local data
 *                                      of a thread still alive would keep it mapped), and
 *                                      dlclose()s it, checking that it is unmapped (a thread
 *                                      still inside would crash)
 *
 * Every round checks that no wsbridge thread that can still run is left (threads already
 * exiting are not counted, see common/proc.c: the check does not depend on timing) and that
 * the process has as many threads as before. Servers: WSB_ECHO_PORT, set by
 * tests/interop/test_stop.py. A 30 s watchdog per round turns a hang into a failure.
 */
#define _GNU_SOURCE

#include <arpa/inet.h>
#include <dlfcn.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/c/proc.h"
#include "wsbridge.h"

#define BLOCKED_HOST "lookup-blocked.wsbridge.test"

static struct {
    wsb_result (*connect)(const char *, const char *, wsb_handle *);
    wsb_result (*connect_async)(const char *, const char *, wsb_handle *);
    wsb_result (*send)(wsb_handle, const uint8_t *, size_t, uint32_t);
    wsb_result (*recv)(wsb_handle, uint8_t *, size_t, size_t *, uint32_t *, int32_t);
    wsb_result (*close)(wsb_handle, uint16_t, const char *, int32_t);
    wsb_result (*close_async)(wsb_handle, uint16_t, const char *, int32_t);
    wsb_result (*state)(wsb_handle, uint32_t *);
    wsb_result (*shutdown)(int32_t);
    size_t (*last_error)(char *, size_t);
    const char *(*result_name)(wsb_result);
} api;

static int round_no;
static char echo_url[128];
/* A port nobody listens on (bound, never listening, for the whole run). */
static int dead_port;

static const char *last_error(void) {
    static __thread char buf[1024];
    api.last_error(buf, sizeof buf);
    return buf;
}

#define CHECK(cond, ...)                                                                      \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            fprintf(stderr, "round %d: %s:%d: CHECK(%s) failed: ", round_no, __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                                     \
            fputc('\n', stderr);                                                              \
            exit(1);                                                                          \
        }                                                                                     \
    } while (0)

#define EXPECT(expr, want)                                                                    \
    do {                                                                                      \
        wsb_result got_ = (expr);                                                             \
        CHECK(got_ == (want), "%s returned %s, want %s (last error: %s)", #expr,              \
              api.result_name(got_), api.result_name(want), last_error());                    \
    } while (0)

/* No wsbridge thread that can still run is left. */
#define NONE_LEFT(when) \
    CHECK(wsbridge_threads() == 0, "%s, wsbridge threads still running: %s", (when), thread_names())

/* ---- the blocking getaddrinfo ---------------------------------------------------------- */

static int entered[2]; /* written by getaddrinfo when it starts blocking */
static int release[2]; /* written by the test to let it return */

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints, struct addrinfo **res) {
    if (node && strcmp(node, BLOCKED_HOST) == 0) {
        char c = 'e';
        if (write(entered[1], &c, 1) != 1 || read(release[0], &c, 1) != 1) abort();
        return EAI_NONAME;
    }
    int (*real)(const char *, const char *, const struct addrinfo *, struct addrinfo **);
    *(void **)&real = dlsym(RTLD_NEXT, "getaddrinfo");
    return real(node, service, hints, res);
}

/* Returns once wsbridge's DNS thread is inside getaddrinfo for BLOCKED_HOST. */
static void wait_lookup_blocked(void) {
    char c;
    CHECK(read(entered[0], &c, 1) == 1, "reading the getaddrinfo pipe");
}

static void release_lookup(void) {
    char c = 'r';
    CHECK(write(release[1], &c, 1) == 1, "writing the getaddrinfo pipe");
}

/* ---- helpers ----------------------------------------------------------------------------- */

/* An open connection to the echo server that has carried one round trip. */
static void open_echo(wsb_handle *h) {
    uint8_t buf[16];
    size_t len = 0;
    EXPECT(api.connect(echo_url, NULL, h), WSB_OK);
    EXPECT(api.send(*h, (const uint8_t *)"ping", 4, WSB_TEXT), WSB_OK);
    EXPECT(api.recv(*h, buf, sizeof buf, &len, NULL, 10000), WSB_OK);
    CHECK(len == 4 && memcmp(buf, "ping", 4) == 0, "echo of %zu bytes", len);
}

/* A wsb_recv waiting without limit on another thread, started before the handle is closed. */
struct waiter {
    wsb_handle h;
    wsb_result r;
    int ready[2];
};

static void *recv_forever(void *arg) {
    struct waiter *w = arg;
    uint8_t buf[64];
    size_t len;
    char c = 'w';
    if (write(w->ready[1], &c, 1) != 1) abort();
    w->r = api.recv(w->h, buf, sizeof buf, &len, NULL, -1);
    return NULL;
}

/* Rounds in which the waiting wsb_recv was inside the call when the handle was released
 * (WSB_CLOSED: it released the last reference) or came after (WSB_INVALID_HANDLE). */
static int recv_inside, recv_after;

static void released_while_recv_waits(int by_shutdown) {
    struct waiter w = {0};
    open_echo(&w.h);
    CHECK(pipe(w.ready) == 0, "pipe");
    pthread_t t;
    pthread_create(&t, NULL, recv_forever, &w);
    char c;
    CHECK(read(w.ready[0], &c, 1) == 1, "waiting for the receiving thread");
    if (by_shutdown)
        EXPECT(api.shutdown(5000), WSB_OK);
    else
        EXPECT(api.close(w.h, 1000, NULL, 5000), WSB_OK);
    pthread_join(t, NULL);
    close(w.ready[0]);
    close(w.ready[1]);
    CHECK(w.r == WSB_CLOSED || w.r == WSB_INVALID_HANDLE, "the waiting wsb_recv returned %s",
          api.result_name(w.r));
    if (w.r == WSB_CLOSED)
        recv_inside++;
    else
        recv_after++;
    NONE_LEFT(by_shutdown ? "after wsb_shutdown and the waiting wsb_recv returned"
                          : "after wsb_close and the waiting wsb_recv returned");
}

/* ---- cases ------------------------------------------------------------------------------- */

static void case_shutdown(void) {
    wsb_handle h[3];
    for (int i = 0; i < 3; i++) open_echo(&h[i]);
    CHECK(wsbridge_threads() >= 1, "no wsbridge thread while connected: %s", thread_names());
    EXPECT(api.shutdown(5000), WSB_OK);
    NONE_LEFT("after wsb_shutdown");
}

static void case_last_close(void) {
    wsb_handle h[3];
    for (int i = 0; i < 3; i++) open_echo(&h[i]);
    for (int i = 0; i < 3; i++) EXPECT(api.close(h[i], 1000, NULL, 5000), WSB_OK);
    NONE_LEFT("after the last wsb_close");
}

/* The last reference is released by the thread waiting in wsb_recv, not by the closing one. */
static void case_close_while_recv_waits(void) {
    released_while_recv_waits(0);
}

static void case_shutdown_while_recv_waits(void) {
    released_while_recv_waits(1);
}

struct racer {
    wsb_handle h;
    wsb_result last;
};

static void *send_loop(void *arg) {
    struct racer *s = arg;
    for (;;) {
        s->last = api.send(s->h, (const uint8_t *)"race", 4, WSB_BINARY);
        if (s->last != WSB_OK && s->last != WSB_WOULD_BLOCK) return NULL;
    }
}

static void *recv_loop(void *arg) {
    struct racer *r = arg;
    uint8_t buf[256];
    size_t len;
    for (;;) {
        r->last = api.recv(r->h, buf, sizeof buf, &len, NULL, 20);
        if (r->last != WSB_OK && r->last != WSB_TIMEOUT) return NULL;
    }
}

/* wsb_close (at once, or with a limit) races a sending and a receiving thread on the handle:
 * whichever of the three releases the last reference, nothing is left once all returned. */
static void case_close_races_send_recv(void) {
    struct racer s = {0}, r = {0};
    open_echo(&s.h);
    r.h = s.h;
    pthread_t ts, tr;
    pthread_create(&ts, NULL, send_loop, &s);
    pthread_create(&tr, NULL, recv_loop, &r);
    wsb_result c = api.close(s.h, 1000, NULL, round_no % 2 ? 0 : 5000);
    CHECK(c == WSB_OK || (round_no % 2 && c == WSB_TIMEOUT), "wsb_close returned %s: %s", api.result_name(c),
          last_error());
    pthread_join(ts, NULL);
    pthread_join(tr, NULL);
    CHECK(s.last == WSB_CLOSED || s.last == WSB_INVALID_HANDLE, "wsb_send ended with %s", api.result_name(s.last));
    CHECK(r.last == WSB_CLOSED || r.last == WSB_INVALID_HANDLE, "wsb_recv ended with %s", api.result_name(r.last));
    NONE_LEFT("after wsb_close raced wsb_send and wsb_recv");
}

/* The connection is closed while its host name is being resolved and getaddrinfo blocks: the
 * close returns, wsb_shutdown says it is not yet safe to unload (naming the host) until the
 * lookup has returned, and the library stays usable meanwhile. */
static void case_lookup_blocked_close(void) {
    wsb_handle h, e;
    EXPECT(api.connect_async("ws://" BLOCKED_HOST ":80/", NULL, &h), WSB_OK);
    wait_lookup_blocked();
    EXPECT(api.close(h, 1000, NULL, 5000), WSB_OK);
    CHECK(wsbridge_threads() == 1 && strstr(thread_names(), "wsbridge-dns"),
          "after the last close, only the DNS thread inside getaddrinfo should run: %s", thread_names());
    EXPECT(api.shutdown(0), WSB_LOOKUP_RUNNING);
    CHECK(strstr(last_error(), BLOCKED_HOST) && strstr(last_error(), "call wsb_shutdown again"), "message: %s",
          last_error());
    EXPECT(api.shutdown(20), WSB_LOOKUP_RUNNING); /* waits up to 20 ms, then says so */
    CHECK(strstr(last_error(), "20 ms"), "message: %s", last_error());
    open_echo(&e); /* still usable: a new I/O thread */
    EXPECT(api.close(e, 1000, NULL, 5000), WSB_OK);
    CHECK(wsbridge_threads() == 1, "the new I/O thread should be gone, the lookup not: %s", thread_names());
    release_lookup();
    EXPECT(api.shutdown(-1), WSB_OK);
    NONE_LEFT("after the lookup returned and wsb_shutdown");
}

static void *shutdown_forever(void *arg) {
    *(wsb_result *)arg = api.shutdown(-1);
    return NULL;
}

/* wsb_shutdown itself drops a connection whose lookup blocks (and an open one): not yet safe;
 * a wsb_shutdown without limit returns once the lookup does. */
static void case_lookup_blocked_shutdown(void) {
    wsb_handle h, e;
    open_echo(&e);
    EXPECT(api.connect_async("ws://" BLOCKED_HOST ":80/", NULL, &h), WSB_OK);
    wait_lookup_blocked();
    EXPECT(api.shutdown(0), WSB_LOOKUP_RUNNING);
    CHECK(wsbridge_threads() == 1 && strstr(thread_names(), "wsbridge-dns"),
          "after wsb_shutdown, only the DNS thread inside getaddrinfo should run: %s", thread_names());
    wsb_result r = WSB_INTERNAL;
    pthread_t t;
    pthread_create(&t, NULL, shutdown_forever, &r);
    release_lookup();
    pthread_join(t, NULL);
    CHECK(r == WSB_OK, "wsb_shutdown(-1) returned %s: %s", api.result_name(r), last_error());
    NONE_LEFT("after wsb_shutdown waited for the lookup");
}

/* wsb_close_async returns at once and leaves the close handshakes in the background: the
 * library keeps the connections, and its threads, alive for them (nothing has released them
 * yet), and wsb_shutdown waits for them: nothing is left once it returned. */
static void case_close_async(void) {
    wsb_handle h[3];
    uint32_t state;
    for (int i = 0; i < 3; i++) open_echo(&h[i]);
    for (int i = 0; i < 3; i++) EXPECT(api.close_async(h[i], 1000, "bye", 5000), WSB_OK);
    EXPECT(api.state(h[0], &state), WSB_INVALID_HANDLE);
    CHECK(wsbridge_threads() >= 1, "the background closes run without a wsbridge thread: %s", thread_names());
    EXPECT(api.shutdown(5000), WSB_OK);
    NONE_LEFT("after wsb_close_async and wsb_shutdown");
}

/* A connection with the `reconnect` option, between attempts to a port nobody listens on (its
 * supervisor waits out the backoff on the I/O thread), then a blocking and an async close, and
 * wsb_shutdown with another one still reconnecting: nothing is left. */
static void case_reconnect_shutdown(void) {
    char url[96];
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/", dead_port);
    const char *options = "{\"reconnect\": {\"delay_ms\": 5, \"max_delay_ms\": 20, \"give_up_ms\": -1}}";
    wsb_handle h[3];
    for (int i = 0; i < 3; i++) EXPECT(api.connect_async(url, options, &h[i]), WSB_OK);
    for (int i = 0; i < 3; i++) {
        /* The first attempt fails at once (refused): then it is reconnecting, for ever. */
        uint8_t buf[8];
        size_t len;
        uint32_t state = WSB_STATE_CONNECTING;
        for (int polls = 0; polls < 10000 && state != WSB_STATE_RECONNECTING; polls++) {
            EXPECT(api.recv(h[i], buf, sizeof buf, &len, NULL, 1), WSB_TIMEOUT);
            EXPECT(api.state(h[i], &state), WSB_OK);
        }
        CHECK(state == WSB_STATE_RECONNECTING, "state %u after a refused attempt", state);
    }
    EXPECT(api.close(h[0], 1000, NULL, 5000), WSB_OK);
    EXPECT(api.close_async(h[1], 1000, NULL, 5000), WSB_OK);
    EXPECT(api.shutdown(5000), WSB_OK);
    NONE_LEFT("after closing and shutting down reconnecting connections");
}

/* Not the library, the count every case relies on (common/proc.c): a running thread listed
 * after one just joined is counted, though the kernel may release the joined thread while
 * /proc/self/task is walked, which ends a walk early. The joined thread's exit closes 1,000
 * descriptors of its own (a copy of the table), which widens that window. */
static void *exits_slowly(void *fd) {
    if (unshare(CLONE_FILES) == 0)
        for (int i = 0; i < 1000 && dup(*(int *)fd) >= 0; i++) {
        }
    return NULL;
}

static void *blocks(void *fd) {
    char c;
    if (read(*(int *)fd, &c, 1) != 1) abort();
    return NULL;
}

static void case_count_behind_a_released_thread(void) {
    int p[2];
    CHECK(pipe(p) == 0, "pipe");
    int before = count_threads();
    for (int i = 0; i < 200; i++) {
        pthread_t slow, blocked;
        CHECK(pthread_create(&slow, NULL, exits_slowly, &p[0]) == 0 &&
                  pthread_create(&blocked, NULL, blocks, &p[0]) == 0,
              "pthread_create");
        pthread_join(slow, NULL);
        int n = count_threads();
        char c = 'r';
        CHECK(write(p[1], &c, 1) == 1, "writing the pipe");
        pthread_join(blocked, NULL);
        CHECK(n == before + 1, "walk %d after a join: %d threads counted, %d running", i, n, before + 1);
    }
    close(p[0]);
    close(p[1]);
}

/* ---- driver ------------------------------------------------------------------------------ */

static const struct {
    const char *name;
    void (*run)(void);
} cases[] = {
    {"shutdown", case_shutdown},
    {"last_close", case_last_close},
    {"close_while_recv_waits", case_close_while_recv_waits},
    {"shutdown_while_recv_waits", case_shutdown_while_recv_waits},
    {"close_races_send_recv", case_close_races_send_recv},
    {"lookup_blocked_close", case_lookup_blocked_close},
    {"lookup_blocked_shutdown", case_lookup_blocked_shutdown},
    {"close_async", case_close_async},
    {"reconnect_shutdown", case_reconnect_shutdown},
    {"count_behind_a_released_thread", case_count_behind_a_released_thread},
};

static const char *current_case;

static void hung(int sig) {
    (void)sig;
    char msg[160];
    int n = snprintf(msg, sizeof msg, "round %d of %s did not finish within 30 s: a wsbridge call hung\n",
                     round_no, current_case);
    if (write(2, msg, (size_t)n) < 0) _exit(4);
    _exit(3);
}

#ifdef STOP_TEST_DLOPEN
static void *library;

static void load(const char *path) {
    library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    CHECK(library, "dlopen: %s", dlerror());
    struct {
        const char *name;
        void **slot;
    } syms[] = {
        {"wsb_connect", (void **)&api.connect},     {"wsb_connect_async", (void **)&api.connect_async},
        {"wsb_send", (void **)&api.send},           {"wsb_recv", (void **)&api.recv},
        {"wsb_close", (void **)&api.close},         {"wsb_shutdown", (void **)&api.shutdown},
        {"wsb_close_async", (void **)&api.close_async}, {"wsb_state", (void **)&api.state},
        {"wsb_last_error", (void **)&api.last_error}, {"wsb_result_name", (void **)&api.result_name},
    };
    for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
        *syms[i].slot = dlsym(library, syms[i].name);
        CHECK(*syms[i].slot, "dlsym %s: %s", syms[i].name, dlerror());
    }
}

static void *run_case(void *run) {
    (*(void (**)(void))run)();
    return NULL;
}

static void run_round(void (*run)(void)) {
    pthread_t t;
    pthread_create(&t, NULL, run_case, &run);
    pthread_join(t, NULL);
}

static void unload(const char *path) {
    CHECK(dlclose(library) == 0, "dlclose: %s", dlerror());
    CHECK(!mapped(path), "%s is still mapped after dlclose", path);
}
#define USAGE "CASE ROUNDS LIBRARY"
#define ARGS 4
#else
static void load(const char *path) {
    (void)path;
    api.connect = wsb_connect;
    api.connect_async = wsb_connect_async;
    api.send = wsb_send;
    api.recv = wsb_recv;
    api.close = wsb_close;
    api.close_async = wsb_close_async;
    api.state = wsb_state;
    api.shutdown = wsb_shutdown;
    api.last_error = wsb_last_error;
    api.result_name = wsb_result_name;
}

static void run_round(void (*run)(void)) {
    run();
}

static void unload(const char *path) {
    (void)path;
}
#define USAGE "CASE ROUNDS"
#define ARGS 3
#endif

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) printf("%s\n", cases[i].name);
        return 0;
    }
    const char *port = getenv("WSB_ECHO_PORT");
    if (argc != ARGS || !port) {
        fprintf(stderr, "usage: WSB_ECHO_PORT=n %s " USAGE " (or --list)\n", argv[0]);
        return 2;
    }
    snprintf(echo_url, sizeof echo_url, "ws://127.0.0.1:%s/echo", port);
    void (*run)(void) = NULL;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (strcmp(argv[1], cases[i].name) == 0) run = cases[i].run;
    if (!run) {
        fprintf(stderr, "unknown case %s (--list lists them)\n", argv[1]);
        return 2;
    }
    current_case = argv[1];
    int rounds = atoi(argv[2]);
    const char *library_path = ARGS == 4 ? argv[3] : NULL;
    CHECK(pipe(entered) == 0 && pipe(release) == 0, "pipe");
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t addr_len = sizeof addr;
    int unheard = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(unheard >= 0 && bind(unheard, (struct sockaddr *)&addr, sizeof addr) == 0 &&
              getsockname(unheard, (struct sockaddr *)&addr, &addr_len) == 0,
          "binding a port nobody listens on");
    dead_port = ntohs(addr.sin_port);
    signal(SIGALRM, hung);
    int threads = baseline_threads();
    for (round_no = 0; round_no < rounds; round_no++) {
        alarm(30);
        load(library_path);
        run_round(run);
        CHECK(count_threads() == threads, "%d threads before, %d after: %s", threads, count_threads(),
              thread_names());
        unload(library_path);
    }
    alarm(0);
    printf("%s: %d rounds, nothing left running after any", current_case, rounds);
    if (recv_inside + recv_after)
        printf(" (the waiting wsb_recv was inside the call in %d, came after in %d)", recv_inside, recv_after);
    printf("\n");
    return 0;
}
