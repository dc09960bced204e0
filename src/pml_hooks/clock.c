/* The collective clock: per communicator an id agreed at creation (cid64) and the number of
 * collectives entered on it (seq); during an epoch, the targets from the coordinator and the
 * check at every collective entry (run on, park at the entry, or raise a target). */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "mpi"
#include "pml_hooks/ckpt.h"
#include "pml_hooks/objs.h" /* pml_wins, pml_objs_progress */
#include "common/fault.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct pml_comm pml_comm_world, pml_comm_self;
struct pml_comm *pml_comms;
static struct pml_comm *comms_tail;
uint64_t *pml_sent_to;
uint64_t pml_received;
int pml_world_size, pml_world_rank;
uint32_t pml_tgt_version;
uint32_t pml_clock_epochs;
int pml_finalizing;
uintptr_t pml_private_world, pml_private_self;

static uint64_t next_base = 2; /* this rank's next free id base (see pml_comm_created) */
static struct snapc_seq *tgt_tab;
static int tgt_n, tgt_cap;
static int tgt_xwait; /* the targets name an exclusive lock waited for (win.c) */

void pml_clock_add_locked(struct pml_comm *c)
{
    c->next = NULL;
    if (comms_tail)
        comms_tail->next = c;
    else
        pml_comms = c;
    comms_tail = c;
}

static void comm_append(struct pml_comm *c)
{
    pthread_mutex_lock(&pml_ck_lock);
    pml_clock_add_locked(c);
    pthread_mutex_unlock(&pml_ck_lock);
}

static MPI_Op lower_max(void)
{
    return (MPI_Op)pml_v2r(PML_H(MPI_MAX));
}

void pml_clock_init(void)
{
    MPI_Comm w = (MPI_Comm)pml_v2r(PML_H(MPI_COMM_WORLD));
    MPI_Comm s = (MPI_Comm)pml_v2r(PML_H(MPI_COMM_SELF));
    pml_L.MPI_Comm_size(w, &pml_world_size);
    pml_L.MPI_Comm_rank(w, &pml_world_rank);
    pml_sent_to = calloc((size_t)pml_world_size, sizeof *pml_sent_to);
    if (!pml_sent_to)
        pml_fatal("out of memory for the message counters");
    pml_comm_world.cid = 0;
    pml_comm_world.v = PML_H(MPI_COMM_WORLD);
    pml_comm_world.size = pml_world_size;
    pml_comm_world.rank = pml_world_rank;
    pml_comm_world.nmap = pml_world_size;
    pml_comm_world.eh_fatal = 1;
    pml_comm_self.eh_fatal = 1;
    pml_comm_self.cid = 1;
    pml_comm_self.v = PML_H(MPI_COMM_SELF);
    pml_comm_self.size = 1;
    pml_comm_self.rank = 0;
    pml_comm_self.nmap = 1;
    pml_comm_self.wmap = malloc(sizeof(int));
    if (!pml_comm_self.wmap)
        pml_fatal("out of memory");
    pml_comm_self.wmap[0] = pml_world_rank;
    comm_append(&pml_comm_world);
    comm_append(&pml_comm_self);
    /* private communicators of the lower half: counts and the drain's barrier, and delivery of
     * drained messages through the library's own unpacking (errors return, not abort) */
    MPI_Comm pw = MPI_COMM_NULL, ps = MPI_COMM_NULL;
    if (pml_L.MPI_Comm_dup(w, &pw) != MPI_SUCCESS || pml_L.MPI_Comm_dup(s, &ps) != MPI_SUCCESS)
        pml_fatal("cannot make the layer's private communicators");
    MPI_Errhandler ret = (MPI_Errhandler)pml_v2r(PML_H(MPI_ERRORS_RETURN));
    pml_L.MPI_Comm_set_errhandler(pw, ret);
    pml_L.MPI_Comm_set_errhandler(ps, ret);
    pml_private_world = PML_H(pw);
    pml_private_self = PML_H(ps);
}

/* Blocking receives report errors to their communicator's handler; the layer needs to know
 * whether that handler aborts (see pml_rq_wait_recv). */
