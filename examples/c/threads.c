/*
 * The seed's multithreaded client: 10 threads, each with its own connection to
 * ws://127.0.0.1:PORT/client{n} on the same port, each sending and receiving.
 *
 *     ./threads [PORT] [MESSAGES_PER_THREAD]      (defaults 8001 and 5)
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wsbridge.h"

#define THREADS 10

struct worker {
    int id;
    const char *port;
    int messages;
    int received;
    wsb_result error;
    char error_text[512];
};

static void *run(void *arg) {
    struct worker *w = arg;
    char url[256];
    snprintf(url, sizeof url, "ws://127.0.0.1:%s/client%d", w->port, w->id);
    wsb_handle h;
    wsb_result r = wsb_connect(url, NULL, &h);
    if (r != WSB_OK) goto failed;
    for (int i = 0; i < w->messages; i++) {
        char msg[256];
        int n = snprintf(msg, sizeof msg,
                         "{\"message\": \"Message from Client %d\", \"number\": %d, \"bool\": true}",
                         w->id, i);
        r = wsb_send(h, (const uint8_t *)msg, (size_t)n, WSB_TEXT);
        if (r != WSB_OK) goto failed_open;
        char reply[1024];
        size_t len;
        r = wsb_recv(h, (uint8_t *)reply, sizeof reply - 1, &len, NULL, 5000);
        if (r != WSB_OK) goto failed_open;
        reply[len] = '\0';
        if (i == 0) printf("thread %d: %s\n", w->id, reply);
        w->received++;
    }
    r = wsb_close(h, 1000, NULL, 2000);
    if (r != WSB_OK) goto failed;
    return NULL;
failed_open:
    w->error = r;
    wsb_last_error(w->error_text, sizeof w->error_text);
    wsb_close(h, 1000, NULL, 0);
    return NULL;
failed:
    w->error = r;
    wsb_last_error(w->error_text, sizeof w->error_text);
    return NULL;
}

int main(int argc, char **argv) {
    struct worker workers[THREADS];
    pthread_t threads[THREADS];
    int messages = argc > 2 ? atoi(argv[2]) : 5;
    for (int i = 0; i < THREADS; i++) {
        workers[i] = (struct worker){.id = i, .port = argc > 1 ? argv[1] : "8001", .messages = messages};
        pthread_create(&threads[i], NULL, run, &workers[i]);
    }
    int failed = 0, total = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
        total += workers[i].received;
        if (workers[i].error != WSB_OK) {
            fprintf(stderr, "thread %d: %s: %s\n", i, wsb_result_name(workers[i].error),
                    workers[i].error_text);
            failed++;
        }
    }
    printf("threads: %d connections on one port, %d round trips, %d failures\n", THREADS, total, failed);
    return failed ? 1 : 0;
}
