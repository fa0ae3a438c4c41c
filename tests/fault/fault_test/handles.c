/*
 * Handles under abuse: stale, forged and racing.
 *
 * Server: WSB_MISBEHAVE_PORT (tests/servers/misbehave.py, /echo).
 */
#include "../../common/c/harness.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Every function that takes a handle rejects `h` with WSB_INVALID_HANDLE and a message. */
static int all_reject(wsb_handle h) {
    uint32_t state;
    uint8_t buf[8];
    size_t len;
    uint16_t code;
    char text[8];
    wsb_result r[] = {
        wsb_state(h, &state),
        wsb_send(h, buf, 1, WSB_BINARY),
        wsb_recv(h, buf, sizeof buf, &len, NULL, 0),
        wsb_close_status(h, &code, text, sizeof text, &len),
        wsb_subprotocol(h, text, sizeof text, &len),
        wsb_close(h, 1000, NULL, 0),
    };
    for (size_t i = 0; i < sizeof r / sizeof r[0]; i++) {
        if (r[i] != WSB_INVALID_HANDLE) {
            fprintf(stderr, "handle %#llx: call %zu returned %s\n", (unsigned long long)h, i,
                    wsb_result_name(r[i]));
            return 0;
        }
    }
    return error_has("not an open connection");
}

void case_stale_handles(int argc, char **argv) {
    (void)argc, (void)argv;
    char url[256];
    url_for(url, sizeof url, "WSB_MISBEHAVE_PORT", "/echo");
    CHECK(all_reject(0), "handle 0");
    CHECK(all_reject(UINT64_MAX), "handle UINT64_MAX");
    uint64_t seed = 0x243f6a8885a308d3ULL;
    for (int i = 0; i < 20000; i++) {
        wsb_handle h = xorshift(&seed);
        CHECK(all_reject(h), "random handle %#llx", (unsigned long long)h);
    }
    /* One slot reused again and again: every earlier generation stays invalid. */
    enum { GENERATIONS = 50 };
    wsb_handle old[GENERATIONS];
    for (int g = 0; g < GENERATIONS; g++) {
        EXPECT(wsb_connect(url, NULL, &old[g]), WSB_OK);
        EXPECT(wsb_close(old[g], 1000, NULL, PATIENT_MS), WSB_OK);
        CHECK(all_reject(old[g]), "use after close of generation %d", g); /* incl. double close */
    }
    wsb_handle live;
    EXPECT(wsb_connect(url, NULL, &live), WSB_OK);
    for (int g = 0; g < GENERATIONS; g++) {
        CHECK(old[g] != live, "generation %d equals the live handle", g);
        CHECK(all_reject(old[g]), "earlier generation %d", g);
    }
    /* The live slot with a later generation, or another slot with the live generation. */
    CHECK(all_reject(live + (1ULL << 32)), "a generation not issued yet");
    CHECK(all_reject(live + 1), "a neighbouring slot");
    CHECK(all_reject(live & 0xffffffffULL), "generation 0");
    CHECK(all_reject(live & ~0xffffffffULL), "slot 0");
    uint32_t state;
    EXPECT(wsb_state(live, &state), WSB_OK); /* none of that touched the live connection */
    CHECK(state == WSB_STATE_OPEN, "state %u", state);
    /* After a shutdown (which releases the handle table), every handle issued before stays
     * invalid, and new handles never repeat an old one. */
    EXPECT(wsb_shutdown(2000), WSB_OK);
    CHECK(all_reject(live), "a handle from before wsb_shutdown");
    wsb_handle again;
    EXPECT(wsb_connect(url, NULL, &again), WSB_OK);
    CHECK(again != live, "the handle after wsb_shutdown repeats the one before");
    for (int g = 0; g < GENERATIONS; g++) {
        CHECK(again != old[g], "the handle after wsb_shutdown repeats generation %d", g);
        CHECK(all_reject(old[g]), "generation %d after wsb_shutdown", g);
    }
    CHECK(all_reject(live), "a handle from before wsb_shutdown, once the table is in use again");
    EXPECT(wsb_close(again, 1000, NULL, PATIENT_MS), WSB_OK);
}

/* ---------------------------------------------------------------------------------------- */

struct racer {
    wsb_handle h;
    wsb_result last;
    long calls;
    int bad; /* a result outside the allowed set */
};

