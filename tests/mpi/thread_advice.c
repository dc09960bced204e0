/* The advice a rank gives when it cannot start the thread that takes its image
 * (src/pml_hooks/thread_advice.h, pml_restart_capture): the limits for EAGAIN only (with the
 * stack's: glibc gives EAGAIN for a stack it could not map), memory for ENOMEM, the seccomp filter for EPERM and ENOSYS (diffrev24 S-L2: every errno got the limits
 * and the filter both). */
#include "pml_hooks/thread_advice.h"
#include "tests/unit_assert.h"

int main(void)
{
    const char *a = pml_thread_start_advice(EAGAIN);
    ASSERT_TRUE(strstr(a, "RLIMIT_NPROC") && strstr(a, "pids.max") && strstr(a, "RLIMIT_AS"));
    ASSERT_TRUE(!strstr(a, "seccomp"));
    a = pml_thread_start_advice(ENOMEM);
    ASSERT_TRUE(!strstr(a, "seccomp") && !strstr(a, "RLIMIT_NPROC"));
    int filter_errs[] = { EPERM, ENOSYS, EACCES };
    for (unsigned i = 0; i < sizeof filter_errs / sizeof filter_errs[0]; i++) {
        a = pml_thread_start_advice(filter_errs[i]);
        ASSERT_TRUE(strstr(a, "seccomp") && strstr(a, "clone3"));
        ASSERT_TRUE(!strstr(a, "RLIMIT_NPROC"));
    }
    printf("PASS: thread start advice fits each errno\n");
    return 0;
}
