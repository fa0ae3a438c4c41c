/* The process reading itself; see proc.h. */
#define _GNU_SOURCE

#include "proc.h"

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

long proc_kib(const char *field) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long value = -1;
    size_t n = strlen(field);
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, field, n) == 0 && line[n] == ':') {
            value = strtol(line + n + 1, NULL, 10);
            break;
        }
    }
    if (f) fclose(f);
    return value;
}

static int count_dir(const char *path) {
    DIR *d = opendir(path);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.') n++;
    if (d) closedir(d);
    return n;
}

int count_threads(void) {
    return count_dir("/proc/self/task");
}

static void *nothing(void *arg) {
    return arg;
}

int baseline_threads(void) {
    /* A sanitizer may start a helper thread at the first pthread_create: let it happen first. */
    pthread_t t;
    if (pthread_create(&t, NULL, nothing, NULL) == 0) pthread_join(t, NULL);
    return count_threads();
}

int count_fds(void) {
    return count_dir("/proc/self/fd") - 1; /* minus the directory stream itself */
}
