/* The rank agent's answers to MPIX_Checkpoint and MPI_Finalize (agent.h): which ended epoch
 * answers a call, the wait for it and, node-local first, for its commit; a request to the
 * coordinator; MPI_Finalize's wait for the outcome of a sequence still staging. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "snapc"
#include "snapc/agent_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/fault.h"
#include "common/log.h"

/* With A.lock held: one wait of MPIX_Checkpoint's thread between its looks (the callers look
 * at their deadline, and whether the coordinator went away, after each). With the layer's
 * wait_turn, the lock is let go for one turn of the MPI library's progress and a pause (1 ms
 * at most): a rank waiting here made none, and a peer's send that needed it (a rendezvous, a
 * started persistent send of Open MPI) stalled until the call returned, the peer short of the
 * snapshot's cut meanwhile, so the snapshot waited for it until its timeout gave up
 * (mpix_progress.sh). Else, and for MPI_Finalize's wait (turns NULL: the library is finalized),
 * A.cond, 1 s at most. turns: this wait's count (wait_turn). */
static void wait_a_while(uint32_t *turns)
{
    if (turns && A.ops.wait_turn) {
        pthread_mutex_unlock(&A.lock);
        A.ops.wait_turn(A.ops.arg, turns);
        pthread_mutex_lock(&A.lock);
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&A.cond, &A.lock, &ts);
    }
    /* fault point mpix-wait-held: woken by the agent just before a holding epoch's capture
     * (agent_epoch.c), this thread keeps the lock while the capture parks it */
    static int held_once;
    if (A.wait_held_wake && !held_once && revive_fault(REVIVE_FAULT_mpix_wait_held)) {
        held_once = 1;
        revive_log_warn("rank %d: fault point mpix-wait-held: a thread in MPIX_Checkpoint keeps the "
                        "agent's lock for 1 s", A.world_rank);
        struct timespec d = {1, 0};
        nanosleep(&d, NULL);
    }
}

int snapc_agent_lock_busy(void)
{
    if (pthread_mutex_trylock(&A.lock) != 0)
        return 1;
    pthread_mutex_unlock(&A.lock);
    return 0;
}

/* Which epoch answers MPIX_Checkpoint at world_seq s (every rank calls it at the same s: it is
 * a collective on MPI_COMM_WORLD; s is WORLD's count with the call counted, so a cut at s has
 * every rank inside the call or past it, and the previous call's cut is below s even when only
 * local work came between: revive_mpix_checkpoint): the first epoch to end whose cut on WORLD
 * (its target there) is >= s. Every rank sees the same epochs end in the same order with the
 * same targets, so every rank picks the same one, whenever it looks: a rank that looks only
 * after the epoch ended (captured between its count and its wait) returns at once, as the
 * others did; waiting for another epoch instead hung, the others being in the next collective
 * already. Committed: the call is
 * covered (restarted in a job restarted from it); aborted: -ECANCELED on every rank. The first
 * epoch with cut >= s is always one whose cut is above every earlier one's: only those are
 * kept. A job of one rank counts no collective on WORLD (s is always 0): there the first epoch
 * to end after the request answers it, unless that epoch's capture began before the call
 * (snapc_agent_wait_epoch). Called with A.lock held; 1 when decided. */
static int decide(uint64_t s, int *rc, int *restarted, struct cut_rec *by)
{
    if (A.world_size == 1)
        return 0;
    unsigned first = A.ncuts > AGENT_CUTS ? A.ncuts - AGENT_CUTS : 0;
    for (unsigned i = first; i < A.ncuts; i++) {
        const struct cut_rec *c = &A.cuts[i % AGENT_CUTS];
        if (c->cut < s)
            continue;
        *rc = c->committed ? 0 : -ECANCELED;
        *restarted = c->committed && c->restarted;
        if (by)
            *by = *c;
        return 1;
    }
    return 0;
}

/* staging: the epoch ended at "recovered" (node-local first), its copy and commit to come.
 * Agent thread (A.ckpt_flags is the epoch's). */
