/*
 * State test: pidfds (issue 10), held across a checkpoint. CRT_PIDFD picks
 * the kind:
 *   self  (one process) a pidfd of itself, blocking, and one made with
 *         PIDFD_NONBLOCK: after the restart each names the restarted process
 *         (fdinfo's Pid is getpid()), pidfd_send_signal through it reaches it,
 *         the flags (O_NONBLOCK, close-on-exec) are kept
 *   tree  (cr_checkpoint --tree) the program holds pidfds of three children:
 *         one from pidfd_open of a running child (watched by an epoll too),
 *         one from clone3 CLONE_PIDFD with PIDFD_NONBLOCK of another running
 *         child (which runs this program again: kind sleep), and one of a child that exited 5 and was not reaped (a
 *         zombie); the first child holds a pidfd of its parent and of itself.
 *         After point 1: poll says the zombie has ended, waitid(P_PIDFD)
 *         reaps it with status 5; a waitid through the non-blocking pidfd of
 *         the running child says EAGAIN; the first child checks its pidfds
 *         name its parent and itself and signals its parent through one.
 *         After point 2: the first child ends 3 when told: the epoll and poll
 *         on its pidfd wake, waitid gives 3; the second is killed through
 *         pidfd_send_signal: waitid gives SIGTERM.
 *   reap  (cr_checkpoint --tree) pidfds of processes that had ended: the
 *         program holds pidfds of two children it has reaped (one exited 6,
 *         one killed by SIGTERM), which its second child inherits, and that
 *         child holds a pidfd of a sibling that exited 9 and is a zombie
 *         at point 1. Right after point 1 the program reaps the zombie,
 *         then asks the child: after a restart the child's pidfd of it must
 *         be there although its parent may have run first (fault point
 *         restore-pidfd-late). After each point every such pidfd says the
 *         process ended (poll), waitid gives ECHILD, pidfd_send_signal
 *         ESRCH, and PIDFD_GET_INFO the exit code where the kernel keeps it
 *   ended (one process) pidfds of two children it reaped (exited 6; killed
 *         by SIGTERM, PIDFD_NONBLOCK): the same checks after each point
 *   ownthread  a pidfd of the program's second thread (PIDFD_THREAD), a
 *         dup of it and an epoll watching it: after each point a signal
 *         sent through either reaches that thread, poll says it runs; once
 *         it ended, poll and the epoll say so
 *   thread  a pidfd of a second thread that only waits (PIDFD_THREAD)
 *   threadtree (refused) a pidfd of the program's second thread held by
 *         its child (--tree): a thread of another member
 *   out   (refused) a pidfd of the program's parent, a process outside
 *         every scope: cr_checkpoint must refuse it, naming that process
 * Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef PIDFD_NONBLOCK
#define PIDFD_NONBLOCK O_NONBLOCK
#endif
#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

static int pidfd_open(pid_t pid, unsigned flags)
{
    return (int)syscall(SYS_pidfd_open, pid, flags);
}

static int pidfd_send_signal(int fd, int sig)
{
    return (int)syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0);
}

/* the Pid line of fd's fdinfo, or -2 */
static long fdinfo_pid(int fd)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
    FILE *f = fopen(path, "r");
    if (!f)
        return -2;
    long pid = -2;
    while (fgets(buf, sizeof buf, f))
        if (!strncmp(buf, "Pid:", 4))
            pid = strtol(buf + 4, NULL, 10);
    fclose(f);
    return pid;
}

static volatile sig_atomic_t usr1;
static _Atomic pid_t usr1_tid;   /* the thread that took the last SIGUSR1 */
static void on_usr1(int sig)
{
    (void)sig;
    usr1_tid = (pid_t)syscall(SYS_gettid);
    usr1++;
}

static void wait_usr1(int want)
{
    for (int i = 0; i < 60000 && usr1 < want; i++)
        crt_sleep_ms(1);
}

