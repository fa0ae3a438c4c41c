/*
 * Linked into the C programs of `make sanitize` only. The Rust library, instrumented by
 * nightly rustc's (newer) LLVM, calls three ThreadSanitizer entry points that gcc's libtsan
 * does not define; these forward them to the C functions, which libtsan intercepts and checks
 * for races the same way.
 */
#include <stddef.h>
#include <string.h>

void *__tsan_memcpy(void *dst, const void *src, size_t n);
void *__tsan_memmove(void *dst, const void *src, size_t n);
void *__tsan_memset(void *dst, int c, size_t n);

void *__tsan_memcpy(void *dst, const void *src, size_t n) {
    return memcpy(dst, src, n);
}

void *__tsan_memmove(void *dst, const void *src, size_t n) {
    return memmove(dst, src, n);
}

void *__tsan_memset(void *dst, int c, size_t n) {
    return memset(dst, c, n);
}
