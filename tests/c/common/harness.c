/* Helpers shared by the C test programs; see harness.h. */
#include "harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int failures;
double took_ms;

const char *last_error(void) {
    static __thread char buf[4096];
    wsb_last_error(buf, sizeof buf);
    return buf;
}

int error_has(const char *needle) {
    return strstr(last_error(), needle) != NULL;
}

double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

void pass_time_ms(int ms) {
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

int env_int(const char *name) {
    const char *v = getenv(name);
    if (!v || !*v) {
        fprintf(stderr, "%s is not set: run this program through its pytest suite (tests/interop, tests/fault)\n",
                name);
        exit(2);
    }
    return atoi(v);
}

void url_for(char *out, size_t cap, const char *port_env, const char *path) {
    snprintf(out, cap, "ws://127.0.0.1:%d%s", env_int(port_env), path);
}

int dead_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        perror("dead_port");
        exit(2);
    }
    close(fd); /* bound, never listened on, now closed: connecting is refused */
    return ntohs(a.sin_port);
}

void unique_id(char *out, size_t cap, const char *prefix) {
    static int counter;
    snprintf(out, cap, "%s-%d-%d", prefix, (int)getpid(), __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));
}

int fetch_text(const char *url, char *out, size_t cap) {
    wsb_handle h;
    size_t len = 0;
    if (wsb_connect(url, NULL, &h) != WSB_OK) return 0;
    wsb_result r = wsb_recv(h, (uint8_t *)out, cap - 1, &len, NULL, 30000);
    wsb_close(h, 1000, NULL, 2000);
    if (r != WSB_OK) return 0;
    out[len] = '\0';
    return 1;
}

uint64_t xorshift(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}
