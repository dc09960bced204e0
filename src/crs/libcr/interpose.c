/* Keeps the application from blocking or taking over Revive's park signal
 * (a thread that blocks it could never be checkpointed) and from closing
 * libcr's own descriptor (daemons and batch wrappers close every inherited
 * descriptor at start, by a loop, close_range or closefrom): such a close
 * is granted without closing it, and a dup2 onto its number moves it first.
 * A program that closes it without libc (a raw system call) is noticed by
 * the checkpoint thread, which listens again (runtime.c). */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "libcr"
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/log.h"
#include "crs/base/capture_filter.h"
#include "crs/base/component.h"
#include "crs/base/inotify_saved.h"
#include "crs/base/sysvipc_notes.h"
#include "crs/libcr/runtime.h"

typedef int (*sigprocmask_fn)(int, const sigset_t *, sigset_t *);
typedef int (*sigaction_fn)(int, const struct sigaction *, struct sigaction *);

#ifdef REVIVE_LIBCR_STATIC
/* libc's calls (ld --wrap) and ours, declared for the static build */
int __real_sigprocmask(int, const sigset_t *, sigset_t *);
int __real_pthread_sigmask(int, const sigset_t *, sigset_t *);
int __real_sigaction(int, const struct sigaction *, struct sigaction *);
sighandler_t __real_signal(int, sighandler_t);
sighandler_t __real_bsd_signal(int, sighandler_t);
sighandler_t __real_sysv_signal(int, sighandler_t);
sighandler_t __real___sysv_signal(int, sighandler_t);
sighandler_t __real_sigset(int, sighandler_t);
int __real_close(int);
int __real_dup(int);
int __real_fcntl(int, int, ...);
int __real_dup2(int, int);
int __real_dup3(int, int, int);
int __real_close_range(unsigned, unsigned, int);
int __real_daemon(int, int);
int __real_inotify_add_watch(int, const char *, uint32_t);
int __real_inotify_rm_watch(int, int);
int __wrap_sigprocmask(int, const sigset_t *, sigset_t *);
int __wrap_pthread_sigmask(int, const sigset_t *, sigset_t *);
int __wrap_sigaction(int, const struct sigaction *, struct sigaction *);
sighandler_t __wrap_signal(int, sighandler_t);
sighandler_t __wrap_bsd_signal(int, sighandler_t);
sighandler_t __wrap_sysv_signal(int, sighandler_t);
sighandler_t __wrap___sysv_signal(int, sighandler_t);
sighandler_t __wrap_sigset(int, sighandler_t);
int __wrap_close(int);
int __wrap_dup(int);
int __wrap_fcntl(int, int, ...);
int __wrap_fcntl64(int, int, ...);
int __wrap_dup2(int, int);
int __wrap_dup3(int, int, int);
int __wrap_close_range(unsigned, unsigned, int);
int __wrap_daemon(int, int);
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

/* Says once per process, on stderr, that the program asked for a handler of
 * the park signal and was refused: without it the program just runs on
 * without its handler and gives another result than natively (newuser7b F2).
 * SIG_DFL and SIG_IGN are refused without a word: programs that reset every
 * signal in a loop (before an exec, in a daemon) ignore the EINVAL they get
 * for SIGKILL and SIGSTOP too, and lose nothing. The logger formats on its
 * stack and writes once, no malloc: sigaction may be called from a handler.
 * `done`: what became of the call, `lost`: what the program loses. */
static void say_reserved(const char *call, int sig, const char *done, const char *lost)
{
    static atomic_int told;
    if (atomic_exchange(&told, 1))
        return;
    char name[24];
    if (sig - SIGRTMIN <= SIGRTMAX - sig)
        snprintf(name, sizeof name, "SIGRTMIN+%d", sig - SIGRTMIN);
    else
        snprintf(name, sizeof name, "SIGRTMAX-%d", SIGRTMAX - sig);
    revive_log_warn("the program's %s(%d) %s: signal %d (%s) is reserved by Revive "
                    "for checkpoints, so %s; to let the program "
                    "have it, set REVIVE_SIGNAL=N to another real-time signal (%d to %d) it does "
                    "not use, e.g. REVIVE_SIGNAL=%d",
                    call, sig, done, sig, name, lost, SIGRTMIN, SIGRTMAX,
                    sig == SIGRTMIN + 16 ? SIGRTMIN + 15 : SIGRTMIN + 16);
}

