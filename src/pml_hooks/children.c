/* A rank's child processes that have ended and were not reaped yet (zombies): a rank that forked
 * a helper (fork, popen, system's shell in another thread) and waits for it later, between
 * steps. libcr's image holds one process and refuses one with children (capture_children.c);
 * a zombie holds nothing but its pid and its wait status, so the rank's snapshot keeps those
 * (in the layer's memory, which is the rank's image) and the restarted rank makes each one
 * again: a child with the same pid (clone3 set_tid: root, or CAP_CHECKPOINT_RESTORE) that ends
 * at once with the same status, before the application's threads run on. The application's
 * waitpid(pid) then gives what it gave in the uninterrupted run (review19 MEDIUM-1, issue 7).
 * A running child is taken along instead (capture.c: the rank's image is then a tree file, libcr's
 * crs_runtime_tree_here, the rank its member 0): its zombies are the tree's members then, not
 * kept here, and its running children come back under their pids from revive-restart-rank, so
 * the rank must be able to choose pids (pml_children_running). In an epoch that holds the rank
 * (--term, --stop, --save-files) they are stopped once the file is durable (covered from before:
 * pml_children_stop), and ended with the rank (--term: pml_children_reap), taken over by the job's
 * stop (--stop: pml_children_job_stop) or let run on at the unhold, as after an epoch that fails
 * after the capture (pml_children_cont). */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "mpi"
#include "pml_hooks/ckpt.h"
#include "common/fault.h"
#include "common/fd_guard.h"
#include "common/procfs.h"
#include "pml_hooks/cover.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ZOMBIES_MAX 64
/* The processes under a rank that a holding capture stops, continues or ends: more refuse such a
 * snapshot (pml_children_stop_list), as the ones past the list would stay stopped (diffrev29 T-H1) */
#define DESCENDANTS_MAX 1024
_Static_assert(DESCENDANTS_MAX <= PML_COVER_MAX, "the cover takes every process a --term stops");

/* Saved in the image (the layer's memory is the application's): read by the restarted rank. */
static int32_t zpid[ZOMBIES_MAX], zstatus[ZOMBIES_MAX];
static char zcomm[ZOMBIES_MAX][16];
static int nz;
static int zcapable; /* the rank could make a child with a pid of its choice at the snapshot */
static int zover;    /* it had more zombies than ZOMBIES_MAX: none kept (copy_windows in capture.c refuses at once) */
static int nrunning; /* its children that had not ended, at the last look */
static int zunkept;  /* the zombies it had (listed, not kept) when it could not choose a pid */
/* The running children of the last tree capture (capture.c), stopped after it when it holds */
static int32_t rpid[ZOMBIES_MAX];
static char rcomm[16];
static int nr;
static int rstopped;
static int ntz; /* the last tree capture's zombies (the tree's members, in zpid): reaped at --term */

/* CAP_SYS_ADMIN (21) or CAP_CHECKPOINT_RESTORE (40) in the effective set: clone3's set_tid. */
static int can_choose_pid(void)
{
    char buf[4096];
    uint64_t eff = 0;
    if (revive_read_file("/proc/self/status", buf, sizeof buf) <= 0 ||
        revive_status_x64(buf, "CapEff", &eff) != 0)
        return 0;
    return (eff >> 21 & 1) || (eff >> 40 & 1);
}

struct walk {
    char buf[4096];
    int over; /* more zombies than ZOMBIES_MAX */
};

static void note_child(struct walk *w, long pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    long n = revive_read_file(path, w->buf, sizeof w->buf);
    if (n <= 0)
        return; /* gone: nothing to keep */
    if (revive_stat_state(w->buf) != 'Z') {
        if (!nrunning) {
            const char *o = strchr(w->buf, '('), *c = strrchr(w->buf, ')');
            memset(rcomm, 0, sizeof rcomm);
            if (o && c && c > o)
                memcpy(rcomm, o + 1, (size_t)(c - o - 1) < sizeof rcomm - 1 ? (size_t)(c - o - 1) : sizeof rcomm - 1);
        }
        if (nr < ZOMBIES_MAX)
            rpid[nr++] = (int32_t)pid;
        nrunning++; /* libcr refuses it (taken along by a tree capture) */
        return;
    }
    uint64_t code = 0;
    if (revive_stat_field(w->buf, 52, &code) != 0)
        return; /* no exit code to give back (kernel before 3.5): libcr refuses it */
    if (nz == ZOMBIES_MAX) {
        w->over = 1;
        return;
    }
    const char *open = strchr(w->buf, '('), *close = strrchr(w->buf, ')');
    memset(zcomm[nz], 0, sizeof zcomm[nz]);
    if (open && close && close > open) {
        size_t len = (size_t)(close - open - 1);
        memcpy(zcomm[nz], open + 1, len < sizeof zcomm[nz] - 1 ? len : sizeof zcomm[nz] - 1);
    }
    zpid[nz] = (int32_t)pid;
    zstatus[nz] = (int32_t)code;
    nz++;
}

