/* Process-wide state: ids, mm layout, limits, timers, pending signals,
 * signal dispositions. */
#define _GNU_SOURCE
#include "crs/uspace/capture.h"
#include "crs/uspace/park.h"
#include "common/procfs.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

void crs_capture_error(struct crs_capture *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
}

const char *crs_capture_ignore_hint(const struct crs_capture *c)
{
    return c->opts.no_ignore_hint ? ""
                                  : ", or checkpoint with --ignore-fds to have it closed in the restarted process";
}

char *crs_capture_strdup(struct crs_capture *c, const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = crs_scratch_alloc(c->scratch, n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* A thread's five capability sets (/proc/self/task/TID/status). 0 or -1. */
struct caps { uint64_t eff, prm, inh, amb, bnd; };

static int thread_caps(pid_t tid, struct caps *k, char *comm, size_t commlen)
{
    char st[4096], path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/status", (int)tid);
    if (revive_read_file(path, st, sizeof st) <= 0 || revive_status_x64(st, "CapEff", &k->eff) ||
        revive_status_x64(st, "CapPrm", &k->prm) || revive_status_x64(st, "CapInh", &k->inh) ||
        revive_status_x64(st, "CapAmb", &k->amb) || revive_status_x64(st, "CapBnd", &k->bnd))
        return -1;
    if (comm) {
        snprintf(path, sizeof path, "/proc/self/task/%d/comm", (int)tid);
        comm[0] = 0;
        if (revive_read_file(path, comm, commlen) > 0)
            comm[strcspn(comm, "\n")] = 0;
    }
    return 0;
}

#define CRS_TCAPS_MAX 4096

struct caps_walk {
    struct crs_capture *c;
    struct caps main;
    pid_t self;
    int differ;   /* some thread's sets differ from the main thread's */
};

static long other_thread_caps(long tid, int dirfd, void *arg)
{
    (void)dirfd;
    struct caps_walk *w = arg;
    struct caps k;
    char comm[32];
    if ((pid_t)tid == w->self || (pid_t)tid == getpid() || thread_caps((pid_t)tid, &k, comm, sizeof comm) != 0 ||
        !strcmp(comm, "revive-timers"))   /* this checkpoint thread, libcr's timer thread: libcr's own */
        return 0;
    if (k.eff == w->main.eff && k.prm == w->main.prm && k.inh == w->main.inh && k.amb == w->main.amb &&
        k.bnd == w->main.bnd)
        return 0;
    w->differ = 1;
    struct crs_capture *c = w->c;
    if (!c->tcaps)
        return 0;   /* counting only */
    if (c->ntcaps == CRS_TCAPS_MAX) {
        crs_capture_error(c, "more than %d threads have capability sets of their own", CRS_TCAPS_MAX);
        return -E2BIG;
    }
    struct crs_rec_thread_caps *t = &c->tcaps[c->ntcaps++];
    memset(t, 0, sizeof *t);
    t->tid = (int32_t)tid;
    t->eff = k.eff, t->prm = k.prm, t->inh = k.inh, t->amb = k.amb, t->bnd = k.bnd;
    return 0;
}

/* The capabilities (a root daemon that dropped some must not get them back
 * from cr_restart; one that kept some in its inheritable or ambient set
 * must have them again), recorded when the process holds or dropped any:
 * the main thread's in the process record, those of every thread whose
 * sets differ (capset is per thread) in THREADCAPS records, which the
 * capture puts in the order of the THREADS records (crs_capture_thread_caps_order). */
static int capture_caps(struct crs_capture *c)
{
    struct crs_rec_process *p = &c->proc;
    struct caps_walk w = { .c = c, .self = (pid_t)syscall(SYS_gettid) };
    if (thread_caps(getpid(), &w.main, NULL, 0) != 0)
        return 0;   /* no /proc to tell: nothing recorded, as before */
    struct caps *k = &w.main;
    long e = revive_proc_for_each_number("/proc/self/task", other_thread_caps, &w);   /* differ? */
    if (e < 0)
        return 0;
    if (!w.differ && (!(k->prm || k->inh || k->amb || geteuid() == 0) ||
                      (k->prm == k->bnd && k->eff == k->prm && !k->inh && !k->amb)))
        return 0;   /* none, or all its bounding set allows, in every thread: cr_restart's are the same */
    p->flags |= CRS_PROC_F_CAPS | CRS_PROC_F_CAPSET;
    p->cap_eff = k->eff, p->cap_prm = k->prm, p->cap_inh = k->inh, p->cap_amb = k->amb, p->cap_bnd = k->bnd;
    if (!w.differ)
        return 0;
    c->tcaps = crs_scratch_alloc(c->scratch, CRS_TCAPS_MAX * sizeof *c->tcaps);
    if (!c->tcaps) {
        crs_capture_error(c, "out of scratch memory for the threads' capabilities");
        return -ENOMEM;
    }
    e = revive_proc_for_each_number("/proc/self/task", other_thread_caps, &w);
    return e == -E2BIG ? -E2BIG : 0;
}

/* THREADCAPS in the order of THREADS (image_format.h), records of threads
 * the image does not hold (libcr's own) left out. */
void crs_capture_thread_caps_order(struct crs_capture *c)
{
    size_t n = 0;
    for (size_t t = 0; t < c->nthreads; t++)
        for (size_t i = n; i < c->ntcaps; i++)
            if (c->tcaps[i].tid == c->threads[t].tid) {
                struct crs_rec_thread_caps x = c->tcaps[i];
                c->tcaps[i] = c->tcaps[n];
                c->tcaps[n++] = x;
                break;
            }
    c->ntcaps = n;
}

int crs_capture_process(struct crs_capture *c)
{
    struct crs_rec_process *p = &c->proc;
    memset(p, 0, sizeof *p);
    p->pid = getpid();
    p->ppid = getppid();
    p->pgid = getpgrp();
    p->sid = getsid(0);
    p->uid = getuid();
    p->gid = getgid();
    /* All of them, so that a restart never runs the image with more than it had. */
    int ng = getgroups(0, NULL);
    if (ng < 0 || ng > CRS_CREDS_GROUPS_MAX) {
        crs_capture_error(c, "cannot read the process's supplementary groups");
        return -EINVAL;
    }
    c->creds = crs_scratch_alloc(c->scratch, (CRS_CREDS_IDS + (size_t)ng) * sizeof(uint32_t));
    uid_t ru, eu, su;
    gid_t rg, eg, sg;
    if (!c->creds || getresuid(&ru, &eu, &su) != 0 || getresgid(&rg, &eg, &sg) != 0 ||
        getgroups(ng, (gid_t *)(c->creds + CRS_CREDS_IDS)) != ng) {
        crs_capture_error(c, "cannot read the process's credentials");
        return -ENOMEM;
    }
    c->creds[0] = ru, c->creds[1] = eu, c->creds[2] = su;
    c->creds[3] = rg, c->creds[4] = eg, c->creds[5] = sg;
    c->ncreds = CRS_CREDS_IDS + (size_t)ng;
    mode_t um = umask(0);
    umask(um);
    p->umask = um;
    p->personality = (uint32_t)personality(0xffffffff);
    if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0)
        p->flags |= CRS_PROC_F_NODUMP;
    if (prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0) > 0)
        p->flags |= CRS_PROC_F_THP_DISABLE;
    int subreaper = 0;
    if (prctl(PR_GET_CHILD_SUBREAPER, &subreaper, 0, 0, 0) == 0 && subreaper)
        p->flags |= CRS_PROC_F_SUBREAPER;
    int ce = capture_caps(c);
    if (ce)
        return ce;

    char *buf = crs_scratch_alloc(c->scratch, 65536);
    if (!buf) {
        crs_capture_error(c, "out of scratch memory");
        return -ENOMEM;
    }
    ssize_t n = readlink("/proc/self/exe", buf, 4095);
    buf[n > 0 ? n : 0] = 0;
    c->exe = crs_capture_strdup(c, buf);
    long r = syscall(SYS_getcwd, buf, 4096);
    if (r < 0) {
        crs_capture_error(c, "cannot read the working directory: %s", strerror(errno));
        return -errno;
    }
    c->cwd = crs_capture_strdup(c, buf);
    long len = revive_proc_read(0, 0, "cmdline", buf, 65536);
    if (len < 0)
        len = 0;
    for (long i = 0; i + 1 < len; i++)
        if (!buf[i])
            buf[i] = ' ';
    c->cmdline = crs_capture_strdup(c, buf);

    /* the mm layout, by field number as proc(5) counts them */
    static const struct { int field; size_t off; } mm[] = {
        { 26, offsetof(struct crs_rec_process, start_code) },
        { 27, offsetof(struct crs_rec_process, end_code) },
        { 28, offsetof(struct crs_rec_process, start_stack) },
        { 45, offsetof(struct crs_rec_process, start_data) },
        { 46, offsetof(struct crs_rec_process, end_data) },
        { 47, offsetof(struct crs_rec_process, start_brk) },
        { 48, offsetof(struct crs_rec_process, arg_start) },
        { 49, offsetof(struct crs_rec_process, arg_end) },
        { 50, offsetof(struct crs_rec_process, env_start) },
        { 51, offsetof(struct crs_rec_process, env_end) },
    };
    len = revive_proc_read(0, 0, "stat", buf, 65536);
    for (size_t i = 0; i < sizeof mm / sizeof mm[0]; i++) {
        uint64_t v;
        if (len < 0 || revive_stat_field(buf, mm[i].field, &v)) {
            crs_capture_error(c, "cannot parse /proc/self/stat");
            return -EINVAL;
        }
        memcpy((char *)p + mm[i].off, &v, sizeof v);
    }
    uint64_t tty;
    if (!revive_stat_field(buf, 7, &tty) && tty)   /* tty_nr: a restart keeps a daemon off terminals */
        p->flags |= CRS_PROC_F_CTTY;
    p->brk = (uint64_t)syscall(SYS_brk, 0);

    /* A failure here (a seccomp filter of the program's, say) must fail the capture: recorded as
     * zeros, the restart would set RLIMIT_CORE, MEMLOCK and the others to 0 and lose the timers
     * (diffrev24 S-M1). */
    for (int i = 0; i < CRS_RLIMIT_COUNT && i < RLIM_NLIMITS; i++) {
        struct rlimit rl;
        if (prlimit(0, i, NULL, &rl) != 0) {
            int e = errno;
            crs_capture_error(c, "cannot read the process's resource limit %d (prlimit64: %s)", i, strerror(e));
            return -e;
        }
        p->rlimits[i].cur = rl.rlim_cur;
        p->rlimits[i].max = rl.rlim_max;
    }
    for (int i = 0; i < 3; i++) {
        struct itimerval it;
        if (getitimer(i, &it) != 0) {
            int e = errno;
            crs_capture_error(c, "cannot read the process's interval timer %d (getitimer: %s)", i, strerror(e));
            return -e;
        }
        p->itimers[i].interval_us = it.it_interval.tv_sec * 1000000LL + it.it_interval.tv_usec;
        p->itimers[i].value_us = it.it_value.tv_sec * 1000000LL + it.it_value.tv_usec;
    }
    len = revive_proc_read(0, 0, "status", buf, 65536);
    if (len > 0)
        revive_status_x64(buf, "ShdPnd", &p->shared_pending);

    len = revive_proc_read(0, 0, "auxv", buf, 65536);
    if (len > 0) {
        c->auxv = crs_scratch_alloc(c->scratch, (size_t)len);
        if (!c->auxv)
            return -ENOMEM;
        memcpy(c->auxv, buf, (size_t)len);
        c->nauxv = (size_t)len / sizeof(uint64_t);
    }
    return 0;
}