static void mode_self(void)
{
    int a = pidfd_open(getpid(), 0);
    int b = pidfd_open(getpid(), PIDFD_NONBLOCK);
    if (a < 0 || b < 0)
        crt_die("pidfd_open: %s", strerror(errno));
    if (fcntl(b, F_SETFD, 0) != 0)   /* b without close-on-exec */
        crt_die("fcntl: %s", strerror(errno));
    crt_check("two pidfds of the process", fdinfo_pid(a) == getpid() && fdinfo_pid(b) == getpid(), "Pid %ld, %ld",
              fdinfo_pid(a), fdinfo_pid(b));
    for (int n = 1; n <= 2; n++) {
        crt_checkpoint_point(n);
        char name[64];
        snprintf(name, sizeof name, "point %d: both pidfds name the process", n);
        crt_check(name, fdinfo_pid(a) == getpid() && fdinfo_pid(b) == getpid(), "Pid %ld and %ld, getpid %d",
                  fdinfo_pid(a), fdinfo_pid(b), (int)getpid());
        snprintf(name, sizeof name, "point %d: flags kept", n);
        int fa = fcntl(a, F_GETFL), fb = fcntl(b, F_GETFL), da = fcntl(a, F_GETFD), db = fcntl(b, F_GETFD);
        crt_check(name, fa >= 0 && !(fa & O_NONBLOCK) && fb >= 0 && (fb & O_NONBLOCK) && da == FD_CLOEXEC && db == 0,
                  "flags 0%o, 0%o; fd flags %d, %d", fa, fb, da, db);
        snprintf(name, sizeof name, "point %d: a signal through each pidfd arrives", n);
        int before = usr1;
        int ok = pidfd_send_signal(a, SIGUSR1) == 0 && pidfd_send_signal(b, SIGUSR1) == 0;
        wait_usr1(before + 2);
        crt_check(name, ok && usr1 == before + 2, "sent %d, got %d", ok, (int)(usr1 - before));
    }
}

static pid_t clone3_pidfd(int *pidfd)
{
    struct clone_args ca;
    memset(&ca, 0, sizeof ca);
    ca.flags = CLONE_PIDFD;
    ca.pidfd = (uint64_t)(uintptr_t)pidfd;
    ca.exit_signal = SIGCHLD;
    return (pid_t)syscall(SYS_clone3, &ca, sizeof ca);
}

static int read_byte(int fd)
{
    char c;
    ssize_t n;
    while ((n = read(fd, &c, 1)) < 0 && errno == EINTR)
        ;
    return n == 1 ? c : -1;
}

/* the first child: checks its pidfds after each point (told over `cmd`),
 * answers over `ans`, ends 3 when told 'e' */
static void __attribute__((noreturn)) first_child(int cmd, int ans)
{
    int parent = pidfd_open(getppid(), 0);
    int self = pidfd_open(getpid(), 0);
    if (parent < 0 || self < 0)
        _exit(10);
    for (;;) {
        int c = read_byte(cmd);
        if (c == 'e' || c < 0)
            _exit(c == 'e' ? 3 : 11);
        char ok = fdinfo_pid(parent) == getppid() && fdinfo_pid(self) == getpid() &&
                  pidfd_send_signal(parent, SIGUSR1) == 0 ? 'y' : 'n';
        if (write(ans, &ok, 1) != 1)
            _exit(12);
    }
}

static void check_status(const char *name, int pidfd, pid_t pid, int code, int status)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int r;
    while ((r = waitid((idtype_t)P_PIDFD, (id_t)pidfd, &si, WEXITED)) < 0 && errno == EINTR)
        ;
    crt_check(name, r == 0 && si.si_pid == pid && si.si_code == code && si.si_status == status,
              "waitid %d (%s), pid %s, code %d, status %d", r, r ? strerror(errno) : "ok",
              si.si_pid == pid ? "right" : "wrong", si.si_code, si.si_status);
}