static long thread_children(long tid, int dirfd, void *arg)
{
    (void)dirfd;
    struct walk *w = arg;
    char path[80];
    long pids[128];
    int np = 0;
    snprintf(path, sizeof path, "/proc/self/task/%ld/children", tid);
    long n = revive_read_file(path, w->buf, sizeof w->buf);
    if (n == -ENOSPC) {
        /* more children than buf holds (some 580): its first ones are enough (128 are noted),
         * the last number cut. Dropped whole, a rank with a thousand running children was taken
         * for one without: no tree capture, libcr's refusal for 10 s, naming no child. */
        char *cut = strrchr(w->buf, ' ');
        if (!cut)
            return 0;
        *cut = 0;
    } else if (n <= 0) {
        return 0;
    }
    const char *p = w->buf;
    while (*p && np < 128) {
        uint64_t v;
        while (*p == ' ' || *p == '\n')
            p++;
        if (!*p || revive_parse_u64(&p, &v))
            break;
        pids[np++] = (long)v;
    }
    for (int i = 0; i < np; i++)
        note_child(w, pids[i]); /* reuses buf */
    return 0;
}

static void cover_end(void);

int pml_children_note(const int32_t **pids)
{
    static struct walk w; /* every other thread is parked: no malloc, and one capture at a time */
    nz = nrunning = zunkept = nr = ntz = 0;
    cover_end(); /* none is left from an epoch before; harmless */
    rstopped = 0;
    w.over = 0;
    zover = 0;
    *pids = zpid;
    zcapable = can_choose_pid();
    revive_proc_for_each_number("/proc/self/task", thread_children, &w);
    if (w.over) {
        nz = 0;
        zover = 1;
    }
    if (!zcapable) {
        /* no restart could make them again: libcr refuses them, capture.c says why (at once when
         * there are only zombies, which only the application's wait makes fewer) */
        zunkept = nz;
        nz = 0;
    }
    return nz;
}

int pml_children_kept(void)
{
    return nz + ntz; /* by the layer, or as the tree's members (a tree capture) */
}

int pml_children_running(int tree, int32_t *first_pid, const char **first_comm)
{
    if (!tree) {
        /* a look before the capture (other threads run: this thread's buffer, no list kept) */
        static struct walk w;
        int was_nz = nz, was_nr = nr, was_run = nrunning, was_zc = zcapable;
        int32_t keep_r[ZOMBIES_MAX], keep_z[ZOMBIES_MAX], keep_s[ZOMBIES_MAX];
        char keep_c[sizeof rcomm]; /* (a later message names the capture's child: diffrev29 T-L3) */
        memcpy(keep_c, rcomm, sizeof keep_c);
        memcpy(keep_r, rpid, sizeof keep_r);
        memcpy(keep_z, zpid, sizeof keep_z);
        memcpy(keep_s, zstatus, sizeof keep_s);
        nrunning = 0, nr = 0, nz = 0;
        revive_proc_for_each_number("/proc/self/task", thread_children, &w);
        int n = nrunning;
        nz = was_nz, nr = was_nr, nrunning = was_run, zcapable = was_zc;
        memcpy(rpid, keep_r, sizeof keep_r);
        memcpy(zpid, keep_z, sizeof keep_z);
        memcpy(zstatus, keep_s, sizeof keep_s);
        memcpy(rcomm, keep_c, sizeof keep_c);
        return n;
    }
    /* after pml_children_note in a tree capture: the tree keeps the zombies as its members (the
     * layer makes none again; a --term reaps them all the same, pml_children_reap) */
    ntz = nz;
    nz = 0;
    *first_pid = nr ? rpid[0] : 0;
    *first_comm = rcomm;
    return zcapable ? 0 : nrunning;
}

int pml_children_zombies_refused(void)
{
    return !zcapable;
}

int pml_children_zombies_over(void)
{
    return zover;
}

int pml_children_zombies_only(int32_t *first_pid, const char **first_comm)
{
    if (zcapable || nrunning || (!zunkept && !zover))
        return 0;
    *first_pid = zpid[0];
    *first_comm = zcomm[0];
    return zover ? ZOMBIES_MAX + 1 : zunkept;
}

/* In the new child (a copy of the rank, no handler of libc's fork ran, a parked thread's locks
 * copied held): system calls only, no libc wrapper that might take one. */
struct ksigaction {
    void (*handler)(int);
    unsigned long flags;
    void (*restorer)(void);
    uint64_t mask;
};