void agent_epoch_ended(int committed, int restarted, int refused, int staging)
{
    pthread_mutex_lock(&A.lock);
    struct cut_rec rec = {.cut = A.target0, .seq = A.seq, .committed = committed,
                          .restarted = restarted, .staging = staging,
                          .nowait = (A.ckpt_flags & SNAPC_CKPT_NOWAIT_MPIX) != 0,
                          .capture = A.epoch_capture};
    A.epoch_capture = 0;
    if (!refused) {
        /* an earlier failure goes with the first epoch to end after it: every rank sees the
         * same messages in the same order, so every rank's MPIX_Checkpoint answered by that
         * epoch reports it */
        rec.prior_fail = A.unreported_fail;
        A.end_rec = rec;
    }
    int kept = !refused && A.world_size == 1;
    if (!refused && A.have_targets) {
        const struct cut_rec *last = A.ncuts ? &A.cuts[(A.ncuts - 1) % AGENT_CUTS] : NULL;
        if (!last || A.target0 > last->cut) {
            A.cuts[A.ncuts % AGENT_CUTS] = rec;
            A.ncuts++;
            kept = 1;
        }
    }
    if (kept)
        A.unreported_fail = 0;
    A.have_targets = 0;
    A.end_gen++;
    A.end_committed = committed;
    A.end_restarted = restarted;
    A.end_refused = refused;
    pthread_cond_broadcast(&A.cond);
    pthread_mutex_unlock(&A.lock);
}

/* A request stays pending from the call that made it until the agent thread sends it: its
 * thread may lose the CPU between the two, and the epoch its WORLD count already belongs to may
 * capture the rank, commit and end meanwhile (node-local off: at once). Sent then, it reached
 * an idle coordinator, which took it for a new call and started another epoch at the same cut:
 * a snapshot nobody asked for (mpix_park-ompi, 1 of 21 runs in session 36). Not with one rank
 * (s is always 0, wait_epoch has its own rule), nor when an MPIX_Checkpoint_request waits too. */
int agent_request_covered(uint64_t world_seq)
{
    int rc, re;
    if (A.world_size == 1)
        return 0;
    if (A.in_epoch && A.have_targets && A.target0 >= world_seq)
        return 1; /* its cut holds the call: it answers it, committed or aborted */
    return decide(world_seq, &rc, &re, NULL);
}

void agent_set_disconnected(void)
{
    pthread_mutex_lock(&A.lock);
    A.disconnected = 1;
    pthread_cond_broadcast(&A.cond);
    pthread_mutex_unlock(&A.lock);
}

/* Agent thread: a waiting MPI_Finalize may go once no outcome is pending; the committed
 * sequence's cache is dropped first (the rank ends with it). The STATE saying the rank is
 * finalizing is sent here, before MPI_Finalize returns, not left to the notify that MPI_Finalize
 * made on entry: a rank that ends right after must have it on its way to the coordinator, which
 * takes a signalled job whose launcher said 0 as done only when every rank said so
 * (coord_exit_status). */
void agent_fin_check(void)
{
    pthread_mutex_lock(&A.lock);
    int go = atomic_load(&A.fin_wait) && !A.outcome_pending && !A.fin_done;
    pthread_mutex_unlock(&A.lock);
    if (!go)
        return;
    agent_report_state(0);
    agent_cache_drop_at_end();
    pthread_mutex_lock(&A.lock);
    A.fin_done = 1;
    pthread_cond_broadcast(&A.cond);
    pthread_mutex_unlock(&A.lock);
}

/* Agent thread: how staging sequence seq ended (its RESUME outside the epoch), for the
 * MPIX_Checkpoint that waits for its commit; with --ckpt-no-wait-stage (A.ckpt_flags is still
 * that epoch's: the outcome comes before the next CKPT) a failure waits for the next call. */
void agent_outcome_record(uint64_t seq, int committed)
{
    pthread_mutex_lock(&A.lock);
    A.outcomes[A.noutcomes % AGENT_OUTCOMES].seq = seq;
    A.outcomes[A.noutcomes % AGENT_OUTCOMES].committed = committed;
    A.noutcomes++;
    if (!committed && (A.ckpt_flags & SNAPC_CKPT_NOWAIT_MPIX))
        A.unreported_fail = seq + 1;
    pthread_cond_broadcast(&A.cond);
    pthread_mutex_unlock(&A.lock);
}

/* With A.lock held: 1 when seq's outcome is known (*committed says which). */
static int outcome_find(uint64_t seq, int *committed)
{
    unsigned first = A.noutcomes > AGENT_OUTCOMES ? A.noutcomes - AGENT_OUTCOMES : 0;
    for (unsigned i = A.noutcomes; i-- > first;)
        if (A.outcomes[i % AGENT_OUTCOMES].seq == seq) {
            *committed = A.outcomes[i % AGENT_OUTCOMES].committed;
            return 1;
        }
    return 0;
}

/* Agent thread: the staging sequence's outcome is known (or will never come). */
void agent_outcome_set(int pending, uint64_t seq)
{
    pthread_mutex_lock(&A.lock);
    A.outcome_pending = pending;
    A.outcome_seq = seq;
    pthread_mutex_unlock(&A.lock);
    if (!pending)
        agent_fin_check();
}

