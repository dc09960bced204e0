/*
 * State test: a staged sandbox (diffrev19 MEDIUM-K). Worker W locks itself
 * down in stages: filter 1 makes openat fail with EPERM (prctl), filter 2
 * makes times fail with EXDEV (syscall(SYS_seccomp)); then W starts worker
 * X, which inherits both and adds filter 3 of its own: sysinfo fails with
 * ENOTBLK. libcr's wrappers once read /proc/thread-self/status at every
 * install to learn which filters the thread had: with openat forbidden that
 * read failed, and every later checkpoint was refused (a filter whose
 * action is KILL killed the program at its second install). Each check has
 * main, W and X try the calls and prints what each may do and how many
 * filters beyond the process's start each runs under (main reads them from
 * /proc: W and X cannot), equal after every restart: main 0, W 2, X 3. The
 * checkpoint points are in the main thread, which may open files.
 * CRT_SECCOMP_STAGED=errno or kill: before all that, main installs a filter
 * for every thread (SECCOMP_FILTER_FLAG_TSYNC: libcr's checkpoint thread
 * too) that makes openat with flags O_RDONLY|O_DIRECTORY|O_CLOEXEC (how
 * libcr opens /proc's directories; the program never does) fail with
 * EACCES, or end the process. The counts are then main 1, W 3, X 4.
 * getdents: the filter makes getdents64 (libcr lists /proc/self/task and
 * /proc/self/fd with it; the program never calls it) fail with EACCES.
 * sigaction, rlimit: the same for rt_sigaction and prlimit64 (libcr reads
 * every signal's action and every limit; their failures were recorded as
 * SIG_DFL and 0, diffrev24 S-M1).
 * tie: two such filters for openat of a directory, the older failing it
 * with EACCES, the newer with EPERM (the kernel applies the newer one);
 * newer: two for getdents64, the older failing it with EACCES, the newer
 * ending the process. Counts then main 2, W 4, X 5.
 * stdin: the filter makes read of descriptor 0 alone fail with EBADF (the
 * program never reads it; the refusal judged the capture's reads of /proc
 * by fd 0 and refused every checkpoint, diffrev24 S-L1): checkpoints work.
 * sigwait: it makes rt_sigtimedwait fail (libcr takes the queued signals off
 * with it; diffrev24 X-L1). signalfd: the program holds an edge-triggered
 * signalfd watch in an epoll, and the filter ends the process on signalfd4
 * (libcr's checkpoint thread makes a marker signalfd for that epoll before
 * the park: the process died); signalfd-errno: the filter makes signalfd4
 * fail, which only leaves the marker out (checkpoints work).
 * fcntl: the filter ends the process on fcntl F_GETOWN_EX (libcr reads every
 * descriptor's owner with it; the program never does); fcntl-stdout: on any
 * fcntl of descriptor 1 (libcr's check probed descriptors from 0 with
 * F_GETFD to find a free one; diffrev25 T-L5).
 * Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

static int inherited;   /* filters the process started under (its launcher's) */

static int filter_count(pid_t tid)
{
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/self/task/%d/status", (int)tid);
    FILE *f = fopen(path, "r");
    int n = -1;
    if (!f)
        return -1;
    while (fgets(buf, sizeof buf, f))
        if (!strncmp(buf, "Seccomp_filters:", 16))
            n = atoi(buf + 16);
    fclose(f);
    return n;
}

/* A filter: system call nr fails with errno err, every other one is allowed. */
static struct sock_fprog make_filter(struct sock_filter f[6], long nr, int err)
{
    struct sock_filter prog[6] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 3),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (unsigned)err),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    memcpy(f, prog, sizeof prog);
    return (struct sock_fprog){ 6, f };
}