static int eh_is_fatal(MPI_Comm r)
{
    MPI_Errhandler e;
    if (pml_L.MPI_Comm_get_errhandler(r, &e) != MPI_SUCCESS)
        return 1;
    int fatal = PML_H(e) == pml_v2r(PML_H(MPI_ERRORS_ARE_FATAL));
    pml_L.MPI_Errhandler_free(&e);
    return fatal;
}

void pml_comm_eh_changed(uintptr_t v)
{
    struct pml_comm *c = pml_comm_of(v);
    if (c)
        c->eh_fatal = eh_is_fatal((MPI_Comm)pml_v2r(v));
}

/* World ranks of the members of a group, into a fresh array. */
int *pml_world_map(MPI_Group g, int n)
{
    MPI_Group wg;
    pml_L.MPI_Comm_group((MPI_Comm)pml_v2r(PML_H(MPI_COMM_WORLD)), &wg);
    int *in = malloc((size_t)(n > 0 ? n : 1) * sizeof *in);
    int *out = malloc((size_t)(n > 0 ? n : 1) * sizeof *out);
    if (!in || !out)
        pml_fatal("out of memory for a communicator's rank map");
    for (int i = 0; i < n; i++)
        in[i] = i;
    if (pml_L.MPI_Group_translate_ranks(g, n, in, wg, out) != MPI_SUCCESS)
        for (int i = 0; i < n; i++)
            out[i] = -1;
    free(in);
    pml_L.MPI_Group_free(&wg);
    return out;
}

/* A communicator a collective call made gets an id unique in the whole job: base * N + m, where
 * N is the world size, m the lowest world rank among its members, and base the maximum over its
 * members of their next free base (intercommunicators: two rounds give the maximum over both
 * groups); every member then moves its next free base past it. Two communicators with the same
 * id would share the member m, which made them one after the other, with different bases; the
 * members alone agreeing (the spec's "Allreduce(MAX) of the next free id") would let disjoint
 * communicators of one MPI_Comm_split get the same id. Runs inside the creating call, counted
 * as part of it. */
void pml_comm_created(uintptr_t v, int fid)
{
    struct pml_vh *h = pml_vh_of(v);
    if (!h || h->kind != PML_COMM || h->info)
        return; /* MPI_COMM_NULL, or a communicator we know already */
    MPI_Comm r = (MPI_Comm)h->real;
    struct pml_comm *c = calloc(1, sizeof *c);
    if (!c)
        pml_fatal("out of memory for a communicator's state");
    c->v = v;
    pml_L.MPI_Comm_test_inter(r, &c->inter);
    pml_L.MPI_Comm_size(r, &c->size);
    pml_L.MPI_Comm_rank(r, &c->rank);
    MPI_Group g;
    int lowest = pml_world_rank;
    if (c->inter) {
        pml_L.MPI_Comm_remote_size(r, &c->nmap);
        pml_L.MPI_Comm_remote_group(r, &g);
    } else {
        c->nmap = c->size;
        pml_L.MPI_Comm_group(r, &g);
    }
    c->wmap = pml_world_map(g, c->nmap);
    pml_L.MPI_Group_free(&g);
    c->eh_fatal = eh_is_fatal(r);
    for (int i = 0; i < c->nmap; i++)
        if (c->wmap[i] >= 0 && c->wmap[i] < lowest)
            lowest = c->wmap[i];
    /* [0] the base, [1] minus the lowest world rank (MAX of the negation is the minimum) */
    int64_t mine[2] = { (int64_t)next_base, -(int64_t)lowest }, m[2], m2[2];
    MPI_Datatype i64 = (MPI_Datatype)pml_v2r(PML_H(MPI_INT64_T));
    if (pml_L.MPI_Allreduce(mine, m, 2, i64, lower_max(), r) != MPI_SUCCESS)
        pml_fatal("cannot agree on the id of a new communicator (%s)", pml_fn_name((uint32_t)fid));
    if (c->inter) {
        /* round 1 gave the other group's maximum; round 2 gives ours */
        if (pml_L.MPI_Allreduce(m, m2, 2, i64, lower_max(), r) != MPI_SUCCESS)
            pml_fatal("cannot agree on the id of a new intercommunicator");
        for (int i = 0; i < 2; i++)
            if (m2[i] > m[i])
                m[i] = m2[i];
    }
    uint64_t base = (uint64_t)m[0];
    c->cid = base * (uint64_t)pml_world_size + (uint64_t)(-m[1]);
    next_base = base + 1;
    pthread_mutex_lock(&pml_ck_lock);
    h->info = c;
    pthread_mutex_unlock(&pml_ck_lock);
    comm_append(c);
    revive_log_debug("%s: communicator %#lx has id %llu (size %d, rank %d%s)", pml_fn_name((uint32_t)fid),
            (unsigned long)v, (unsigned long long)c->cid, c->size, c->rank,
            c->inter ? ", intercommunicator" : "");
}