static void __attribute__((noreturn)) end_like(int32_t st)
{
    if (WIFSIGNALED(st)) {
        int sig = WTERMSIG(st);
        /* its status, not a core file: no core limit, and not dumpable, which also keeps a
         * core_pattern pipe's handler (it ignores the limit) from running for it. So a child
         * that dumped core comes back without WCOREDUMP in its status (docs/mpi.md). */
        struct rlimit none = { 0, 0 };
        syscall(SYS_setrlimit, RLIMIT_CORE, &none);
        syscall(SYS_prctl, PR_SET_DUMPABLE, 0, 0, 0, 0);
        struct ksigaction dfl = { SIG_DFL, 0, NULL, 0 };
        syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof dfl.mask);
        uint64_t m = 1ull << (sig - 1);
        syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, &m, NULL, sizeof m);
        syscall(SYS_kill, syscall(SYS_getpid), sig);
    }
    syscall(SYS_exit_group, WIFEXITED(st) ? WEXITSTATUS(st) : 1);
    for (;;)
        ;
}

/* The process that holds pid now, named for the message ("1234 'sleep'"), or "another process". */
static void holder(int32_t pid, char *out, size_t cap)
{
    char buf[1024];
    long n = revive_proc_read(pid, 0, "stat", buf, sizeof buf);
    const char *open = n > 0 ? strchr(buf, '(') : NULL, *close = n > 0 ? strrchr(buf, ')') : NULL;
    if (open && close && close > open)
        snprintf(out, cap, "process %d '%.*s'", (int)pid, (int)(close - open - 1), open + 1);
    else
        snprintf(out, cap, "another process (a process group or session keeps it)");
}

/* --term: the rank ends after its snapshot, and the application will not wait for its zombies:
 * reaped now, so that their pids are free for the restart at once (orphaned, they wait for the
 * pid namespace's init, which in a container may take seconds: measured 20 s and more under
 * this machine's init). */

/* The walk of a stopped tree. Each process's children are read from every one of its threads:
 * /proc/PID/task/TID/children lists only the children that thread forked, so a child whose
 * thread forked a grandchild (a thread pool, system() or a subprocess started from a thread)
 * has it on no other list; it was stopped with the tree by the capture (libcr takes members by
 * their parent's pid) but was never continued nor ended (diffrev27 T-H1'). */
struct tree_walk {
    int32_t *v;  /* the list, appended to */
    int n;
    int over;    /* more than DESCENDANTS_MAX (or a list longer than buf) */
    pid_t of;    /* the process whose threads are read */
    char buf[16384];
};

static long task_children(long tid, int dirfd, void *arg)
{
    (void)dirfd;
    struct tree_walk *t = arg;
    char path[80];
    snprintf(path, sizeof path, "/proc/%d/task/%ld/children", (int)t->of, tid);
    long got = revive_read_file(path, t->buf, sizeof t->buf);
    if (got == -ENOSPC)
        t->over = 1;
    if (got <= 0)
        return 0;
    const char *p = t->buf;
    for (;;) {
        uint64_t c;
        while (*p == ' ' || *p == '\n')
            p++;
        if (!*p || revive_parse_u64(&p, &c))
            break;
        if (t->n == DESCENDANTS_MAX) {
            t->over = 1;
            break;
        }
        t->v[t->n++] = (int32_t)c;
    }
    return 0;
}

/* Every process under the rank at a tree capture: its children (the running ones, the tree's
 * zombies: a signal does nothing to those) and everything under them (a command's shell and the
 * command, a worker's helper; parked in libcr's capture: their lists of children do not change
 * meanwhile), in all: how many, or -1 when there are more than DESCENDANTS_MAX (libcr's tree has
 * no such bound: a cut list left the rest stopped, diffrev29 T-H1). From the rank itself, not
 * from rpid (64 at most). Breadth first, in all itself: no recursion on the agent thread's stack. */
static int stopped_tree(int32_t *all)
{
    static struct tree_walk w; /* the agent thread's alone */
    w.v = all;
    w.n = 0;
    w.over = 0;
    w.of = getpid();
    revive_proc_for_each_number("/proc/self/task", task_children, &w);
    for (int i = 0; i < w.n && !w.over; i++) {
        char path[48];
        w.of = all[i];
        snprintf(path, sizeof path, "/proc/%d/task", (int)all[i]);
        revive_proc_for_each_number(path, task_children, &w);
    }
    return w.over ? -1 : w.n;
}