static void tell_reserved(const char *call, int sig, sighandler_t handler)
{
    if (handler != SIG_DFL && handler != SIG_IGN)
        say_reserved(call, sig, "is refused (EINVAL)", "the program's handler will not run");
}

void crs_interpose_tell_waited(const char *call, int sig)
{
    say_reserved(call, sig, "waits without it", "the program will never receive it");
}

/* The component installs its own handler while the park signal still
 * reads 0 (see crs_park_signal), so that call goes through. */
static int is_park_signal(int sig)
{
    return sig != 0 && sig == crs_runtime_park_signal();
}

int CRS_INTERPOSE(sigaction)(int sig, const struct sigaction *act, struct sigaction *old)
{
    static sigaction_fn real;
    if (!real)
        real = CRS_NEXT(sigaction_fn, sigaction);
    if (act && is_park_signal(sig)) {
        tell_reserved("sigaction", sig, act->sa_handler);
        errno = EINVAL;
        return -1;
    }
    return real(sig, act, old);
}

/* glibc's signal(), bsd_signal(), sysv_signal() (strict C's signal) and
 * sigset() install with its internal sigaction, which the one above never
 * sees: without these the program's handler replaced Revive's. */
typedef sighandler_t (*signal_fn)(int, sighandler_t);
#ifndef REVIVE_LIBCR_STATIC
sighandler_t bsd_signal(int, sighandler_t); /* glibc exports it; its headers no longer declare it */
#endif

static sighandler_t refused_or(signal_fn real, const char *call, int sig, sighandler_t handler)
{
    if (is_park_signal(sig)) {
        tell_reserved(call, sig, handler);
        errno = EINVAL;
        return SIG_ERR;
    }
    return real(sig, handler);
}

/* SHOWN: the call as the program wrote it (strict C's signal() is __sysv_signal) */
#define CRS_SIGNAL_CALL(name, shown)                                           \
    sighandler_t CRS_INTERPOSE(name)(int sig, sighandler_t handler)            \
    {                                                                          \
        static signal_fn real;                                                 \
        if (!real)                                                             \
            real = CRS_NEXT(signal_fn, name);                                  \
        return refused_or(real, shown, sig, handler);                          \
    }
CRS_SIGNAL_CALL(signal, "signal")
CRS_SIGNAL_CALL(bsd_signal, "bsd_signal")
CRS_SIGNAL_CALL(sysv_signal, "sysv_signal")
CRS_SIGNAL_CALL(__sysv_signal, "signal")
CRS_SIGNAL_CALL(sigset, "sigset")

/* ---- starting another program ---- */

/* A thread parked while inside execve would take the park signal into the
 * new program, which dies of it (no handler there yet): every way of
 * calling execve runs between the component's exec_enter and exec_leave.
 * glibc's exec functions call its execve internally, past any interposer,
 * so each is wrapped whole (execvp's search of PATH included). posix_spawn,
 * system and popen need nothing: their child is a process of its own that
 * no park signal is sent to, and the parent blocks every signal meanwhile. */
typedef int (*execve_fn)(const char *, char *const[], char *const[]);
typedef int (*execv_fn)(const char *, char *const[]);
typedef int (*fexecve_fn)(int, char *const[], char *const[]);
typedef int (*execveat_fn)(int, const char *, char *const[], char *const[], int);

