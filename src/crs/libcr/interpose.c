/* Keeps the application from blocking or taking over Revive's park signal
 * (a thread that blocks it could never be checkpointed) and from closing
 * libcr's own descriptor (daemons and batch wrappers close every inherited
 * descriptor at start, by a loop, close_range or closefrom): such a close
 * is granted without closing it, and a dup2 onto its number moves it first.
 * A program that closes it without libc (a raw system call) is noticed by
 * the checkpoint thread, which listens again (runtime.c). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "crs/base/capture_filter.h"
#include "crs/libcr/runtime.h"

typedef int (*sigprocmask_fn)(int, const sigset_t *, sigset_t *);
typedef int (*sigaction_fn)(int, const struct sigaction *, struct sigaction *);

#ifdef REVIVE_LIBCR_STATIC
/* libc's calls (ld --wrap) and ours, declared for the static build */
int __real_sigprocmask(int, const sigset_t *, sigset_t *);
int __real_pthread_sigmask(int, const sigset_t *, sigset_t *);
int __real_sigaction(int, const struct sigaction *, struct sigaction *);
int __real_close(int);
int __real_dup2(int, int);
int __real_dup3(int, int, int);
int __real_close_range(unsigned, unsigned, int);
int __real_inotify_add_watch(int, const char *, uint32_t);
int __real_inotify_rm_watch(int, int);
int __wrap_sigprocmask(int, const sigset_t *, sigset_t *);
int __wrap_pthread_sigmask(int, const sigset_t *, sigset_t *);
int __wrap_sigaction(int, const struct sigaction *, struct sigaction *);
int __wrap_close(int);
int __wrap_dup2(int, int);
int __wrap_dup3(int, int, int);
int __wrap_close_range(unsigned, unsigned, int);
void __wrap_closefrom(int);
int __wrap_inotify_add_watch(int, const char *, uint32_t);
int __wrap_inotify_rm_watch(int, int);
#endif

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
static int masked(sigprocmask_fn real, int how, const sigset_t *set, sigset_t *old)
{
    sigset_t copy;
    if (how != SIG_UNBLOCK)
        set = without_park_signal(set, &copy);
    return real(how, set, old);
}

int CRS_INTERPOSE(sigprocmask)(int how, const sigset_t *set, sigset_t *old)
{
    static sigprocmask_fn real;
    if (!real)
        real = CRS_NEXT(sigprocmask_fn, sigprocmask);
    return masked(real, how, set, old);
}

int CRS_INTERPOSE(pthread_sigmask)(int how, const sigset_t *set, sigset_t *old)
{
    static sigprocmask_fn real;
    if (!real)
        real = CRS_NEXT(sigprocmask_fn, pthread_sigmask);
    return masked(real, how, set, old);
}

int CRS_INTERPOSE(sigaction)(int sig, const struct sigaction *act, struct sigaction *old)
{
    static sigaction_fn real;
    if (!real)
        real = CRS_NEXT(sigaction_fn, sigaction);
    /* The component installs its own handler while the park signal still
     * reads 0 (see crs_park_signal), so that call goes through. */
    if (act && sig != 0 && sig == crs_runtime_park_signal()) {
        errno = EINVAL;
        return -1;
    }
    return real(sig, act, old);
}

/* ---- descriptors ---- */

typedef int (*close_fn)(int);
typedef int (*dup2_fn)(int, int);
typedef int (*dup3_fn)(int, int, int);
typedef int (*close_range_fn)(unsigned, unsigned, int);

static close_fn real_close_p;
static dup2_fn real_dup2_p;
static dup3_fn real_dup3_p;
static close_range_fn real_close_range_p;

/* Looked up once at load (dlsym is no call for a signal handler, where
 * close may be called); before that, the system call. */
void crs_interpose_init(void)
{
    real_close_p = CRS_NEXT(close_fn, close);
    real_dup2_p = CRS_NEXT(dup2_fn, dup2);
    real_dup3_p = CRS_NEXT(dup3_fn, dup3);
    real_close_range_p = CRS_NEXT(close_range_fn, close_range);
}

