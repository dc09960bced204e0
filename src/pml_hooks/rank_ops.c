/* The rank's side of a global snapshot as the agent sees it (struct snapc_rank_ops): begin,
 * seqs, targets, state, quiesce (the gate), drain, capture, resume, abort; starting the agent
 * at MPI_Init; and revive_mpix_checkpoint for libmpix_ckpt. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "mpi"
#include "common/libc_dlsym.h"
#include "pml_hooks/ckpt.h"
#include "pml_hooks/objs.h" /* pml_objs_settle */
#include "pml_hooks/agent_fns.h"
#include "pml_hooks/replay.h" /* pml_replay_compact */
#include "pml_hooks/restart.h" /* pml_attr_quiet_begin */
#include "snapc/agent.h"       /* snapc_agent_epoch */
#include "common/clock.h"
#include "common/fault.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int pml_agent_running;
static int app_level = MPI_THREAD_SINGLE, lower_level = MPI_THREAD_SINGLE;
static int finalized;
static struct pml_agent_fns agent = {
    snapc_agent_start, snapc_agent_notify, snapc_agent_raise, snapc_agent_request,
    snapc_agent_wait_epoch, snapc_agent_finalize_wait,
};

void pml_agent_notify(void)
{
    if (pml_agent_running)
        agent.notify();
}

int pml_agent_raise(uint64_t cid, uint64_t target)
{
    return pml_agent_running ? agent.raise(cid, target) : -ENOTCONN;
}

static void mark_agent(void)
{
    pml_slot()->agent = 1;
}

static int op_begin(void *arg)
{
    (void)arg;
    mark_agent();
    if (pml_finalizing || finalized)
        return -ESHUTDOWN;
    pml_clock_begin();
    return pml_membarrier();
}

/* a window no restart could bring back: no snapshot (win_ckpt.c) */
static int op_refuse(void *arg, char *buf, size_t len)
{
    (void)arg;
    return pml_stopping_refusal(buf, len) || pml_win_refusal(buf, len);
}

static int op_seqs(void *arg, struct snapc_seq *out, int max)
{
    (void)arg;
    int n = pml_clock_seqs(out, max);
    return n > max ? -ENOSPC : n; /* the agent asks again with room for more */
}

static void op_targets(void *arg, const struct snapc_seq *t, int n, uint32_t version)
{
    (void)arg;
    pml_clock_set_targets(t, n, version);
}

/* ", blocked opening PATH ..." for thread TID (outside.c), read at most once a second for the
 * same thread: the agent reports its state many times while a checkpoint waits (diffrev35) */
static void open_what_of(pid_t tid, char *buf, size_t n)
{
    static pid_t tid_then;
    static int64_t then;
    static char said[320];
    int64_t now = revive_mono_ns();
    if (tid != tid_then || now - then >= 1000000000) {
        pml_inside_open_what(tid, said, sizeof said);
        tid_then = tid;
        then = now;
    }
    snprintf(buf, n, "%s", said);
}

/* Where the rank is, for "no checkpoint: rank R <what>"; what its thread waits for inside the
 * call only while the rank holds others up (not at its targets). */
static void what_of(char *buf, size_t n, int *in_cs, int at_target)
{
    const char *best = NULL;
    int rank_of_best = 0; /* 4 in a collective, 3 parked at one, 2 in a wait loop, 1 inside */
    pid_t tid_of_best = 0;
    struct pml_comm *c = NULL;
    uint64_t seq = 0;
    *in_cs = 0;
    for (int i = 0; i < PML_MAX_SLOTS; i++) {
        struct pml_slot *t = &pml_slots[i];
        if (!t->used || t->agent)
            continue;
        uint32_t w = __atomic_load_n(&t->w, __ATOMIC_ACQUIRE);
        int r = (w & PML_T_CS) ? 4 : (w & PML_T_PARK) && t->cs ? 3 : (w & PML_T_WAIT) ? 2
                                                                   : (w & (PML_T_IN | PML_T_PARK)) ? 1 : 0;
        if (w & PML_T_CS)
            *in_cs = 1;
        if (r > rank_of_best) {
            rank_of_best = r;
            tid_of_best = t->tid;
            best = pml_fn_name(PML_T_FID(w));
            c = t->cs;
            /* the fast path of a collective entry sets cs but not cs_seq (one store less): the
             * collective it is in is the communicator's count */
            seq = r == 4 && c ? c->seq : t->cs_seq;
        }
    }
    if (pml_finalizing)
        snprintf(buf, n, "is in MPI_Finalize");
    else if (rank_of_best >= 3 && c)
        snprintf(buf, n, "%s %s on comm %llu (collective %llu)",
                 rank_of_best == 4 ? "waits in" : "is parked at the entry of", best,
                 (unsigned long long)c->cid, (unsigned long long)seq);
    else if (rank_of_best >= 1) {
        /* the library's own wait inside the call, when it is an open (MPI_File_open of a FIFO) */
        char open_what[320] = "";
        if (!at_target)
            open_what_of(tid_of_best, open_what, sizeof open_what);
        int k = snprintf(buf, n, "%s %s", rank_of_best == 2 ? "waits in" : "is in", best);
        if (k > 0 && (size_t)k < n) /* as much of the path as fits */
            for (size_t i = 0; open_what[i] && (size_t)k + i + 1 < n; i++)
                buf[k + i] = open_what[i], buf[k + i + 1] = 0;
    }
    else
        pml_outside_what(buf, n);
}

