/* The process reading itself; see proc.h. */
#define _GNU_SOURCE

#include "proc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
/* Windows: the same readings from the Win32 API. "VmRSS" and "VmHWM" are the working set and
 * its peak, threads come from a Toolhelp snapshot, descriptors are the process's handles. */
#include <windows.h>

#include <psapi.h>
#include <tlhelp32.h>

long proc_kib(const char *field) {
    PROCESS_MEMORY_COUNTERS c;
    if (!GetProcessMemoryInfo(GetCurrentProcess(), &c, sizeof c)) return -1;
    if (strcmp(field, "VmRSS") == 0) return (long)(c.WorkingSetSize / 1024);
    if (strcmp(field, "VmHWM") == 0) return (long)(c.PeakWorkingSetSize / 1024);
    return -1;
}

/* GetThreadDescription (the name Rust gives its threads), looked up at run time: older
 * Windows and Wine versions lack it, and then no thread has a name. */
typedef HRESULT(WINAPI *get_description_fn)(HANDLE, PWSTR *);

static void thread_name(DWORD tid, char *name, size_t cap) {
    static get_description_fn get;
    if (!get) get = (get_description_fn)(void (*)(void))GetProcAddress(GetModuleHandleA("kernel32.dll"), "GetThreadDescription");
    name[0] = 0;
    HANDLE h = OpenThread(THREAD_QUERY_LIMITED_INFORMATION, FALSE, tid);
    PWSTR wide = NULL;
    if (h && get && SUCCEEDED(get(h, &wide)) && wide) {
        size_t i = 0;
        for (; wide[i] && i + 1 < cap; i++) name[i] = wide[i] < 128 ? (char)wide[i] : '?';
        name[i] = 0;
        LocalFree(wide);
    }
    if (h) CloseHandle(h);
}

/* The threads of this process whose name starts with `prefix` (every thread for NULL); their
 * names, space-separated, into `names` when it is not NULL. */
static int count_running(const char *prefix, char *names, size_t cap) {
    HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0);
    THREADENTRY32 t = {.dwSize = sizeof t};
    DWORD self = GetCurrentProcessId();
    int n = 0;
    size_t used = 0;
    if (names && cap) names[0] = 0;
    if (snap == INVALID_HANDLE_VALUE) return -1;
    for (BOOL more = Thread32First(snap, &t); more; more = Thread32Next(snap, &t)) {
        if (t.th32OwnerProcessID != self) continue;
        char name[64];
        thread_name(t.th32ThreadID, name, sizeof name);
        if (prefix && strncmp(name, prefix, strlen(prefix)) != 0) continue;
        n++;
        if (names && used < cap) used += (size_t)snprintf(names + used, cap - used, "%s%s", used ? " " : "", name[0] ? name : "?");
    }
    CloseHandle(snap);
    return n;
}

int count_fds(void) {
    DWORD n;
    return GetProcessHandleCount(GetCurrentProcess(), &n) ? (int)n : -1;
}
#else
#include <dirent.h>

/* The number in a field of /proc/self/status ("VmRSS", "Threads"); -1 if absent. */
static long status_field(const char *field) {
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

long proc_kib(const char *field) {
    return status_field(field);
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

/*
 * A thread of this process, read from /proc/self/task/<tid>/stat: its name and whether it is
 * exiting. 0 if it is gone (the directory entry outlived it).
 *
 * Why "exiting" matters: the kernel wakes pthread_join (it clears the thread's tid in
 * mm_release) before it removes the thread from /proc (release_task, in exit_notify), so right
 * after a join, a busy machine can still list the joined thread. From the start of its exit
 * (do_exit) the thread has PF_EXITING in its flags and never runs user code again: counting
 * only threads without it makes "no thread left" a check that does not depend on timing.
 */
#define PF_EXITING 0x4UL

static int read_task(const char *tid, char *name, size_t cap, int *exiting) {
    char path[64], stat[512];
    snprintf(path, sizeof path, "/proc/self/task/%.16s/stat", tid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(stat, 1, sizeof stat - 1, f);
    fclose(f);
    stat[n] = '\0';
    /* "tid (name) state ppid pgrp session tty_nr tpgid flags ...": the name may hold spaces
     * and parentheses, so it ends at the last ')'. */
    char *open = strchr(stat, '('), *close = strrchr(stat, ')');
    if (!open || !close || close < open) return 0;
    snprintf(name, cap, "%.*s", (int)(close - open - 1), open + 1);
    unsigned long flags = 0;
    if (sscanf(close + 1, " %*c %*d %*d %*d %*d %*d %lu", &flags) != 1) return 0;
    *exiting = (flags & PF_EXITING) != 0;
    return 1;
}

/* One walk of /proc/self/task: the threads not exiting, those whose name starts with `prefix`
 * only (NULL: all), their names into `names`; every entry listed is counted in `*listed`. */
static int walk_tasks(const char *prefix, char *names, size_t cap, int *listed) {
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    int n = 0;
    size_t used = 0;
    *listed = 0;
    if (names && cap) names[0] = '\0';
    while (d && (e = readdir(d))) {
        char name[32];
        int exiting;
        if (e->d_name[0] == '.') continue;
        ++*listed;
        if (!read_task(e->d_name, name, sizeof name, &exiting) || exiting) continue;
        if (prefix && strncmp(name, prefix, strlen(prefix)) != 0) continue;
        n++;
        if (names && used < cap) used += (size_t)snprintf(names + used, cap - used, "%s%s", used ? " " : "", name);
    }
    if (d) closedir(d);
    return n;
}

/*
 * Threads not exiting, from a complete walk of /proc/self/task.
 *
 * Why "complete": the kernel walks the thread list from the thread it listed last, and when that
 * thread is released (removed from the list, just after a join on a busy machine) before the
 * walk moves on, the walk ends there: a running thread listed after it is missed
 * (docs/reliability.md, bug 10). A walk is complete when it listed as many threads as the
 * kernel counted ("Threads:", the length of that list) before and after it; the tests start
 * no thread while they count.
 */
static int count_running(const char *prefix, char *names, size_t cap) {
    for (int walk = 0; walk < 100000; walk++) {
        long before = status_field("Threads");
        int listed;
        int n = walk_tasks(prefix, names, cap, &listed);
        if (listed == before && status_field("Threads") == before) return n;
    }
    fprintf(stderr, "proc.c: the threads of this process changed during each of 100,000 walks of /proc/self/task\n");
    abort();
}

int count_fds(void) {
    return count_dir("/proc/self/fd") - 1; /* minus the directory stream itself */
}

int mapped(const char *path) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    FILE *f = fopen("/proc/self/maps", "r");
    char line[1024];
    int found = 0;
    while (f && fgets(line, sizeof line, f))
        if (strstr(line, base)) found = 1;
    if (f) fclose(f);
    return found;
}
#endif

/* Both platforms' count_running above: every thread, wsbridge's own (by name), their names. */
int count_threads(void) {
    return count_running(NULL, NULL, 0);
}

int wsbridge_threads(void) {
    return count_running("wsbridge-", NULL, 0);
}

const char *thread_names(void) {
    static __thread char names[512];
    count_running(NULL, names, sizeof names);
    return names;
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