#ifdef REVIVE_LIBCR_STATIC
int __real_execve(const char *, char *const[], char *const[]);
int __real_execv(const char *, char *const[]);
int __real_execvp(const char *, char *const[]);
int __real_execvpe(const char *, char *const[], char *const[]);
int __real_fexecve(int, char *const[], char *const[]);
int __real_execveat(int, const char *, char *const[], char *const[], int);
int __wrap_execve(const char *, char *const[], char *const[]);
int __wrap_execv(const char *, char *const[]);
int __wrap_execvp(const char *, char *const[]);
int __wrap_execvpe(const char *, char *const[], char *const[]);
int __wrap_fexecve(int, char *const[], char *const[]);
int __wrap_execveat(int, const char *, char *const[], char *const[], int);
int __wrap_execl(const char *, const char *, ...);
int __wrap_execle(const char *, const char *, ...);
int __wrap_execlp(const char *, const char *, ...);
#endif

/* Runs `call` (an exec function's call, an int expression) guarded; errno
 * is the call's when it returns. The System V notes go with the process
 * into the new program (sysvipc_notes.h) when it loads libcr (`takes`, an
 * int expression evaluated only when there are notes: crs_exec_loads_libcr),
 * whose libcr closes their descriptor; into another the descriptor would
 * leak, and the notes are of no use there. Not from a vfork child, which
 * exec_enter leaves unguarded: its notes are its parent's, its adjustments
 * none. */
#define EXEC_GUARDED(call, takes)                                                                                  \
    do {                                                                                                           \
        struct crs_exec_guard g_;                                                                                  \
        crs_runtime_exec_enter(&g_);                                                                               \
        int notes_ = (g_.blocked || g_.slot >= 0) && crs_sysvipc_any() && (takes) ? crs_sysvipc_pass_on() : -1;   \
        int r_ = (call);                                                                                           \
        int e_ = errno;                                                                                            \
        if (notes_ >= 0)                                                                                           \
            crs_sysvipc_passed(notes_);                                                                            \
        crs_runtime_exec_leave(&g_);                                                                               \
        errno = e_;                                                                                                \
        return r_;                                                                                                 \
    } while (0)

int CRS_INTERPOSE(execve)(const char *path, char *const argv[], char *const envp[])
{
    static execve_fn real;
    if (!real)
        real = CRS_NEXT(execve_fn, execve);
    EXEC_GUARDED(real ? real(path, argv, envp) : (int)syscall(SYS_execve, path, argv, envp),
                 crs_exec_loads_libcr(AT_FDCWD, path, 0, envp, 0));
}

int CRS_INTERPOSE(execv)(const char *path, char *const argv[])
{
    static execv_fn real;
    if (!real)
        real = CRS_NEXT(execv_fn, execv);
    EXEC_GUARDED(real ? real(path, argv) : (int)syscall(SYS_execve, path, argv, environ),
                 crs_exec_loads_libcr(AT_FDCWD, path, 0, environ, 0));
}

int CRS_INTERPOSE(execvp)(const char *file, char *const argv[])
{
    static execv_fn real;
    if (!real)
        real = CRS_NEXT(execv_fn, execvp);
    if (!real) {
        errno = ENOSYS;
        return -1;
    }
    EXEC_GUARDED(real(file, argv), crs_exec_loads_libcr(AT_FDCWD, file, 0, environ, 1));
}

int CRS_INTERPOSE(execvpe)(const char *file, char *const argv[], char *const envp[])
{
    static execve_fn real;
    if (!real)
        real = CRS_NEXT(execve_fn, execvpe);
    if (!real) {
        errno = ENOSYS;
        return -1;
    }
    EXEC_GUARDED(real(file, argv, envp), crs_exec_loads_libcr(AT_FDCWD, file, 0, envp, 1));
}

int CRS_INTERPOSE(fexecve)(int fd, char *const argv[], char *const envp[])
{
    static fexecve_fn real;
    if (!real)
        real = CRS_NEXT(fexecve_fn, fexecve);
    if (!real) {
        errno = ENOSYS;
        return -1;
    }
    EXEC_GUARDED(real(fd, argv, envp), crs_exec_loads_libcr(fd, "", AT_EMPTY_PATH, envp, 0));
}

