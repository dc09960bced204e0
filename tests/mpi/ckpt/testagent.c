/* A test harness for the rank side of global snapshots: a stand-in for src/snapc's agent and
 * coordinator, loaded into every rank by the MPI layer (REVIVE_MPI_TEST_AGENT=this library).
 * The ranks of one job (one host) share a file mapped in memory (REVIVE_TEST_AGENT_SHM, made by
 * the test, zero-filled); each rank's agent thread follows the commands written there, and
 * rank 0's agent also plays the coordinator: at random moments it runs an epoch (CKPT, SEQS,
 * TARGETS with RAISEs until converged, QUIESCE, drain, optionally capture, RESUME), the protocol
 * of /work/team/SNAPC.md, through the same struct snapc_rank_ops a real agent calls.
 *
 * Environment: REVIVE_TEST_AGENT_SHM (required), REVIVE_TEST_AGENT_GAP_MS=min:max between
 * epochs (default 1:20; never less than twice the last epoch), REVIVE_TEST_AGENT_CAPTURE=DIR
 * (capture images DIR/rank_R.img, replaced every epoch), REVIVE_TEST_AGENT_LOG=1 (one line per
 * epoch on stderr), REVIVE_TEST_AGENT_HOLD=S (see hold()). Results stay in the file for the
 * test (see struct shm: epochs committed and aborted, messages drained). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <linux/futex.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "pml_hooks/agent_fns.h"

#define TA_MAXR 64
#define TA_MAXC 4096
#define TA_MAXRAISE 64
enum { TA_NONE, TA_CKPT, TA_QUIESCE, TA_RESUME, TA_ABORT };

/* Each rank's part of the shared file. */
struct ta_rank {
    atomic_uint bell;            /* rung (futex) when this rank's agent has something to do */
    atomic_uint hello, ack, v_seen, v_applied, at_target, in_cs, finalizing;
    int32_t status;
    char err[600];
    char what[160];
    uint32_t nseq;
    struct snapc_seq seqs[TA_MAXC];
    atomic_uint rlock;
    atomic_uint nraise;
    struct snapc_seq raises[TA_MAXRAISE];
    struct snapc_drain_stats ds;
    double quiesce_ms, drain_ms;
    uint64_t image_bytes;
};

struct ta_shm {
    atomic_uint cbell;           /* rung (futex) when the coordinator has something to look at */
    atomic_uint step, cmd, epoch, ended_epoch, committed_epoch, tready, tcounter, tversion, requested, stop, committed, aborted;
    atomic_uint tlock;
    uint32_t nranks, ntg;
    struct snapc_seq tg[TA_MAXC];
    uint64_t last_world_target, nraises;
    uint64_t drained_msgs, drained_bytes, nbc_completed, pending_recvs;
    atomic_uint early_covered;   /* MPIX_Checkpoint calls an epoch ended before their request covered */
    /* ranks whose capture failed, counted where it happens: when the capture outlasts the
     * coordinator's wait, the coordinator's own reason is only "did not answer" */
    atomic_uint capture_failed;
    char first_capture_failure[400];
    char last_abort[1000];
    char capture_dir[400];
    struct ta_rank r[TA_MAXR];
};

static struct ta_shm *S;
static struct ta_rank *me_area;
static const struct snapc_rank_ops *ops;
static int my_rank, nranks;
static int logging;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void nap(long us)
{
    struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };
    nanosleep(&ts, NULL);
}

/* Bells: a counter in the shared file and a futex on it (not private: the ranks are separate
 * processes). The harness waits on them instead of polling, so that it wakes when there is
 * something to do, as src/snapc's agent does (eventfd, socket): 8 ranks polling every 100 us
 * on 2 loaded cores took the CPU time the ranks' own progress needed. The timeout is only a
 * safety net. */