static void ask_first(int cmd, int ans, const char *name)
{
    int before = usr1;
    char c = 'c';
    int ok = write(cmd, &c, 1) == 1 && read_byte(ans) == 'y';
    wait_usr1(before + 1);
    crt_check(name, ok && usr1 == before + 1, "answer %d, signals %d", ok, (int)(usr1 - before));
}

static void mode_tree(void)
{
    int cmd[2], ans[2];
    if (pipe2(cmd, O_CLOEXEC) || pipe2(ans, O_CLOEXEC))
        crt_die("pipe: %s", strerror(errno));
    pid_t a = fork();
    if (a == 0) {
        close(cmd[1]), close(ans[0]);
        first_child(cmd[0], ans[1]);
    }
    close(cmd[0]), close(ans[1]);
    int pa = pidfd_open(a, 0);
    int pb = -1;
    pid_t b = clone3_pidfd(&pb);
    if (b == 0) {
        /* a raw clone3 child has no libcr of its own (cr_run's fork handling
         * did not run): it runs this program again, which loads it */
        setenv("CRT_PIDFD", "sleep", 1);
        execl("/proc/self/exe", "crt_pidfd", (char *)NULL);
        _exit(127);
    }
    wait_usr1(1);   /* the second child runs (and libcr in it) */
    pid_t z = fork();
    if (z == 0)
        _exit(5);
    if (a < 0 || b < 0 || z < 0 || pa < 0 || pb < 0)
        crt_die("fork, clone3 or pidfd_open: %s", strerror(errno));
    if (fcntl(pb, F_SETFL, O_NONBLOCK) != 0)   /* PIDFD_NONBLOCK, as pidfd_open would set it */
        crt_die("fcntl: %s", strerror(errno));
    int pz = pidfd_open(z, 0);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0xa11ce };
    if (pz < 0 || ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, pa, &ev))
        crt_die("pidfd_open or epoll: %s", strerror(errno));
    siginfo_t si;
    for (int i = 0; i < 60000; i++) {   /* z has ended (not reaped) */
        memset(&si, 0, sizeof si);
        if (waitid(P_PID, (id_t)z, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == z)
            break;
        crt_sleep_ms(1);
    }
    ask_first(cmd[1], ans[0], "the child's pidfds name its parent and itself");

    crt_checkpoint_point(1);
    ask_first(cmd[1], ans[0], "after point 1: the child's pidfds name its parent and itself");
    struct pollfd p[2] = { { .fd = pz, .events = POLLIN }, { .fd = pa, .events = POLLIN } };
    int r = poll(p, 2, 0);
    crt_check("poll: the zombie has ended, the first child runs", r == 1 && (p[0].revents & POLLIN) && !p[1].revents,
              "poll %d, revents 0x%x 0x%x", r, p[0].revents, p[1].revents);
    check_status("waitid(P_PIDFD) reaps the zombie: status 5", pz, z, CLD_EXITED, 5);
    close(pz);
    memset(&si, 0, sizeof si);
    r = waitid((idtype_t)P_PIDFD, (id_t)pb, &si, WEXITED);
    crt_check("waitid through the PIDFD_NONBLOCK pidfd of a running child: EAGAIN", r < 0 && errno == EAGAIN,
              "waitid %d (%s)", r, r ? strerror(errno) : "ok");

    crt_checkpoint_point(2);
    ask_first(cmd[1], ans[0], "after point 2: the child's pidfds name its parent and itself");
    char e = 'e';
    if (write(cmd[1], &e, 1) != 1)
        crt_die("write: %s", strerror(errno));
    struct epoll_event got;
    memset(&got, 0, sizeof got);
    int n;
    while ((n = epoll_wait(ep, &got, 1, 60000)) < 0 && errno == EINTR)
        ;
    crt_check("the epoll on the first child's pidfd wakes when it ends", n == 1 && got.data.u64 == 0xa11ce,
              "epoll_wait %d, data 0x%llx", n, (unsigned long long)got.data.u64);
    p[1].revents = 0;
    while ((r = poll(&p[1], 1, 60000)) < 0 && errno == EINTR)
        ;
    crt_check("poll on the first child's pidfd", r == 1 && (p[1].revents & POLLIN), "poll %d, revents 0x%x", r,
              p[1].revents);
    check_status("waitid(P_PIDFD): the first child ended 3", pa, a, CLD_EXITED, 3);
    crt_check("pidfd_send_signal to the second child", pidfd_send_signal(pb, SIGTERM) == 0, "%s", strerror(errno));
    int fl = fcntl(pb, F_GETFL);
    fcntl(pb, F_SETFL, fl & ~O_NONBLOCK);
    check_status("waitid(P_PIDFD): the second child was killed by SIGTERM", pb, b, CLD_KILLED, SIGTERM);
    crt_check("no other child", waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD, "waitpid(-1): %s",
              strerror(errno));
}