static void op_state(void *arg, struct snapc_rank_state *st)
{
    (void)arg;
    int in_cs;
    memset(st, 0, sizeof *st);
    pthread_mutex_lock(&pml_ck_lock);
    st->at_target = (uint32_t)pml_all_reached();
    pthread_mutex_unlock(&pml_ck_lock);
    if (!st->at_target)
        pml_win_xwait_raise(); /* a wait for an exclusive lock, made known to the holders */
    what_of(st->what, sizeof st->what, &in_cs, (int)st->at_target);
    st->in_cs = (uint32_t)in_cs;
    st->finalizing = (uint32_t)(pml_finalizing || finalized);
}

static void sleep_us(long us)
{
    struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };
    nanosleep(&ts, NULL);
}

/* Close the gate and wait until no application thread is inside the layer: from then on the
 * agent owns the lower half. */
static int op_quiesce(void *arg, int timeout_ms)
{
    (void)arg;
    mark_agent();
    if (finalized)
        return -ESHUTDOWN;
    pthread_mutex_lock(&pml_ck_lock);
    __atomic_or_fetch(&pml_ck_flags, PML_CK_GATE, __ATOMIC_SEQ_CST);
    pthread_mutex_unlock(&pml_ck_lock);
    int e = pml_membarrier();
    if (e)
        return e;
    double end = revive_mono_ns() / 1e6 + (timeout_ms > 0 ? timeout_ms : 30000);
    for (;;) {
        int busy = 0;
        for (int i = 0; i < PML_MAX_SLOTS && !busy; i++) {
            struct pml_slot *t = &pml_slots[i];
            if (t->used && !t->agent && (__atomic_load_n(&t->w, __ATOMIC_ACQUIRE) & PML_T_IN))
                busy = 1;
        }
        if (!busy)
            return 0;
        if (revive_mono_ns() / 1e6 > end)
            return -ETIMEDOUT;
        if (pml_agent_running && snapc_agent_poll_abort())
            return -ECANCELED;
        sleep_us(50);
    }
}

/* Fault points of rank 0 in its drain, at epoch REVIVE_FAULT_EPOCH (default 1) only:
 * mpi-rank-compact while the other ranks are already in the compaction's exchange,
 * mpi-drain-late before the other ranks can have its message counts. */
static int rank0_fault(enum revive_fault_point p)
{
    if (pml_world_rank != 0 || !pml_agent_running)
        return 0;
    const char *fe = getenv("REVIVE_FAULT_EPOCH");
    uint32_t first = (uint32_t)(fe && atoi(fe) > 0 ? atoi(fe) : 1);
    return snapc_agent_epoch() == first && revive_fault(p);
}

static int op_drain(void *arg, struct snapc_drain_stats *st, char *err, size_t errlen)
{
    (void)arg;
    if (finalized) {
        snprintf(err, errlen, "MPI is finalized");
        return -ESHUTDOWN;
    }
    if (rank0_fault(REVIVE_FAULT_mpi_drain_late)) {
        struct timespec late = { 2, 0 }; /* the others wait in the drain (drain_idle.sh) */
        nanosleep(&late, NULL);
    }
    int e = pml_drain_run(st, err, errlen);
    if (!e) /* open MPI files and windows (objs_ckpt.c) */
        e = pml_objs_settle(err, errlen);
    if (!e && rank0_fault(REVIVE_FAULT_mpi_rank_compact)) {
        snprintf(err, errlen, "cannot compact the creation record (fault point mpi-rank-compact)");
        e = -EIO;
    }
    if (!e) { /* the creation record loses what no restart can need (replay.c) */
        int dropped = 0;
        e = pml_replay_compact(&dropped, err, errlen);
        if (!e && dropped)
            revive_log_debug("%d record entries dropped, %d kept", dropped, (int)pml_rec_count());
    }
    return e;
}

