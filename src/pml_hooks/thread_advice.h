/* What to do when the rank cannot start the thread that takes its image (restart.c,
 * pml_restart_capture): the way on that fits pthread_create's error. */
#ifndef REVIVE_PML_THREAD_ADVICE_H
#define REVIVE_PML_THREAD_ADVICE_H

#include <errno.h>

/* Each errno its own cause (diffrev24 S-L2: the limits and the seccomp filter were named for
 * every one, which sent a rank at its RLIMIT_NPROC to a filter it may not have). */
static inline const char *pml_thread_start_advice(int e)
{
    /* glibc turns a stack it could not map (ENOMEM) into EAGAIN too (nptl/pthread_create.c) */
    if (e == EAGAIN)
        return "the job is at its limit of processes and threads (raise RLIMIT_NPROC: ulimit -u, prlimit "
               "--nproc, or the pids cgroup's pids.max), or the thread's stack could not be mapped (RLIMIT_AS, "
               "RLIMIT_STACK, memory)";
    if (e == ENOMEM)
        return "the kernel had no memory for the new thread: leave the rank more memory";
    /* EPERM, ENOSYS and any other: from a filter's ERRNO action (the kernel gives clone3 no other here) */
    return "a seccomp filter of the program's makes starting a thread fail: let it allow clone3 and clone (glibc "
           "starts threads with clone3, with clone where clone3 fails with ENOSYS)";
}

#endif
