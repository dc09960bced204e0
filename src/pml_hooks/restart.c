/* The restart of an MPI rank from its image: the MPI layer's side (see restart.h).
 *
 *   at the checkpoint    pml_restart_capture saves what the restart will check (each live
 *                        communicator's size, rank and world rank map, each datatype's size and
 *                        extent, every attribute value) and has libcr write the image; libcr's
 *                        checkpoint thread runs our hook: before the threads are parked it
 *                        freezes ld.so's view of the lower half (lower_reset.c), after the image
 *                        it thaws it;
 *   in the restarted     the same hook, while the other threads are still parked: copies the
 *   process              hand-off (the new launcher's environment, handoff.h), makes ld.so forget
 *                        the dead lower half, drops the halves registry's lower entries; then
 *                        the capture call returns "restarted" and pml_restart_complete builds
 *                        the new lower half (see restart.h for the steps).
 * Facts measured on glibc 2.36 with Open MPI 4.1 and MPICH 4.0 are in README.md ("Restart"). */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "mpi"
#include "common/libc_dlsym.h"
#include "pml_hooks/restart.h"
#include "pml_hooks/thread_advice.h"
#include "pml_hooks/objs_ckpt.h"
#include "pml_hooks/objs.h" /* pml_wins */
#include "pml_hooks/handoff.h"
#include "pml_hooks/halves_internal.h"
#include "pml_hooks/layer.h"
#include "pml_hooks/lower_reset.h"
#include "pml_hooks/lower_refs.h"
#include "pml_hooks/replay.h"
#include "pml_hooks/topo.h"
#define PML_WANT_NAMES
#include "pml_hooks/pml_table.h"

#include "crs/base/capture_filter.h"
#include "crs/base/hooks.h"
#include "common/clock.h"
#include "common/dirsync.h"
#include "common/exec_fds.h"
#include "common/fault.h"
#include "common/procfs.h"
#include "common/text.h"
#include "libcr.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* snapc's agent takes the coordinator's address from the restart environment (agent.h, through
 * objs.h); weak: the layer may be built without it. */
#pragma weak snapc_agent_set_restart_env
#pragma weak snapc_agent_forget_connection

static int ldso_ok;            /* pml_ldso_learn succeeded for the current lower half */
static char ldso_err[512];     /* why not */
static int hook_registered;
static int atfork_registered;  /* after_fork_child */
static volatile int capturing; /* pml_restart_capture is under way: the hook has work */
static volatile int self_capture; /* ... called by the program, not through the agent */
static int frozen;
static void (*on_parked)(void); /* pml_restart_on_parked */

void pml_restart_on_parked(void (*fn)(void))
{
    on_parked = fn;
}
static int generation;         /* restarts of this image so far (in the image: survives them) */
static pid_t saved_pid;        /* the process's id at the checkpoint (its main thread's) */

/* set by the restart hook for pml_restart_complete */
static int pending;
static int hook_failed;
static int hook_refused; /* hook_failed for what lies outside the image (a zombie's pid taken) */
static char hook_err[768];
static char *handoff_mem;      /* the hand-off copy and the environment array built on it */
static size_t handoff_size;
static char **handoff_env;
static int handoff_rank = -1, handoff_size_ranks = -1;

/* ---- the launcher's descriptors ----------------------------------------------------------- */
#define LFD_MAX 128
static int lfd[LFD_MAX], nlfd;

/* A listening socket the launcher left open in the rank (Hydra's proxy leaves its own, at
 * descriptor 5) is no command's the rank runs: close-on-exec, so popen, system and posix_spawn
 * do not pass it on. A snapshot taking such a command along (the rank's tree) recorded it in the
 * command's image as a socket bound to 0.0.0.0:PORT, which a restore may try to bind again
 * (rank_alone-mpich failed once so: "cannot bind the socket at descriptor 5 ... another process
 * holds that address" in a rank's child's image). A child forked without exec gets /dev/null
 * under its number (pml_fd_lower_release). */
static void launcher_listener_cloexec(int fd)
{
    int on = 0;
    socklen_t l = sizeof on;
    int flags = fcntl(fd, F_GETFD);
    if (flags >= 0 && !(flags & FD_CLOEXEC) && getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &l) == 0 && on)
        fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

/* The numbers open from 3 up when the layer loads, ascending, as /proc/self/fd lists them (a few
 * getdents64 calls; an fstat of each number 3-1023 was ~1 ms of CPU in every rank at its start),
 * however high: a descriptor the user's shell or batch system left open in the launcher reaches
 * MPICH's ranks (Hydra passes them on) under its number, 1500 say, and one above 1023 was taken
 * for the application's: it went into every image, and restart-mpi failed ("descriptor 900 to
 * keep is one the image uses too"). Without /proc, 3 to 1023, each then asked with fstat. */
#define LFD_SEEN_MAX 4096
static int lfd_seen[LFD_SEEN_MAX], nseen, seen_over;

static long note_open(long n, int dirfd, void *arg)
{
    (void)arg;
    if (n < 3 || n == dirfd)
        return 0;
    if (nseen == LFD_SEEN_MAX)
        seen_over = 1;
    else
        lfd_seen[nseen++] = (int)n;
    return 0;
}

static void lfd_open_list(void)
{
    nseen = seen_over = 0;
    if (revive_proc_for_each_number("/proc/self/fd", note_open, NULL) < 0) {
        nseen = 0;
        for (int fd = 3; fd < 1024; fd++)
            lfd_seen[nseen++] = fd;
        return;
    }
    for (int i = 1; i < nseen; i++) { /* (procfs lists them in order already) */
        int v = lfd_seen[i], j = i;
        for (; j > 0 && lfd_seen[j - 1] > v; j--)
            lfd_seen[j] = lfd_seen[j - 1];
        lfd_seen[j] = v;
    }
}

/* The launcher's: what the process had when it was executed. Not every descriptor open when the
 * layer's constructor runs: glibc ran the constructors of the application's libraries before it,
 * and what they opened (OpenFOAM's /dev/null for its Snull, a library's global log file) is the
 * application's, in its images (it was left out of them, and at a restart the number the
 * application wrote to was closed, or another's: newuser8 F1). Without the list made at exec
 * (common/exec_fds.c: no /proc), every open one is taken for the launcher's, as before. */