uint64_t crs_thread_pending(int tid, struct crs_capture *c)
{
    char buf[4096];
    uint64_t pending = 0;
    (void)c;
    long len = revive_proc_read(0, crs_park_proc_tid(tid), "status", buf, sizeof buf);
    if (len >= 0 || len == -ENOSPC) /* a cut file still holds SigPnd, near the beginning */
        revive_status_x64(buf, "SigPnd", &pending);
    return pending;
}

struct kernel_sigaction {
    uint64_t handler, flags, restorer, mask;
};

int crs_capture_signals(struct crs_capture *c)
{
    for (int sig = 1; sig <= 64; sig++) {
        struct kernel_sigaction ka;
        memset(&ka, 0, sizeof ka);
        /* recorded as SIG_DFL, a failure would lose the program's handlers silently */
        if (sig != SIGKILL && sig != SIGSTOP && syscall(SYS_rt_sigaction, sig, NULL, &ka, 8) != 0) {
            int e = errno;
            crs_capture_error(c, "cannot read the action of signal %d (rt_sigaction: %s)", sig, strerror(e));
            return -e;
        }
        c->sig[sig - 1].handler = ka.handler;
        c->sig[sig - 1].flags = ka.flags;
        c->sig[sig - 1].restorer = ka.restorer;
        c->sig[sig - 1].mask = ka.mask;
    }
    return 0;
}