int snapc_agent_request(int collective, uint64_t world_seq)
{
    if (!atomic_load(&A.running) || atomic_load(&A.fd) < 0)
        return -ENOTCONN;
    pthread_mutex_lock(&A.lock);
    int drc, dre;
    if (collective && decide(world_seq, &drc, &dre, NULL)) {
        /* an epoch that ended already answers it (see decide): nothing to ask */
        A.req_gen = A.end_gen;
        pthread_mutex_unlock(&A.lock);
        return 0;
    }
    if (!A.req_pending || world_seq > A.req_seq)
        A.req_seq = world_seq;
    A.req_pending = 1;
    A.req_collective |= collective ? 1 : 0;
    A.req_plain |= !collective;
    A.req_gen = A.end_gen;
    if (collective)
        A.req_captures = A.captures;
    pthread_mutex_unlock(&A.lock);
    snapc_agent_notify();
    return 0;
}

/* MPIX_Checkpoint's wait for the commit of the snapshot that answered it (node-local first:
 * its epoch ended at "recovered"). The wait is outside MPI (the call counted itself as a
 * collective already), so the agents go on staging, and a request that comes meanwhile (a
 * ckpt-mpirun, the interval timer) waits in the coordinator's queue until the outcome: nothing
 * needs these ranks before it. The outcome always comes: committed, or failed (a copy failed,
 * a rank died, the coordinator's staging bound); a lost coordinator ends the wait too. Called
 * with A.lock held. 0, -EIO (not committed: rank 0 says so), or -ETIMEDOUT. */
static int wait_commit(uint64_t seq, int64_t deadline, uint32_t *turns)
{
    if (A.world_rank == 0)
        revive_log_info("rank 0: MPIX_Checkpoint waits until snapshot sequence %llu is copied "
                        "to the snapshot directory and committed",
                        (unsigned long long)seq);
    else
        revive_log_info("rank %d: MPIX_Checkpoint waits for the commit of sequence %llu",
                        A.world_rank, (unsigned long long)seq);
    for (;;) {
        int committed;
        if (outcome_find(seq, &committed)) {
            if (committed)
                return 0;
            if (A.world_rank == 0)
                revive_log_warn("MPIX_Checkpoint: snapshot sequence %llu was taken but not "
                                "committed: its images could not all be copied to the snapshot "
                                "directory (the coordinator's 'checkpoint %llu is not committed' "
                                "says why); earlier snapshots are intact, the job goes on",
                                (unsigned long long)seq, (unsigned long long)seq);
            return -EIO;
        }
        if (A.disconnected) {
            if (A.world_rank == 0)
                revive_log_warn("MPIX_Checkpoint: the job's coordinator went away before "
                                "snapshot sequence %llu was committed; no further checkpoints "
                                "of this job", (unsigned long long)seq);
            return -EIO;
        }
        if (revive_mono_ms() >= deadline)
            return -ETIMEDOUT;
        wait_a_while(turns);
    }
}

int snapc_agent_wait_epoch(uint64_t world_seq, int *restarted)
{
    if (restarted)
        *restarted = 0;
    if (!atomic_load(&A.running))
        return -ENOTCONN;
    int64_t deadline = revive_mono_ms() + 24LL * 3600 * 1000;
    int rc, re = 0, undecided = 0;
    uint32_t turns = 0;
    struct cut_rec by;
    memset(&by, 0, sizeof by);
    pthread_mutex_lock(&A.lock);
    uint64_t gen = A.req_gen;
    for (;;) {
        if (decide(world_seq, &rc, &re, &by))
            break;
        if (A.end_gen > gen) {
            gen = A.end_gen;
            if (A.end_refused) {
                rc = -ECANCELED; /* our request was refused (the reason is logged) */
                break;
            }
            /* one rank: the epoch answers unless its capture began before the call (a tool's
             * epoch past its capture when the call came: its snapshot does not hold the call,
             * so a restart from it would not come back inside it), then ask again */
            if (A.world_size == 1 &&
                !(A.end_rec.capture && A.end_rec.capture <= A.req_captures)) {
                rc = A.end_committed ? 0 : -ECANCELED;
                re = A.end_restarted;
                by = A.end_rec;
                break;
            }
            /* an epoch that ended before its targets (or with a cut below this call): the
             * coordinator forgot the requests it had; ask again, a few times */
            if (++undecided > 3) {
                rc = -ECANCELED;
                break;
            }
            if (!A.req_pending || world_seq > A.req_seq)
                A.req_seq = world_seq;
            A.req_pending = 1;
            A.req_collective = 1;
            pthread_mutex_unlock(&A.lock);
            snapc_agent_notify();
            pthread_mutex_lock(&A.lock);
            continue;
        }
        if (A.disconnected) {
            rc = -ENOTCONN;
            break;
        }
        if (revive_mono_ms() >= deadline) {
            rc = -ETIMEDOUT;
            break;
        }
        wait_a_while(&turns);
    }
    /* node-local first: the snapshot is in the nodes' caches; the call returns once it is
     * committed, unless the job runs with --ckpt-no-wait-stage. Never in a restarted job: its
     * snapshot was committed (it restarted from it). */
    if (rc == 0 && !re && by.staging && !by.nowait)
        rc = wait_commit(by.seq, deadline, &turns);
    if (rc != -ENOTCONN && !re && by.prior_fail) {
        /* --ckpt-no-wait-stage: an earlier call returned before its snapshot's copy, which
         * failed since; this call says so (every rank: the same epoch answers it) */
        if (A.world_rank == 0)
            revive_log_warn("MPIX_Checkpoint: snapshot sequence %llu was not committed: its "
                            "images could not all be copied to the snapshot directory (the "
                            "coordinator's 'checkpoint %llu is not committed' says why; the "
                            "MPIX_Checkpoint that took it returned before the copy, "
                            "--ckpt-no-wait-stage); earlier snapshots are intact",
                            (unsigned long long)(by.prior_fail - 1),
                            (unsigned long long)(by.prior_fail - 1));
        if (rc == 0)
            rc = -EREMOTEIO;
    }
    pthread_mutex_unlock(&A.lock);
    if (restarted)
        *restarted = re;
    return rc;
}