void pml_restart_note_launcher_fds(void)
{
    struct stat st;
    int unknown = 0;
    nlfd = 0;
    lfd_open_list();
    int i;
    for (i = 0; i < nseen && nlfd < LFD_MAX; i++) {
        int fd = lfd_seen[i];
        if (fstat(fd, &st) != 0)
            continue;
        int at_exec = revive_fd_open_at_exec(fd, &st);
        unknown += at_exec < 0;
        if (at_exec == 0) {
            /* made since the exec: the ordinary rule says whose (libcr's own are Revive's) */
            char tgt[256];
            const char *why = "";
            int h = pml_half_of_fd(fd, &why);
            if (pml_fd_target(fd, tgt, sizeof tgt) < 0)
                snprintf(tgt, sizeof tgt, "?");
            revive_log_debug("descriptor %d (%s) was made after the exec, before the layer loaded"
                             " (a constructor's), not by the launcher: %s (%s)", fd, tgt,
                             h < 0 ? "closed" : pml_half_name(h), why);
            continue;
        }
        lfd[nlfd++] = fd;
        pml_fd_mark_by(fd, PML_FD_BY_LAUNCHER, 1);
        launcher_listener_cloexec(fd);
    }
    if (i < nseen || seen_over)
        revive_log_warn("more descriptors were open when Revive's MPI layer loaded than it takes for"
                        " the launcher's (%d): those above %d are taken for the application's and go"
                        " into this rank's snapshots, where a restart may fail to reopen them: start"
                        " the job from a shell with fewer descriptors open",
                        i < nseen ? LFD_MAX : LFD_SEEN_MAX, i < nseen ? lfd_seen[i - 1] : lfd_seen[nseen - 1]);
    if (unknown)
        revive_log_warn("%d descriptors open when Revive's MPI layer loaded are taken for the launcher's"
                        " and left out of this rank's snapshots: the descriptors the rank was started"
                        " with could not be listed (/proc/self/fd); one a library of the application"
                        " opened in its constructor would be missing after a restart", unknown);
}

int pml_launcher_fd(int fd)
{
    for (int i = 0; i < nlfd; i++)
        if (lfd[i] == fd)
            return 1;
    return 0;
}

/* The list the restarter handed over ("905,906"): these replace those of the old launcher. */
static void launcher_fds_from(const char *list)
{
    nlfd = 0;
    for (const char *p = list; p && *p && nlfd < LFD_MAX;) {
        int v = 0;
        while (*p >= '0' && *p <= '9')
            v = v * 10 + (*p++ - '0');
        lfd[nlfd++] = v;
        pml_fd_mark_by(v, PML_FD_BY_LAUNCHER, 1);
        launcher_listener_cloexec(v);
        while (*p && (*p < '0' || *p > '9'))
            p++;
    }
}

/* ---- which memory is the application's, for lower_reset.c (built once per checkpoint) ---- */
#define HALF_MAX 16384
static struct { uint64_t lo, hi; } upper_tab[HALF_MAX];
static int n_upper, upper_overflow;

static int add_region(const struct revive_maps_entry *m, void *arg)
{
    (void)arg;
    struct pml_half_span sp[32];
    int n = pml_halves_split(m->start, m->end, m->name, sp, 32);
    if (n > 32) { /* too finely cut: ask for each piece's half at the end of the region */
        upper_overflow = 1;
        n = 32;
    }
    for (int i = 0; i < n; i++) {
        if (sp[i].half != PML_HALF_UPPER)
            continue;
        if (n_upper && upper_tab[n_upper - 1].hi == sp[i].start) {
            upper_tab[n_upper - 1].hi = sp[i].end;
            continue;
        }
        if (n_upper == HALF_MAX) {
            upper_overflow = 1;
            return 1;
        }
        upper_tab[n_upper].lo = sp[i].start;
        upper_tab[n_upper].hi = sp[i].end;
        n_upper++;
    }
    return 0;
}

static int is_upper(uint64_t a)
{
    int lo = 0, hi = n_upper - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (a < upper_tab[mid].lo)
            hi = mid - 1;
        else if (a >= upper_tab[mid].hi)
            lo = mid + 1;
        else
            return 1;
    }
    return 0;
}

static int build_upper_table(void)
{
    n_upper = upper_overflow = 0;
    if (pml_maps_each(add_region, NULL) != 0 || upper_overflow)
        return -1;
    return 0;
}

/* ---- the hook ---------------------------------------------------------------------------------- */
static void drop_lower_entries(void);
static void retag_threads(void);
static int take_handoff(void);
static int restart_fault(enum revive_fault_point p);
static void hold_in_restore(void);
static const char *handoff_getenv(const char *name);

/* A child the rank forked once its lower half was loaded (a worker, a helper: taken along with
 * the rank by a tree capture, or checkpointed alone) inherited the capture filter, so its image
 * leaves the MPI library's memory out as the rank's does; but its ld.so still lists that memory.
 * The fork moved the stacks of the library's threads into glibc's stack cache (__reclaim_stacks),
 * and after a restart the first of the child's threads to end (pthread_join, a detached thread's
 * exit) linked its stack in front of a dead one there and died of SIGSEGV (list_add in
 * queue_stack, measured: gdb on the restored worker); a new thread looked for a stack there too.
 * So the child's checkpoint freezes ld.so's view as the rank's does, and its restart makes ld.so
 * forget the dead half (lower_reset.h), with nothing else of the rank's restart: the child has no
 * MPI to go back to. */
static volatile int forked_child;

static void after_fork_child(void)
{
    forked_child = 1;
    capturing = 0;
    frozen = 0;
    pml_ldso_forked();
    /* forked by an application thread while the agent was in the rank's capture, before the park:
     * the rank's after-park work is not the child's (diffrev29 H-L1) */
    on_parked = NULL;
    /* the MPI library's descriptors are not the child's: a worker that does not exec held the
     * library's listening sockets (FD_CLOEXEC helps at an exec only, 78cfbe1), their ports taken
     * as long as it lived, and a snapshot takes the child along in the rank's tree, where a
     * restore of them binds those ports again, which the fresh library of another rank may hold
     * (halves_internal.h) */
    pml_fd_lower_release();
}

/* The restart of such a child, from the hook while its other threads are still parked. */
static void forked_child_restarted(void)
{
    char err[512];
    pml_fd_lower_forget(); /* the dead library's descriptors: not in the image */
    if (pml_ldso_forget(err, sizeof err))
        revive_log_error("process %d, a child of an MPI rank, restarted: the dead MPI library cannot"
                         " be made harmless (%s); a thread that ends or starts may crash it",
                         (int)getpid(), err);
    drop_lower_entries();
    retag_threads();
}

