/* The game side of the end-to-end workload: G games in one process, one thread and one
 * connection each, stepping in lockstep with bench/e2e/trainer.py.
 *
 *     game PORT GAMES OBS_BYTES [FIRST]
 *
 * Game i (FIRST, FIRST + 1, ...; FIRST defaults to 0) connects to /env/i (the URL path for WebSocket, the first message for raw TCP), sends a
 * hello, then answers every action with an observation of OBS_BYTES until the trainer sends an
 * empty message. Linked with the wsbridge driver or the raw TCP driver (bench/clients/c), so
 * both transports run the same game code. */

#include "../clients/c/harness.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int port;
static long first;
static size_t obs_bytes;
static int failed;

void bench_fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "game (%s): ", DRIVER.name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void bench_count_retry(void) {}

static void *play(void *arg) {
    long id = first + (long)arg;
    char path[32];
    snprintf(path, sizeof path, "/env/%ld", id);
    void *c = DRIVER.open("127.0.0.1", port, path);
    if (!c) {
        failed = 1;
        return NULL;
    }
    uint8_t *obs = calloc(1, obs_bytes), action[4096];
    char hello[32];
    int n = snprintf(hello, sizeof hello, "hello %ld", id);
    if (DRIVER.send(c, (const uint8_t *)hello, (size_t)n) != 0) failed = 1;
    float state = 0;
    while (!failed) {
        long len = DRIVER.recv(c, action, sizeof action);
        if (len < 0) {
            failed = 1;
            break;
        }
        if (len == 0) break; /* the trainer is done */
        state += (float)action[0];
        memcpy(obs, &state, sizeof state);
        if (DRIVER.send(c, obs, obs_bytes) != 0) failed = 1;
    }
    DRIVER.close(c);
    free(obs);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: %s PORT GAMES OBS_BYTES [FIRST]\n", argv[0]);
        return 2;
    }
    first = argc == 5 ? atol(argv[4]) : 0;
    port = atoi(argv[1]);
    long games = atol(argv[2]);
    obs_bytes = (size_t)atol(argv[3]);
    pthread_t *t = calloc((size_t)games, sizeof *t);
    for (long i = 0; i < games; i++)
        if (pthread_create(&t[i], NULL, play, (void *)i) != 0) {
            fprintf(stderr, "game: cannot start thread %ld\n", i);
            return 1;
        }
    for (long i = 0; i < games; i++) pthread_join(t[i], NULL);
    free(t);
    return failed;
}