/* --term: between the capture, which stops the children, and the end of the epoch (resume:
 * pml_children_reap ends them, or the epoch failed: pml_children_cont) the rank may die: ^C or
 * SIGTERM forwarded by the launcher, Hydra's SIGKILL of every rank after another's failure, the
 * witness's SIGKILL after a kill -9 of mpirun, the kernel's OOM killer. A stopped process holds
 * SIGTERM or SIGHUP pending when it handles or ignores them, and nothing continued or ended them:
 * they stayed stopped for ever, under init, holding the pids a restart needs (diffrev27 T-H2').
 * Their cover is a process of the rank's, revive-cover (cover_main.c), holding its end of a
 * socket pair only the rank holds the other end of: when the rank dies, however, that end comes
 * and the cover ends what the capture stopped (SIGKILL, as pml_children_reap would; only a
 * process with the start time it had then: a pid used again is not touched), then itself. It is
 * started, and given the list, in the capture's commit, before libcr sends the SIGSTOP: started
 * after it (the first way), a SIGKILL of the rank in between left the children stopped
 * (rank_child-ompi, 1 run in several). A rank killed after the cover is made but before the stop
 * leaves them parked in libcr's capture, which lets them go when the rank's connection ends: the
 * cover ends them all the same (the job was ending with its --term snapshot). Every signal
 * blocked and a session of its own from before its exec: the launcher's signals to the ranks'
 * group (SIGTERM, then SIGKILL) do not end it before the rank. The commit returns (and libcr
 * stops the children) only once the cover has answered that it holds the list.
 * Memory of its own: a program of its own, exec'd from a vfork-like clone (CLONE_VM and
 * CLONE_VFORK on a small stack of its own, exit signal none). Nothing of the rank is copied (a
 * copy, as fork makes, was charged the rank's whole private memory: refused under
 * vm.overcommit_memory=2 for a large rank, diffrev29 T-L2), no atfork handler runs (a parked
 * thread may hold malloc's lock), the application's wait(-1) never sees it (it has no exit
 * signal); and after the exec it shares nothing with the rank: the kernel's OOM killer (and,
 * before Linux 5.16, a core dump) kills every process sharing the victim's memory, which took the
 * cover of the last way (a clone sharing the rank's memory for its whole life) with an
 * OOM-killed rank, the children stopped for ever (diffrev30 R-L5). */
static int32_t sall[DESCENDANTS_MAX]; /* the stopped tree, at the stop */
static uint64_t sstart[DESCENDANTS_MAX];
static int nsall;
static pid_t cover_pid;
static int cover_w = -1; /* the rank's end of the socket pair */

static uint64_t start_time(int32_t pid, char *buf, size_t cap)
{
    uint64_t t = 0;
    if (revive_proc_read(pid, 0, "stat", buf, cap) <= 0 || revive_stat_field(buf, 22, &t) != 0)
        return 0;
    return t;
}

/* The vfork-like child's system calls: it runs on the calling thread's TLS (CLONE_VM, no
 * CLONE_SETTLS), where libc's syscall() would write that thread's errno; a failure is returned as
 * -errno. (x86_64: configure refuses other machines.) */
static long cover_sys(long sysno, long a, long b, long c, long d)
{
    long ret;
    register long r10 __asm__("r10") = d;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(sysno), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
    return ret;
}

/* revive-cover beside the layer (both in pkglibdir; in the build tree the layer is in .libs and
 * the program one folder up): found at MPI_Init, where dladdr may take ld.so's lock (in the
 * capture's commit a parked thread might hold it) */
static char cover_path[4096];
static char cover_fdarg[16];
static char *cover_argv[4];
static char *cover_envp[1]; /* empty: no LD_PRELOAD of Revive's into it */
static volatile int cover_exec_errno;

void pml_children_init(void)
{
    Dl_info di;
    cover_path[0] = 0;
    if (!dladdr((void *)&pml_children_init, &di) || !di.dli_fname)
        return;
    snprintf(cover_path, sizeof cover_path, "%s", di.dli_fname);
    char *slash = strrchr(cover_path, '/');
    size_t off = slash ? (size_t)(slash + 1 - cover_path) : 0;
    snprintf(cover_path + off, sizeof cover_path - off, "revive-cover");
    if (access(cover_path, X_OK) != 0 && off >= 6 && !memcmp(cover_path + off - 6, ".libs/", 6))
        snprintf(cover_path + off - 6, sizeof cover_path - (off - 6), "revive-cover");
}

/* The vfork-like child (the rank's memory until the exec, its parent waiting: its own system
 * calls only). arg: its end of the socket pair, which alone it keeps, open across the exec. */