static int hook(void *arg, enum crs_hook_event ev, int status)
{
    (void)arg;
    (void)status;
    char err[512];
    const char *who = forked_child ? "this child of an MPI rank" : "this rank";
    switch (ev) {
    case CRS_HOOK_CHECKPOINT:
        if (!capturing && !forked_child)
            return 0;
        if (!ldso_ok) {
            revive_log_error("no checkpoint of %s: it could not be restarted (%s)", who, ldso_err);
            return -ENOTSUP;
        }
        pml_fd_upper_prune();
        if (build_upper_table()) {
            revive_log_error("no checkpoint of %s: cannot list its memory by half", who);
            return -EIO;
        }
        if (revive_fault(REVIVE_FAULT_mpi_freeze_late)) {
            struct timespec late = { 0, 300 * 1000 * 1000 }; /* term_threads.sh */
            nanosleep(&late, NULL);
        }
        if (pml_ldso_freeze(err, sizeof err)) {
            revive_log_error("no checkpoint of %s: %s", who, err);
            return -ENOTSUP;
        }
        frozen = 1;
        pml_halves_capturing(1);
        return 0;
    case CRS_HOOK_CONTINUE:
        if (frozen)
            pml_ldso_thaw();
        frozen = 0;
        pml_halves_capturing(0);
        if (status == 0 && on_parked && !forked_child)
            on_parked();
        return 0;
    case CRS_HOOK_RESTART:
        if (!frozen)
            return 0; /* an image not taken by pml_restart_capture */
        frozen = 0;
        pml_halves_capturing(0);
        if (forked_child) {
            forked_child_restarted();
            return 0;
        }
        pending = 1;
        hook_failed = 0;
        generation++;
        pml_fd_lower_forget(); /* the dead library's and launcher's: not in the image */
        if (take_handoff())
            hook_failed = 1;
        else if (restart_fault(REVIVE_FAULT_mpi_restore_hold))
            hold_in_restore();
        pml_sig_captured(is_upper); /* before pml_ldso_forget sets the dead handlers' default */
        int e = pml_ldso_forget(err, sizeof err);
        if (e) {
            snprintf(hook_err, sizeof hook_err, "the dead MPI library cannot be made harmless: %s", err);
            hook_failed = 1;
        }
        drop_lower_entries();
        /* the rank's zombie children, before any application thread runs on and waits for one */
        hook_refused = 0;
        if (!hook_failed && pml_children_restore(hook_err, sizeof hook_err))
            hook_failed = hook_refused = 1; /* a pid taken or not ours to choose: not the image's fault */
        pml_fd_upper_renew();   /* before the fresh MPI library opens anything */
        retag_threads();
        pml_guard_lower_gone(is_upper);
        pml_sig_lower_gone();
        pml_lower_restoring(0);
        pml_lower_forget_kept();
        /* The agent did not take this image, so it does not know its descriptors are gone (their
         * numbers may be the fresh MPI library's soon): it would poll and read them. */
        if (self_capture && snapc_agent_forget_connection)
            snapc_agent_forget_connection();
        return 0;
    }
    return 0;
}

/* A fault point armed for a restart: named in REVIVE_FAULT of the new launcher's environment
 * (restart-mpi's). The rank's own environment and revive_fault()'s parsed state are its
 * image's, from the job that took the snapshot. */
static int restart_fault(enum revive_fault_point p)
{
    const char *v = handoff_getenv("REVIVE_FAULT"), *name = revive_fault_name(p);
    size_t n = strlen(name);
    while (v && *v) {
        const char *end = strchr(v, ',');
        size_t l = end ? (size_t)(end - v) : strlen(v);
        if (l == n && !memcmp(v, name, n))
            return 1;
        v = end ? end + 1 : NULL;
    }
    return 0;
}

int pml_restart_fault(enum revive_fault_point p)
{
    return restart_fault(p);
}

/* mpi-restore-hold: held where a ^C cannot reach the rank. Here, in the restart hook, every
 * thread of the restored rank holds every signal blocked (crs_restore_signals blocked them
 * before the image's dispositions went in; the parked threads wait in the park handler, whose
 * mask is full; libcr's checkpoint thread gets its own mask back after the hooks), so a signal
 * stays pending until the hold ends: only SIGKILL ends the rank meanwhile. No malloc (another
 * thread may hold its lock). */
static void hold_in_restore(void)
{
    revive_log_warn("rank %d holds in its restore, every signal blocked (fault point "
                    "mpi-restore-hold)", handoff_rank);
    for (int i = 0; i < 6000; i++) {
        struct timespec t = { 0, 100 * 1000 * 1000 };
        nanosleep(&t, NULL);
    }
}

/* The hand-off blob lives in the restarter's leftovers, unmapped after the hooks: copied into
 * memory of ours, with the environment array the fresh lower half's libc will use as its
 * environ (for as long as that lower half lives). No malloc here (a parked thread may hold its
 * lock): mmap through the layer (the halves registry counts it as the application's). */