static void ring(atomic_uint *b)
{
    atomic_fetch_add(b, 1);
    syscall(SYS_futex, b, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

static void wait_bell(atomic_uint *b, unsigned seen, long us)
{
    struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };
    syscall(SYS_futex, b, FUTEX_WAIT, seen, &ts, NULL, 0);
}

static void ring_agents(void)
{
    for (int r = 0; r < nranks; r++)
        ring(&S->r[r].bell);
}

static void lock(atomic_uint *l)
{
    while (atomic_exchange(l, 1))
        nap(10);
}

static void unlock(atomic_uint *l)
{
    atomic_store(l, 0);
}

/* ---- the rank side: follow the commands ------------------------------------------------- */
static void follow_step(uint32_t step)
{
    uint32_t cmd = atomic_load(&S->cmd);
    struct ta_rank *a = me_area;
    int rc = 0;
    a->err[0] = 0;
    switch (cmd) {
    case TA_CKPT:
        rc = ops->begin(ops->arg);
        if (!rc) {
            int n = ops->seqs(ops->arg, a->seqs, TA_MAXC);
            if (n < 0)
                rc = n; /* -ENOSPC: more communicators than this harness carries */
            else
                a->nseq = (uint32_t)n;
        }
        atomic_store(&a->v_seen, 0);
        atomic_store(&a->v_applied, 0);
        break;
    case TA_QUIESCE: {
        double t0 = now_ms();
        rc = ops->quiesce(ops->arg, 10000);
        if (rc) {
            snprintf(a->err, sizeof a->err, "quiesce: %s", strerror(-rc));
            break;
        }
        double t1 = now_ms();
        rc = ops->drain(ops->arg, &a->ds, a->err, sizeof a->err);
        double t2 = now_ms();
        a->quiesce_ms = t1 - t0;
        a->drain_ms = t2 - t1;
        if (!rc && S->capture_dir[0]) {
            char path[600];
            /* hold (an input since f5ad5ec) must be 0: a capture with hold keeps the application's
             * threads parked until resume, and on rank 0 the coordinator thread below is one of
             * them, so RESUME never came (uninitialised, it held now and then: ck_io-ompi np=4
             * hung until ckcompare's timeout, rank 0's main, coordinator and libcr threads parked
             * in park_here_mask's hold, seen with gdb) */
            struct snapc_capture_result cr;
            memset(&cr, 0, sizeof cr);
            snprintf(path, sizeof path, "%s/rank_%d.img", S->capture_dir, my_rank);
            rc = ops->capture(ops->arg, path, &cr);
            if (rc < 0) {
                snprintf(a->err, sizeof a->err, "capture: %s", cr.err);
                if (atomic_fetch_add(&S->capture_failed, 1) == 0)
                    snprintf(S->first_capture_failure, sizeof S->first_capture_failure,
                             "rank %d: %.300s", my_rank, cr.err);
            }
            else
                a->image_bytes = cr.bytes;
        }
        break;
    }
    case TA_RESUME:
        ops->resume(ops->arg, SNAPC_RESUME_CONTINUE);
        break;
    case TA_ABORT:
        ops->abort(ops->arg);
        break;
    }
    a->status = rc;
    atomic_store(&a->ack, step);
    ring(&S->cbell);
}

static void report_state(void)
{
    struct snapc_rank_state st;
    uint32_t v = atomic_load(&S->tversion);
    if (atomic_load(&S->tready) && v != atomic_load(&me_area->v_applied)) {
        lock(&S->tlock);
        uint32_t n = S->ntg;
        struct snapc_seq t[TA_MAXC];
        memcpy(t, S->tg, n * sizeof *t);
        v = atomic_load(&S->tversion);
        unlock(&S->tlock);
        ops->targets(ops->arg, t, (int)n, v);
        atomic_store(&me_area->v_applied, v);
    }
    ops->state(ops->arg, &st);
    int changed = st.at_target != atomic_load(&me_area->at_target) ||
                  st.in_cs != atomic_load(&me_area->in_cs) ||
                  st.finalizing != atomic_load(&me_area->finalizing) ||
                  atomic_load(&me_area->v_seen) != atomic_load(&me_area->v_applied);
    atomic_store(&me_area->at_target, st.at_target);
    atomic_store(&me_area->in_cs, st.in_cs);
    atomic_store(&me_area->finalizing, st.finalizing);
    memcpy(me_area->what, st.what, sizeof me_area->what);
    atomic_store(&me_area->v_seen, atomic_load(&me_area->v_applied));
    if (changed)
        ring(&S->cbell);
}

/* ---- rank 0: the coordinator ------------------------------------------------------------- */
/* Writes a command and waits until every rank has done it; 0, or -1 on a failure or timeout. */
static int command(uint32_t cmd, double timeout_ms, char *why, size_t whylen)
{
    if (logging > 1)
        fprintf(stderr, "testagent: command %u\n", cmd);
    atomic_store(&S->cmd, cmd);
    uint32_t step = atomic_fetch_add(&S->step, 1) + 1;
    ring_agents();
    double end = now_ms() + timeout_ms;
    for (int r = 0; r < nranks; r++) {
        for (;;) {
            unsigned b = atomic_load(&S->cbell);
            if (atomic_load(&S->r[r].ack) == step)
                break;
            if (now_ms() > end) {
                snprintf(why, whylen, "rank %d did not answer command %u", r, cmd);
                return -1;
            }
            wait_bell(&S->cbell, b, 100000);
        }
        if (S->r[r].status) {
            snprintf(why, whylen, "rank %d: %s (%s)", r, S->r[r].err[0] ? S->r[r].err : "failed",
                     strerror(-S->r[r].status));
            return -1;
        }
    }
    return 0;
}

static void set_target(uint64_t cid, uint64_t seq)
{
    for (uint32_t i = 0; i < S->ntg; i++)
        if (S->tg[i].cid == cid) {
            if (seq > S->tg[i].seq)
                S->tg[i].seq = seq;
            return;
        }
    if (S->ntg < TA_MAXC) {
        S->tg[S->ntg].cid = cid;
        S->tg[S->ntg].seq = seq;
        S->ntg++;
    }
}

static int anyone_finalizing(void)
{
    for (int r = 0; r < nranks; r++)
        if (atomic_load(&S->r[r].finalizing))
            return 1;
    return 0;
}

static int converge(double timeout_ms, char *why, size_t whylen)
{
    double end = now_ms() + timeout_ms;
    for (;;) {
        unsigned b = atomic_load(&S->cbell);
        /* raises: bump the target, a new version for everybody */
        int raised = 0;
        for (int r = 0; r < nranks; r++) {
            struct ta_rank *a = &S->r[r];
            lock(&a->rlock);
            if (a->nraise) {
                lock(&S->tlock);
                for (uint32_t i = 0; i < a->nraise; i++)
                    set_target(a->raises[i].cid, a->raises[i].seq);
                unlock(&S->tlock);
                S->nraises += a->nraise;
                a->nraise = 0;
                raised = 1;
            }
            unlock(&a->rlock);
        }
        if (raised) {
            atomic_store(&S->tversion, atomic_fetch_add(&S->tcounter, 1) + 1);
            ring_agents();
        }
        uint32_t v = atomic_load(&S->tversion);
        int ok = !raised;
        for (int r = 0; r < nranks && ok; r++) {
            struct ta_rank *a = &S->r[r];
            if (atomic_load(&a->v_seen) != v || !atomic_load(&a->at_target) || atomic_load(&a->in_cs) ||
                atomic_load(&a->nraise))
                ok = 0;
        }
        if (ok)
            return 0;
        if (now_ms() > end) {
            size_t o = 0;
            for (int r = 0; r < nranks && o < whylen; r++) {
                struct ta_rank *a = &S->r[r];
                if (atomic_load(&a->v_seen) != v || !atomic_load(&a->at_target) || atomic_load(&a->in_cs))
                    o += (size_t)snprintf(why + o, whylen - o, "%srank %d %s (version %u/%u, at_target %u, in_cs %u)",
                                          o ? "; " : "", r, a->what, atomic_load(&a->v_seen), v,
                                          atomic_load(&a->at_target), atomic_load(&a->in_cs));
            }
            if (logging) {
                lock(&S->tlock);
                for (uint32_t i = 0; i < S->ntg; i++)
                    fprintf(stderr, "testagent: target comm %llu: %llu\n", (unsigned long long)S->tg[i].cid,
                            (unsigned long long)S->tg[i].seq);
                unlock(&S->tlock);
                for (int r = 0; r < nranks; r++)
                    for (uint32_t i = 0; i < S->r[r].nseq; i++)
                        fprintf(stderr, "testagent: rank %d reported comm %llu at %llu\n", r,
                                (unsigned long long)S->r[r].seqs[i].cid, (unsigned long long)S->r[r].seqs[i].seq);
            }
            return -1;
        }
        if (!raised)
            wait_bell(&S->cbell, b, 100000);
    }
}

/* REVIVE_TEST_AGENT_HOLD=S: after a convergence timeout, wait up to S seconds more (the ranks
 * stay as they are: time to attach a debugger) and say whether they converged meanwhile: a
 * slow run from a stuck one. 1 when they did (the epoch goes on). */
static int hold(char *why, size_t whylen)
{
    const char *h = getenv("REVIVE_TEST_AGENT_HOLD");
    if (!h || atoi(h) <= 0)
        return 0;
    fprintf(stderr, "testagent: holding for %s s: %s\n", h, why);
    double t0 = now_ms();
    int ok = converge(atoi(h) * 1000.0, why, whylen) == 0;
    fprintf(stderr, "testagent: %s after %.0f ms more\n", ok ? "converged" : "still not converged",
            now_ms() - t0);
    return ok;
}

static void epoch(void)
{
    char why[1000] = "";
    uint32_t e = atomic_fetch_add(&S->epoch, 1) + 1;
    double t0 = now_ms();
    atomic_store(&S->tready, 0);
    if (command(TA_CKPT, 10000, why, sizeof why) < 0)
        goto abort;
    lock(&S->tlock);
    S->ntg = 0;
    for (int r = 0; r < nranks; r++)
        for (uint32_t i = 0; i < S->r[r].nseq; i++)
            set_target(S->r[r].seqs[i].cid, S->r[r].seqs[i].seq);
    unlock(&S->tlock);
    atomic_store(&S->tversion, atomic_fetch_add(&S->tcounter, 1) + 1);
    atomic_store(&S->tready, 1);
    ring_agents();
    if (converge(10000, why, sizeof why) < 0 && !hold(why, sizeof why))
        goto abort;
    double t1 = now_ms();
    if (command(TA_QUIESCE, 30000, why, sizeof why) < 0)
        goto abort;
    double t2 = now_ms();
    uint64_t world = 0;
    for (uint32_t i = 0; i < S->ntg; i++)
        if (S->tg[i].cid == 0)
            world = S->tg[i].seq;
    for (int r = 0; r < nranks; r++) {
        S->drained_msgs += S->r[r].ds.drained_msgs;
        S->drained_bytes += S->r[r].ds.drained_bytes;
        S->nbc_completed += S->r[r].ds.nbc_completed;
        S->pending_recvs += S->r[r].ds.pending_recvs;
    }
    command(TA_RESUME, 10000, why, sizeof why);
    S->last_world_target = world;
    atomic_store(&S->committed_epoch, e);
    atomic_fetch_add(&S->committed, 1);
    if (logging)
        fprintf(stderr, "testagent: epoch %u committed: world target %llu, converge %.1f ms, "
                "quiesce+drain %.1f ms\n", e, (unsigned long long)world, t1 - t0, t2 - t1);
    atomic_store(&S->ended_epoch, e);
    ring_agents(); /* MPIX_Checkpoint waits for this */
    return;
abort:
    command(TA_ABORT, 10000, why + strlen(why), sizeof why - strlen(why));
    atomic_fetch_add(&S->aborted, 1);
    snprintf(S->last_abort, sizeof S->last_abort, "%s", why);
    if (logging)
        fprintf(stderr, "testagent: epoch %u: no checkpoint: %s\n", e, why);
    atomic_store(&S->ended_epoch, e);
    ring_agents();
}

static void *coord_main(void *arg)
{
    (void)arg;
    int gap_lo = 1, gap_hi = 20;
    const char *g = getenv("REVIVE_TEST_AGENT_GAP_MS");
    if (g)
        sscanf(g, "%d:%d", &gap_lo, &gap_hi);
    if (gap_hi < gap_lo)
        gap_hi = gap_lo;
    unsigned seed = (unsigned)getpid();
    for (;;) {
        int ready = 1;
        for (int r = 0; r < nranks; r++)
            if (!atomic_load(&S->r[r].hello))
                ready = 0;
        if (ready)
            break;
        nap(1000);
    }
    /* the first epoch as soon as every rank is there, so that even a short run has one; then
     * a random gap, but never shorter than twice the last epoch: on a loaded machine an epoch of
     * 8 ranks takes longer than the gap, and back-to-back epochs left the job no time to run
     * (the job spends at most about a third of its time in checkpoints, whatever the load) */
    double last = 0;
    for (int first = 1;; first = 0) {
        double gap = gap_lo + rand_r(&seed) % (unsigned)(gap_hi - gap_lo + 1);
        double next = first ? 0 : now_ms() + (gap > 2 * last ? gap : 2 * last);
        for (;;) {
            unsigned b = atomic_load(&S->cbell);
            double left = next - now_ms();
            if (left <= 0 || atomic_load(&S->requested))
                break;
            wait_bell(&S->cbell, b, (long)(left * 1000) + 1);
        }
        if (anyone_finalizing() || atomic_load(&S->stop))
            return NULL;
        atomic_store(&S->requested, 0);
        double t0 = now_ms();
        epoch();
        last = now_ms() - t0;
    }
}

/* Every rank: follow the commands, report the state. */
static uint32_t start_step; /* read before the rank says hello: the commands after it are ours */

static void *agent_main(void *arg)
{
    (void)arg;
    uint32_t done = start_step;
    for (;;) {
        unsigned b = atomic_load(&me_area->bell);
        uint32_t step = atomic_load(&S->step);
        if (step != done) {
            follow_step(step);
            done = step;
        }
        report_state();
        wait_bell(&me_area->bell, b, 100000);
    }
    return NULL;
}

/* Rank 0 leaves the counts for the test beside the shared file. */
__attribute__((destructor)) static void ta_report(void)
{
    if (!S || my_rank != 0)
        return;
    char path[600];
    snprintf(path, sizeof path, "%s.stats", getenv("REVIVE_TEST_AGENT_SHM"));
    FILE *f = fopen(path, "w");
    if (!f)
        return;
    fprintf(f, "committed %u\naborted %u\nraises %llu\ndrained_msgs %llu\ndrained_bytes %llu\n"
            "nbc_completed %llu\npending_recvs %llu\nmpix_covered_before_request %u\n"
            "capture_failed %u (%s)\nlast_abort %s\n",
            atomic_load(&S->committed),
            atomic_load(&S->aborted), (unsigned long long)S->nraises,
            (unsigned long long)S->drained_msgs, (unsigned long long)S->drained_bytes,
            (unsigned long long)S->nbc_completed, (unsigned long long)S->pending_recvs,
            atomic_load(&S->early_covered), atomic_load(&S->capture_failed),
            S->first_capture_failure, S->last_abort);
    fclose(f);
}

static int ta_start(const struct snapc_rank_ops *o, int world_rank, int world_size)
{
    const char *path = getenv("REVIVE_TEST_AGENT_SHM");
    if (!path || !*path)
        return 1;
    if (world_size > TA_MAXR) {
        fprintf(stderr, "testagent: at most %d ranks\n", TA_MAXR);
        return -EINVAL;
    }
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "testagent: %s: %s\n", path, strerror(errno));
        return -errno;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || (size_t)sb.st_size < sizeof(struct ta_shm)) {
        fprintf(stderr, "testagent: %s must be a zero-filled file of at least %zu bytes\n", path,
                sizeof(struct ta_shm));
        close(fd);
        return -EINVAL;
    }
    void *p = mmap(NULL, sizeof(struct ta_shm), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED)
        return -errno;
    S = p;
    ops = o;
    my_rank = world_rank;
    nranks = world_size;
    me_area = &S->r[world_rank];
    logging = getenv("REVIVE_TEST_AGENT_LOG") ? atoi(getenv("REVIVE_TEST_AGENT_LOG")) : 0;
    const char *cap = getenv("REVIVE_TEST_AGENT_CAPTURE");
    if (world_rank == 0) {
        S->nranks = (uint32_t)world_size;
        if (cap)
            snprintf(S->capture_dir, sizeof S->capture_dir, "%s", cap);
    }
    start_step = atomic_load(&S->step);
    atomic_store(&me_area->ack, start_step);
    pthread_t t;
    if (pthread_create(&t, NULL, agent_main, NULL))
        return -EAGAIN;
    pthread_detach(t);
    if (world_rank == 0) {
        if (pthread_create(&t, NULL, coord_main, NULL))
            return -EAGAIN;
        pthread_detach(t);
    }
    atomic_store(&me_area->hello, 1);
    return 0;
}