static void *send_loop(void *arg) {
    struct racer *s = arg;
    uint8_t msg[1024];
    memset(msg, 'x', sizeof msg);
    for (;;) {
        wsb_result r = wsb_send(s->h, msg, sizeof msg, (s->calls & 1) ? WSB_TEXT : WSB_BINARY);
        if (r == WSB_WOULD_BLOCK || s->calls % 64 == 63) r = wsb_flush(s->h, (s->calls & 64) ? 20 : -1);
        s->calls++;
        if (r == WSB_OK || r == WSB_WOULD_BLOCK || r == WSB_TIMEOUT) continue;
        s->last = r;
        s->bad = r != WSB_CLOSED && r != WSB_INVALID_HANDLE;
        return NULL;
    }
}

static void *recv_loop(void *arg) {
    struct racer *s = arg;
    uint8_t buf[512]; /* smaller than the echoed messages: BUFFER_TOO_SMALL is part of the mix */
    size_t len;
    for (;;) {
        wsb_result r = wsb_recv(s->h, buf, (s->calls & 1) ? sizeof buf : 0, &len, NULL, (s->calls % 3) ? 20 : -1);
        s->calls++;
        if (r == WSB_OK || r == WSB_TIMEOUT || r == WSB_BUFFER_TOO_SMALL) {
            if (r == WSB_BUFFER_TOO_SMALL) {
                static __thread uint8_t big[2048];
                r = wsb_recv(s->h, big, sizeof big, &len, NULL, 0);
                if (r == WSB_OK || r == WSB_TIMEOUT) continue;
            } else {
                continue;
            }
        }
        s->last = r;
        s->bad = r != WSB_CLOSED && r != WSB_INVALID_HANDLE;
        return NULL;
    }
}

static int current_iteration;

#ifdef _WIN32
/* No alarm() on Windows: the driver's timeout (tests/windows) stops a hung run instead. */
#define alarm(seconds) ((void)(seconds))
#else
static void hung(int sig) {
    (void)sig;
    char msg[96];
    int n = snprintf(msg, sizeof msg, "close_race: iteration %d did not finish within 60 s\n", current_iteration);
    if (write(2, msg, (size_t)n) < 0) _exit(4);
    _exit(3);
}
#endif

/* wsb_close (or wsb_shutdown) races a thread inside wsb_send or wsb_flush and another inside
 * wsb_recv on the same handle, ITERATIONS times: every call returns an allowed code, nothing hangs, and
 * the descriptors and background threads of all those connections are gone at the end. */
void case_close_race(int argc, char **argv) {
    CHECK(argc == 1, "usage: close_race ITERATIONS");
    int iterations = atoi(argv[0]);
    char url[256];
    url_for(url, sizeof url, "WSB_MISBEHAVE_PORT", "/echo");
    int fds = count_fds(), threads = baseline_threads();
#ifndef _WIN32
    signal(SIGALRM, hung);
#endif
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    long sends = 0, recvs = 0;
    for (int i = 0; i < iterations; i++) {
        current_iteration = i;
        alarm(60);
        struct racer s = {0}, r = {0};
        EXPECT(wsb_connect(url, "{\"send_queue_max_bytes\": 65536}", &s.h), WSB_OK);
        r.h = s.h;
        pthread_t ts, tr;
        pthread_create(&ts, NULL, send_loop, &s);
        pthread_create(&tr, NULL, recv_loop, &r);
        /* Close after a random amount of traffic, sometimes at once. */
        long spins = (long)(xorshift(&seed) % 2000);
        uint32_t state;
        for (long k = 0; k < spins; k++) wsb_state(s.h, &state);
        /* 0: close dropping the connection at once (OK or TIMEOUT); 1, 2: close with a 5 s or
         * no time limit, 3: shutdown; the echo server answers, so these must complete. */
        int how = (int)(xorshift(&seed) % 4);
        wsb_result c = how == 3 ? wsb_shutdown(5000) : wsb_close(s.h, 1000, NULL, how == 0 ? 0 : how == 1 ? 5000 : -1);
        CHECK(c == WSB_OK || (how == 0 && c == WSB_TIMEOUT), "iteration %d: %s (way %d) returned %s: %s", i,
              how == 3 ? "wsb_shutdown" : "wsb_close", how, wsb_result_name(c), last_error());
        pthread_join(ts, NULL);
        pthread_join(tr, NULL);
        CHECK(!s.bad, "iteration %d: wsb_send ended with %s", i, wsb_result_name(s.last));
        CHECK(!r.bad, "iteration %d: wsb_recv ended with %s", i, wsb_result_name(r.last));
        EXPECT(wsb_close(s.h, 1000, NULL, 0), WSB_INVALID_HANDLE);
        sends += s.calls;
        recvs += r.calls;
    }
    alarm(0);
    CHECK_NOTHING_LEFT(fds, threads);
    printf("close_race: %d iterations, %ld sends and %ld receives raced a close\n", iterations, sends, recvs);
}
