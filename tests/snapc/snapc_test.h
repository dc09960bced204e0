/* Assertions for tests/snapc: a failure prints what was got and what was expected, and
 * the test goes on (the count decides the exit status). Never compiled out. */
#ifndef REVIVE_SNAPC_TEST_H
#define REVIVE_SNAPC_TEST_H

#include <stdio.h>
#include <string.h>

static int snapc_test_failures;
static int snapc_test_checks;

#define CHECK(c)                                                                                 \
    do {                                                                                         \
        snapc_test_checks++;                                                                     \
        if (!(c)) {                                                                              \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c);                \
            snapc_test_failures++;                                                               \
        }                                                                                        \
    } while (0)

#define CHECK_EQ(a, b)                                                                           \
    do {                                                                                         \
        long long _a = (long long)(a), _b = (long long)(b);                                      \
        snapc_test_checks++;                                                                     \
        if (_a != _b) {                                                                          \
            fprintf(stderr, "%s:%d: %s == %s failed: got %lld, expected %lld\n", __FILE__,       \
                    __LINE__, #a, #b, _a, _b);                                                   \
            snapc_test_failures++;                                                               \
        }                                                                                        \
    } while (0)

#define CHECK_STR_CONTAINS(s, sub)                                                               \
    do {                                                                                         \
        const char *_s = (s), *_sub = (sub);                                                     \
        snapc_test_checks++;                                                                     \
        if (!_s || !strstr(_s, _sub)) {                                                          \
            fprintf(stderr, "%s:%d: '%s' does not contain '%s'\n", __FILE__, __LINE__,           \
                    _s ? _s : "(null)", _sub);                                                   \
            snapc_test_failures++;                                                               \
        }                                                                                        \
    } while (0)

static inline int test_summary(const char *name)
{
    if (snapc_test_failures) {
        fprintf(stderr, "%s: %d of %d checks failed\n", name, snapc_test_failures,
                snapc_test_checks);
        return 1;
    }
    printf("%s: %d checks passed\n", name, snapc_test_checks);
    return 0;
}

#endif