void pml_clock_add(struct pml_comm *c)
{
    comm_append(c);
}

/* The application freed it: its id and count stay (the coordinator needs every member's
 * count until an epoch has seen them equal; see pml_clock_prune). */
void pml_comm_freed(struct pml_comm *c)
{
    if (!c || c == &pml_comm_world || c == &pml_comm_self)
        return;
    /* persistent requests or pending receives hold it still (objs.h pml_vh_ref): it lives on
     * until the last of them goes (pml_vh_unref), probed by the drain while a persistent request
     * holds it (ckpt.h pml_comm_probed) */
    struct pml_vh *h = pml_vh_of(c->v);
    if (h && h->kind == PML_COMM && h->info == c && h->lrefs) {
        pthread_mutex_lock(&pml_ck_lock);
        c->flags |= PML_COMM_GONE;
        pthread_mutex_unlock(&pml_ck_lock);
        return;
    }
    pthread_mutex_lock(&pml_ck_lock);
    c->flags |= PML_COMM_FREED;
    c->v = 0;
    pthread_mutex_unlock(&pml_ck_lock);
}

/* After a committed epoch every member of a communicator had the same count; one that is freed
 * will see no more collectives anywhere, so its state can go. */
void pml_clock_prune(void)
{
    pthread_mutex_lock(&pml_ck_lock);
    struct pml_comm **pp = &pml_comms, *prev = NULL;
    while (*pp) {
        struct pml_comm *c = *pp;
        if ((c->flags & PML_COMM_FREED) && c->seq == pml_target_of(c->cid)) {
            *pp = c->next;
            if (comms_tail == c)
                comms_tail = prev;
            free(c->wmap);
            free(c);
            continue;
        }
        prev = c;
        pp = &c->next;
    }
    pthread_mutex_unlock(&pml_ck_lock);
}

/* ---- targets ------------------------------------------------------------------------------- */
uint64_t pml_target_of(uint64_t cid)
{
    int lo = 0, hi = tgt_n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (tgt_tab[mid].cid == cid)
            return tgt_tab[mid].seq;
        if (tgt_tab[mid].cid < cid)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return 0; /* a communicator the coordinator does not know: nothing to reach */
}

static uint64_t comm_target(struct pml_comm *c)
{
    if (c->tgt_ver != pml_tgt_version) {
        c->target = pml_target_of(c->cid);
        c->tgt_ver = pml_tgt_version;
    }
    return c->target;
}

static int cmp_seq(const void *a, const void *b)
{
    const struct snapc_seq *x = a, *y = b;
    return x->cid < y->cid ? -1 : x->cid > y->cid;
}

/* Called with pml_ck_lock held. A rank inside a post/start epoch of one-sided communication is
 * not at a safe point (win.c): it runs on, past collectives at their targets, until it closes it.
 * Nor is one that holds a shared lock or lock_all on a target another rank waits to lock
 * exclusively (win.c, pml_win_xwait_raise): it runs on until it lets go. */
int pml_all_reached(void)
{
    if (!pml_tgt_version || pml_epochs_open)
        return 0;
    for (struct pml_comm *c = pml_comms; c; c = c->next)
        if (c->seq < comm_target(c))
            return 0;
    return !(tgt_xwait && pml_win_holds_waited());
}