static int cover_child(void *arg)
{
    long r = (long)(intptr_t)arg;
    cover_sys(SYS_setsid, 0, 0, 0, 0);
#ifndef SYS_close_range
#define SYS_close_range 436 /* the same number on every architecture */
#endif
    if ((r > 0 && cover_sys(SYS_close_range, 0, r - 1, 0, 0) != 0) ||
        cover_sys(SYS_close_range, r + 1, ~0U, 0, 0) != 0) { /* before Linux 5.9 */
        struct rlimit lim = { 1024, 1024 };
        cover_sys(SYS_prlimit64, 0, RLIMIT_NOFILE, 0, (long)&lim);
        for (long fd = 0; fd < (long)lim.rlim_cur && fd < 65536; fd++)
            if (fd != r)
                cover_sys(SYS_close, fd, 0, 0, 0);
    }
    cover_sys(SYS_fcntl, r, F_SETFD, 0, 0);
    long e = cover_sys(SYS_execve, (long)cover_path, (long)cover_argv, (long)cover_envp, 0);
    cover_exec_errno = (int)-e;
    cover_sys(SYS_exit_group, 127, 0, 0, 0);
    return 0; /* (not reached) */
}

#define COVER_STACK (64 * 1024)

static void cover_warn(const char *what, int e)
{
    revive_log_warn("rank %d: no cover for its stopped children (%s%s%s): should the rank die before the "
                    "checkpoint ends, they stay stopped", pml_world_rank, what, e ? ": " : "",
                    e ? strerror(e) : "");
}

static void cover_start(void)
{
    char buf[1024];
    for (int k = 0; k < nsall; k++)
        sstart[k] = start_time(sall[k], buf, sizeof buf);
    if (!cover_path[0] || access(cover_path, X_OK) != 0) {
        int e = cover_path[0] ? errno : 0;
        char what[4200];
        snprintf(what, sizeof what, "its program %s", cover_path[0] ? cover_path : "revive-cover (not found)");
        cover_warn(what, e);
        return;
    }
    int p[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p) != 0) {
        cover_warn("socketpair", errno);
        return;
    }
    void *stack = mmap(NULL, COVER_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) {
        int e = errno;
        close(p[0]);
        close(p[1]);
        cover_warn("its stack", e);
        return;
    }
    snprintf(cover_fdarg, sizeof cover_fdarg, "%d", p[0]);
    cover_argv[0] = (char *)"revive-cover";
    cover_argv[1] = cover_fdarg;
    cover_argv[2] = revive_fault(REVIVE_FAULT_mpi_cover_late) ? (char *)"late" : NULL;
    cover_argv[3] = NULL;
    cover_envp[0] = NULL;
    cover_exec_errno = 0;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old); /* the cover's for its whole life: no handler runs there */
    int c = clone(cover_child, (char *)stack + COVER_STACK, CLONE_VM | CLONE_VFORK, (void *)(intptr_t)p[0]);
    int e = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    munmap(stack, COVER_STACK); /* the child has exec'd or ended (CLONE_VFORK) */
    close(p[0]);
    if (c < 0) {
        close(p[1]);
        cover_warn("clone", e);
        return;
    }
    cover_pid = (pid_t)c;
    cover_w = p[1];
    if (cover_exec_errno) {
        e = cover_exec_errno;
        cover_end();
        char what[4200];
        snprintf(what, sizeof what, "cannot run %s", cover_path);
        cover_warn(what, e);
        return;
    }
    /* the list, then its answer (10 s at most: a loaded machine): the commit returns and libcr
     * stops the children only once the cover holds it */
    static struct {
        struct pml_cover_head h;
        struct pml_cover_entry v[DESCENDANTS_MAX];
    } msg;
    msg.h.magic = PML_COVER_MAGIC;
    msg.h.n = (uint32_t)nsall;
    for (int k = 0; k < nsall; k++) {
        msg.v[k].pid = sall[k];
        msg.v[k].pad = 0;
        msg.v[k].start = sstart[k];
    }
    size_t len = sizeof msg.h + (size_t)nsall * sizeof msg.v[0], done = 0;
    const char *q = (const char *)&msg;
    while (done < len) {
        ssize_t n = send(cover_w, q + done, len - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            e = errno;
            cover_end();
            cover_warn("sending it their list", e);
            return;
        }
        done += (size_t)n;
    }
    struct pollfd pf = { cover_w, POLLIN, 0 };
    char ok = 0;
    int got = 0;
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        long left = 10000 - ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000);
        if (left <= 0)
            break;
        int r = poll(&pf, 1, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r > 0) {
            ssize_t n = read(cover_w, &ok, 1);
            if (n < 0 && errno == EINTR)
                continue;
            got = n == 1 ? 1 : -1;
        }
        break;
    }
    if (got < 0) {
        cover_end();
        cover_warn("it ended before it took their list", 0);
    } else if (got > 0) {
        revive_log_debug("rank %d: cover %d holds the list of %d stopped process(es)", pml_world_rank, c,
                         nsall);
    } else {
        revive_log_warn("rank %d: its children's cover %d did not say it holds their list within 10 s: should the "
                        "rank die before then, they may stay stopped", pml_world_rank, c);
    }
}

/* The cover ends without a word (SIGKILL, reaped: __WALL, it has no exit signal), before its
 * end of the socket pair is closed: only the end of the rank's makes it kill. */