/* What the calling thread may do, as one line (no /proc: W and X may not open it). */
static void probe(const char *who, char *out, size_t cap)
{
    errno = 0;
    int fd = openat(AT_FDCWD, "/dev/null", O_RDONLY | O_CLOEXEC);
    int op_err = errno;
    if (fd >= 0)
        close(fd);
    errno = 0;
    char tbuf[64];
    long ti = syscall(SYS_times, tbuf);
    int ti_err = errno;
    errno = 0;
    long si = syscall(SYS_sysinfo, NULL);   /* NULL: EFAULT when allowed */
    int si_err = errno;
    struct utsname u;
    int un = uname(&u);
    snprintf(out, cap, "%s: openat %s, times %s, sysinfo %s, uname %s", who,
             fd >= 0 ? "allowed" : op_err == EPERM ? "forbidden" : strerror(op_err),
             ti >= 0 ? "allowed" : ti_err == EXDEV ? "forbidden" : strerror(ti_err),
             si_err == EFAULT ? "allowed" : si < 0 && si_err == ENOTBLK ? "forbidden" : strerror(si_err),
             un == 0 ? "allowed" : strerror(errno));
}

/* A worker answers each question with its probe. */
struct worker {
    pthread_t th;
    const char *name;
    pid_t tid;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int ready, asked, answered;
    char report[256];
};

static struct worker w, x;

static void serve(struct worker *me)
{
    pthread_mutex_lock(&me->mu);
    me->tid = (pid_t)syscall(SYS_gettid);
    me->ready = 1;
    pthread_cond_broadcast(&me->cv);
    for (;;) {
        while (me->asked == me->answered)
            pthread_cond_wait(&me->cv, &me->mu);
        me->tid = (pid_t)syscall(SYS_gettid);   /* another after a restart without its ids */
        probe(me->name, me->report, sizeof me->report);
        me->answered = me->asked;
        pthread_cond_broadcast(&me->cv);
    }
}

static void start(struct worker *me, const char *name, void *(*fn)(void *))
{
    me->name = name;
    pthread_mutex_init(&me->mu, NULL);
    pthread_cond_init(&me->cv, NULL);
    if (pthread_create(&me->th, NULL, fn, me) != 0)
        crt_die("pthread_create %s", name);
    pthread_mutex_lock(&me->mu);
    while (!me->ready)
        pthread_cond_wait(&me->cv, &me->mu);
    pthread_mutex_unlock(&me->mu);
}

static void *x_main(void *arg)
{
    struct sock_filter f3[6];
    struct sock_fprog p3 = make_filter(f3, SYS_sysinfo, ENOTBLK);
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &p3) != 0)
        crt_die("worker X: seccomp (filter 3): %s", strerror(errno));
    serve(arg);
    return NULL;
}

static void *w_main(void *arg)
{
    struct sock_filter f1[6], f2[6];
    struct sock_fprog p1 = make_filter(f1, SYS_openat, EPERM), p2 = make_filter(f2, SYS_times, EXDEV);
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &p1, 0, 0) != 0)
        crt_die("worker W: PR_SET_SECCOMP (filter 1): %s", strerror(errno));
    /* the second stage: the install MEDIUM-K broke */
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &p2) != 0)
        crt_die("worker W: seccomp (filter 2): %s", strerror(errno));
    start(&x, "worker X", x_main);
    serve(arg);
    return NULL;
}

static void ask(struct worker *me, const char *when)
{
    pthread_mutex_lock(&me->mu);
    me->asked++;
    pthread_cond_broadcast(&me->cv);
    while (me->answered != me->asked)
        pthread_cond_wait(&me->cv, &me->mu);
    crt_say("%s %s, own filters %d", when, me->report, filter_count(me->tid) - inherited);
    pthread_mutex_unlock(&me->mu);
}

static void check(const char *when)
{
    char line[256];
    probe("main", line, sizeof line);
    crt_say("%s %s, own filters %d", when, line, filter_count((pid_t)syscall(SYS_gettid)) - inherited);
    ask(&w, when);
    ask(&x, when);
}

/* A filter for every thread (SECCOMP_FILTER_FLAG_TSYNC: libcr's checkpoint thread too): system
 * call nr gets act, when argument argi (< 0: any call nr) is val (its low 32 bits). */
static void tsync_filter_arg(long nr, int argi, unsigned val, unsigned act)
{
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 4),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 2),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[argi < 0 ? 0 : argi])),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, val, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, act),
    };
    if (argi < 0)   /* every call nr: to act past the argument check */
        f[3].jt = 3;
    struct sock_fprog p = { sizeof f / sizeof f[0], f };
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &p) != 0)
        crt_die("seccomp (a TSYNC filter): %s", strerror(errno));
}