int CRS_INTERPOSE(execveat)(int dirfd, const char *path, char *const argv[], char *const envp[], int flags)
{
    static execveat_fn real;
    if (!real)
        real = CRS_NEXT(execveat_fn, execveat);
    EXEC_GUARDED(real ? real(dirfd, path, argv, envp, flags)
                      : (int)syscall(SYS_execveat, dirfd, path, argv, envp, flags),
                 crs_exec_loads_libcr(dirfd, path, flags, envp, 0));
}

/* execl, execle, execlp: their arguments made an array, then the array
 * form above. No malloc (a vfork child may call them): up to EXEC_ARGS_SMALL
 * on the stack, more in an anonymous mapping. */
#define EXEC_ARGS_SMALL 256

struct exec_args {
    char *small[EXEC_ARGS_SMALL];
    char **argv;
    size_t mapped;   /* bytes of argv's mapping, 0: on the stack */
    char **envp;     /* execle's */
};

/* Counts the arguments after `first` (up to the NULL) in `count`, a copy of the va_list. */
static int args_array(struct exec_args *a, const char *first, va_list count, va_list ap, int with_envp)
{
    size_t n = 1;
    while (va_arg(count, const char *))
        n++;
    a->mapped = 0;
    a->argv = a->small;
    if (n + 1 > EXEC_ARGS_SMALL) {
        a->mapped = (n + 1) * sizeof(char *);
        void *m = mmap(NULL, a->mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED) {
            errno = E2BIG;
            return -1;
        }
        a->argv = m;
    }
    a->argv[0] = (char *)first;
    for (size_t i = 1; i <= n; i++)
        a->argv[i] = va_arg(ap, char *);
    a->envp = with_envp ? va_arg(ap, char **) : NULL;
    return 0;
}

static int args_done(struct exec_args *a, int r)
{
    int e = errno;
    if (a->mapped)
        munmap(a->argv, a->mapped);
    errno = e;
    return r;
}

int CRS_INTERPOSE(execl)(const char *path, const char *arg, ...)
{
    struct exec_args a;
    va_list ap, count;
    va_start(ap, arg);
    va_copy(count, ap);
    int r = args_array(&a, arg, count, ap, 0);
    va_end(count);
    va_end(ap);
    return r ? r : args_done(&a, CRS_INTERPOSE(execv)(path, a.argv));
}

int CRS_INTERPOSE(execlp)(const char *file, const char *arg, ...)
{
    struct exec_args a;
    va_list ap, count;
    va_start(ap, arg);
    va_copy(count, ap);
    int r = args_array(&a, arg, count, ap, 0);
    va_end(count);
    va_end(ap);
    return r ? r : args_done(&a, CRS_INTERPOSE(execvp)(file, a.argv));
}

int CRS_INTERPOSE(execle)(const char *path, const char *arg, ...)
{
    struct exec_args a;
    va_list ap, count;
    va_start(ap, arg);
    va_copy(count, ap);
    int r = args_array(&a, arg, count, ap, 1);
    va_end(count);
    va_end(ap);
    return r ? r : args_done(&a, CRS_INTERPOSE(execve)(path, a.argv, a.envp));
}

/* ---- descriptors ---- */

typedef int (*close_fn)(int);
typedef int (*dup2_fn)(int, int);
typedef int (*dup3_fn)(int, int, int);
typedef int (*close_range_fn)(unsigned, unsigned, int);
typedef int (*dup_fn)(int);
typedef int (*fcntl_fn)(int, int, ...);

static close_fn real_close_p;
static dup_fn real_dup_p;
static fcntl_fn real_fcntl_p;
static dup2_fn real_dup2_p;
static dup3_fn real_dup3_p;
static close_range_fn real_close_range_p;

/* Looked up once at load (dlsym is no call for a signal handler, where
 * close may be called); before that, the system call. */