static void cover_end(void)
{
    if (cover_pid <= 0)
        return;
    kill(cover_pid, SIGKILL);
    while (waitpid(cover_pid, NULL, __WALL) < 0 && errno == EINTR)
        ;
    close(cover_w);
    cover_pid = 0;
    cover_w = -1;
}

/* The processes Revive stopped are let go first (continued: pml_children_cont,
 * pml_children_job_cont; ended: pml_children_reap), and their cover is ended after. Ended first,
 * a rank killed between the two steps left them stopped for ever with nobody to continue or end
 * them: the launcher's SIGKILL of every rank once another died can come while a rank lets its
 * children go at the failed epoch's end (rank_many part 4 in the CI of 5ac1bcb: a stopped child
 * of a rank and its parent left). Killed after the first step, the rank's cover ends them,
 * continued or not, as it would have a moment before. Fault point mpi-cover-gap: 1 s between the
 * two steps (rank_many part 8). */
static void cover_gap(void)
{
    if (revive_fault(REVIVE_FAULT_mpi_cover_gap)) {
        struct timespec d = { 1, 0 };
        nanosleep(&d, NULL);
    }
}

static int too_many(int term, char *err, size_t errlen)
{
    if (term)
        snprintf(err, errlen, "rank %d had more than %d processes under it (its children and theirs): a "
                 "--term snapshot stops and then ends at most %d; take the snapshot without --term",
                 pml_world_rank, DESCENDANTS_MAX, DESCENDANTS_MAX);
    else
        snprintf(err, errlen, "rank %d had more than %d processes under it (its children and theirs): a "
                 "snapshot that holds the job (--stop, --save-files) stops at most %d until it is made; "
                 "take the snapshot without --stop and --save-files",
                 pml_world_rank, DESCENDANTS_MAX, DESCENDANTS_MAX);
    return -ENOTSUP;
}

/* From the tree capture's commit, before the file is made durable: every member is parked in
 * libcr's capture (the lists of children do not change). */
int pml_children_stop_list(int term, char *err, size_t errlen)
{
    nsall = 0;
    if (nr == 0)
        return 0;
    int n = stopped_tree(sall);
    /* fault point mpi-tree-over: the refusal here although the look before the capture passed
     * (children forked between the two), which left the rank's held threads held (capture.c) */
    if (n < 0 || revive_fault(REVIVE_FAULT_mpi_tree_over))
        return too_many(term, err, errlen);
    nsall = n;
    return 0;
}

/* Before a holding tree capture, while the children still run: already more than DESCENDANTS_MAX
 * processes under the rank refuse at once, instead of after libcr parked every one and wrote its
 * image (a thousand images, for the commit to refuse). The commit's walk of the parked tree
 * (pml_children_stop_list) still decides. sall is no stopped tree's now (reap and cont ended the
 * last one). */
int pml_children_stop_precheck(int term, char *err, size_t errlen)
{
    cover_end(); /* none is left from an epoch before (it reads sall); harmless */
    nsall = 0;
    return stopped_tree(sall) < 0 ? too_many(term, err, errlen) : 0;
}

/* From the tree capture's commit, once the file is durable: the stop comes right after. */
void pml_children_stop(void)
{
    rstopped = nsall > 0;
    if (rstopped)
        cover_start();
}

void pml_children_cont(void)
{
    if (!rstopped)
        return;
    rstopped = 0;
    /* the tree capture stopped every member, the grandchildren too (a command's shell and the
     * command, a worker's helper): all run on, or the rank waits for ever on a stopped one
     * (diffrev26 T-H2). Their cover ends after (cover_gap). */
    for (int k = 0; k < nsall; k++)
        kill(sall[k], SIGCONT);
    cover_gap();
    cover_end();
    nsall = 0;
}

void pml_children_reap(void)
{
    /* The running children a --term tree capture took along (stopped since), and everything
     * under them (a command's shell and the command: the tree's members too): ended with the
     * rank, and reaped, so that their pids are free for the restart at once (an orphan, or a
     * grandchild whose parent was killed, waits for init, seconds here). The rank becomes their
     * subreaper so that the grandchildren come to it. */
    if (rstopped) {
        prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        for (int k = 0; k < nsall; k++)
            kill(sall[k], SIGKILL);
        cover_gap();
        cover_end(); /* once they are killed (cover_gap) */
        /* __WALL: the list has every child, a raw clone's too (exit signal none: waitpid without
         * it says ECHILD while its zombie still answers kill(pid, 0), which cost each such one
         * the loop's 2 s at every --term, diffrev29 T-L5) */
        for (int k = 0; k < nsall; k++)
            for (int tries = 0; tries < 400; tries++) {   /* up to 2 s for the kill and reparenting */
                pid_t w = waitpid(sall[k], NULL, WNOHANG | __WALL);
                if (w == sall[k] || (w < 0 && errno != ECHILD && errno != EINTR))
                    break;
                if (w < 0 && errno == ECHILD && kill(sall[k], 0) != 0)
                    break;   /* gone: reaped by its own parent */
                struct timespec d = { 0, 5 * 1000 * 1000 };
                nanosleep(&d, NULL);
            }
        nsall = 0;
    }
    rstopped = 0;
    for (int i = 0; i < nz || i < ntz; i++) {
        int st;
        while (waitpid(zpid[i], &st, WNOHANG | __WALL) < 0 && errno == EINTR)
            ;
    }
}

