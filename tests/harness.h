/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A tiny test harness (libuv test/task.h style): asserts print both values and
 * the expression and are never compiled out; each file has a table of cases.
 *
 *   static void t_foo(void) { ASSERT_EQ(1, one()); }
 *   SG_TESTS({"foo", t_foo}, {"bar", t_bar})
 *
 * Run one case with `./test_x --case=foo`. Output ends with "N passed, N failed".
 */
#ifndef SG_TEST_HARNESS_H
#define SG_TEST_HARNESS_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const char *name;
  void (*fn)(void);
} sg_test_case;

#define SG_FAIL_(...)                                                                              \
  do {                                                                                             \
    fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                                                \
    fprintf(stderr, __VA_ARGS__);                                                                  \
    fprintf(stderr, "\n");                                                                         \
    abort();                                                                                       \
  } while (0)

#define ASSERT(c)                                                                                  \
  do {                                                                                             \
    if (!(c))                                                                                      \
      SG_FAIL_("assertion failed: %s", #c);                                                        \
  } while (0)

#define ASSERT_EQ(a, b)                                                                            \
  do {                                                                                             \
    long long a_ = (long long)(a), b_ = (long long)(b);                                            \
    if (a_ != b_)                                                                                  \
      SG_FAIL_("%s == %s failed: %lld != %lld", #a, #b, a_, b_);                                   \
  } while (0)
#define ASSERT_NE(a, b)                                                                            \
  do {                                                                                             \
    long long a_ = (long long)(a), b_ = (long long)(b);                                            \
    if (a_ == b_)                                                                                  \
      SG_FAIL_("%s != %s failed: both %lld", #a, #b, a_);                                          \
  } while (0)
#define ASSERT_CMP_(a, op, b)                                                                      \
  do {                                                                                             \
    long long a_ = (long long)(a), b_ = (long long)(b);                                            \
    if (!(a_ op b_))                                                                               \
      SG_FAIL_("%s %s %s failed: %lld vs %lld", #a, #op, #b, a_, b_);                              \
  } while (0)
#define ASSERT_LT(a, b) ASSERT_CMP_(a, <, b)
#define ASSERT_LE(a, b) ASSERT_CMP_(a, <=, b)
#define ASSERT_GT(a, b) ASSERT_CMP_(a, >, b)
#define ASSERT_GE(a, b) ASSERT_CMP_(a, >=, b)
#define ASSERT_OK(e) ASSERT_EQ(0, (e))
#define ASSERT_NULL(p) ASSERT((p) == NULL)
#define ASSERT_NOT_NULL(p) ASSERT((p) != NULL)
#define ASSERT_STR_EQ(a, b)                                                                        \
  do {                                                                                             \
    const char *a_ = (a), *b_ = (b);                                                               \
    if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0)                                           \
      SG_FAIL_("%s == %s failed:\n  \"%s\"\n  \"%s\"", #a, #b, a_ ? a_ : "(null)",                 \
               b_ ? b_ : "(null)");                                                                \
  } while (0)
#define ASSERT_MEM_EQ(a, b, n)                                                                     \
  do {                                                                                             \
    if (memcmp((a), (b), (n)) != 0)                                                                \
      SG_FAIL_("%s == %s (%zu bytes) failed", #a, #b, (size_t)(n));                                \
  } while (0)

static inline int sg_test_main(int argc, char **argv, const sg_test_case *cases, size_t n) {
  const char *only = NULL;
  for (int i = 1; i < argc; i++)
    if (strncmp(argv[i], "--case=", 7) == 0)
      only = argv[i] + 7;
  int passed = 0;
  for (size_t i = 0; i < n; i++) {
    if (only && strcmp(only, cases[i].name) != 0)
      continue;
    fprintf(stderr, "-- %s\n", cases[i].name);
    cases[i].fn(); /* a failure aborts the whole binary, so ctest sees it */
    passed++;
  }
  if (only && passed == 0) {
    fprintf(stderr, "no case named %s\n", only);
    return 2;
  }
  printf("%d passed, 0 failed\n", passed);
  return 0;
}

#define SG_TESTS(...)                                                                              \
  int main(int argc, char **argv) {                                                                \
    static const sg_test_case cases_[] = {__VA_ARGS__};                                            \
    return sg_test_main(argc, argv, cases_, sizeof(cases_) / sizeof(cases_[0]));                   \
  }

#endif
