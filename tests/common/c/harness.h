/*
 * Shared helpers of the C test programs (tests/interop/abi_test.c, tests/fault/fault_test/): checks that
 * report the result code and wsb_last_error, a monotonic clock for "returned within its
 * timeout" bounds, the process's RSS, thread and descriptor counts, and the servers' addresses
 * from the environment (set by the pytest suites that run the programs).
 *
 * Builds on Linux and, with mingw-w64, on Windows (tests/windows runs the programs under Wine):
 * sockets and the process readings have a Windows branch here and in proc.c.
 */
#ifndef WSB_TEST_HARNESS_H
#define WSB_TEST_HARNESS_H

#define _GNU_SOURCE

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "proc.h"
#include "wsbridge.h"

extern int failures;

/* Stops the current case when `cond` is false, printing the formatted reason. */
#define CHECK(cond, ...)                                                                   \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond);       \
            fprintf(stderr, __VA_ARGS__);                                                  \
            fputc('\n', stderr);                                                           \
            failures++;                                                                    \
            return;                                                                        \
        }                                                                                  \
    } while (0)

/* Stops the current case unless `expr` returns `want`; prints the last error otherwise. */
#define EXPECT(expr, want)                                                                 \
    do {                                                                                   \
        wsb_result got_ = (expr);                                                          \
        if (got_ != (wsb_result)(want)) {                                                  \
            fprintf(stderr, "%s:%d: %s returned %s, want %s (last error: %s)\n", __FILE__,  \
                    __LINE__, #expr, wsb_result_name(got_), wsb_result_name(want),         \
                    last_error());                                                         \
            failures++;                                                                    \
            return;                                                                        \
        }                                                                                  \
    } while (0)

/* EXPECT, and the call returned within `bound_ms`: a generous bound that a hang or a
 * forgotten timeout breaks, not a speed measurement. The time taken is left in `took_ms`. */
#define EXPECT_WITHIN(expr, want, bound_ms)                                                \
    do {                                                                                   \
        double t0_ = now_ms();                                                             \
        wsb_result got_ = (expr);                                                          \
        took_ms = now_ms() - t0_;                                                          \
        if (got_ != (wsb_result)(want)) {                                                  \
            fprintf(stderr, "%s:%d: %s returned %s after %.0f ms, want %s (last error: %s)\n", \
                    __FILE__, __LINE__, #expr, wsb_result_name(got_), took_ms,             \
                    wsb_result_name(want), last_error());                                  \
            failures++;                                                                    \
            return;                                                                        \
        }                                                                                  \
        CHECK(took_ms < (bound_ms), "%s took %.0f ms, more than the %.0f ms bound", #expr, \
              took_ms, (double)(bound_ms));                                                \
    } while (0)

/* Stops the current case unless the process has `fds` descriptors and `threads` threads again
 * (as counted before with count_fds() and baseline_threads(); exiting threads are not counted,
 * see proc.c): the connections made since left no socket and no background thread behind. */
#define CHECK_NOTHING_LEFT(fds, threads)                                                   \
    do {                                                                                   \
        CHECK(count_fds() == (fds), "%d descriptors before, %d after", (fds), count_fds()); \
        CHECK(count_threads() == (threads), "%d threads before, %d after: %s", (threads),  \
              count_threads(), thread_names());                                            \
    } while (0)

/* The slack added to a timeout for "returned within its timeout": generous, because this
 * machine is shared and valgrind slows everything down. */
#define MARGIN_MS 2000.0

/* The timeout of a call that must succeed (a close handshake with a working peer): far past
 * anything a loaded machine takes, and free when things work, since the call returns as soon
 * as it is done. A short one makes the test depend on the machine's speed: a 2-second close
 * once failed CI in the flood case, while the peer was still sending its backlog. */
#define PATIENT_MS 60000

extern double took_ms;

/* One named case of a test program (tests/interop/abi_test.c, reconnect_test.c). */
typedef struct {
    const char *name;
    void (*run)(void);
} test_case;

/* The `main` of a program of cases: `PROGRAM --list` prints their names, `PROGRAM CASE` runs
 * that one. Returns the exit status: 0 when no check failed ("CASE: ok" printed), 1 when one
 * did, 2 for a wrong command line or an unknown case. */
int run_cases(int argc, char **argv, const test_case *cases, size_t count);

/* Announces case `name` on stdout ("NAME: running") with stdout and stderr unbuffered from
 * here on: whatever the case prints is out at once, even if the process ends abnormally, and a
 * failure without the "running" line shows that the program never reached its case (its
 * launcher failed: the dynamic loader, Wine, qemu). */
void start_case(const char *name);

/* The calling thread's wsb_last_error text (a per-thread buffer). */
const char *last_error(void);
/* `needle` occurs in the calling thread's last error. */
int error_has(const char *needle);

double now_ms(void);
/* Lets `ms` milliseconds pass on purpose: the scenario itself (a game busy elsewhere). */
void pass_time_ms(int ms);

/* An integer from the environment; exits with a message if it is not set. */
int env_int(const char *name);
/* "ws://127.0.0.1:<port from env>/<path>" */
void url_for(char *out, size_t cap, const char *port_env, const char *path);
/* A port nobody listens on. */
int dead_port(void);
/* A TCP socket bound to a free port on 127.0.0.1 (written to `*port`), listening with
 * `backlog` if it is positive; exits with the OS error if that fails. A plain int on Windows
 * too (a SOCKET there, whose values fit). Closed with close_socket. */
int loopback_socket(int backlog, int *port);
void close_socket(int fd);
/* A name unique to this call in the whole test run (process id, wall clock, a counter), for the
 * servers' ?id= records. */
void unique_id(char *out, size_t cap, const char *prefix);

/* Connects to `url`, reads one text message and returns it (for the servers' reports). */
int fetch_text(const char *url, char *out, size_t cap);

uint64_t xorshift(uint64_t *state);

#endif