/* PIDFD_GET_INFO (Linux 6.13; the exit code of a reaped process since 6.15) */
struct pidfd_info_v1 {
    uint64_t mask, cgroupid;
    uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
    int32_t exit_code;
    uint32_t coredump_mask, spare;
};
#define PIDFD_GET_INFO_V1 _IOWR(0xFF, 11, struct pidfd_info_v1)

/* Whether pidfd names a process that ended with wait status `status` and
 * was waited for; what differs goes to why. */
static int ended_as(int pidfd, int status, char *why, size_t cap)
{
    struct pollfd p = { .fd = pidfd, .events = POLLIN };
    int r = poll(&p, 1, 0);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int w = waitid((idtype_t)P_PIDFD, (id_t)pidfd, &si, WEXITED | WNOHANG);
    int we = errno;
    int k = pidfd_send_signal(pidfd, 0);
    int ke = errno;
    struct pidfd_info_v1 in;
    memset(&in, 0, sizeof in);
    in.mask = 0x8;   /* PIDFD_INFO_EXIT */
    int i = ioctl(pidfd, PIDFD_GET_INFO_V1, &in);
    int ie = errno;
    /* a kernel without the ioctl (ENOTTY) or without exit codes (mask) */
    int info_ok = (i < 0 && (ie == ENOTTY || ie == EINVAL)) || (i == 0 && !(in.mask & 0x8)) ||
                  (i == 0 && in.exit_code == status);
    snprintf(why, cap, "poll %d revents 0x%x, waitid %d (%s), pidfd_send_signal %d (%s), exit code %s0x%x",
             r, p.revents, w, w ? strerror(we) : "ok", k, k ? strerror(ke) : "ok", i ? strerror(ie) : "",
             (unsigned)in.exit_code);
    return r == 1 && (p.revents & POLLIN) && w < 0 && we == ECHILD && k < 0 && ke == ESRCH && info_ok;
}

/* reap's second child: checks its pidfds each time it is asked ('c'),
 * answers 'y' or the first difference; ends 4 on 'e' */
static void __attribute__((noreturn)) reap_child(int cmd, int ans, int pz, int pr, int pk)
{
    for (;;) {
        int c = read_byte(cmd);
        if (c == 'e' || c < 0)
            _exit(c == 'e' ? 4 : 11);
        char why[192], msg[300];
        if (!ended_as(pz, 9 << 8, why, sizeof why))
            snprintf(msg, sizeof msg, "n its pidfd of the sibling that exited 9: %s", why);
        else if (!ended_as(pr, 6 << 8, why, sizeof why))
            snprintf(msg, sizeof msg, "n the inherited pidfd of the child that exited 6: %s", why);
        else if (!ended_as(pk, SIGTERM, why, sizeof why))
            snprintf(msg, sizeof msg, "n the inherited pidfd of the child killed by SIGTERM: %s", why);
        else
            snprintf(msg, sizeof msg, "y");
        size_t len = strlen(msg) + 1;
        if (write(ans, msg, len) != (ssize_t)len)
            _exit(12);
    }
}