static int take_handoff(void)
{
    const void *p = NULL;
    size_t len = 0;
    if (crs_restart_handoff(&p, &len) != 0 || !len) {
        snprintf(hook_err, sizeof hook_err, "the rank was restarted without the new launcher's"
                 " environment (restart it with restart-mpi, which runs revive-restart-rank)");
        return -1;
    }
    struct pml_handoff h;
    if (pml_handoff_parse(p, len, &h) != 0) {
        snprintf(hook_err, sizeof hook_err, "the restarter's hand-off is damaged");
        return -1;
    }
    if (handoff_mem)
        munmap(handoff_mem, handoff_size);
    size_t need = len + (h.nenv + 1) * sizeof(char *) + 16;
    handoff_size = (need + 4095) & ~(size_t)4095;
    handoff_mem = mmap(NULL, handoff_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (handoff_mem == MAP_FAILED) {
        handoff_mem = NULL;
        snprintf(hook_err, sizeof hook_err, "no memory for the hand-off");
        return -1;
    }
    handoff_env = (char **)(void *)handoff_mem;
    char *strings = handoff_mem + (h.nenv + 1) * sizeof(char *);
    memcpy(strings, p, len);
    const char *s = strings + (h.env_first - (const char *)p);
    for (size_t i = 0; i < h.nenv; i++) {
        handoff_env[i] = (char *)s;
        s += strlen(s) + 1;
    }
    handoff_env[h.nenv] = NULL;
    handoff_rank = h.rank;
    handoff_size_ranks = h.size;
    size_t fl = strlen(PML_HANDOFF_FDS_VAR);
    nlfd = 0;
    for (size_t i = 0; i < h.nenv; i++)
        if (!strncmp(handoff_env[i], PML_HANDOFF_FDS_VAR, fl) && handoff_env[i][fl] == '=')
            launcher_fds_from(handoff_env[i] + fl + 1);
    if (snapc_agent_set_restart_env)
        snapc_agent_set_restart_env(handoff_env);
    return 0;
}

/* The halves registry's lower entries name memory that is gone (and that the application may
 * map next): dropped, so the next checkpoint does not leave out the application's memory. The
 * dead half's objects are forgotten too: the fresh half's first walk gave up their extents as
 * objects it had closed, and so the application's entries there, lower_reset.c's reservations
 * of them, which the fresh library's snapshot then took for its own: the next image left them
 * out, and a stale pointer into the first dead half no longer faulted after a second restart. */
#define DROP_MAX 8192
static struct { uint64_t lo, hi; } drop[DROP_MAX];
static int ndrop;

static void collect_lower(void *arg, uint64_t lo, uint64_t hi, int half, int why)
{
    (void)arg;
    (void)why;
    if (half == PML_HALF_LOWER && ndrop < DROP_MAX) {
        drop[ndrop].lo = lo;
        drop[ndrop].hi = hi;
        ndrop++;
    }
}

static void drop_lower_entries(void)
{
    ndrop = 0;
    pml_reg_walk(0, UINT64_MAX, collect_lower, NULL);
    for (int i = 0; i < ndrop; i++)
        pml_reg_del(drop[i].lo, drop[i].hi);
    pml_halves_lower_gone();
}

static int launcher_fd_exclude(void *arg, int fd)
{
    (void)arg;
    return pml_launcher_fd(fd);
}

/* The halves registry knows the application's threads by their ids, which crs changed: each
 * one's half goes to its new id (else the next checkpoint would leave those threads out). */
#define RETAG_MAX 4096
static int retag_old[RETAG_MAX], retag_new[RETAG_MAX];

static int nretag;

int pml_restart_new_tid(int old_tid)
{
    for (int i = 0; i < nretag; i++)
        if (retag_old[i] == old_tid)
            return retag_new[i];
    return old_tid == saved_pid ? (int)getpid() : 0;
}

static void retag_threads(void)
{
    int n = pml_ldso_thread_ids(retag_old, retag_new, RETAG_MAX);
    if (n > RETAG_MAX)
        n = RETAG_MAX;
    nretag = n;
    static int half[RETAG_MAX];
    for (int i = 0; i < n; i++) {
        half[i] = pml_thr_half(retag_old[i]);
        pml_thr_set(retag_old[i], 0);
    }
    for (int i = 0; i < n; i++)
        if (half[i] > 0)
            pml_thr_set(retag_new[i], half[i]);
}

/* libcr's park waits for a thread that blocks every signal (crs_hooks_set_blocked). The freeze
 * holds ld.so's thread-stack lock from before the park, and glibc ends a detached thread with
 * every signal blocked and then takes that lock to free its stack: POSIX AIO helpers (which
 * MPI-IO starts; an idle one ends 1 s after its last request, whenever that falls), SIGEV_THREAD
 * timer threads, the application's detached threads. Such a thread could neither end nor be
 * parked, and the park gave up after its 30 s: "thread N blocks every signal" (ck_io-ompi, once
 * in 132 runs of session 15; every time with an AIO helper left idle by a file closed just
 * before the snapshot, tests/mpi/ckpt/term_exiting.sh). One that waits for the lock is let
 * through: the lock is let go until that thread has ended (at most 1 s each time; the park asks
 * again every 100 ms within its timeout), then taken again, and the lists the image will hold
 * recorded again. A thread not yet parked could take the lock in between and be parked holding
 * it: then the freeze fails after 2 s with its message, and so does this checkpoint. */
static int let_exiting_through(pid_t proc_tid, char *err, size_t errlen)
{
    if (!frozen || !pml_ldso_stacks_waiter(proc_tid))
        return 0;
    pml_ldso_thaw();
    frozen = 0;
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d", (int)proc_tid);
    for (int i = 0; i < 1000 && access(path, F_OK) == 0; i++) {
        struct timespec ms = { 0, 1000 * 1000 };
        syscall(SYS_nanosleep, &ms, NULL);
    }
    char why[400];
    if (pml_ldso_freeze(why, sizeof why)) {
        snprintf(err, errlen, "after letting an ending thread (%d) free its stack: %s",
                 (int)proc_tid, why);
        return -EBUSY;
    }
    frozen = 1;
    return 1;
}

void pml_restart_setup(void)
{
    int e = pml_ldso_learn(pml_lower_handle, pml_lower_lmid, is_upper, ldso_err, sizeof ldso_err);
    ldso_ok = e == 0;
    if (e)
        revive_log_warn("this rank can be checkpointed but not restarted: %s", ldso_err);
    else
        pml_halves_guards_with(pml_ldso_guards_readable);
    if (!hook_registered) {
        struct crs_hook h = { "mpi", hook, NULL };
        /* the launcher's descriptors (Hydra leaves pipes and sockets of its proxy open in each
         * rank) are no more the application's than the MPI library's */
        struct crs_capture_filter f = { .owner = "mpi-launcher", .fd_exclude = launcher_fd_exclude };
        if (crs_hook_register(&h) == 0 && crs_capture_filter_register(&f) == 0) {
            crs_hooks_set_blocked(let_exiting_through);
            hook_registered = 1;
        }
        else
            revive_log_warn("cannot register the MPI layer's checkpoint hook with libcr");
    }
    /* on its own: a failure here (ENOMEM) is no failed hook (diffrev29 H-L2) */
    pml_restart_fork_handler();
}

void pml_restart_fork_handler(void)
{
    if (atfork_registered)
        return;
    int e2 = pthread_atfork(NULL, NULL, after_fork_child);
    if (e2 == 0)
        atfork_registered = 1;
    else
        revive_log_warn("the children this rank forks will not know they are no rank (pthread_atfork: %s): "
                        "the checkpoint of such a child may be refused, or its restart fail",
                        strerror(e2));
}

int pml_restart_generation(void)
{
    return generation;
}

/* ---- what the restart checks, saved at the checkpoint ----------------------------------------- */
struct saved_comm {
    uintptr_t v;
    int size, rank, inter, rsize;
    int *wmap;               /* world ranks of the group, then of the remote group */
    int *topo, ntopo;        /* its topology and neighbour lists (topo.h) */
};
struct saved_type {
    uintptr_t v;
    MPI_Count size, lb, extent;
};
struct saved_attr {
    uintptr_t obj;           /* virtual communicator, datatype or window */
    int kv;                  /* virtual keyval */
    int okind;               /* PML_COMM, PML_TYPE, PML_WIN */
    int lang;                /* the keyval's (struct pml_kvinfo): from Fortran, val is the value */
    void *val;
};
static struct saved_comm *scomm;
static struct saved_type *stype;
static struct saved_attr *sattr;
static int nscomm, nstype, nsattr, cap_attr;
static int saved_world_rank = -1, saved_world_size = -1;

static void saved_free(void)
{
    for (int i = 0; i < nscomm; i++) {
        free(scomm[i].wmap);
        free(scomm[i].topo);
    }
    free(scomm);
    free(stype);
    free(sattr);
    scomm = NULL;
    stype = NULL;
    sattr = NULL;
    nscomm = nstype = nsattr = cap_attr = 0;
}

static const char *made_by(uintptr_t v)
{
    struct pml_vh *h = pml_vh_of(v);
    int fid, live;
    const unsigned char *b;
    size_t len;
    if (h && h->rec >= 0 && pml_rec_entry(h->rec, &fid, &live, &b, &len) == 0)
        return pml_fn_names[fid];
    return "no recorded call";
}

/* The world ranks of the members of a communicator's group (and remote group). */
static int world_map(MPI_Comm c, int inter, int size, int rsize, int **out)
{
    MPI_Group wg, g;
    int n = size + (inter ? rsize : 0);
    int *map = calloc(n > 0 ? (size_t)n : 1, sizeof *map), *idx = calloc(n > 0 ? (size_t)n : 1, sizeof *idx);
    if (!map || !idx) {
        free(map);
        free(idx);
        return -ENOMEM;
    }
    for (int i = 0; i < n; i++)
        idx[i] = i < size ? i : i - size;
    pml_L.MPI_Comm_group((MPI_Comm)pml_lower_world(), &wg);
    pml_L.MPI_Comm_group(c, &g);
    pml_L.MPI_Group_translate_ranks(g, size, idx, wg, map);
    pml_L.MPI_Group_free(&g);
    if (inter) {
        pml_L.MPI_Comm_remote_group(c, &g);
        pml_L.MPI_Group_translate_ranks(g, rsize, idx + size, wg, map + size);
        pml_L.MPI_Group_free(&g);
    }
    pml_L.MPI_Group_free(&wg);
    free(idx);
    *out = map;
    return 0;
}

static int describe_comm(uintptr_t v, struct saved_comm *s)
{
    MPI_Comm c = (MPI_Comm)pml_v2r(v);
    memset(s, 0, sizeof *s);
    s->v = v;
    if (pml_L.MPI_Comm_test_inter(c, &s->inter) != MPI_SUCCESS ||
        pml_L.MPI_Comm_size(c, &s->size) != MPI_SUCCESS || pml_L.MPI_Comm_rank(c, &s->rank) != MPI_SUCCESS)
        return -EINVAL;
    if (s->inter)
        pml_L.MPI_Comm_remote_size(c, &s->rsize);
    else if (pml_topo_describe(PML_H(c), &s->topo, &s->ntopo))
        return -EIO;
    int rc = world_map(c, s->inter, s->size, s->rsize, &s->wmap);
    if (rc) {
        free(s->topo);
        s->topo = NULL;
    }
    return rc;
}

static void save_attr(uintptr_t obj, int vkv, int okind)
{
    int real_kv = pml_kv_v2r(vkv), flag = 0;
    void *val = NULL;
    if (okind == PML_TYPE)
        pml_L.MPI_Type_get_attr((MPI_Datatype)pml_v2r(obj), real_kv, &val, &flag);
    else if (okind == PML_WIN)
        pml_L.MPI_Win_get_attr((MPI_Win)pml_v2r(obj), real_kv, &val, &flag);
    else
        pml_L.MPI_Comm_get_attr((MPI_Comm)pml_v2r(obj), real_kv, &val, &flag);
    if (!flag)
        return;
    /* A keyval made from Fortran holds Fortran values, which C reads as the address of the
     * value, inside the library that dies with the restart: the value is kept, and set again as
     * Fortran set it (restore_attrs); as a C attribute it read back as that address. */
    struct pml_kvinfo *ki = pml_vh_tab[(uint32_t)vkv & 0x3ffffff].info;
    int lang = ki ? ki->lang : PML_KV_C;
    if (lang == PML_KV_FAINT)
        val = (void *)(intptr_t)*(MPI_Aint *)val;
    else if (lang == PML_KV_FINT)
        val = (void *)(intptr_t)*(MPI_Fint *)val;
    if (nsattr == cap_attr) {
        cap_attr = cap_attr ? cap_attr * 2 : 64;
        struct saved_attr *a = realloc(sattr, (size_t)cap_attr * sizeof *a);
        if (!a)
            pml_fatal("out of memory saving attributes");
        sattr = a;
    }
    sattr[nsattr++] = (struct saved_attr){ obj, vkv, okind, lang, val };
}

/* The application's handle of a predefined communicator. Open MPI's is the address of the
 * application's copy of the object, looked up by name (see replay.c: no reference from the layer
 * to libmpi's data). */
#ifdef PML_OMPI
#define app_comm(name, mpich) ((uintptr_t)revive_dlsym(RTLD_DEFAULT, name))
#else
#define app_comm(name, mpich) (mpich)
#endif

/* Before the image: every live communicator and datatype, and every attribute value. */
static int save_state(char *err, size_t errlen)
{
    saved_free();
    uint32_t n = pml_vh_used;
    scomm = calloc(n + 2, sizeof *scomm);
    stype = calloc(n + 1, sizeof *stype);
    if (!scomm || !stype) {
        snprintf(err, errlen, "out of memory saving the MPI state");
        return -ENOMEM;
    }
    saved_pid = getpid();
    pml_wtime_checkpoint();
    pml_L.MPI_Comm_rank((MPI_Comm)pml_lower_world(), &saved_world_rank);
    pml_L.MPI_Comm_size((MPI_Comm)pml_lower_world(), &saved_world_size);
    for (uint32_t i = 1; i < n; i++) {
        struct pml_vh *h = &pml_vh_tab[i];
        uintptr_t v = pml_vh_handle(i);
        if (h->kind == PML_COMM) {
            /* one the program freed that only pending receives hold: MPICH 4.0 keeps no
             * reference for them, and its handle may name a communicator made since (its size
             * read 1 for a duplicate of 2 ranks' MPI_COMM_WORLD): nothing to ask the library,
             * nothing of the program's to check (the replay makes it for the receives) */
            const struct pml_comm *gc = h->info;
            if (gc && (gc->flags & PML_COMM_GONE) && !pml_comm_probed(gc))
                continue;
            if (describe_comm(v, &scomm[nscomm])) {
                snprintf(err, errlen, "cannot describe communicator %#lx (made by %s)",
                         (unsigned long)v, made_by(v));
                return -EIO;
            }
            nscomm++;
        } else if (h->kind == PML_TYPE) {
            struct saved_type *t = &stype[nstype++];
            MPI_Datatype r = (MPI_Datatype)h->real;
            t->v = v;
            pml_L.MPI_Type_size_x(r, &t->size);
            pml_L.MPI_Type_get_extent_x(r, &t->lb, &t->extent);
        }
    }
    /* attributes: on every live communicator and datatype and on the predefined ones */
    for (uint32_t k = 1; k < n; k++) {
        struct pml_vh *kh = &pml_vh_tab[k];
        if (kh->kind != PML_KEYVAL)
            continue;
        int vkv = (int)(PML_KV_TAG | k), fid, live;
        const unsigned char *b;
        size_t len;
        int okind = kh->rec >= 0 && pml_rec_entry(kh->rec, &fid, &live, &b, &len) == 0
                        ? pml_keyval_kind(fid) : PML_COMM;
        if (okind == PML_TYPE) {
            for (int i = 0; i < nstype; i++)
                save_attr(stype[i].v, vkv, PML_TYPE);
        } else if (okind == PML_WIN) {
            for (struct pml_win *w = pml_wins; w; w = w->next)
                save_attr(w->v, vkv, PML_WIN);
        } else {
            for (int i = 0; i < nscomm; i++)
                save_attr(scomm[i].v, vkv, PML_COMM);
            save_attr(app_comm("ompi_mpi_comm_world", PML_H(MPI_COMM_WORLD)), vkv, PML_COMM);
            save_attr(app_comm("ompi_mpi_comm_self", PML_H(MPI_COMM_SELF)), vkv, PML_COMM);
        }
    }
    return 0;
}

int pml_restart_saved_rank(uintptr_t vcomm)
{
    for (int i = 0; i < nscomm; i++)
        if (scomm[i].v == vcomm)
            return scomm[i].rank;
    return -1;
}

/* ---- after the replay: the checks ---------------------------------------------------------------- */
static int verify(char *err, size_t errlen)
{
    int wr = -1, ws = -1;
    pml_L.MPI_Comm_rank((MPI_Comm)pml_lower_world(), &wr);
    pml_L.MPI_Comm_size((MPI_Comm)pml_lower_world(), &ws);
    if (wr != saved_world_rank || ws != saved_world_size) {
        snprintf(err, errlen, "MPI_COMM_WORLD is rank %d of %d now, rank %d of %d at the checkpoint",
                 wr, ws, saved_world_rank, saved_world_size);
        return -EINVAL;
    }
    for (int i = 0; i < nscomm; i++) {
        struct saved_comm now, *s = &scomm[i];
        if (!pml_v2r(s->v) || describe_comm(s->v, &now)) {
            snprintf(err, errlen, "communicator %#lx (made by %s) did not come back", (unsigned long)s->v,
                     made_by(s->v));
            return -EINVAL;
        }
        const char *what = NULL;
        char lists[256] = "";
        if (now.inter != s->inter)
            what = "intercommunicator or not";
        else if (now.size != s->size || now.rsize != s->rsize)
            what = "size";
        else if (now.rank != s->rank)
            what = "rank";
        else if (memcmp(now.wmap, s->wmap, (size_t)(s->size + (s->inter ? s->rsize : 0)) * sizeof(int)))
            what = "members' world ranks";
        else
            what = pml_topo_diff(now.topo, now.ntopo, s->topo, s->ntopo, lists, sizeof lists);
        free(now.wmap);
        free(now.topo);
        if (what && lists[0]) {
            /* the neighbour lists: a neighbourhood collective would fill other slots */
            snprintf(err, errlen, "communicator %#lx (made by %s) differs from the checkpoint in its %s"
                     " (%s)", (unsigned long)s->v, made_by(s->v), what, lists);
            return -EINVAL;
        }
        if (what) {
            snprintf(err, errlen, "communicator %#lx (made by %s) differs from the checkpoint in its %s"
                     " (size %d rank %d now, size %d rank %d then)", (unsigned long)s->v, made_by(s->v),
                     what, now.size, now.rank, s->size, s->rank);
            return -EINVAL;
        }
    }
    for (int i = 0; i < nstype; i++) {
        struct saved_type *t = &stype[i];
        MPI_Count sz = -1, lb = -1, ex = -1;
        MPI_Datatype r = (MPI_Datatype)pml_v2r(t->v);
        if (!r || pml_L.MPI_Type_size_x(r, &sz) != MPI_SUCCESS ||
            pml_L.MPI_Type_get_extent_x(r, &lb, &ex) != MPI_SUCCESS) {
            snprintf(err, errlen, "datatype %#lx (made by %s) did not come back", (unsigned long)t->v,
                     made_by(t->v));
            return -EINVAL;
        }
        if (sz != t->size || lb != t->lb || ex != t->extent) {
            snprintf(err, errlen, "datatype %#lx (made by %s) has size %lld, lb %lld, extent %lld;"
                     " at the checkpoint %lld, %lld, %lld", (unsigned long)t->v, made_by(t->v),
                     (long long)sz, (long long)lb, (long long)ex, (long long)t->size, (long long)t->lb,
                     (long long)t->extent);
            return -EINVAL;
        }
    }
    /* every other live handle has its new object */
    for (uint32_t i = 1; i < pml_vh_used; i++) {
        struct pml_vh *h = &pml_vh_tab[i];
        /* files and windows come back after these checks (objs_restart.c) */
        if (h->kind && h->kind != PML_REQ && h->kind != PML_MSG && h->kind != PML_FILE &&
            h->kind != PML_WIN && !h->real) {
            static const char *const kinds[PML_NKINDS] = {
                [PML_COMM] = "communicator", [PML_GROUP] = "group", [PML_TYPE] = "datatype",
                [PML_OP] = "operation", [PML_ERRH] = "error handler", [PML_INFO] = "info object",
                [PML_WIN] = "window", [PML_FILE] = "file", [PML_KEYVAL] = "keyval" };
            const char *name = "no recorded call";
            int fid, live;
            const unsigned char *b;
            size_t len;
            if (h->rec >= 0 && pml_rec_entry(h->rec, &fid, &live, &b, &len) == 0)
                name = pml_fn_names[fid];
            snprintf(err, errlen, "%s #%u (made by %s) did not come back",
                     h->kind < PML_NKINDS && kinds[h->kind] ? kinds[h->kind] : "handle", i, name);
            return -EINVAL;
        }
    }
    return 0;
}

/* The saved attributes, set again without running the program's callbacks. */
static int restore_attrs(char *err, size_t errlen)
{
    int quiet = pml_attr_quiet_begin();
    int rc = MPI_SUCCESS;
    for (int i = 0; i < nsattr && rc == MPI_SUCCESS; i++) {
        struct saved_attr *a = &sattr[i];
        int kv = pml_kv_v2r(a->kv);
        if (a->lang != PML_KV_C)
            rc = pml_fattr_set(a->okind, pml_v2r(a->obj), kv, (MPI_Aint)(intptr_t)a->val, a->lang);
        else if (a->okind == PML_TYPE)
            rc = pml_L.MPI_Type_set_attr((MPI_Datatype)pml_v2r(a->obj), kv, a->val);
        else if (a->okind == PML_WIN)
            rc = pml_L.MPI_Win_set_attr((MPI_Win)pml_v2r(a->obj), kv, a->val);
        else
            rc = pml_L.MPI_Comm_set_attr((MPI_Comm)pml_v2r(a->obj), kv, a->val);
        if (rc != MPI_SUCCESS)
            snprintf(err, errlen, "cannot set attribute %d of %s %#lx again", a->kv,
                     a->okind == PML_TYPE ? "datatype" : a->okind == PML_WIN ? "window" : "communicator",
                     (unsigned long)a->obj);
    }
    pml_attr_quiet_end(quiet);
    return rc == MPI_SUCCESS ? 0 : -EIO;
}

/* A variable of the new launcher's environment (the application keeps its own). */
static const char *handoff_getenv(const char *name)
{
    size_t n = strlen(name);
    for (char **e = handoff_env; e && *e; e++)
        if (!strncmp(*e, name, n) && (*e)[n] == '=')
            return *e + n + 1;
    return NULL;
}

const char *pml_restart_getenv(const char *name)
{
    return handoff_getenv(name);
}

/* 0: the failing restart is the snapshot's (or nothing failed); 1: refused, said by this rank;
 * 2: refused, said by another rank */
static int refused;
/* 1 once the coordinator has this rank's message (restart_progress_file) */
static int progress_left;

int pml_restart_refusal_said_elsewhere(void)
{
    return refused == 2 || (refused && progress_left);
}

/* For restart-mpi's coordinator (src/snapc/coord_restart.c): REVIVE_RESTART_DIR/NAME.<rank>
 * with the message, so that a restart the environment refused does not mark the snapshot as
 * failed (refused.<r>, and stopped.<r> from the ranks that only followed another's refusal)
 * and one that failed marks it with this rank's reason (failed.<r>), not "ended before every
 * rank was back". Whole when it has its name (a temporary one first). */
static void restart_progress_file(const char *name, const char *msg)
{
    const char *dir = handoff_getenv("REVIVE_RESTART_DIR");
    if (!dir || !*dir)
        return;
    /* by the directory's descriptor: the names stay short however deep the job directory is
     * (a path near PATH_MAX left no room for "/failed.<r>") */
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return;
    char path[64], tmp[96], head[32];
    snprintf(path, sizeof path, "%s.%d", name, handoff_rank);
    snprintf(tmp, sizeof tmp, ".%s.%d.tmp", path, (int)getpid());
    int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        close(dfd);
        return;
    }
    /* the whole message up to what the coordinator takes (REVIVE_RESTART_TEXT_MAX, its read of
     * failed.<r>: a message naming paths up to PATH_MAX), "..." where cut (on a character
     * boundary); no line buffer on this thread's stack (a 1200-byte one cut it silently) */
    int hk = snprintf(head, sizeof head, "rank %d: ", handoff_rank);
    size_t room = REVIVE_RESTART_TEXT_MAX - sizeof head - 8;
    size_t ml = strnlen(msg, room), cut = msg[ml] != 0;
    while (cut && ml > 0 && ((unsigned char)msg[ml] & 0xC0) == 0x80)
        ml--; /* not inside a UTF-8 sequence */
    static char end_cut[] = "...\n", end_whole[] = "\n";
    struct iovec iov[3] = {{head, hk > 0 ? (size_t)hk : 0}, {(void *)(uintptr_t)msg, ml},
                           {cut ? end_cut : end_whole, cut ? 4 : 1}};
    ssize_t w = writev(fd, iov, 3);
    (void)w;
    close(fd);
    if (renameat(dfd, tmp, dfd, path) < 0)
        unlinkat(dfd, tmp, 0);
    else
        progress_left = 1;
    close(dfd);
}