static int op_capture(void *arg, const char *image_path, struct snapc_capture_result *r)
{
    (void)arg;
    return pml_capture(image_path, r);
}

/* --term (SNAPC_RESUME_TERM): the agent ends the process after this, with status 0. The
 * launchers take that as a normal end only after MPI_Finalize (Hydra SIGKILLs the other ranks
 * of a job one of whose ranks exits without it, then prints BAD TERMINATION; Open MPI's mpirun
 * says the rank exited "improperly" and exits 1), so the lower half is finalized here, by the
 * agent thread, which owns it while the gate is closed (the application's threads stay
 * parked). What the application still holds in the lower half (pending receives, persistent
 * requests, windows, files) is given back first (term.c): MPICH over UCX asserted in
 * MPI_Finalize on a window's registered memory. */
static void term_finalize(void)
{
    /* Nothing of the program's runs past the capture (--term's promise): freeing its windows and
     * MPI_Finalize (which deletes the attributes of MPI_COMM_SELF and MPI_COMM_WORLD: HDF5, PETSc
     * and ADIOS close their files there) would call its attribute delete callbacks and its error
     * handlers; the restart runs them once, as natively (newuser7c F1). The agent thread does it
     * all, so the thread-local switch of the restart's replay covers it; never turned off: the
     * process ends after this. */
    (void)pml_attr_quiet_begin();
    pml_term_release();
    /* from the table, not dlsym: the application's threads are held, one may hold ld.so's lock
     * (parked inside dlopen or dlclose) */
    int (*fin)(void) = pml_L.MPI_Finalize;
    if (fin && !finalized) {
        pml_finalizing = 1;
        pml_term_finalize(fin);
        finalized = 1;
    }
}

static void op_resume(void *arg, int action)
{
    (void)arg;
    if (action == SNAPC_RESUME_TERM) {
        pml_children_reap();
        term_finalize();
        return; /* the agent ends the process; the application's threads stay parked */
    }
    /* SNAPC_RESUME_STOP: the agent stops the process after this, and lets the threads held
     * since the capture go once it runs again (op_unhold): let go here, a thread outside MPI ran
     * on past its image until the stop (files36: a state file a step ahead of the image). The
     * clock's end waits for the unhold too: it takes pml_ck_lock, which a held thread may hold
     * (diffrev37 R-L11); let go first, a thread meets the gate still closed and parks there. */
    if (action == SNAPC_RESUME_STOP)
        return;
    pml_capture_unhold();
    pml_objs_kept_free(); /* the image has them */
    pml_clock_prune();
    pml_clock_end();
}

static void op_unhold(void *arg)
{
    (void)arg;
    pml_capture_unhold();
    pml_objs_kept_free();
    pml_clock_prune();
    pml_clock_end();
}

static void op_abort(void *arg)
{
    (void)arg;
    pml_capture_unhold();
    pml_objs_kept_free();
    pml_clock_end();
}

/* The lower library's name and version, looked up once per lower half: describe also runs
 * after the capture of a --term epoch, while the application's threads are held, and dlsym and
 * dladdr take ld.so's lock, which a held thread may own (parked inside dlopen or dlclose: the
 * agent then waited for ever and the job never ended). */
static struct {
    void *handle;
    char ver[MPI_MAX_LIBRARY_VERSION_STRING];
    char lib[PATH_MAX];
} lower_id;

