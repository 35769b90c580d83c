/*
 * check.h - a minimal test harness for pare's unit tests.
 *
 * Each test file defines test functions and a main() that calls them with
 * RUN(fn); CHECK* record failures with file:line and keep going; main returns
 * check_summary(), which prints "N passed, N failed" and exits non-zero on
 * any failure.
 */
#ifndef PARE_TEST_CHECK_H
#define PARE_TEST_CHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern int check_failures_in_test;
extern int check_tests_passed, check_tests_failed, check_tests_skipped;

#define CHECK(cond)                                                                                \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);                     \
      check_failures_in_test++;                                                                    \
    }                                                                                              \
  } while (0)

#define CHECK_MSG(cond, ...)                                                                       \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond);                     \
      fprintf(stderr, __VA_ARGS__);                                                                \
      fputc('\n', stderr);                                                                         \
      check_failures_in_test++;                                                                    \
    }                                                                                              \
  } while (0)

#define CHECK_NEAR(a, b, tol)                                                                      \
  CHECK_MSG(fabs((double)(a) - (double)(b)) <= (tol), "%.9g vs %.9g (tol %g)", (double)(a),        \
            (double)(b), (double)(tol))

#define CHECK_STR_CONTAINS(hay, needle)                                                            \
  CHECK_MSG((hay) && strstr((hay), (needle)), "'%s' does not contain '%s'",                        \
            (hay) ? (hay) : "(null)", (needle))

/* Marks the current test skipped with a reason (e.g. ../shared absent). */
#define SKIP(...)                                                                                  \
  do {                                                                                             \
    fprintf(stderr, "SKIP %s: ", __func__);                                                        \
    fprintf(stderr, __VA_ARGS__);                                                                  \
    fputc('\n', stderr);                                                                           \
    check_failures_in_test = -1;                                                                   \
    return;                                                                                        \
  } while (0)

#define RUN(fn) check_run(#fn, fn)

void check_run(const char *name, void (*fn)(void));
int check_summary(void);
/* Path of ../shared (env PARE_SHARED or <source>/../shared); NULL if absent. */
const char *check_shared_dir(void);
/* Absolute path of a file under the source tree's tests/ folder. */
const char *check_source_dir(void);

#endif