static void ta_notify(void)
{
    if (me_area)
        ring(&me_area->bell);
}

static int ta_raise(uint64_t cid, uint64_t target)
{
    lock(&me_area->rlock);
    if (me_area->nraise < TA_MAXRAISE) {
        me_area->raises[me_area->nraise].cid = cid;
        me_area->raises[me_area->nraise].seq = target;
        me_area->nraise++;
    }
    unlock(&me_area->rlock);
    ring(&S->cbell);
    return 0;
}

static uint32_t asked_after; /* the epochs committed when this rank made its request */

static int ta_request(int collective, uint64_t world_seq)
{
    (void)world_seq;
    if (collective)
        asked_after = atomic_load(&S->committed_epoch);
    atomic_store(&S->requested, 1);
    ring(&S->cbell);
    return 0;
}

/* Until an epoch whose cut on WORLD covers the call has committed, whenever it did (src/snapc's
 * agent decides the same way, see decide() there): committed cuts only grow, and one at
 * world_seq may have committed before this rank made its request (the call counts itself, then
 * asks: an epoch can capture the rank between the two, with its cut at world_seq); waiting for
 * a later epoch then hung, the others being in the next collective already. Aborted epochs
 * answer nothing here: the harness asks again until one commits. */
static int ta_wait_epoch(uint64_t world_seq, int *restarted)
{
    *restarted = 0;
    for (;;) {
        unsigned b = atomic_load(&me_area->bell);
        /* one rank counts nothing on WORLD (world_seq is always 0): the first commit after
         * the request answers, as src/snapc's agent does */
        if (nranks == 1 ? atomic_load(&S->committed_epoch) > asked_after
                        : atomic_load(&S->committed) > 0 && S->last_world_target >= world_seq) {
            if (atomic_load(&S->committed_epoch) <= asked_after)
                atomic_fetch_add(&S->early_covered, 1); /* the case that hung (counted for the test) */
            return 0;
        }
        atomic_store(&S->requested, 1);
        ring(&S->cbell);
        wait_bell(&me_area->bell, b, 100000);
    }
}

const struct pml_agent_fns revive_test_agent = {
    ta_start, ta_notify, ta_raise, ta_request, ta_wait_epoch,
    NULL, /* finalize_wait: no staging without a coordinator */
};
