/* The unit tests' assertions (tests/common, tests/crs/base): each failure prints the file, the
 * line and both sides, and ends the test with status 1. */
#ifndef REVIVE_TESTS_UNIT_ASSERT_H
#define REVIVE_TESTS_UNIT_ASSERT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAILF(...) do { \
    fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); exit(1); } while (0)

#define ASSERT_EQ(got, want) do { \
    long long g_ = (long long)(got), w_ = (long long)(want); \
    if (g_ != w_) FAILF("%s == %lld, expected %s == %lld", #got, g_, #want, w_); } while (0)

#define ASSERT_STREQ(got, want) do { \
    const char *g_ = (got), *w_ = (want); \
    if (strcmp(g_, w_)) FAILF("%s == \"%s\", expected \"%s\"", #got, g_, w_); } while (0)

#define ASSERT_TRUE(c) do { if (!(c)) FAILF("expected %s", #c); } while (0)

#endif
