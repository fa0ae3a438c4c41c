/*
 * What a C program can read about its own process: memory from /proc/self/status, its
 * threads and its open descriptors. Used by the C tests, by dlopen_test and the benchmark's
 * raw TCP row (which do not link the library, so this file must not call it), by tools/soak.c
 * and by bench/clients/c/harness.c.
 */
#ifndef WSB_TEST_PROC_H
#define WSB_TEST_PROC_H

/* A field of /proc/self/status in KiB ("VmRSS", "VmHWM"); -1 if absent. */
long proc_kib(const char *field);
int count_threads(void);
/* The thread count to compare with later: any sanitizer helper thread already started. */
int baseline_threads(void);
int count_fds(void);

#endif