/* A zombie holds pid (an orphan of the ended original job, its new parent not having waited for
 * it yet): it will soon be gone. */
static int held_by_zombie(int32_t pid)
{
    char buf[1024];
    long n = revive_proc_read(pid, 0, "stat", buf, sizeof buf);
    return n > 0 && revive_stat_state(buf) == 'Z';
}

int pml_children_restore(char *err, size_t errlen)
{
    if (!nz)
        return 0;
    /* Its SIGCHLD went to the rank at the snapshot already: the new one is dropped (discarded at
     * once while the action is the default one and this thread, the child's parent, does not
     * block it). A handler of the application's is put back once the child has ended. */
    struct sigaction old, dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigaction(SIGCHLD, NULL, &old);
    int handler = !(old.sa_flags & SA_SIGINFO) ? old.sa_handler != SIG_DFL && old.sa_handler != SIG_IGN : 1;
    sigset_t chld, mask;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    pthread_sigmask(SIG_UNBLOCK, &chld, &mask);
    if (handler)
        sigaction(SIGCHLD, &dfl, NULL);
    int e = 0;
    for (int i = 0; i < nz && !e; i++) {
        struct clone_args ca; /* the kernel's (linux/sched.h) */
        memset(&ca, 0, sizeof ca);
        uint64_t tid = (uint64_t)zpid[i];
        ca.exit_signal = SIGCHLD;
        ca.set_tid = (uint64_t)(uintptr_t)&tid;
        ca.set_tid_size = 1;
        long r = syscall(SYS_clone3, &ca, sizeof ca);
        /* up to 10 s for an orphaned zombie of the original job to be reaped by its new parent */
        for (int tries = 0; r < 0 && errno == EEXIST && tries < 500 && held_by_zombie(zpid[i]); tries++) {
            struct timespec d = { 0, 20 * 1000 * 1000 };
            nanosleep(&d, NULL);
            r = syscall(SYS_clone3, &ca, sizeof ca);
        }
        if (r == 0)
            end_like(zstatus[i]);
        if (r < 0) {
            e = -errno;
            char who[128];
            if (e == -EEXIST)
                holder(zpid[i], who, sizeof who);
            snprintf(err, errlen, "rank %d's child process %d '%.16s' had ended and was not reaped at the "
                     "snapshot; it comes back under its pid, but %s%s", pml_world_rank, (int)zpid[i], zcomm[i],
                     e == -EEXIST ? who : e == -EPERM ? "only root (or CAP_CHECKPOINT_RESTORE) can choose a pid"
                                                     : "clone3 with a pid failed: ",
                     e == -EEXIST ? " holds that pid now: end it, or restart from an earlier snapshot"
                     : e == -EPERM ? ": run restart-mpi as root" : strerror(-e));
            break;
        }
        siginfo_t si;
        while (waitid(P_PID, (id_t)r, &si, WEXITED | WNOWAIT) < 0 && errno == EINTR)
            ;
        revive_log_debug("rank %d: child %d '%.16s' made again, ended with status 0x%x (a zombie, as at the snapshot)",
                         pml_world_rank, (int)r, zcomm[i], (unsigned)zstatus[i]);
    }
    if (handler)
        sigaction(SIGCHLD, &old, NULL);
    pthread_sigmask(SIG_SETMASK, &mask, NULL);
    return e;
}

/* ckpt-mpirun --stop: the job stops after its snapshot, as Open MPI's and Slurm's suspend stop
 * it, and so do the processes under each rank (its image takes them with it): left running,
 * a forked worker burned the CPU of a stopped job (newuser7 F5). Top down: each process is
 * stopped and seen stopped (state T) before its children are read, so that none forks one
 * unseen meanwhile. Those stopped here are in sall (the cover's list, with their start times);
 * one stopped already is the application's or a user's to continue. Those the epoch's tree
 * capture stopped at the capture (--stop holds: pml_children_stop) are in sall already, under
 * their cover: taken over as stopped here, the cover kept (made again only when more processes
 * are stopped here), so that none of them is ever stopped without one. */