static void ask_reap_child(int cmd, int ans, const char *name)
{
    char c = 'c', msg[300];
    size_t n = 0;
    int ok = write(cmd, &c, 1) == 1;
    while (ok && n < sizeof msg - 1) {
        int b = read_byte(ans);
        if (b <= 0)
            break;
        msg[n++] = (char)b;
    }
    msg[n] = 0;
    crt_check(name, ok && !strcmp(msg, "y"), "%s", n ? msg : "no answer");
}

/* ended: one process (no scope) holds pidfds of two children it reaped */
static void mode_ended(void)
{
    pid_t r = fork();
    if (r == 0)
        _exit(6);
    pid_t k = fork();
    if (k == 0) {
        for (;;)
            pause();
    }
    int pr = pidfd_open(r, 0), pk = pidfd_open(k, PIDFD_NONBLOCK);
    if (r < 0 || k < 0 || pr < 0 || pk < 0)
        crt_die("fork or pidfd_open: %s", strerror(errno));
    int st;
    kill(k, SIGTERM);
    if (waitpid(r, &st, 0) != r || waitpid(k, &st, 0) != k)
        crt_die("waitpid: %s", strerror(errno));
    char why[256], name[128];
    for (int n = 0; n <= 2; n++) {
        if (n)
            crt_checkpoint_point(n);
        snprintf(name, sizeof name, "point %d: pidfds of the reaped children say they ended", n);
        crt_check(name, ended_as(pr, 6 << 8, why, sizeof why) && ended_as(pk, SIGTERM, why, sizeof why), "%s",
                  why);
        int fl = fcntl(pk, F_GETFL);
        snprintf(name, sizeof name, "point %d: PIDFD_NONBLOCK and close-on-exec kept", n);
        crt_check(name, fl >= 0 && (fl & O_NONBLOCK) && !(fcntl(pr, F_GETFL) & O_NONBLOCK) &&
                  fcntl(pr, F_GETFD) == FD_CLOEXEC, "flags 0%o", fl);
    }
}

