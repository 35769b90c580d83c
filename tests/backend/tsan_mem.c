/*
 * tsan_mem.c - __tsan_memcpy/__tsan_memmove/__tsan_memset for generated code
 * instrumented by LLVM 19's ThreadSanitizer pass (tests/backend/tsan.sh).
 *
 * LLVM 19 turns memory intrinsics into calls to these; gcc 12's libtsan
 * predates them. Each forwards to the libc function, which libtsan
 * intercepts and checks, so the accesses are still seen. Weak, so that a
 * runtime that has them (clang's) keeps its own.
 */
#include <stddef.h>
#include <string.h>

void *__tsan_memcpy(void *dst, const void *src, size_t n);
void *__tsan_memmove(void *dst, const void *src, size_t n);
void *__tsan_memset(void *dst, int c, size_t n);

__attribute__((weak)) void *__tsan_memcpy(void *dst, const void *src, size_t n) {
  return memcpy(dst, src, n);
}

__attribute__((weak)) void *__tsan_memmove(void *dst, const void *src, size_t n) {
  return memmove(dst, src, n);
}

__attribute__((weak)) void *__tsan_memset(void *dst, int c, size_t n) {
  return memset(dst, c, n);
}