static int jstopped; /* sall holds the processes a --stop stopped */
/* From the stop of the processes under the rank until the rank runs again, the agent's thread
 * holds a fork guard section (common/fd_guard.h): a thread of the application's that forks
 * meanwhile waits in its fork handler, and its child comes once the job continues. Before, a
 * child forked between the stop of the tree and the rank's own stop ran on in the stopped job
 * (stop32's gap; tests/mpi/ckpt/stop_tree.sh with STOP_TREE_FORKER). posix_spawn, vfork, system
 * and popen run no fork handler: a command they start then runs on (it executes a program). */
static int fork_held;

#define JOB_STOP_WAIT_MS 2000 /* in all, for the processes to show stopped (T, or t when traced) */

void pml_children_job_stop(void)
{
    static int32_t all[DESCENDANTS_MAX];
    static struct tree_walk w; /* the agent thread's alone */
    pml_children_job_cont(); /* (none left from before: the rank ran again) */
    int held = rstopped ? nsall : 0; /* sall[0..held): stopped at the capture, covered */
    rstopped = 0;
    if (!held) {
        cover_end();
        nsall = 0;
    }
    revive_fd_enter();
    fork_held = 1;
    w.v = all;
    w.n = 0;
    w.over = 0;
    w.of = getpid();
    revive_proc_for_each_number("/proc/self/task", task_children, &w);
    int already = 0, late = 0;
    int32_t first_already = 0;
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < w.n; i++) {
        int32_t pid = all[i];
        if (pid == cover_pid)
            continue; /* the capture's cover (a child of the rank): it must run while they are
                       * stopped; stopped here, and then made again, it left them with none for
                       * the rest of the walk (diffrev38 R-L1) */
        char s = revive_proc_state(pid);
        if (!s || s == 'Z' || s == 'X')
            continue; /* ended: nothing runs, nothing under it to read */
        int ours = 0;
        for (int k = 0; k < held && !ours; k++)
            ours = sall[k] == pid;
        /* t is a tracer's stop: at each system call under strace, or a debugger's hold; either
         * lets the process run on later, so it gets the SIGSTOP too (its tracer passes the signal
         * on; revive_wait_stopped takes t as stopped). Taking a long hold for "stopped already"
         * left a process under a slow strace running after --stop (stop_tree part 4, CI of
         * 64c2428) */
        if (ours) {
            /* stopped by the capture's SIGSTOP (a traced one through its tracer), in sall */
        } else if (s == 'T') {
            first_already = already++ ? first_already : pid;
        } else if (nsall < DESCENDANTS_MAX && kill(pid, SIGSTOP) == 0) {
            sall[nsall++] = pid;
            /* one deadline for all: what is left of it (a traced process stops in state t,
             * which is stopped: diffrev34 R-L1) */
            clock_gettime(CLOCK_MONOTONIC, &now);
            long spent = (now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
            if (revive_wait_stopped(pid, spent < JOB_STOP_WAIT_MS ? (int)(JOB_STOP_WAIT_MS - spent) : 0) == -ETIMEDOUT)
                late++;
        }
        char path[48];
        w.of = pid;
        snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
        revive_proc_for_each_number(path, task_children, &w);
    }
    if (w.over)
        revive_log_warn("rank %d has more than %d processes under it: those past them run on while "
                        "the job is stopped (--stop)", pml_world_rank, DESCENDANTS_MAX);
    if (late)
        revive_log_warn("rank %d: %d process(es) under it did not show stopped within %d s (--stop): "
                        "they stop when they can", pml_world_rank, late, JOB_STOP_WAIT_MS / 1000);
    if (already)
        revive_log_info("rank %d: %d process(es) under it (pid %d%s) were stopped already, not by "
                        "Revive: left stopped when the job continues", pml_world_rank, already,
                        (int)first_already, already > 1 ? " ..." : "");
    jstopped = nsall > 0;
    if (nsall > held) {
        cover_end(); /* the capture's, for fewer of them (none once this returns: cover_start) */
        cover_start(); /* the rank killed while stopped: they end, not stopped for ever */
    }
    if (revive_fault(REVIVE_FAULT_mpi_stop_window)) {
        struct timespec d = { 0, 500 * 1000 * 1000 };
        nanosleep(&d, NULL);
    }
}

void pml_children_job_cont(void)
{
    if (fork_held) {
        fork_held = 0;
        revive_fd_leave();
    }
    if (!jstopped)
        return;
    jstopped = 0;
    char buf[1024];
    for (int k = 0; k < nsall; k++)
        if (start_time(sall[k], buf, sizeof buf) == sstart[k])
            kill(sall[k], SIGCONT); /* one that ended and whose pid is another's is skipped */
    cover_gap();
    cover_end(); /* once they are continued (cover_gap) */
    nsall = 0;
}
