/* glibc's _Fork (2.34): a fork that runs no pthread_atfork handler, for a child that calls only
 * async-signal-safe functions (an exec, usually), also from a signal handler. Without a handler
 * the fork guard (fork_guard.h) was not asked: a child made while a thread of Revive's held a
 * descriptor for a moment copied it, and the descriptors Revive keeps (the checkpoint thread's
 * listener, a rank's coordinator connection) stayed open in it. Ours makes the same fork under
 * the guard: it waits for open sections (a section of its own thread, interrupted by the signal
 * handler that forks, is not waited for), and the child closes what Revive owns, with system
 * calls only. The child starts no checkpoint thread (libcr's handler does that after fork();
 * a child of _Fork may not start threads); an exec brings libcr up again when it is preloaded.
 * libcr.so only: a static program's _Fork is libc's (no handler, no guard: its limits are the
 * raw clone's, fork_guard.h). */
#define _GNU_SOURCE
#include "crs/libcr/fork_guard.h"
#include "crs/libcr/runtime.h"

#include <dlfcn.h>
#include <errno.h>
#include <unistd.h>

#ifndef REVIVE_LIBCR_STATIC
static pid_t (*real_fork_raw)(void);

/* found at load: dlsym is not async-signal-safe (the fork may come from a handler) */
__attribute__((constructor)) static void fork_raw_resolve(void)
{
    real_fork_raw = (pid_t(*)(void))revive_dlsym_next("_Fork");
}

pid_t _Fork(void)
{
    if (!real_fork_raw)
        fork_raw_resolve(); /* a constructor's _Fork, before ours ran */
    if (!real_fork_raw) {
        errno = ENOSYS; /* a libc without _Fork: nothing linked against it calls this */
        return -1;
    }
    int e = errno;
    crs_fork_guard_prepare();
    errno = e;
    pid_t p = real_fork_raw();
    e = errno;
    if (p == 0) {
        crs_fork_guard_child();
        crs_runtime_forked_raw();
    } else {
        crs_fork_guard_parent();
    }
    errno = e;
    return p;
}
#endif