void pml_restart_refused(int by_other, const char *msg)
{
    refused = by_other ? 2 : 1;
    restart_progress_file(by_other ? "stopped" : "refused", msg);
}

/* ---- the two calls ------------------------------------------------------------------------------- */
int pml_restart_prepare(char *err, size_t errlen)
{
    int e = save_state(err, errlen);
    if (!e)
        capturing = 1;
    return e;
}

int pml_restart_done(int restarted, char *err, size_t errlen)
{
    /* A failed try of pml_restart_capture is tried again (pml_capture's retries): self_capture
     * must still be set in the image a later try takes, or that image's restart hook leaves the
     * agent reading descriptor numbers the fresh MPI library reuses. pml_restart_capture clears
     * it once its capture is over. */
    capturing = 0;
    if (restarted)
        self_capture = 0;
    int e = restarted ? pml_restart_complete(err, errlen) : 0;
    if (e && !refused)
        restart_progress_file("failed", err);
    pml_win_drop_copies(); /* in the image, or back in the windows */
    return e;
}

/* The capture of pml_restart_capture, in a thread of its own: libcr's restart brings its image
 * back under a main thread that is not the one that took it (restart.c of crs: "no main thread
 * record" otherwise), as for the agent's. */
struct self_job {
    const char *path;
    char *err;
    size_t errlen;
    int rc;
    volatile int done;
};