static void mode_reap(void)
{
    int cmd[2], ans[2];
    if (pipe2(cmd, O_CLOEXEC) || pipe2(ans, O_CLOEXEC))
        crt_die("pipe: %s", strerror(errno));
    pid_t r = fork();
    if (r == 0)
        _exit(6);
    pid_t k = fork();
    if (k == 0) {
        for (;;)
            pause();
    }
    pid_t z = fork();
    if (z == 0)
        _exit(9);
    int pr = pidfd_open(r, 0), pk = pidfd_open(k, PIDFD_NONBLOCK);
    if (r < 0 || k < 0 || z < 0 || pr < 0 || pk < 0)
        crt_die("fork or pidfd_open: %s", strerror(errno));
    int st;
    kill(k, SIGTERM);
    if (waitpid(r, &st, 0) != r || waitpid(k, &st, 0) != k)
        crt_die("waitpid: %s", strerror(errno));
    siginfo_t si;
    for (int i = 0; i < 60000; i++) {   /* z has ended (not reaped) */
        memset(&si, 0, sizeof si);
        if (waitid(P_PID, (id_t)z, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == z)
            break;
        crt_sleep_ms(1);
    }
    pid_t s = fork();
    if (s == 0) {
        close(cmd[1]), close(ans[0]);
        int pz = pidfd_open(z, 0);
        if (pz < 0 || write(ans[1], "r", 1) != 1)
            _exit(10);
        reap_child(cmd[0], ans[1], pz, pr, pk);
    }
    if (s < 0)
        crt_die("fork: %s", strerror(errno));
    close(cmd[0]), close(ans[1]);
    if (read_byte(ans[0]) != 'r')   /* its pidfd of z is open */
        crt_die("the second child did not start");
    char why[256];
    crt_check("pidfds of the children reaped before point 1",
              ended_as(pr, 6 << 8, why, sizeof why) && ended_as(pk, SIGTERM, why, sizeof why), "%s", why);
    for (int n = 1; n <= 2; n++) {
        crt_checkpoint_point(n);
        char name[128];
        if (n == 1) {
            /* at once: a restarted child may not have opened its pidfd yet */
            int got = waitpid(z, &st, 0);
            crt_check("after point 1: the zombie reaped at once, status 9", got == z && WIFEXITED(st) &&
                      WEXITSTATUS(st) == 9, "waitpid %d, status 0x%x", got, st);
        }
        snprintf(name, sizeof name, "point %d: the child's pidfds of the reaped ones say they ended", n);
        ask_reap_child(cmd[1], ans[0], name);
        snprintf(name, sizeof name, "point %d: the program's pidfds of the reaped ones say they ended", n);
        crt_check(name, ended_as(pr, 6 << 8, why, sizeof why) && ended_as(pk, SIGTERM, why, sizeof why), "%s",
                  why);
        int fl = fcntl(pk, F_GETFL);
        snprintf(name, sizeof name, "point %d: PIDFD_NONBLOCK kept", n);
        crt_check(name, fl >= 0 && (fl & O_NONBLOCK) && !(fcntl(pr, F_GETFL) & O_NONBLOCK), "flags 0%o", fl);
    }
    char e = 'e';
    if (write(cmd[1], &e, 1) != 1)
        crt_die("write: %s", strerror(errno));
    int got = waitpid(s, &st, 0);
    crt_check("the second child ended 4", got == s && WIFEXITED(st) && WEXITSTATUS(st) == 4, "waitpid %d, status 0x%x",
              got, st);
    crt_check("no other child", waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD, "waitpid(-1): %s",
              strerror(errno));
}

static _Atomic pid_t idle_tid;
static void *idle_thread(void *arg)
{
    (void)arg;
    idle_tid = (pid_t)syscall(SYS_gettid);
    for (;;)
        pause();
    return NULL;
}

/* thread: a pidfd of a second thread (PIDFD_THREAD, Linux 6.9), held by the
 * program (CRT_PIDFD=thread) or by its child (threadtree): refused */
static void mode_thread(int by_child)
{
    pthread_t th;
    if (pthread_create(&th, NULL, idle_thread, NULL) != 0)
        crt_die("pthread_create");
    for (int i = 0; i < 60000 && !idle_tid; i++)
        crt_sleep_ms(1);
    pid_t tid = idle_tid;
    (void)th;
    if (by_child) {
        pid_t c = fork();
        if (c == 0) {
            int fd = pidfd_open(tid, PIDFD_THREAD);
            (void)fd;
            pid_t parent = getppid();
            while (getppid() == parent)
                crt_sleep_ms(100);
            _exit(0);
        }
        crt_checkpoint_point(1);
        crt_checkpoint_point(2);
        kill(c, SIGKILL);
        waitpid(c, NULL, 0);
        return;
    }
    int fd = pidfd_open(tid, PIDFD_THREAD);
    if (fd < 0 && errno == EINVAL)
        printf("no PIDFD_THREAD here\n");
    crt_checkpoint_point(1);
    crt_checkpoint_point(2);
}

/* ownthread: a pidfd of the program's own second thread (PIDFD_THREAD),
 * a dup of it, and an epoll watching it: after each point a signal sent
 * through either reaches that thread (not the main one), poll says it
 * runs; once it has ended, poll and the epoll say so. */
static int quit_pipe[2];
static void *quitting_thread(void *arg)
{
    (void)arg;
    idle_tid = (pid_t)syscall(SYS_gettid);
    char c;
    while (read(quit_pipe[0], &c, 1) < 0 && errno == EINTR)
        ;
    return NULL;
}

static void thread_check(const char *when, int pfd, int dupfd)
{
    char name[96];
    for (int k = 0; k < 2; k++) {
        int fd = k ? dupfd : pfd;
        int before = usr1;
        usr1_tid = 0;
        int ok = pidfd_send_signal(fd, SIGUSR1) == 0;
        wait_usr1(before + 1);
        snprintf(name, sizeof name, "%s: a signal through the thread's pidfd%s reaches that thread", when,
                 k ? " (a dup)" : "");
        crt_check(name, ok && usr1 == before + 1 && usr1_tid != 0 && usr1_tid != getpid(),
                  "sent %d, signals %d, taken by %d (main %d)", ok, usr1 - before, (int)usr1_tid, (int)getpid());
    }
    struct pollfd p = { pfd, POLLIN, 0 };
    snprintf(name, sizeof name, "%s: poll says the thread runs", when);
    crt_check(name, poll(&p, 1, 0) == 0, "revents 0x%x", p.revents);
}

static void mode_ownthread(void)
{
    pthread_t th;
    if (pipe(quit_pipe) || pthread_create(&th, NULL, quitting_thread, NULL) != 0)
        crt_die("pthread_create");
    for (int i = 0; i < 60000 && !idle_tid; i++)
        crt_sleep_ms(1);
    int pfd = pidfd_open(idle_tid, PIDFD_THREAD);
    if (pfd < 0 && errno == EINVAL) {
        printf("no PIDFD_THREAD here\n");
        crt_finish();
    }
    int dupfd = dup(pfd), ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 77 };
    if (pfd < 0 || dupfd < 0 || ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, pfd, &ev))
        crt_die("pidfd_open, dup or epoll: %s", strerror(errno));
    thread_check("at start", pfd, dupfd);
    crt_checkpoint_point(1);
    thread_check("after point 1", pfd, dupfd);
    crt_checkpoint_point(2);
    thread_check("after point 2", pfd, dupfd);
    if (write(quit_pipe[1], "q", 1) != 1 || pthread_join(th, NULL) != 0)
        crt_die("ending the thread: %s", strerror(errno));
    struct pollfd p = { pfd, POLLIN, 0 };
    int r = poll(&p, 1, 10000);
    crt_check("once the thread ended, poll on its pidfd says so", r == 1 && (p.revents & POLLIN), "poll %d revents 0x%x",
              r, p.revents);
    struct epoll_event got = { 0, { 0 } };
    r = epoll_wait(ep, &got, 1, 10000);
    crt_check("and the epoll watching it gives its data", r == 1 && got.data.u64 == 77, "epoll_wait %d data %llu", r,
              (unsigned long long)got.data.u64);
}