int crs_real_close(int fd)
{
    if (fd < 0)
        return 0;
    return real_close_p ? real_close_p(fd) : (int)syscall(SYS_close, fd);
}

int CRS_INTERPOSE(close)(int fd)
{
    if (crs_runtime_owns_fd(fd))
        return 0;   /* granted: from the program's view it is closed */
    return crs_real_close(fd);
}

int CRS_INTERPOSE(dup2)(int oldfd, int newfd)
{
    if (oldfd != newfd && crs_runtime_owns_fd(newfd))
        crs_runtime_give_up_fd(newfd);
    return real_dup2_p ? real_dup2_p(oldfd, newfd) : (int)syscall(SYS_dup2, oldfd, newfd);
}

int CRS_INTERPOSE(dup3)(int oldfd, int newfd, int flags)
{
    if (oldfd != newfd && crs_runtime_owns_fd(newfd))
        crs_runtime_give_up_fd(newfd);
    return real_dup3_p ? real_dup3_p(oldfd, newfd, flags) : (int)syscall(SYS_dup3, oldfd, newfd, flags);
}

static int range(unsigned first, unsigned last, int flags)
{
    return real_close_range_p ? real_close_range_p(first, last, flags)
                              : (int)syscall(SYS_close_range, first, last, flags);
}

/* Closes [first, last] around our descriptor. With CLOSE_RANGE_CLOEXEC
 * (marks, closes nothing) or CLOSE_RANGE_UNSHARE (closes in a copy of the
 * table that is the caller's alone) there is nothing to keep. */
int CRS_INTERPOSE(close_range)(unsigned first, unsigned last, int flags)
{
    int ours = crs_runtime_own_fd();
    if (ours < 0 || (unsigned)ours < first || (unsigned)ours > last || flags != 0)
        return range(first, last, flags);
    int r = 0;
    if ((unsigned)ours > first)
        r = range(first, (unsigned)ours - 1, 0);
    if (r == 0 && (unsigned)ours < last)
        r = range((unsigned)ours + 1, last, 0);
    return r;
}

void CRS_INTERPOSE(closefrom)(int lowfd)
{
    CRS_INTERPOSE(close_range)(lowfd < 0 ? 0 : (unsigned)lowfd, ~0u, 0);
}

/* ---- inotify: the paths of watches, which the kernel does not tell ---- */

typedef int (*add_watch_fn)(int, const char *, uint32_t);
typedef int (*rm_watch_fn)(int, int);

int CRS_INTERPOSE(inotify_add_watch)(int fd, const char *path, uint32_t mask)
{
    static add_watch_fn real;
    if (!real)
        real = CRS_NEXT(add_watch_fn, inotify_add_watch);
    int wd = real ? real(fd, path, mask) : (int)syscall(SYS_inotify_add_watch, fd, path, mask);
    if (wd < 0 || !path)
        return wd;
    int saved = errno;
    char abs[PATH_MAX];
    struct stat st;
    int r = (mask & IN_DONT_FOLLOW) ? lstat(path, &st) : stat(path, &st);
    if (path[0] == '/')
        snprintf(abs, sizeof abs, "%s", path);
    else if (getcwd(abs, sizeof abs))
        snprintf(abs + strlen(abs), sizeof abs - strlen(abs), "/%s", path);
    else
        abs[0] = 0;
    if (r == 0 && abs[0])
        crs_inotify_note(fd, wd, abs, st.st_dev, st.st_ino);
    errno = saved;
    return wd;
}

int CRS_INTERPOSE(inotify_rm_watch)(int fd, int wd)
{
    static rm_watch_fn real;
    if (!real)
        real = CRS_NEXT(rm_watch_fn, inotify_rm_watch);
    int r = real ? real(fd, wd) : (int)syscall(SYS_inotify_rm_watch, fd, wd);
    if (r == 0)
        crs_inotify_forget(fd, wd);
    return r;
}
