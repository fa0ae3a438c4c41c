/*
 * Unloading: the way a plugin host or a Unity editor reloading its scripts uses the library.
 *
 *     dlopen_test LIBRARY ITERATIONS [--no-rss]
 *
 * Each iteration dlopen()s LIBRARY, opens three connections to the echo server at
 * WSB_MISBEHAVE_PORT (tests/servers/misbehave.py) from a worker thread, exchanges a message on
 * each, closes one with wsb_close, leaves two open for wsb_shutdown (the documented step
 * before unloading), joins the worker and dlclose()s the library. Checked every time: no
 * background thread survives wsb_shutdown, dlclose succeeds and the library is unmapped; over
 * all iterations, RSS does not grow (unless --no-rss: valgrind and ASan keep freed memory
 * for themselves). Run plain, under valgrind and with ASan by tests/fault/test_memory.py.
 */
#define _GNU_SOURCE

#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/c/proc.h"
#include "wsbridge.h"

struct api {
    wsb_result (*connect)(const char *, const char *, wsb_handle *);
    wsb_result (*send)(wsb_handle, const uint8_t *, size_t, uint32_t);
    wsb_result (*recv)(wsb_handle, uint8_t *, size_t, size_t *, uint32_t *, int32_t);
    wsb_result (*close)(wsb_handle, uint16_t, const char *, int32_t);
    wsb_result (*shutdown)(int32_t);
    size_t (*last_error)(char *, size_t);
    const char *(*result_name)(wsb_result);
};

struct work {
    struct api api;
    const char *url;
    char error[1024];
};

#define FAIL(w, ...)                                              \
    do {                                                          \
        snprintf((w)->error, sizeof (w)->error, __VA_ARGS__);     \
        return NULL;                                              \
    } while (0)

static void *worker(void *arg) {
    struct work *w = arg;
    struct api *a = &w->api;
    char msg[512];
    wsb_handle h[3];
    for (int i = 0; i < 3; i++) {
        wsb_result r = a->connect(w->url, NULL, &h[i]);
        if (r != WSB_OK) {
            a->last_error(msg, sizeof msg);
            FAIL(w, "connect: %s %s", a->result_name(r), msg);
        }
    }
    for (int i = 0; i < 3; i++) {
        uint8_t buf[16];
        size_t len = 0;
        wsb_result r = a->send(h[i], (const uint8_t *)"ping", 4, WSB_TEXT);
        if (r == WSB_OK) r = a->recv(h[i], buf, sizeof buf, &len, NULL, 10000);
        if (r != WSB_OK || len != 4 || memcmp(buf, "ping", 4) != 0) {
            a->last_error(msg, sizeof msg);
            FAIL(w, "round trip %d: %s (%zu bytes) %s", i, a->result_name(r), len, msg);
        }
    }
    wsb_result r = a->close(h[0], 1000, NULL, 5000);
    if (r != WSB_OK) FAIL(w, "close: %s", a->result_name(r));
    r = a->shutdown(5000); /* closes the other two and joins the background threads */
    if (r != WSB_OK) {
        a->last_error(msg, sizeof msg);
        FAIL(w, "shutdown: %s %s", a->result_name(r), msg);
    }
    return NULL;
}

static int load(const char *lib, void **dl, struct api *a) {
    *dl = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    if (!*dl) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return 0;
    }
    struct {
        const char *name;
        void **slot;
    } syms[] = {
        {"wsb_connect", (void **)&a->connect},   {"wsb_send", (void **)&a->send},
        {"wsb_recv", (void **)&a->recv},         {"wsb_close", (void **)&a->close},
        {"wsb_shutdown", (void **)&a->shutdown}, {"wsb_last_error", (void **)&a->last_error},
        {"wsb_result_name", (void **)&a->result_name},
    };
    for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
        *syms[i].slot = dlsym(*dl, syms[i].name);
        if (!*syms[i].slot) {
            fprintf(stderr, "dlsym %s: %s\n", syms[i].name, dlerror());
            return 0;
        }
    }
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 3 || argc > 4 || !getenv("WSB_MISBEHAVE_PORT")) {
        fprintf(stderr, "usage: WSB_MISBEHAVE_PORT=n %s LIBRARY ITERATIONS [--no-rss]\n", argv[0]);
        return 2;
    }
    int check_rss = argc == 3;
    const char *lib = argv[1];
    int iterations = atoi(argv[2]);
    char url[128];
    snprintf(url, sizeof url, "ws://127.0.0.1:%s/echo", getenv("WSB_MISBEHAVE_PORT"));
    int base = count_threads();
    long rss_first = 0;
    for (int i = 0; i < iterations; i++) {
        struct work w = {.url = url};
        void *dl;
        if (!load(lib, &dl, &w.api)) return 1;
        pthread_t t;
        pthread_create(&t, NULL, worker, &w);
        pthread_join(t, NULL);
        if (w.error[0]) {
            fprintf(stderr, "iteration %d: %s\n", i, w.error);
            return 1;
        }
        /* Exiting threads (the joined worker too) are not counted: see common/proc.c. */
        if (count_threads() != base) {
            fprintf(stderr, "iteration %d: %d threads left running after wsb_shutdown: %s\n", i,
                    count_threads() - base, thread_names());
            return 1;
        }
        if (dlclose(dl) != 0) {
            fprintf(stderr, "iteration %d: dlclose: %s\n", i, dlerror());
            return 1;
        }
        if (mapped(lib)) {
            fprintf(stderr, "iteration %d: %s is still mapped after dlclose\n", i, lib);
            return 1;
        }
        if (i == 1) rss_first = proc_kib("VmRSS"); /* after the first reload, when the process is warm */
    }
    long grown = iterations > 2 ? proc_kib("VmRSS") - rss_first : 0;
    printf("dlopen_test: %d load/connect/shutdown/unload cycles, unmapped each time, RSS +%ld KiB after the "
           "second\n",
           iterations, grown);
    if (check_rss && grown > 4096) {
        fprintf(stderr, "RSS grew by %ld KiB over %d reloads\n", grown, iterations - 2);
        return 1;
    }
    printf("dlopen_test: ok\n");
    return 0;
}
