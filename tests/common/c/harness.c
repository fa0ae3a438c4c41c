/* Helpers shared by the C test programs; see harness.h. */
#include "harness.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef _WIN32
#include <winsock2.h>
typedef int socklen_t;
#else
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#endif

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

int loopback_socket(int backlog, int *port) {
#ifdef _WIN32
    static WSADATA wsa;
    if (!wsa.wVersion && WSAStartup(MAKEWORD(2, 2), &wsa) != 0) {
        fprintf(stderr, "WSAStartup failed: %d\n", WSAGetLastError());
        exit(2);
    }
    SOCKET s = socket(AF_INET, SOCK_STREAM, 0);
    int fd = s == INVALID_SOCKET ? -1 : (int)s;
#else
    int fd = socket(AF_INET, SOCK_STREAM, 0);
#endif
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0 || (backlog > 0 && listen(fd, backlog) != 0)) {
        perror("loopback_socket");
        exit(2);
    }
    *port = ntohs(a.sin_port);
    return fd;
}

void close_socket(int fd) {
#ifdef _WIN32
    closesocket((SOCKET)fd);
#else
    close(fd);
#endif
}

int dead_port(void) {
    int port;
    /* bound, never listened on, then closed: connecting is refused */
    close_socket(loopback_socket(0, &port));
    return port;
}

void unique_id(char *out, size_t cap, const char *prefix) {
    /* The process id alone is not unique over a test run: Wine hands out small Windows process
     * ids and reuses them at once, so two fault_test.exe runs could share an id and one read the
     * other's record. The wall clock (ns) at the call tells them apart. */
    static int counter;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(out, cap, "%s-%d-%lld%09ld-%d", prefix, (int)getpid(), (long long)ts.tv_sec, (long)ts.tv_nsec,
             __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));
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

void start_case(const char *name) {
    setvbuf(stdout, NULL, _IONBF, 0);
    setvbuf(stderr, NULL, _IONBF, 0);
    printf("%s: running\n", name);
}

int run_cases(int argc, char **argv, const test_case *cases, size_t count) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s CASE|--list\n", argv[0]);
        return 2;
    }
    if (strcmp(argv[1], "--list") == 0) {
        for (size_t i = 0; i < count; i++) printf("%s\n", cases[i].name);
        return 0;
    }
    for (size_t i = 0; i < count; i++) {
        if (strcmp(argv[1], cases[i].name) == 0) {
            start_case(cases[i].name);
            cases[i].run();
            if (failures == 0) printf("%s: ok\n", cases[i].name);
            return failures ? 1 : 0;
        }
    }
    fprintf(stderr, "unknown case %s (--list lists them)\n", argv[1]);
    return 2;
}
