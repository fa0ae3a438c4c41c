/*
 * What a C program can read about its own process: memory from /proc/self/status, its
 * threads and its open descriptors. Used by the C tests, by dlopen_test and the benchmark's
 * raw TCP row (which do not link the library, so this file must not call it), by tests/soak/soak.c
 * and by bench/clients/c/harness.c.
 */
#ifndef WSB_TEST_PROC_H
#define WSB_TEST_PROC_H

/* A field of /proc/self/status in KiB ("VmRSS", "VmHWM"); -1 if absent. */
long proc_kib(const char *field);
/* Threads that can still run code: exiting threads (already joined, or on their way out) are
 * not counted, and a walk of /proc/self/task that a released thread cut short is walked again,
 * so the count does not depend on how soon the kernel forgets them (see proc.c). */
int count_threads(void);
/* wsbridge's own threads (named wsbridge-io, wsbridge-dns) that can still run code. */
int wsbridge_threads(void);
/* The names of the threads count_threads() counts, for failure messages (per-thread buffer). */
const char *thread_names(void);
/* The thread count to compare with later: any sanitizer helper thread already started. */
int baseline_threads(void);
int count_fds(void);
/* Whether a file named like `path` (its last component) is mapped into this process. */
int mapped(const char *path);

#endif
