/* revive_wait_bound (clock.h): the timeout libcr's sigtimedwait and semtimedop wrappers make a
 * call with, first and after a park: none, the caller's own, the time left (zero once past), a
 * timeout the kernel refuses or a huge one as given each time, a deadline moved as a park does;
 * no malloc. */
#include "common/clock.h"
#include "common_test.h"

#include <limits.h>

const char ct_no_malloc_what[] = "the wait bound";

/* B started for T; returns the first answer */
static const struct timespec *first(struct revive_wait_bound *b, const struct timespec *t,
                                    struct timespec *left)
{
    ct_no_malloc = 1;
    revive_wait_bound_start(b, t);
    const struct timespec *r = revive_wait_bound_next(b, left);
    ct_no_malloc = 0;
    return r;
}

/* T passed as given on every call, no deadline kept */
static void as_given(const struct timespec *t)
{
    struct revive_wait_bound b;
    struct timespec left = { -7, -7 };
    ASSERT_TRUE(first(&b, t, &left) == t);
    for (int k = 0; k < 3; k++)
        ASSERT_TRUE(revive_wait_bound_next(&b, &left) == t);
    ASSERT_TRUE(revive_wait_bound_deadline(&b) == NULL);
    ASSERT_EQ(left.tv_sec, -7); /* untouched */
}

int main(void)
{
    struct revive_wait_bound b;
    struct timespec left;

    /* no timeout: none, each time */
    as_given(NULL);

    /* the kernel's refusals go to it as they are (EINVAL, as without Revive) */
    as_given(&(struct timespec){ -1, 0 });
    as_given(&(struct timespec){ 0, -1 });
    as_given(&(struct timespec){ 5, 1000000000 });
    as_given(&(struct timespec){ LONG_MIN, 0 });
    /* huge: a deadline in ns would overflow (tv_sec * 1e9 past INT64_MAX from ~9.2e9 s) */
    as_given(&(struct timespec){ REVIVE_WAIT_BOUND_MAX_S + 1, 0 });
    as_given(&(struct timespec){ (time_t)1 << 40, 0 });
    as_given(&(struct timespec){ LONG_MAX, 999999999 });

    /* the largest kept: a deadline, no overflow, the time left close to it */
    struct timespec max = { REVIVE_WAIT_BOUND_MAX_S, 999999999 };
    ASSERT_TRUE(first(&b, &max, &left) == &max);
    ASSERT_TRUE(revive_wait_bound_deadline(&b) != NULL);
    ASSERT_TRUE(revive_wait_bound_next(&b, &left) == &left);
    ASSERT_TRUE(left.tv_sec >= REVIVE_WAIT_BOUND_MAX_S - 60 && left.tv_sec <= REVIVE_WAIT_BOUND_MAX_S);
    ASSERT_TRUE(left.tv_nsec >= 0 && left.tv_nsec < 1000000000);

    /* zero: the caller's own first (EAGAIN at once), then zero left */
    struct timespec zero = { 0, 0 };
    ASSERT_TRUE(first(&b, &zero, &left) == &zero);
    ASSERT_TRUE(revive_wait_bound_next(&b, &left) == &left);
    ASSERT_EQ(left.tv_sec, 0);
    ASSERT_EQ(left.tv_nsec, 0);

    /* 2 s: the caller's own first, then what is left, never more, never negative */
    struct timespec two = { 2, 0 };
    ASSERT_TRUE(first(&b, &two, &left) == &two);
    ASSERT_TRUE(revive_wait_bound_next(&b, &left) == &left);
    int64_t ns = (int64_t)left.tv_sec * 1000000000 + left.tv_nsec;
    ASSERT_TRUE(ns > 1000000000 && ns <= 2000000000);
    /* a deadline moved as crs_park_call_again does after an image: 0.5 s past now */
    int64_t *d = revive_wait_bound_deadline(&b);
    ASSERT_TRUE(d != NULL);
    *d = revive_mono_ns() + 500000000;
    revive_wait_bound_next(&b, &left);
    ns = (int64_t)left.tv_sec * 1000000000 + left.tv_nsec;
    ASSERT_TRUE(ns > 400000000 && ns <= 500000000);
    /* past: zero, not negative */
    *d = revive_mono_ns() - 3000000000LL;
    revive_wait_bound_next(&b, &left);
    ASSERT_EQ(left.tv_sec, 0);
    ASSERT_EQ(left.tv_nsec, 0);
    printf("PASS: revive_wait_bound\n");
    return 0;
}