static void mode_out(void)
{
    int fd = pidfd_open(getppid(), 0);
    if (fd < 0)
        crt_die("pidfd_open: %s", strerror(errno));
    crt_checkpoint_point(1);
    crt_checkpoint_point(2);
    close(fd);
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    const char *kind = getenv("CRT_PIDFD");
    if (!kind || !strcmp(kind, "self"))
        mode_self();
    else if (!strcmp(kind, "tree"))
        mode_tree();
    else if (!strcmp(kind, "out"))
        mode_out();
    else if (!strcmp(kind, "reap"))
        mode_reap();
    else if (!strcmp(kind, "ended"))
        mode_ended();
    else if (!strcmp(kind, "ownthread"))
        mode_ownthread();
    else if (!strcmp(kind, "thread") || !strcmp(kind, "threadtree"))
        mode_thread(!strcmp(kind, "threadtree"));
    else if (!strcmp(kind, "sleep")) {
        /* tree's second child: says it runs, then waits for its SIGTERM;
         * ends if its parent is gone (a failed run leaves nothing behind) */
        pid_t parent = getppid();
        kill(parent, SIGUSR1);
        while (getppid() == parent)
            crt_sleep_ms(100);
        return CRT_EXIT_FAIL;
    }
    else
        crt_die("unknown CRT_PIDFD kind %s", kind);
    crt_finish();
}