static void lower_id_fill(void)
{
    if (lower_id.handle == pml_lower_handle)
        return;
    lower_id.ver[0] = lower_id.lib[0] = 0;
    int vl = 0;
    int (*f)(char *, int *) = (int (*)(char *, int *))revive_dlsym(pml_lower_handle, "PMPI_Get_library_version");
    if (f)
        f(lower_id.ver, &vl);
    for (char *p = lower_id.ver; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    Dl_info di;
    void *sym = revive_dlsym(pml_lower_handle, "PMPI_Init");
    if (sym && dladdr(sym, &di) && di.dli_fname)
        snprintf(lower_id.lib, sizeof lower_id.lib, "%s", di.dli_fname);
    lower_id.handle = pml_lower_handle;
}

static int op_describe(void *arg, char *buf, size_t len)
{
    (void)arg;
    lower_id_fill();
    int n = snprintf(buf, len,
#ifdef PML_OMPI
                     "mpi_flavor ompi\n"
#else
                     "mpi_flavor mpich\n"
#endif
                     "mpi_library %s\nmpi_version %s\nthread_level %d\nthread_level_lower %d\n",
                     lower_id.lib, lower_id.ver, app_level, lower_level);
    return n < 0 ? -EINVAL : (size_t)n >= len ? (int)len - 1 : n;
}

static void op_stop_tree(void *arg, int cont)
{
    (void)arg;
    if (cont)
        pml_children_job_cont();
    else
        pml_children_job_stop();
}

/* A turn of the thread waiting in MPIX_Checkpoint (snapc_rank_ops.wait_turn): the library's
 * progress, as a collective's wait makes it natively, so that a peer's send that needs this
 * rank (a rendezvous whose receive was posted before the call, a started persistent send of
 * Open MPI) completes and the peer reaches the snapshot's cut; through the gate, so that it
 * parks while a snapshot owns the lower half. Then a yield, or a sleep growing to 1 ms
 * (pml_idle_turn). Not once MPI_Finalize began (the lower half is going). */
static void op_wait_turn(void *arg, uint32_t *turns)
{
    (void)arg;
    if (!pml_finalizing && !finalized) {
        PML_GATE_ENTER(PML_NFUNCS);
        pml_objs_progress(); /* on the private world: MPICH's probe on a self communicator
                              * made none (mpix_progress-mpich hung) */
        PML_GATE_LEAVE();
    }
    pml_idle_turn(turns);
}

static const struct snapc_rank_ops rank_ops = {
    .begin = op_begin,
    .seqs = op_seqs,
    .targets = op_targets,
    .state = op_state,
    .quiesce = op_quiesce,
    .drain = op_drain,
    .capture = op_capture,
    .resume = op_resume,
    .stop_tree = op_stop_tree,
    .unhold = op_unhold,
    .abort = op_abort,
    .arg = NULL,
    .describe = op_describe,
    .refuse = op_refuse,
    .wait_turn = op_wait_turn,
};

/* The levels: what the application asked for (and is told it got, when the lower half gives at
 * least that), and what the lower half runs at. The agent calls the lower half only while the
 * gate keeps every application thread out of it (a mutex and membarrier between them), so its
 * calls never overlap another thread's: MPICH runs at least SERIALIZED (measured: no cost);
 * Open MPI runs at the application's level, because above MPI_THREAD_SINGLE it takes a lock
 * around every message (measured natively, one rank: Irecv+Send+Wait 71 ns at SINGLE, 126 ns at
 * FUNNELED or SERIALIZED), and at SINGLE it does not care which thread calls. */
int pml_rank_init_level(int required)
{
    app_level = required;
#ifdef PML_OMPI
    return required;
#else
    return required > MPI_THREAD_SERIALIZED ? required : MPI_THREAD_SERIALIZED;
#endif
}

int pml_rank_provided(int lower_provided)
{
    lower_level = lower_provided;
    if (lower_provided == MPI_THREAD_MULTIPLE)
        pml_threaded = 1;
    if (lower_provided < app_level)
        app_level = lower_provided;
    return app_level;
}

int MPI_Query_thread(int *provided)
{
    if (!pml_L.MPI_Query_thread)
        return pml_not_ready("MPI_Query_thread");
    *provided = app_level;
    return MPI_SUCCESS;
}
int PMPI_Query_thread(int *) __attribute__((alias("pml_own_MPI_Query_thread")));

void pml_rank_after_init(void)
{
    pml_clock_init();
    pml_capture_init();
    pml_term_init();
    const char *ta = getenv("REVIVE_MPI_TEST_AGENT");
    if (ta && *ta) {
        void *h = dlopen(ta, RTLD_NOW | RTLD_LOCAL);
        const struct pml_agent_fns *f = h ? revive_dlsym(h, "revive_test_agent") : NULL;
        if (!f)
            pml_fatal("REVIVE_MPI_TEST_AGENT=%s: %s", ta, h ? "no revive_test_agent in it" : dlerror());
        agent = *f;
    }
    int rc = agent.start(&rank_ops, pml_world_rank, pml_world_size);
    pml_agent_running = rc == 0;
    if (rc < 0)
        revive_log_info("rank %d runs without checkpoints (the agent did not start: %s)", pml_world_rank,
                strerror(-rc));
}

/* Finalize counts as a collective on MPI_COMM_WORLD (blocking: the rank is in_cs until the
 * lower half has finalized, and says it is finalizing, so no checkpoint is attempted); the
 * agent's operations refuse to touch MPI from then on. The lower half's finalize is read only
 * past the gate: a rank parked at the entry, or one that arrives while a restart reloads the
 * lower half, would otherwise call into the dead half (campaign-failures.md #11). */
int pml_rank_finalize(int (*const *lower_finalize)(void))
{
    PML_COLL_ENTER(PML_FID_MPI_Finalize, MPI_COMM_WORLD, 1);
    pml_finalizing = 1;
    pml_agent_notify();
    /* the meeting places of shared windows whose communicators the program kept (MPI_COMM_WORLD,
     * a node's communicator): the layer's own windows, freed as the program frees its own */
    pml_win_meets_release(0);
    int (*fin)(void) = __atomic_load_n(lower_finalize, __ATOMIC_ACQUIRE);
    int rc = fin();
    finalized = 1;
    PML_COLL_LEAVE(1);
    /* a snapshot still being copied to shared storage: its outcome first (see agent.h) */
    if (pml_agent_running && agent.finalize_wait)
        agent.finalize_wait();
    return rc;
}

/* For libmpix_ckpt (found with dlsym, so that without Revive it knows there is nothing to ask):
 * collective = 1: MPIX_Checkpoint, a collective on MPI_COMM_WORLD; returns once the epoch that
 * covers this call has ended and its snapshot is committed (node-local first: at "recovered"
 * with --ckpt-no-wait-stage): 0 with *flag 0 (this job continues) or 1 (restarted from it).
 * The wait is outside MPI and outside the gate (this call counted itself already), so the
 * agents stage meanwhile, but for its turns of the library's progress (op_wait_turn). collective = 0: MPIX_Checkpoint_request, returns at once.
 * -ENOTCONN: no coordinator (not started with mpirun -am ft-enable-cr); -ECANCELED: the epoch
 * ended without a snapshot; -EIO, -EREMOTEIO: a snapshot's copy to shared storage failed
 * (snapc_agent_wait_epoch); -ESHUTDOWN: MPI is not initialised or already finalized. */
int revive_mpix_checkpoint(int collective, int *flag)
{
    if (flag)
        *flag = 0;
    if (!pml_L.MPI_Comm_rank || pml_finalizing || finalized)
        return -ESHUTDOWN;
    if (!pml_agent_running)
        return -ENOTCONN;
    uint64_t s = __atomic_load_n(&pml_comm_world.seq, __ATOMIC_RELAXED);
    if (!collective)
        return agent.request(0, s);
    /* The call's point is WORLD's count once this call is counted (s + 1): only a cut at or
     * past it has every rank inside this call (or later), so holds the work done before it. A
     * cut at s only says no collective came between; the previous MPIX_Checkpoint's own cut is
     * at s when nothing but local work came since (newuser7c F2: every second back-to-back call
     * returned at once without a snapshot, and a restart said RESTARTED at both). One rank
     * counts nothing on WORLD (s is always 0): it keeps its own rule (snapc_agent_wait_epoch).
     * Several ranks count before they ask: a rank parked at the call's entry by an epoch whose
     * cut is s must not have asked yet, or that epoch's commit starts the next one at once on
     * its behalf, the gate reopens and closes again before the rank's thread wakes, and the
     * rank parks at its entry at s again: a second snapshot at the same cut, for nobody
     * (diffrev35 R-M1). An epoch that captures this rank between its count and its ask has its
     * cut at s + 1 and answers the call: the ask finds it ended and asks nothing. */
    int several = pml_world_size > 1;
    uint64_t at = several ? s + 1 : s;
    int rc = several ? 0 : agent.request(1, at); /* one rank: asks, then counts */
    if (rc)
        return rc;
    PML_COLL_ENTER(PML_NFUNCS, MPI_COMM_WORLD, 0);
    PML_COLL_LEAVE(0);
    rc = several ? agent.request(1, at) : 0; /* several: count, then ask */
    if (rc)
        return rc;
    int restarted = 0;
    rc = agent.wait_epoch(at, &restarted);
    if (rc == 0 && flag)
        *flag = restarted;
    return rc;
}