void crs_interpose_init(void)
{
    real_close_p = CRS_NEXT(close_fn, close);
    real_dup_p = CRS_NEXT(dup_fn, dup);
    real_fcntl_p = CRS_NEXT(fcntl_fn, fcntl);
    real_dup2_p = CRS_NEXT(dup2_fn, dup2);
    real_dup3_p = CRS_NEXT(dup3_fn, dup3);
    real_close_range_p = CRS_NEXT(close_range_fn, close_range);
}

/* An inotify's saved events go with its last number (inotify_saved.h). */
static void saved_gone(int fd)
{
    if (__atomic_load_n(&crs_inotify_saved_active, __ATOMIC_ACQUIRE))
        crs_inotify_saved_closed(fd);
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
    crs_stream_note_replaced(fd);   /* a standard stream: what comes there is the program's */
    saved_gone(fd);
    return crs_real_close(fd);
}

/* A copy of an inotify with saved events reads them too. */
static int saved_copied(int oldfd, int newfd)
{
    if (newfd >= 0 && crs_inotify_saved_maybe(oldfd))
        crs_inotify_saved_dup(oldfd, newfd);
    return newfd;
}

int CRS_INTERPOSE(dup)(int oldfd)
{
    return saved_copied(oldfd, real_dup_p ? real_dup_p(oldfd) : (int)syscall(SYS_dup, oldfd));
}

/* Every command's argument is an int or a pointer: both come as one
 * register-sized value (as glibc's own fcntl takes it). */
static int fcntl_copied(int fd, int cmd, void *arg)
{
    int r = real_fcntl_p ? real_fcntl_p(fd, cmd, arg) : (int)syscall(SYS_fcntl, fd, cmd, arg);
    if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
        saved_copied(fd, r);
    return r;
}

int CRS_INTERPOSE(fcntl)(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    return fcntl_copied(fd, cmd, arg);
}

/* What programs built with _FILE_OFFSET_BITS=64 call (the same call on
 * x86_64). */
int CRS_INTERPOSE(fcntl64)(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    return fcntl_copied(fd, cmd, arg);
}

int CRS_INTERPOSE(dup2)(int oldfd, int newfd)
{
    if (oldfd != newfd && crs_runtime_owns_fd(newfd))
        crs_runtime_give_up_fd(newfd);
    if (oldfd != newfd) {
        crs_stream_note_replaced(newfd);
        saved_gone(newfd);
    }
    int r = real_dup2_p ? real_dup2_p(oldfd, newfd) : (int)syscall(SYS_dup2, oldfd, newfd);
    return oldfd != newfd ? saved_copied(oldfd, r) : r;
}

int CRS_INTERPOSE(dup3)(int oldfd, int newfd, int flags)
{
    if (oldfd != newfd && crs_runtime_owns_fd(newfd))
        crs_runtime_give_up_fd(newfd);
    crs_stream_note_replaced(newfd);
    if (oldfd != newfd)
        saved_gone(newfd);
    return saved_copied(oldfd, real_dup3_p ? real_dup3_p(oldfd, newfd, flags) : (int)syscall(SYS_dup3, oldfd, newfd, flags));
}

/* daemon(3) puts /dev/null on the standard streams with libc's own calls
 * (no interposed dup2 sees them) */
typedef int (*daemon_fn)(int, int);
int CRS_INTERPOSE(daemon)(int nochdir, int noclose)
{
    static daemon_fn real;
    if (!real)
        real = CRS_NEXT(daemon_fn, daemon);
    if (!real) {
        errno = ENOSYS;
        return -1;
    }
    int r = real(nochdir, noclose);
    if (r == 0 && !noclose)
        for (int fd = 0; fd <= 2; fd++)
            crs_stream_note_replaced(fd);
    return r;
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
    for (unsigned fd = first; fd <= 2 && fd <= last && !(flags & CLOSE_RANGE_CLOEXEC); fd++)
        crs_stream_note_replaced((int)fd);
    if (!(flags & (CLOSE_RANGE_CLOEXEC | CLOSE_RANGE_UNSHARE)) && __atomic_load_n(&crs_inotify_saved_active, __ATOMIC_ACQUIRE))
        crs_inotify_saved_closed_range(first, last);
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
