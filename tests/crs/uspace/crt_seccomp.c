/*
 * State test: seccomp filters the program installs on itself (issue 10
 * review HIGH-8: a restart dropped them, and the restarted process could
 * make the calls it had forbidden itself). With no_new_privs set, worker A
 * started, the program installs filter 1 for every thread
 * (syscall(SYS_seccomp) with SECCOMP_FILTER_FLAG_TSYNC, as libseccomp does):
 * sysinfo fails with ENOTBLK; then filter 2 in the main thread only
 * (prctl(PR_SET_SECCOMP)): times fails with EXDEV; then starts worker B,
 * which inherits both. Each check has every thread try both calls and an
 * allowed one (getppid, uname) and print how many filters it runs under
 * beyond those it started with (/proc/thread-self/status). A restart must
 * print the same: main 2 filters (3 with filter 3 below), A 1 (times
 * allowed), B 2.
 * Then filter 3 in the main thread only: openat with flags O_RDONLY|O_CLOEXEC
 * (how Revive reads /proc, as a sandbox forbidding file reads would) fails
 * with EACCES; the main thread holds two instances of a real-time signal
 * queued to it alone, with values (sigqueue), which each check takes, prints
 * and queues again. A checkpoint took a parked thread's own queue by reading
 * /proc/thread-self/status in that thread: under such a filter it read
 * nothing, and a restart gave back one bare signal, values lost (a filter
 * killing on openat killed the thread). Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static int inherited;   /* filters the process started under (its launcher's) */

static int filter_count(void)
{
    char buf[4096];
    FILE *f = fopen("/proc/thread-self/status", "r");
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
static void make_filter(struct sock_filter f[6], long nr, int err)
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
}

/* What the calling thread may do, as one line. */
static void probe(const char *who, char *out, size_t cap)
{
    errno = 0;
    long si = syscall(SYS_sysinfo, NULL);   /* NULL: EFAULT when allowed */
    int si_err = errno;
    char tbuf[64];
    errno = 0;
    long ti = syscall(SYS_times, tbuf);
    int ti_err = errno;
    struct utsname u;
    int un = uname(&u);
    int pp = getppid() > 0;
    snprintf(out, cap, "%s: sysinfo %s, times %s, uname %s, getppid %s, own filters %d", who,
             si < 0 && si_err == ENOTBLK ? "forbidden" : si_err == EFAULT ? "allowed" : strerror(si_err),
             ti < 0 && ti_err == EXDEV ? "forbidden" : ti >= 0 ? "allowed" : strerror(ti_err),
             un == 0 ? "allowed" : strerror(errno), pp ? "allowed" : "failed", filter_count() - inherited);
}

/* A worker answers each question with its probe. */
struct worker {
    pthread_t th;
    const char *name;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int asked, answered;
    char report[256];
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (w->asked == w->answered)
            pthread_cond_wait(&w->cv, &w->mu);
        probe(w->name, w->report, sizeof w->report);
        w->answered = w->asked;
        pthread_cond_broadcast(&w->cv);
    }
    return NULL;
}

static void start(struct worker *w, const char *name)
{
    w->name = name;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (pthread_create(&w->th, NULL, worker_main, w) != 0)
        crt_die("pthread_create");
}

static void ask(struct worker *w, const char *when)
{
    pthread_mutex_lock(&w->mu);
    w->asked++;
    pthread_cond_broadcast(&w->cv);
    while (w->answered != w->asked)
        pthread_cond_wait(&w->cv, &w->mu);
    crt_say("%s %s", when, w->report);
    pthread_mutex_unlock(&w->mu);
}

static struct worker a, b;

#define QSIG (SIGRTMIN + 5)

/* The signals queued to the main thread alone: taken, said, queued again. */
static void queued_to_main(const char *when)
{
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, QSIG);
    struct timespec now = { 0, 0 };
    siginfo_t si[8];
    int n = 0;
    char line[200];
    int len = snprintf(line, sizeof line, "%s main's own queue:", when);
    while (n < 8 && sigtimedwait(&one, &si[n], &now) == QSIG) {
        len += snprintf(line + len, sizeof line - (size_t)len, " %s value %d",
                        si[n].si_code == SI_QUEUE ? "sigqueue" : "other", si[n].si_value.sival_int);
        n++;
    }
    crt_say("%s (%d)", line, n);
    for (int i = 0; i < n; i++)
        if (pthread_sigqueue(pthread_self(), QSIG, si[i].si_value) != 0)
            crt_die("pthread_sigqueue: %s", strerror(errno));
}

static void check(const char *when)
{
    char line[256];
    probe("main", line, sizeof line);
    crt_say("%s %s", when, line);
    queued_to_main(when);
    ask(&a, when);
    ask(&b, when);
}

int main(void)
{
    inherited = filter_count();
    if (inherited < 0)
        crt_die("no Seccomp_filters in /proc/thread-self/status (Linux 5.9 or later)");
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        crt_die("PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
    start(&a, "worker A");
    struct sock_filter f1[6], f2[6];
    make_filter(f1, SYS_sysinfo, ENOTBLK);
    make_filter(f2, SYS_times, EXDEV);
    struct sock_fprog p1 = { 6, f1 }, p2 = { 6, f2 };
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &p1) != 0)
        crt_die("seccomp TSYNC: %s", strerror(errno));
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &p2, 0, 0) != 0)
        crt_die("PR_SET_SECCOMP: %s", strerror(errno));
    start(&b, "worker B");
    sigset_t q;
    sigemptyset(&q);
    sigaddset(&q, QSIG);
    pthread_sigmask(SIG_BLOCK, &q, NULL);
    for (int v = 7; v <= 9; v += 2)
        if (pthread_sigqueue(pthread_self(), QSIG, (union sigval){ .sival_int = v }) != 0)
            crt_die("pthread_sigqueue: %s", strerror(errno));
    struct sock_filter f3[8] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 5),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat, 0, 3),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2])),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, O_RDONLY | O_CLOEXEC, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog p3 = { 8, f3 };
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &p3, 0, 0) != 0)
        crt_die("PR_SET_SECCOMP: %s", strerror(errno));
    crt_check_around_points(check);
}