static void *self_capture_main(void *arg)
{
    struct self_job *j = arg;
    j->rc = pml_capture_self(j->path, j->err, j->errlen);
    __atomic_store_n(&j->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

int pml_restart_capture(const char *path, char *err, size_t errlen)
{
    /* open MPI files and windows complete and recorded (objs_ckpt.c; every rank calls this at
     * the same point of the program, as the agents' drain does at a global snapshot) */
    int e = pml_objs_settle(err, errlen);
    if (e)
        return e;
    /* Another thread takes the image as the agent's capture does (capture.c: the windows' parts
     * copied with every thread parked; written under a temporary name, flushed and renamed; in
     * the restarted rank the fresh MPI_Init before the program's seccomp filters go in, this
     * thread held until then). It was libcr's request path, whose restart put the filters in
     * first (diffrev19 LOW-D: tests/mpi/ckpt/rst_lockdown.sh). This thread waits by polling a
     * flag: nothing of a wait (a join, a futex) has to survive the restart. */
    self_capture = 1;
    /* j on this stack outlives the thread's use of it: this function returns only once the
     * thread stored done, its last touch of j; in the restarted process both stacks come back
     * from the image, the loop below still waiting for that store. */
    struct self_job j = { path, err, errlen, 0, 0 };
    pthread_t t;
    int pe = pthread_create(&t, NULL, self_capture_main, &j);
    if (pe) {
        capturing = self_capture = 0;
        snprintf(err, errlen, "rank %d cannot start the thread that takes its image (it checkpoints itself from "
                 "a thread of its own): %s; %s", pml_world_rank, strerror(pe), pml_thread_start_advice(pe));
        return -pe;
    }
    pthread_detach(t);
    while (!__atomic_load_n(&j.done, __ATOMIC_ACQUIRE)) {
        struct timespec d = { 0, 1000 * 1000 };
        nanosleep(&d, NULL);
    }
    capturing = self_capture = 0;
    return j.rc;
}

/* pml_restart_complete's part after the fresh MPI is loaded: the handle record replayed, every
 * communicator and datatype checked, the layer's communicators, files and attributes made again,
 * then a barrier of every rank. T2: the replay's end, T3: the checks' end (ms). */
static int rebuild(struct pml_replay_stats *rs, double *t2, double *t3, char *err, size_t errlen)
{
    pml_wtime_restarted();
    int e = pml_ldso_learn(pml_lower_handle, pml_lower_lmid, is_upper, ldso_err, sizeof ldso_err);
    ldso_ok = e == 0;
    if (e)
        revive_log_warn("this rank can be checkpointed but not restarted again: %s", ldso_err);
    if ((e = pml_replay_run(rs, err, errlen)))
        return e;
    *t2 = revive_mono_ns() / 1e6;
    if ((e = verify(err, errlen)))
        return e;
    if ((e = pml_rank_restart(err, errlen)))
        return e;
    if ((e = pml_objs_restart(err, errlen))) /* files open again (objs_restart.c) */
        return e;
    /* Attributes last: the layer's private communicators (pml_rank_restart) are made without
     * them, as the program's copy callbacks never ran for them; the library's own duplicates (a
     * window's, a file's) got what they had when the replay (objs_restart) made them
     * (dup_attrs.c; docs/mpi.md). */
    if ((e = restore_attrs(err, errlen)))
        return e;
    /* the datatypes and communicators only views, persistent requests and pending receives
     * still use, once those are made again */
    pml_vh_free_layer_held();
    /* the program's references to a handle beyond the one the replay made (layer.h) */
    pml_vh_restart_refs();
    pml_lower_restored(); /* handles convert again (a failure above ends the rank) */
    *t3 = revive_mono_ns() / 1e6;
    if (pml_L.MPI_Barrier((MPI_Comm)pml_lower_world()) != MPI_SUCCESS) {
        snprintf(err, errlen, "the ranks of the restarted job cannot meet (barrier failed)");
        return -EIO;
    }
    pml_capture_restart_unhold(); /* every rank's window memory is back (capture.c) */
    return 0;
}

int pml_restart_complete(char *err, size_t errlen)
{
    if (!pending) {
        snprintf(err, errlen, "this process was not restarted from a rank image");
        return -EINVAL;
    }
    pending = 0;
    pml_lower_restoring((pid_t)syscall(SYS_gettid));
    if (hook_failed) {
        snprintf(err, errlen, "%s", hook_err);
        if (hook_refused)
            pml_restart_refused(0, hook_err);
        return -EINVAL;
    }
    double t0 = revive_mono_ns() / 1e6;
    if (handoff_rank != saved_world_rank || handoff_size_ranks != saved_world_size) {
        snprintf(err, errlen, "the launcher made this rank %d of %d; the image is rank %d of %d",
                 handoff_rank, handoff_size_ranks, saved_world_rank, saved_world_size);
        return -EINVAL;
    }
    pml_vh_restart_reset();
    pml_objs_restart_reserve(); /* shared windows' addresses kept free (win_ckpt.c) */
    /* the application's threads ran since the hook rebuilt ld.so's lists: a damaged list is one
     * message now, not a dlmopen that never returns (campaign-failures.md #33) */
    int e = pml_ldso_lists_sound(err, errlen);
    if (e)
        return e;
    e = pml_lower_reload(handoff_env, err, errlen);
    if (e)
        return e;
    double t1 = revive_mono_ns() / 1e6, t2 = t1, t3 = t1;
    struct pml_replay_stats rs;
    /* The replay, the checks, the layer's communicators and the barrier wait inside the fresh
     * library for the other ranks: with REVIVE_MPI_YIELD_WHEN_IDLE=1 their idle progress turns
     * yield and sleep (PML_LIB_WAIT), as the program's calls do. Unmarked, 8 MPICH ranks on 2
     * cores spun flat out in them: 200-370 ms of every restart (bench/mpi/README.md, "Restart"). */
    struct pml_slot *ws = pml_self; /* the program's thread's slot, restored with it */
    e = PML_LIB_WAIT(ws, rebuild(&rs, &t2, &t3, err, errlen));
    if (e)
        return e;
    double t4 = revive_mono_ns() / 1e6;
    pml_refs_scan(is_upper, handoff_getenv("REVIVE_DEAD_SCAN")); /* a diagnostic (docs/mpi.md) */
    struct pml_ldso_stats ls;
    pml_ldso_last_stats(&ls);
    revive_log_info("rank %d restarted (generation %d): fresh MPI in namespace %ld in %.1f ms; %u of"
                    " %u record entries replayed (+%u ancestors, %u restored otherwise) in %.1f ms;"
                    " %d communicators, %d datatypes, %d attributes checked in %.1f ms; barrier"
                    " %.1f ms; ld.so forgot %u objects (%u unwinder entries), %u TLS modules, %llu"
                    " bytes of static TLS", saved_world_rank, generation, pml_lower_lmid, t1 - t0,
                    rs.replayed, rs.entries, rs.ancestors, rs.skipped, t2 - t1, nscomm, nstype, nsattr,
                    t3 - t2, t4 - t3, ls.objects, ls.unwind_closed, ls.tls_modules,
                    (unsigned long long)ls.static_tls_freed);
    const char *rep = handoff_getenv("REVIVE_RESTART_REPORT");
    const char *rdir = handoff_getenv("REVIVE_RESTART_DIR");
    if (rep && *rep) {
        /* in the snapshot directory: private like every file Revive writes (0600), whatever
         * the application's umask; by the restart directory's descriptor where there is one,
         * as restart_progress_file (a directory near PATH_MAX leaves no room for "/restored") */
        int dfd = rdir && *rdir ? open(rdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
        int fd = dfd >= 0 ? openat(dfd, "restored", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600)
                          : open(rep, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (dfd >= 0)
            close(dfd);
        FILE *f = fd >= 0 ? fdopen(fd, "a") : NULL;
        if (!f && fd >= 0)
            close(fd);
        if (f) {
            fprintf(f, "rank %d generation %d namespace %ld replayed %u/%u ancestors %u comms %d"
                    " types %d attrs %d reload_ms %.1f replay_ms %.1f check_ms %.1f barrier_ms %.1f"
                    " unwind_closed %u\n",
                    saved_world_rank, generation, pml_lower_lmid, rs.replayed, rs.entries, rs.ancestors,
                    nscomm, nstype, nsattr, t1 - t0, t2 - t1, t3 - t2, t4 - t3, ls.unwind_closed);
            fclose(f);
        }
    }
    return 0;
}
