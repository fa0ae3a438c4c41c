/*
 * Bugs on purpose, one per argument, so the memory checks prove they can fail:
 *
 *     canary clean | leak | overflow | uninit | signed-overflow | race
 *
 * tests/fault/test_memory.py expects valgrind to reject `leak` and `uninit`, and the
 * ASan/UBSan build to reject `leak`, `overflow` and `signed-overflow`, with the same options
 * it uses for the real programs; tests/fault/tsan_races.py expects the TSan build to reject
 * `race`. `clean` must pass everywhere.
 */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *volatile keep; /* defeats the optimiser, not the checkers */
static long counter;       /* written by two threads without a lock in `race` */

static void *bump(void *arg) {
    for (int i = 0; i < 1000; i++) counter++;
    return arg;
}
static void *(*volatile allocate)(size_t) = malloc; /* hides what the memory holds from -Werror */

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    const char *mode = argv[1];
    int n = (int)strlen(mode); /* a value the compiler cannot know */
    if (strcmp(mode, "clean") == 0) {
        char *p = malloc(16);
        snprintf(p, 16, "%d", n);
        free(p);
    } else if (strcmp(mode, "leak") == 0) {
        keep = malloc(64);
        keep = NULL; /* the only pointer is gone: definitely lost */
    } else if (strcmp(mode, "overflow") == 0) {
        char *p = malloc((size_t)n);
        keep = p;
        p[n] = 'x'; /* one byte past the end */
        free(p);
    } else if (strcmp(mode, "uninit") == 0) {
        int *p = allocate(sizeof *p * 4);
        keep = p;
        if (p[n % 4] > 0) puts("positive"); /* a branch on uninitialised memory */
        free(p);
    } else if (strcmp(mode, "signed-overflow") == 0) {
        int big = INT_MAX - 14 + n; /* INT_MAX + 1 for this mode's 15 characters */
        printf("%d\n", big);
    } else if (strcmp(mode, "race") == 0) {
        pthread_t a, b;
        pthread_create(&a, NULL, bump, NULL);
        pthread_create(&b, NULL, bump, NULL);
        pthread_join(a, NULL);
        pthread_join(b, NULL);
        printf("%ld\n", counter);
    } else {
        return 2;
    }
    return 0;
}