/* How long MPI_Finalize waits at most for a staging sequence's outcome: REVIVE_FINALIZE_WAIT
 * seconds, else a little more than the coordinator's own bound on staging (its capture
 * timeout, 1800 s by default), which ends the sequence one way or the other before. */
#define AGENT_FINALIZE_WAIT_S 1900
#define AGENT_FINALIZE_LOOK_MS 10000

int snapc_agent_finalize_wait(void)
{
    if (!atomic_load(&A.running) || snapc_agent_is_agent_thread())
        return 0;
    const char *w = getenv("REVIVE_FINALIZE_WAIT");
    int64_t bound_s = w && *w && atoll(w) >= 0 ? atoll(w) : AGENT_FINALIZE_WAIT_S;
    int64_t t0 = revive_mono_ms(), deadline = t0 + bound_s * 1000;
    pthread_mutex_lock(&A.lock);
    atomic_store(&A.fin_wait, 1);
    int pending = A.outcome_pending;
    uint64_t seq = A.outcome_seq;
    pthread_mutex_unlock(&A.lock);
    if (pending)
        revive_log_info("rank %d: MPI_Finalize waits until snapshot sequence %llu is copied to "
                        "shared storage and committed (or fails)",
                        A.world_rank, (unsigned long long)seq);
    snapc_agent_notify(); /* the agent thread looks (fin_check) */
    int rc = 0;
    int64_t seen = t0; /* when an outcome was last pending */
    pthread_mutex_lock(&A.lock);
    while (!A.fin_done) {
        if (A.disconnected) {
            rc = -ENOTCONN;
            break;
        }
        /* nothing pending: only the agent thread's look (and a drop) is waited for */
        int64_t now = revive_mono_ms();
        if (A.outcome_pending)
            seen = now;
        if (now >= (A.outcome_pending ? deadline : seen + AGENT_FINALIZE_LOOK_MS)) {
            rc = -ETIMEDOUT;
            break;
        }
        wait_a_while(NULL);
    }
    pending = A.outcome_pending;
    seq = A.outcome_seq;
    uint64_t unreported = A.unreported_fail;
    A.unreported_fail = 0;
    pthread_mutex_unlock(&A.lock);
    if (unreported && A.world_rank == 0)
        /* --ckpt-no-wait-stage: no MPIX_Checkpoint came after to say it */
        revive_log_warn("snapshot sequence %llu was not committed: its images could not all be "
                        "copied to the snapshot directory (the coordinator's 'checkpoint %llu is "
                        "not committed' says why; the MPIX_Checkpoint that took it returned "
                        "before the copy, --ckpt-no-wait-stage); earlier snapshots are intact",
                        (unsigned long long)(unreported - 1), (unsigned long long)(unreported - 1));
    if (rc == -ETIMEDOUT && pending)
        revive_log_warn("rank %d: MPI_Finalize returns after %lld s without the outcome of "
                        "snapshot sequence %llu (still being copied to shared storage): it may "
                        "not be committed, and this node's cached images of it stay "
                        "(REVIVE_FINALIZE_WAIT=SECONDS sets this bound)",
                        A.world_rank, (long long)((revive_mono_ms() - t0) / 1000),
                        (unsigned long long)seq);
    return rc == -ENOTCONN && !pending ? 0 : rc;
}