void pml_clock_set_targets(const struct snapc_seq *t, int n, uint32_t version)
{
    pthread_mutex_lock(&pml_ck_lock);
    if (n > tgt_cap) {
        struct snapc_seq *nt = realloc(tgt_tab, (size_t)n * sizeof *nt);
        if (!nt) {
            pthread_mutex_unlock(&pml_ck_lock);
            pml_fatal("out of memory for %d targets", n);
        }
        tgt_tab = nt;
        tgt_cap = n;
    }
    if (n > 0)
        memcpy(tgt_tab, t, (size_t)n * sizeof *t);
    tgt_n = n > 0 ? n : 0;
    qsort(tgt_tab, (size_t)tgt_n, sizeof *tgt_tab, cmp_seq);
    tgt_xwait = 0;
    for (int i = 0; i < tgt_n && !tgt_xwait; i++)
        tgt_xwait = pml_xwait_cid(tgt_tab[i].cid);
    /* a pair this rank is in but has no clock for yet (the other rank entered their first call
     * together): its count here is 0, behind the target (cross.c) */
    for (int i = 0; i < tgt_n; i++) {
        int lo, hi;
        if (pml_pair_of(tgt_tab[i].cid, &lo, &hi) && (lo == pml_world_rank || hi == pml_world_rank))
            pml_pair_clock_locked(tgt_tab[i].cid);
    }
    pml_tgt_version = version ? version : 1;
    pthread_cond_broadcast(&pml_ck_cond);
    pthread_mutex_unlock(&pml_ck_lock);
}

/* Epoch start: collective entries check targets from now on (they wait until known). */
void pml_clock_begin(void)
{
    pthread_mutex_lock(&pml_ck_lock);
    pml_tgt_version = 0;
    pml_clock_epochs++;
    tgt_n = 0;
    tgt_xwait = 0;
    for (struct pml_comm *c = pml_comms; c; c = c->next) {
        c->raised = 0;
        c->tgt_ver = 0;
    }
    __atomic_or_fetch(&pml_ck_flags, PML_CK_PENDING, __ATOMIC_SEQ_CST);
    pthread_mutex_unlock(&pml_ck_lock);
}

/* Epoch end (resume, abort): targets forgotten, counts kept. */
void pml_clock_end(void)
{
    pthread_mutex_lock(&pml_ck_lock);
    __atomic_and_fetch(&pml_ck_flags, ~(PML_CK_PENDING | PML_CK_GATE), __ATOMIC_SEQ_CST);
    pml_tgt_version = 0;
    pthread_cond_broadcast(&pml_ck_cond);
    pthread_mutex_unlock(&pml_ck_lock);
}

/* A consistent snapshot of every communicator's count: no thread is between reading the flags
 * and counting (begin() made them visible with membarrier), and the slow path counts under
 * the lock. */
int pml_clock_seqs(struct snapc_seq *out, int max)
{
    for (int i = 0; i < PML_MAX_SLOTS; i++) {
        if (!pml_slots[i].used)
            continue;
        while (__atomic_load_n(&pml_slots[i].w, __ATOMIC_ACQUIRE) & PML_T_ENTER)
            sched_yield();
    }
    pthread_mutex_lock(&pml_ck_lock);
    int n = 0;
    for (struct pml_comm *c = pml_comms; c; c = c->next) {
        if (pml_comm_single(c))
            continue;
        if (n < max) {
            out[n].cid = c->cid;
            out[n].seq = c->seq;
        }
        n++;
    }
    pthread_mutex_unlock(&pml_ck_lock);
    return n;
}

/* Collective entry while an epoch runs (or the gate is closed). Entered with the slot saying
 * IN|ENTER; returns with it saying IN (|CS), the collective counted. */
/* A wait at a collective's entry during an epoch (gate open), with pml_ck_lock held. While the
 * program has windows, the waiting thread keeps the library progressing every few milliseconds
 * (pml_objs_progress): another rank may be inside MPI_Win_unlock or MPI_Win_complete waiting for
 * this rank's library to answer, and it can reach its own safe point only then. The slot says IN
 * while it does, taken under the lock: a quiesce (which closes the gate under the same lock)
 * waits for it. */
/* gate-wake-late: with pml_ck_lock held, once the epoch that parked the thread ended (no gate,
 * nothing pending), the thread goes on 100 ms late, as one that lost the CPU to its agent */
static void wake_late(void)
{
    if (!(pml_ck_flags & (PML_CK_GATE | PML_CK_PENDING)) && revive_fault(REVIVE_FAULT_gate_wake_late)) {
        pthread_mutex_unlock(&pml_ck_lock);
        usleep(100 * 1000);
        pthread_mutex_lock(&pml_ck_lock);
    }
}

