/* Keeps the application from blocking or taking over Revive's park signal:
 * a thread that blocks it could never be checkpointed. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>

#include "crs/libcr/runtime.h"

typedef int (*sigprocmask_fn)(int, const sigset_t *, sigset_t *);
typedef int (*sigaction_fn)(int, const struct sigaction *, struct sigaction *);

static const sigset_t *without_park_signal(const sigset_t *set, sigset_t *copy)
{
    int sig = crs_runtime_park_signal();
    if (!set || !sig || !sigismember(set, sig))
        return set;
    *copy = *set;
    sigdelset(copy, sig);
    return copy;
}

/* Both mask calls take the same path: the real call, minus our signal. */
static int masked(sigprocmask_fn *real, const char *name, int how, const sigset_t *set, sigset_t *old)
{
    if (!*real)
        *real = (sigprocmask_fn)dlsym(RTLD_NEXT, name);
    sigset_t copy;
    if (how != SIG_UNBLOCK)
        set = without_park_signal(set, &copy);
    return (*real)(how, set, old);
}

int sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
    static sigprocmask_fn real;
    return masked(&real, "sigprocmask", how, set, old);
}

int pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
    static sigprocmask_fn real;
    return masked(&real, "pthread_sigmask", how, set, old);
}

int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    static sigaction_fn real;
    if (!real)
        real = (sigaction_fn)dlsym(RTLD_NEXT, "sigaction");
    /* The component installs its own handler while the park signal still
     * reads 0 (see crs_park_signal), so that call goes through. */
    if (act && sig != 0 && sig == crs_runtime_park_signal()) {
        errno = EINVAL;
        return -1;
    }
    return real(sig, act, old);
}