/* dir: only an openat with libcr's flags for /proc's directories; else every call nr. */
static void tsync_filter(long nr, int dir, unsigned act)
{
    tsync_filter_arg(nr, dir ? 2 : -1, dir ? O_RDONLY | O_DIRECTORY | O_CLOEXEC : 0, act);
}

/* signalfd: an edge-triggered watch of a signalfd (SIGUSR1, blocked) in an epoll, as libcr's
 * marker is made for (capture_epoll_mark.c); both kept open to the end. */
static void signalfd_in_epoll(void)
{
    sigset_t m;
    sigemptyset(&m);
    sigaddset(&m, SIGUSR1);
    sigprocmask(SIG_BLOCK, &m, NULL);
    int sfd = signalfd(-1, &m, SFD_NONBLOCK | SFD_CLOEXEC), ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.fd = sfd };
    if (sfd < 0 || ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev) != 0)
        crt_die("a signalfd in an epoll: %s", strerror(errno));
}

/* CRT_SECCOMP_STAGED's filters, oldest first (see the top). */
static void tsync_filters(const char *mode)
{
    const long od = SYS_openat, gd = SYS_getdents64;
    if (!strcmp(mode, "errno") || !strcmp(mode, "kill")) {
        tsync_filter(od, 1, !strcmp(mode, "kill") ? SECCOMP_RET_KILL_PROCESS : SECCOMP_RET_ERRNO | EACCES);
    } else if (!strcmp(mode, "getdents")) {
        tsync_filter(gd, 0, SECCOMP_RET_ERRNO | EACCES);
    } else if (!strcmp(mode, "sigaction")) {
        tsync_filter(SYS_rt_sigaction, 0, SECCOMP_RET_ERRNO | EACCES);
    } else if (!strcmp(mode, "rlimit")) {
        tsync_filter(SYS_prlimit64, 0, SECCOMP_RET_ERRNO | EACCES);
    } else if (!strcmp(mode, "tie")) {
        tsync_filter(od, 1, SECCOMP_RET_ERRNO | EACCES);
        tsync_filter(od, 1, SECCOMP_RET_ERRNO | EPERM);
    } else if (!strcmp(mode, "newer")) {
        tsync_filter(gd, 0, SECCOMP_RET_ERRNO | EACCES);
        tsync_filter(gd, 0, SECCOMP_RET_KILL_PROCESS);
    } else if (!strcmp(mode, "stdin")) {
        tsync_filter_arg(SYS_read, 0, 0, SECCOMP_RET_ERRNO | EBADF);
    } else if (!strcmp(mode, "sigwait")) {
        tsync_filter(SYS_rt_sigtimedwait, 0, SECCOMP_RET_ERRNO | EACCES);
    } else if (!strcmp(mode, "signalfd")) {
        signalfd_in_epoll();
        tsync_filter(SYS_signalfd4, 0, SECCOMP_RET_KILL_PROCESS);
    } else if (!strcmp(mode, "signalfd-errno")) {
        signalfd_in_epoll();
        tsync_filter(SYS_signalfd4, 0, SECCOMP_RET_ERRNO | EACCES);
    } else if (!strcmp(mode, "fcntl")) {   /* the owner the capture reads of every descriptor */
        tsync_filter_arg(SYS_fcntl, 1, F_GETOWN_EX, SECCOMP_RET_KILL_PROCESS);
    } else if (!strcmp(mode, "fcntl-stdout")) {   /* any fcntl of descriptor 1 */
        tsync_filter_arg(SYS_fcntl, 0, 1, SECCOMP_RET_KILL_PROCESS);
    } else {
        crt_die("CRT_SECCOMP_STAGED=%s: errno, kill, getdents, sigaction, rlimit, tie, newer, stdin, sigwait, "
                "signalfd, signalfd-errno, fcntl or fcntl-stdout", mode);
    }
}

int main(void)
{
    inherited = filter_count((pid_t)syscall(SYS_gettid));
    if (inherited < 0)
        crt_die("no Seccomp_filters in /proc/self/task/TID/status (Linux 5.9 or later)");
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        crt_die("PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
    const char *mode = getenv("CRT_SECCOMP_STAGED");
    if (mode && *mode)
        tsync_filters(mode);
    start(&w, "worker W", w_main);
    crt_check_around_points(check);
}