static void park_wait_once(struct pml_slot *t, uint32_t fid)
{
    if (!pml_wins) {
        pthread_cond_wait(&pml_ck_cond, &pml_ck_lock);
        return;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 2000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    if (pthread_cond_timedwait(&pml_ck_cond, &pml_ck_lock, &ts) != ETIMEDOUT ||
        (pml_ck_flags & PML_CK_GATE))
        return;
    uint32_t w = t->w;
    __atomic_store_n(&t->w, fid << 8 | PML_T_IN, __ATOMIC_SEQ_CST);
    pthread_mutex_unlock(&pml_ck_lock);
    pml_objs_progress();
    pthread_mutex_lock(&pml_ck_lock);
    __atomic_store_n(&t->w, w, __ATOMIC_RELEASE);
}

/* Every wait of a parked thread goes through these two (wake_late at each wake, so that no wait
 * escapes the fault point): park_wait during an epoch, pml_gate_wait while the gate is closed
 * (at a collective's entry, a shared lock's, and any call's in pml_gate_park, gate.c). */
static void park_wait(struct pml_slot *t, uint32_t fid)
{
    park_wait_once(t, fid);
    wake_late();
}

void pml_gate_wait(void)
{
    pthread_cond_wait(&pml_ck_cond, &pml_ck_lock);
    wake_late();
}

/* The clocks a call is counted on: c (may be NULL) and the pair clocks xs[0..nx) (cross.c),
 * which other threads may count at the same time: atomically. */
static void count_all(struct pml_comm *c, struct pml_comm *const *xs, int nx)
{
    if (c)
        c->seq++;
    for (int i = 0; i < nx; i++)
        __atomic_fetch_add(&xs[i]->seq, 1, __ATOMIC_RELAXED);
}

void pml_coll_slow(struct pml_slot *t, uint32_t fid, struct pml_comm *c, int blocking)
{
    pml_coll_slow_x(t, fid, c, NULL, 0, blocking);
}

/* The epoch a call opens (PML_ENTER_EPOCH) is counted with its clocks, under the lock: a rank
 * whose state said "at its targets, no epoch open" cannot have opened one since (win.c). */
static void count_entry(struct pml_comm *c, struct pml_comm *const *xs, int nx, int flags)
{
    count_all(c, xs, nx);
    if (flags & PML_ENTER_EPOCH)
        __atomic_add_fetch(&pml_epochs_open, 1, __ATOMIC_SEQ_CST);
}

void pml_coll_slow_x(struct pml_slot *t, uint32_t fid, struct pml_comm *c, struct pml_comm *const *xs,
                     int nx, int flags)
{
    int noted = 0, blocking = flags & PML_ENTER_BLOCKING, epoch = flags & PML_ENTER_EPOCH;
    __atomic_store_n(&t->w, fid << 8 | PML_T_IN, __ATOMIC_RELEASE); /* not ENTER: we count under the lock */
    if (t->agent) {
        count_entry(c, xs, nx, flags);
        return;
    }
    pthread_mutex_lock(&pml_ck_lock);
    for (;;) {
        uint32_t f = pml_ck_flags;
        if (f & PML_CK_GATE) {
            t->cs = c;
            t->cs_seq = c ? c->seq + 1 : 0;
            __atomic_store_n(&t->w, fid << 8 | PML_T_PARK, __ATOMIC_RELEASE);
            pml_gate_wait();
            continue;
        }
        if (!(f & PML_CK_PENDING) || (!c && !nx && !epoch))
            break;
        if (!pml_tgt_version) { /* targets not known yet */
            t->cs = c;
            t->cs_seq = c ? c->seq + 1 : 0;
            __atomic_store_n(&t->w, fid << 8 | PML_T_PARK, __ATOMIC_RELEASE);
            park_wait(t, fid);
            continue;
        }
        /* run on when every clock it counts on is short of its target; an epoch opened on no
         * clock (an exclusive lock) only where the rank is not at a safe point: one that holds a
         * shared lock another rank waits to lock exclusively is not (win.c). One that holds a
         * shared lock nobody waits for parks here: it may have said it was at its targets, and
         * an epoch opened after that was found open by the drain ("could not drain its messages:
         * 1 ... exclusive lock(s) ... open", rst_slock); a wait that comes later raises the
         * targets, and it runs on then (park_wait, pml_all_reached). */
        int at = c && c->seq >= comm_target(c);
        for (int i = 0; i < nx && !at; i++)
            at = xs[i]->seq >= comm_target(xs[i]);
        if (!c && !nx)
            at = pml_all_reached();
        if (!at)
            break;
        t->cs = c;
        t->cs_seq = c ? c->seq + 1 : 0;
        __atomic_store_n(&t->w, fid << 8 | PML_T_PARK, __ATOMIC_RELEASE);
        if (pml_all_reached()) {
            /* a safe point: park at this entry until the epoch ends */
            if (!noted) {
                noted = 1;
                pthread_mutex_unlock(&pml_ck_lock);
                pml_agent_notify();
                pthread_mutex_lock(&pml_ck_lock);
                continue;
            }
            park_wait(t, fid);
            continue;
        }
        /* another target lies behind this call: ask for each clock at its target to be raised */
        int asked = 0, lost = 0;
        for (int i = -1; i < nx && !lost; i++) {
            struct pml_comm *k = i < 0 ? c : xs[i];
            if (!k || k->seq < comm_target(k) || k->raised > k->seq)
                continue;
            k->raised = k->seq + 1;
            uint64_t cid = k->cid, want = k->seq + 1;
            pthread_mutex_unlock(&pml_ck_lock);
            revive_log_debug("raise: %s on communicator %llu must pass collective %llu",
                    pml_fn_name(fid), (unsigned long long)cid, (unsigned long long)want);
            /* no agent to ask: nothing can answer, run on (the epoch will be aborted) */
            lost = pml_agent_raise(cid, want) < 0;
            pthread_mutex_lock(&pml_ck_lock);
            asked = 1;
        }
        if (lost)
            break;
        if (asked)
            continue;
        park_wait(t, fid);
    }
    count_entry(c, xs, nx, flags);
    t->cs = blocking ? c : NULL;
    t->cs_seq = c ? c->seq : 0;
    int during = (pml_ck_flags & PML_CK_PENDING) != 0;
    __atomic_store_n(&t->w, fid << 8 | PML_T_IN | (blocking ? PML_T_CS : 0), __ATOMIC_RELEASE);
    pthread_mutex_unlock(&pml_ck_lock);
    if (during || noted)
        pml_agent_notify(); /* in_cs, at_target may have changed */
}

/* The entry of a shared lock or lock_all (win.c) while a snapshot converges, the lock counted
 * as held (the slot's swin, win.c). A rank at its targets may have said so; holding a target another
 * rank waits to lock exclusively it would not be (pml_all_reached) without new targets, and it
 * would run on into an exclusive lock, an epoch the drain finds open. It parks here instead,
 * the lock not counted, until the snapshot is over, the gate closes, or new targets leave it
 * short of them. The slot says IN on return, the lock counted again. */
void pml_shared_enter(struct pml_slot *t, uint32_t fid, struct pml_win *w, int rank)
{
    int noted = 0;
    pthread_mutex_lock(&pml_ck_lock);
    __atomic_store_n(&t->swin, NULL, __ATOMIC_RELAXED);
    for (;;) {
        uint32_t f = pml_ck_flags;
        if (f & PML_CK_GATE) {
            t->cs = NULL;
            __atomic_store_n(&t->w, fid << 8 | PML_T_PARK, __ATOMIC_RELEASE);
            pml_gate_wait();
            continue;
        }
        if (!(f & PML_CK_PENDING) || !pml_all_reached() || !pml_win_waited(w, rank))
            break;
        t->cs = NULL;
        __atomic_store_n(&t->w, fid << 8 | PML_T_PARK, __ATOMIC_RELEASE);
        if (!noted) {
            noted = 1;
            pthread_mutex_unlock(&pml_ck_lock);
            pml_agent_notify();
            pthread_mutex_lock(&pml_ck_lock);
            continue;
        }
        park_wait(t, fid);
    }
    __atomic_store_n(&t->swin, w, __ATOMIC_RELAXED);
    __atomic_store_n(&t->w, fid << 8 | PML_T_IN, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&pml_ck_lock);
    if (noted)
        pml_agent_notify();
}

void pml_coll_exit_slow(void)
{
    pml_agent_notify();
}

/* The request of an idup: already complete (below). */
static MPI_Request idup_done(MPI_Comm comm)
{
    uintptr_t v;
    struct pml_req *q = pml_rq_new(&v);
    pml_rq_fill(q, PML_RQ_OTHER, PML_MODE_STD, NULL, 0, 0, MPI_PROC_NULL, 0, PML_H(comm));
    q->real = PML_H(pml_v2r(PML_H(MPI_REQUEST_NULL)));
    pml_status_set(&q->st, MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_SUCCESS, 0);
    q->flags = PML_RQ_ACTIVE | PML_RQ_DONE | PML_RQ_NOCOUNT;
    pml_rq_ndone++;
    return (MPI_Request)v;
}

/* MPI_Comm_idup is done as MPI_Comm_dup (the id must be agreed inside the call, and a
 * nonblocking agreement could not be ordered with other creations); the request returned is
 * already complete. A program that needs the dup to progress in the background while it waits
 * for a message from a member that has not called it yet would block here (documented). */
int MPI_Comm_idup(MPI_Comm comm, MPI_Comm *newcomm, MPI_Request *request)
{
    if (__builtin_expect(pml_L.MPI_Comm_dup == NULL, 0))
        return pml_not_ready("MPI_Comm_idup");
    PML_COLL_ENTER(PML_FID_MPI_Comm_idup, comm, 1);
    MPI_Comm r = (MPI_Comm)pml_v2r(PML_H(MPI_COMM_NULL));
    int rc = PML_LIB_WAIT(t_, pml_L.MPI_Comm_dup((MPI_Comm)pml_v2r(PML_H(comm)), &r));
    if (rc == MPI_SUCCESS) {
        *newcomm = (MPI_Comm)pml_new(PML_COMM, PML_H(r));
        pml_comm_created(PML_H(*newcomm), PML_FID_MPI_Comm_idup);
        struct pml_rec *R = pml_rec_open(PML_FID_MPI_Comm_dup); /* replayed as what it was */
        pml_rec_handle(R, PML_H(comm));
        pml_rec_out(R, PML_H(*newcomm));
        pml_rec_close(R);
        *request = idup_done(comm);
    }
    PML_COLL_LEAVE(1);
    return rc;
}
int PMPI_Comm_idup(MPI_Comm, MPI_Comm *, MPI_Request *) __attribute__((alias("pml_own_MPI_Comm_idup")));

#if MPI_VERSION >= 4
/* The same with an info object (MPI-4): done as MPI_Comm_dup_with_info, recorded as it. */
int MPI_Comm_idup_with_info(MPI_Comm comm, MPI_Info info, MPI_Comm *newcomm, MPI_Request *request)
{
    if (__builtin_expect(pml_L.MPI_Comm_dup_with_info == NULL, 0))
        return pml_not_ready("MPI_Comm_idup_with_info");
    PML_COLL_ENTER(PML_FID_MPI_Comm_idup_with_info, comm, 1);
    MPI_Comm r = (MPI_Comm)pml_v2r(PML_H(MPI_COMM_NULL));
    int rc = PML_LIB_WAIT(t_, pml_L.MPI_Comm_dup_with_info((MPI_Comm)pml_v2r(PML_H(comm)),
                                                           (MPI_Info)pml_v2r(PML_H(info)), &r));
    if (rc == MPI_SUCCESS) {
        *newcomm = (MPI_Comm)pml_new(PML_COMM, PML_H(r));
        pml_comm_created(PML_H(*newcomm), PML_FID_MPI_Comm_idup_with_info);
        struct pml_rec *R = pml_rec_open(PML_FID_MPI_Comm_dup_with_info); /* replayed as it */
        pml_rec_handle(R, PML_H(comm));
        pml_rec_handle(R, PML_H(info));
        pml_rec_out(R, PML_H(*newcomm));
        pml_rec_close(R);
        *request = idup_done(comm);
    }
    PML_COLL_LEAVE(1);
    return rc;
}
int PMPI_Comm_idup_with_info(MPI_Comm, MPI_Info, MPI_Comm *, MPI_Request *)
    __attribute__((alias("pml_own_MPI_Comm_idup_with_info")));
#endif
