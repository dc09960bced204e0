/* The rank side of global snapshots, inside Revive's MPI layer: what the gate (gate.c), the
 * collective clock (clock.c), the request table (reqs.c), point to point (p2p.c), the drain
 * (drain.c) and the agent's operations (rank_ops.c) share. The design is in
 * src/pml_hooks/README.md ("Global snapshots: the rank side"); the protocol in
 * /work/team/SNAPC.md and docs of src/snapc.
 *
 * Steady state costs per call: the gate (two stores to the thread's own slot and one load of
 * pml_ck_flags); a collective adds one increment; a send one array add; a completed receive
 * one add. No lock, no atomic read-modify-write, no message. */
#ifndef PML_HOOKS_CKPT_H
#define PML_HOOKS_CKPT_H

#include "pml_hooks/layer.h"
#include "snapc/agent.h"

#include <pthread.h>
#include <stdint.h>

/* ---- the gate and the thread slots (gate.c) ------------------------------------------------
 * Every thread that calls into the layer owns a slot; its word w says where the thread is:
 *   PML_T_IN     inside an entry point (the lower half may be in use, layer state may change)
 *   PML_T_ENTER  between reading pml_ck_flags and counting a collective (seqs() waits for it)
 *   PML_T_CS     inside a blocking collective (the rank is "in_cs")
 *   PML_T_PARK   parked: at the closed gate, or at a collective entry during an epoch
 *   PML_T_WAIT   in Revive's wait loop (polling the lower half between gate checks)
 * and bits 8.. hold the entry point's function id (for "what the rank waits in").
 * The agent sets a flag in pml_ck_flags, runs membarrier (every running thread executes a full
 * barrier) and then reads the slots: a thread either saw the flag or its slot shows it inside
 * (the asymmetric fence; without membarrier each entry pays a fence). */
#define PML_T_IN 1u
#define PML_T_ENTER 2u
#define PML_T_CS 4u
#define PML_T_PARK 8u
#define PML_T_WAIT 16u
#define PML_T_FID(w) ((w) >> 8)

#define PML_CK_PENDING 1u /* an epoch runs: collective entries check their targets */
#define PML_CK_GATE 2u    /* the gate is closed: every entry parks */

struct pml_comm;

struct pml_slot {
    volatile uint32_t w;       /* PML_T_* | function id << 8 */
    uint32_t used;
    pid_t tid;
    uint32_t agent;            /* the agent thread: never parks */
    struct pml_comm *cs;       /* the collective's communicator while PML_T_CS or parked at one */
    uint64_t cs_seq;           /* its number */
    uint32_t idle;             /* turns of the current wait that found nothing done (idle.c) */
    uint32_t lib_wait;         /* waiting inside the library (pml_idle_lib_enter) */
    uint32_t lib_idle;         /* its progress turns that found nothing (idle.c) */
    /* in MPI_Win_lock for a shared lock of target srank (-1: MPI_Win_lock_all) of window swin,
     * not MPI_MODE_NOCHECK: counted as held from before the gate's check of the flags to the end
     * of the call (win.c pml_win_holds_waited). Plain stores to the thread's own slot, ordered by
     * the gate's fence as its word is: four locked read-modify-writes of counters in the window
     * cost a shared lock epoch of one rank ~10% (bench/mpi/README.md) */
    int srank;
    struct pml_win *volatile swin;
    char pad[64 - 56];
} __attribute__((aligned(64)));

#define PML_MAX_SLOTS 1024
extern struct pml_slot pml_slots[PML_MAX_SLOTS];
/* The gate's flags and whether an entry pays a full fence (membarrier unavailable) share one
 * aligned word, so that an entry's check is one load and one branch: both 0 is the fast path,
 * anything else goes the slow way, which fences first when it must (pml_gate_flags) and reads
 * the flags again. The flags' own readers and writers name them as before. */
union pml_gatew {
    struct {
        volatile uint32_t flags;
        int need_fence; /* set once, at load (gate.c pml_gate_init) */
    } s;
    volatile uint64_t both;
};
PML_HOT extern union pml_gatew pml_gatew;
#define pml_ck_flags (pml_gatew.s.flags)
#define pml_need_fence (pml_gatew.s.need_fence)
/* Nonzero when an entry must leave its fast path: a flag is set, or membarrier is missing. */
#define PML_GATE_ANY() __builtin_expect(pml_gatew.both != 0, 0)
/* On that way out: the full fence an entry pays without membarrier (between its slot's store
 * and this load), then the flags. */
static inline uint32_t pml_gate_flags(void)
{
    if (pml_need_fence)
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
    return pml_ck_flags;
}
extern __thread struct pml_slot *pml_self __attribute__((tls_model("initial-exec")));
extern pthread_mutex_t pml_ck_lock; /* slow paths: targets, parking, resume */
extern pthread_cond_t pml_ck_cond;  /* broadcast on every change of flags or targets */

struct pml_slot *pml_slot_new(void);
void pml_gate_slow(struct pml_slot *t, uint32_t prev, uint32_t fid);
void pml_gate_init(void);
int pml_membarrier(void);       /* the agent's side of the fence */
void pml_gate_park(struct pml_slot *t, uint32_t fid); /* wait loops: park until the gate opens */
/* With pml_ck_lock held: one wait of a thread the closed gate parks (clock.c; fault point
 * gate-wake-late acts at its wake, so every gate wait goes through it) */
void pml_gate_wait(void);
/* "is outside MPI, blocked reading fd 0 (its standard input: pipe:[..])" (outside.c) */
void pml_outside_what(char *buf, size_t n);
/* ", blocked opening PATH (a FIFO: ...)" when thread TID waits in an open of a FIFO or a device
 * (the MPI library's, inside an MPI call: MPI_File_open of a FIFO nobody writes), else "". */
void pml_inside_open_what(pid_t tid, char *buf, size_t n);

static inline struct pml_slot *pml_slot(void)
{
    struct pml_slot *t = pml_self;
    if (__builtin_expect(t == NULL, 0))
        t = pml_slot_new();
    return t;
}

#define PML_BARRIER() __asm__ __volatile__("" ::: "memory")

/* Entry into the layer: t_ and w_ name the slot and the word to restore on the way out. */
#define PML_GATE_ENTER(fid)                                                                   \
    struct pml_slot *t_ = pml_slot();                                                         \
    uint32_t w_ = t_->w;                                                                      \
    t_->w = (uint32_t)(fid) << 8 | PML_T_IN;                                                  \
    PML_BARRIER();                                                                            \
    if (PML_GATE_ANY() && pml_gate_flags() != 0)                                              \
        pml_gate_slow(t_, w_, (uint32_t)(fid))
#define PML_GATE_LEAVE() __atomic_store_n(&t_->w, w_, __ATOMIC_RELEASE)
/* The gate of an entry point's front (gen_mpi.py FAST, win.c): its fast case only. Anything else
 * (the thread has no slot yet, a flag is set, membarrier is missing) puts the slot's word back,
 * as a leave would, and returns `full`: the whole entry point called with the same arguments,
 * which passes the gate again its own way (a tail call: the front keeps nothing across it, so
 * that only t_ and w_ live across the library's call). PML_GATE_LEAVE leaves it. */
#define PML_FAST_ENTER(fid, full) PML_FAST_ENTER_X(fid, 0, full)
/* The same with more bits in the slot's word (PML_T_ENTER: a collective's entry, which the
 * caller counts and then marks PML_T_CS, as PML_COLL_ENTER_C's fast case does). */
#define PML_FAST_ENTER_X(fid, bits, full)                                                     \
    struct pml_slot *t_ = pml_self;                                                           \
    if (__builtin_expect(t_ == NULL, 0))                                                      \
        return full;                                                                          \
    uint32_t w_ = t_->w;                                                                      \
    t_->w = (uint32_t)(fid) << 8 | PML_T_IN | (bits);                                         \
    PML_BARRIER();                                                                            \
    if (PML_GATE_ANY()) {                                                                     \
        PML_FAST_BACK();                                                                      \
        return full;                                                                          \
    }
/* A front that found its fast case does not apply after all (a handle that needs the general
 * translation...): the slot's word back, as if it never entered, before it returns `full`. */
#define PML_FAST_BACK() __atomic_store_n(&t_->w, w_, __ATOMIC_RELEASE)

/* ---- waiting without spinning (idle.c) ----------------------------------------------------
 * REVIVE_MPI_YIELD_WHEN_IDLE=1 (read at load, and again from the new launcher's environment at
 * a restart): a wait that finds nothing done gives the processor away (sched_yield, then sleeps
 * growing to 1 ms) instead of polling flat out, and a blocking collective runs as its
 * nonblocking form completed by such a wait. For more ranks than cores (MPICH 4.0 over UCX has
 * no setting of its own that yields); off, the waits poll as the library would. */
PML_HOT extern int pml_idle_on; /* hidden: read in every library wait (no GOT load) */
void pml_idle_configure(const char *value, const char *where); /* NULL value: off */
void pml_idle_slow(struct pml_slot *t);  /* one idle turn of a wait (t->idle: turns so far) */
/* A wait (Wait*, Probe, Mprobe, a blocking call's own wait) starts: no idle turn yet. */
static inline void pml_idle_start(struct pml_slot *t)
{
    t->idle = 0;
}
static inline void pml_idle(struct pml_slot *t)
{
    if (__builtin_expect(pml_idle_on, 0))
        pml_idle_slow(t);
}
/* One idle turn of a wait loop of the layer's own, run by the agent with no slot of its own (the
 * drain and its exchanges, drain.c, drain_xchg.c, which spun flat out with the setting too):
 * *turns counts the turns of the wait that found nothing done (set it to 0 when one did). */
void pml_idle_turn(uint32_t *turns);
static inline void pml_idle_own(uint32_t *turns)
{
    if (__builtin_expect(pml_idle_on, 0))
        pml_idle_turn(turns);
}
/* A test call (Test*, Iprobe) found nothing: a yield, as Open MPI's mpi_yield_when_idle does. */
void pml_idle_test_slow(void);
static inline void pml_idle_test(void)
{
    if (__builtin_expect(pml_idle_on, 0))
        pml_idle_test_slow();
}
/* A call that waits inside the library with no nonblocking form to wait on instead (win.c: an
 * exclusive lock, unlock, post/start/complete/wait, fence): MPICH over UCX polls UCX flat out
 * there. Between enter and leave, each of the library's UCX progress turns that found nothing
 * is an idle turn (lower_root.c's ucp_worker_progress, idle.c's lib_progress); nothing changes
 * with the setting off. The library only returns once its own condition holds: a turn slept
 * delays it by 1 ms at most. */
/* With the setting off nothing is marked (PML_IDLE_LIB_NONE), so nothing is put back either:
 * the slot's word was saved and stored again around every lock, unlock and fence for nothing. */
#define PML_IDLE_LIB_NONE UINT32_MAX
static inline uint32_t pml_idle_lib_enter(struct pml_slot *t)
{
    if (__builtin_expect(!pml_idle_on, 1))
        return PML_IDLE_LIB_NONE;
    uint32_t was = t->lib_wait;
    t->lib_wait = 1;
    t->lib_idle = 0;
    return was;
}
static inline void pml_idle_lib_leave(struct pml_slot *t, uint32_t was)
{
    if (__builtin_expect(was != PML_IDLE_LIB_NONE, 0))
        t->lib_wait = was;
}
/* CALL (an int) between pml_idle_lib_enter and leave on slot T: a call of the library that may
 * wait inside it for other ranks and has no nonblocking form the layer waits on instead (win.c's
 * epochs and locks; the generated blocking collectives and communicator creations, gen_mpi.py:
 * MPICH's ranks spun in MPI_Intercomm_create and MPI_Comm_create_group for the late half of
 * rst_cross-mpich's ranks). */
#define PML_LIB_WAIT(t, call)                                                                 \
    ({                                                                                        \
        struct pml_slot *s_ = (t);                                                            \
        uint32_t was_ = s_ ? pml_idle_lib_enter(s_) : PML_IDLE_LIB_NONE;                      \
        int r_ = (call);                                                                      \
        if (s_)                                                                               \
            pml_idle_lib_leave(s_, was_);                                                     \
        r_;                                                                                   \
    })

/* The lower half's request of a blocking collective's nonblocking form, completed by an idle
 * wait (no parking: the thread is inside the collective, as in the blocking call). */
int pml_idle_complete(MPI_Request *q, struct pml_slot *t);

/* ---- the collective clock (clock.c) -------------------------------------------------------- */
#define PML_COMM_FREED 1u
#define PML_COMM_OBJ 2u   /* the clock of a file or a window (objs.h): v is 0, nothing to probe */
/* the program freed it while the layer holds it (objs.h pml_vh_ref: persistent requests; pending
 * receives, rholds of them): the clock and the handle stay for a restart */
#define PML_COMM_GONE 4u

struct pml_comm {
    uint64_t cid;            /* agreed at creation: WORLD 0, SELF 1 */
    uint64_t seq;            /* collectives entered on it (never reset) */
    uint64_t target;         /* during an epoch (tgt_ver == pml_tgt_version) */
    uint64_t raised;         /* the target this rank asked for (RAISE), this epoch */
    uint32_t tgt_ver;
    uint32_t flags;          /* PML_COMM_* */
    uintptr_t v;             /* the application's handle (0 once freed) */
    int size, rank, inter;
    int eh_fatal;            /* its error handler is MPI_ERRORS_ARE_FATAL */
    int nmap;                /* entries in wmap */
    uint32_t rholds;         /* of the handle's layer references, pending receives' (reqs.c
                                pml_rq_hold_locked; changed under pml_vh_lock) */
    int *wmap;               /* world rank of each peer rank (the remote group of an intercomm);
                                NULL: the identity (WORLD) */
    struct pml_comm *next;   /* every communicator this rank ever had, in creation order */
};

/* The drain may probe c (drain.c). One the program freed only while a persistent request holds
 * it: the library keeps it for the request, and messages may come before the next MPI_Start.
 * MPICH 4.0 keeps none for a pending receive (MPI_Iprobe: "Invalid communicator" after the
 * program's MPI_Comm_free, session 41), and a message for that receive is the library's to match
 * (test_pending sees it complete): only pending receives holding it, it is not probed. */
static inline int pml_comm_probed(const struct pml_comm *c)
{
    if (!(c->flags & PML_COMM_GONE))
        return 1;
    const struct pml_vh *h = pml_vh_of(c->v);
    return h && h->lrefs > c->rholds;
}

extern struct pml_comm pml_comm_world, pml_comm_self;
extern struct pml_comm *pml_comms;      /* the list */
extern uint64_t *pml_sent_to;           /* messages sent to each world rank */
extern uint64_t pml_received;           /* receives completed (and messages Mprobed) */
extern int pml_world_size, pml_world_rank;
extern uint32_t pml_tgt_version;        /* 0: no targets known this epoch */
extern uint32_t pml_clock_epochs;       /* epochs begun (pml_clock_begin) */
extern int pml_finalizing;
extern uintptr_t pml_private_world;     /* the lower half's private dup of MPI_COMM_WORLD */
extern uintptr_t pml_private_self;      /* and of MPI_COMM_SELF (errors return) */

static inline struct pml_comm *pml_comm_of(uintptr_t v)
{
    struct pml_vh *h = pml_vh_of(v);
    if (h)
        return h->kind == PML_COMM ? (struct pml_comm *)h->info : NULL;
    if (v == PML_H(MPI_COMM_WORLD))
        return &pml_comm_world;
    if (v == PML_H(MPI_COMM_SELF))
        return &pml_comm_self;
    return NULL;
}

/* A communicator of one rank (MPI_COMM_SELF...): its collectives need no agreement, so they
 * are neither counted nor reported. */
static inline int pml_comm_single(const struct pml_comm *c)
{
    return !c->inter && c->size == 1;
}

static inline struct pml_comm *pml_comm_counted(uintptr_t v)
{
    struct pml_comm *c = pml_comm_of(v);
    return c && !pml_comm_single(c) ? c : NULL;
}

void pml_clock_init(void);     /* after the lower half's MPI_Init */
void pml_coll_slow(struct pml_slot *t, uint32_t fid, struct pml_comm *c, int blocking);
/* flags: PML_ENTER_BLOCKING (in_cs until the call leaves), PML_ENTER_EPOCH (the call opens a
 * post/start epoch or an exclusive lock: counted in pml_epochs_open with the clocks, and one on
 * no clock is held at the entry of a rank at a safe point, as a collective at its target is) */
#define PML_ENTER_BLOCKING 1
#define PML_ENTER_EPOCH 2
void pml_coll_slow_x(struct pml_slot *t, uint32_t fid, struct pml_comm *c, struct pml_comm *const *xs,
                     int nx, int flags);
void pml_coll_exit_slow(void);
/* Pair clocks (cross.c): the clocks MPI_Intercomm_create and MPI_Comm_create_group are counted
 * on besides their communicator's, into a fresh array (free it; NULL when 0). */
int pml_cross_intercomm(uintptr_t local, int local_leader, uintptr_t peer, int remote_leader,
                        struct pml_comm ***out);
int pml_cross_group(uintptr_t group, struct pml_comm ***out);
int pml_pair_of(uint64_t cid, int *lo, int *hi);       /* 1: cid is a pair clock's */
struct pml_comm *pml_pair_clock_locked(uint64_t cid); /* found or made; NULL: not this rank's */
void pml_clock_add_locked(struct pml_comm *c);
int *pml_world_map(MPI_Group g, int n); /* world ranks of a group's members (malloc) */
/* The world ranks of the members of a group of the program's (a virtual handle), worked out once
 * per group and kept with its handle (freed with it); serial is unique to the map, so a handle
 * made again for another group is never taken for the old one. NULL: an empty or bad group.
 * Called inside an entry point (it may ask the lower half). The pair clocks of this rank with the
 * members (cross.c) are found once too, at the first post or start on it (npairs -1 until then):
 * a pair clock is never freed. */
struct pml_group_map {
    uint64_t serial;
    int n;
    int npairs;
    struct pml_comm **pairs; /* n slots, in the same allocation */
    int world[];
};
const struct pml_group_map *pml_group_map(uintptr_t group);
/* MPI_Win_post and MPI_Win_start: the pair clocks of this rank with each member of the group,
 * kept with the group's map (*out: not to be freed; *map: the map, NULL for a bad group). Inline
 * where the map and its pairs are made already (every epoch but a group's first): a call and its
 * frame were a tenth of what the layer added to an epoch of one rank (bench/mpi layercost). */
int pml_cross_win_group_slow(uintptr_t group, uint32_t fid, struct pml_comm *const **out,
                             const struct pml_group_map **map);
static inline int pml_cross_win_group(uintptr_t group, uint32_t fid, struct pml_comm *const **out,
                                      const struct pml_group_map **map)
{
    struct pml_vh *h = pml_vh_of(group);
    struct pml_group_map *m = h && h->kind == PML_GROUP
                                  ? __atomic_load_n((struct pml_group_map **)&h->aux, __ATOMIC_ACQUIRE)
                                  : NULL;
    int k = m ? __atomic_load_n(&m->npairs, __ATOMIC_ACQUIRE) : -1;
    if (__builtin_expect(k < 0, 0))
        return pml_cross_win_group_slow(group, fid, out, map);
    *map = m;
    *out = m->pairs;
    return k;
}
/* A communicator made by a collective call (cid agreed on it, rank map): parent may be NULL. */
void pml_comm_created(uintptr_t v, int fid);
void pml_comm_freed(struct pml_comm *c);
/* The program freed communicator vcomm (MPI_Comm_free, MPI_Comm_disconnect): its windows' meeting
 * place (win_ckpt.c), if it has one, is orphaned on this member (nothing collective here); once
 * every member's vote says so, freed with its last window, adopted by the next communicator of the
 * same members, or freed at the next shared window made or freed by all its members, else before
 * MPI_Finalize. */
void pml_win_meet_comm_freed(uintptr_t vcomm);
void pml_clock_add(struct pml_comm *c); /* a clock made elsewhere (files, windows): appended */
void pml_comm_eh_changed(uintptr_t v);
uint64_t pml_target_of(uint64_t cid);
int pml_all_reached(void); /* with pml_ck_lock held */
PML_HOT extern volatile uint32_t pml_epochs_open; /* post/start epochs and exclusive locks open (win.c) */
/* The entry of a call that opens an epoch of one-sided communication (win.c), counted on the
 * pair clocks xs[0..nx) of the ranks it links; the slot says IN|ENTER. Inline: the call and its
 * frame were a tenth of what the layer added to an exclusive lock epoch (bench/mpi/README.md). */
static inline void pml_epoch_enter(struct pml_slot *t, uint32_t fid, struct pml_comm *const *xs,
                                   int nx)
{
    if (PML_GATE_ANY() && pml_gate_flags() != 0) { /* the fence first when it must (above) */
        pml_coll_slow_x(t, fid, NULL, xs, nx, PML_ENTER_EPOCH);
        return;
    }
    /* counted while the slot says ENTER: an epoch's begin (pml_clock_seqs) waits for that, so
     * the counts it reads come with the epoch open */
    for (int i = 0; i < nx; i++)
        __atomic_fetch_add(&xs[i]->seq, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&pml_epochs_open, 1, __ATOMIC_SEQ_CST);
    __atomic_store_n(&t->w, fid << 8 | PML_T_IN, __ATOMIC_RELEASE);
}
/* Exclusive locks waited for during a snapshot (win.c): a target's clock id of that kind, a
 * shared lock or lock_all held or being taken (the slot's swin) on a target so raised (with
 * pml_ck_lock held), whether one would hold a target so raised (with pml_ck_lock held), and the
 * agent's raise of those this rank holds or waits for exclusively. */
struct pml_win;
int pml_xwait_cid(uint64_t cid);
int pml_win_holds_waited(void);
int pml_win_waited(const struct pml_win *w, int rank);
/* The entry of a shared lock or lock_all (not NOCHECK) while an epoch runs (clock.c); the slot
 * says IN, and IN on return. */
void pml_shared_enter(struct pml_slot *t, uint32_t fid, struct pml_win *w, int rank);
void pml_win_xwait_raise(void);
void pml_clock_begin(void);
void pml_clock_end(void);
void pml_clock_prune(void);
int pml_clock_seqs(struct snapc_seq *out, int max);
void pml_clock_set_targets(const struct snapc_seq *t, int n, uint32_t version);

/* Entry of a collective on communicator `comm` (counted, after the target check).
 * blocking: the rank is in_cs until PML_COLL_LEAVE. */
#define PML_COLL_ENTER(fid, comm, blocking)                                                   \
    PML_COLL_ENTER_C(fid, pml_comm_counted(PML_H(comm)), blocking)
/* The same on a clock given directly (a file's or a window's, objs.h; NULL: counted nowhere). */
#define PML_COLL_ENTER_C(fid, cptr, blocking)                                                 \
    struct pml_slot *t_ = pml_slot();                                                         \
    uint32_t w_ = t_->w;                                                                      \
    struct pml_comm *c_ = (cptr);                                                             \
    t_->w = (uint32_t)(fid) << 8 | PML_T_IN | PML_T_ENTER;                                    \
    PML_BARRIER();                                                                            \
    if (PML_GATE_ANY() && pml_gate_flags() != 0) {                                            \
        pml_coll_slow(t_, (uint32_t)(fid), c_, (blocking));                                   \
    } else {                                                                                  \
        if (c_)                                                                               \
            c_->seq++;                                                                        \
        if (blocking)                                                                         \
            t_->cs = c_;                                                                      \
        PML_BARRIER();                                                                        \
        t_->w = (uint32_t)(fid) << 8 | PML_T_IN | ((blocking) ? PML_T_CS : 0);                \
    }
/* The same for a call also counted on pair clocks xs[0..nx) (cross.c). */
#define PML_COLL_ENTER_X(fid, comm, blocking, xs, nx)                                         \
    struct pml_slot *t_ = pml_slot();                                                         \
    uint32_t w_ = t_->w;                                                                      \
    struct pml_comm *c_ = pml_comm_counted(PML_H(comm));                                      \
    t_->w = (uint32_t)(fid) << 8 | PML_T_IN | PML_T_ENTER;                                    \
    PML_BARRIER();                                                                            \
    if (PML_GATE_ANY() && pml_gate_flags() != 0) {                                            \
        pml_coll_slow_x(t_, (uint32_t)(fid), c_, (xs), (nx), (blocking));                     \
    } else {                                                                                  \
        if (c_)                                                                               \
            c_->seq++;                                                                        \
        for (int x_ = 0; x_ < (nx); x_++)                                                     \
            __atomic_fetch_add(&(xs)[x_]->seq, 1, __ATOMIC_RELAXED);                          \
        if (blocking)                                                                         \
            t_->cs = c_;                                                                      \
        PML_BARRIER();                                                                        \
        t_->w = (uint32_t)(fid) << 8 | PML_T_IN | ((blocking) ? PML_T_CS : 0);                \
    }
#define PML_COLL_LEAVE(blocking)                                                              \
    do {                                                                                      \
        __atomic_store_n(&t_->w, w_, __ATOMIC_RELEASE);                                       \
        if ((blocking) && __builtin_expect(pml_ck_flags != 0, 0))                             \
            pml_coll_exit_slow();                                                             \
    } while (0)

/* Counting point to point. */
static inline void pml_count_add(uint64_t *p, int64_t d)
{
    if (pml_threaded)
        __atomic_fetch_add(p, (uint64_t)d, __ATOMIC_RELAXED);
    else
        *p += (uint64_t)d;
}
static inline void pml_count_send(struct pml_comm *c, int dest, int64_t d)
{
    if (dest < 0 || !c) /* MPI_PROC_NULL */
        return;
    int w = c->wmap ? (dest < c->nmap ? c->wmap[dest] : -1) : dest;
    if (w >= 0 && w < pml_world_size)
        pml_count_add(&pml_sent_to[w], d);
}

/* A blocking send of at most this many elements of a predefined type uses the library's own
 * blocking send (at most 64 * 32 bytes: eager on every transport). */
#define PML_DIRECT_SEND_MAX 64
/* A blocking send to the rank itself: Open MPI buffers it (the nonblocking form would wait for
 * the receive: a program that sends to itself, then receives, would hang under the wait loop);
 * MPICH waits for the receive in both forms (measured, 4.0.2). */
#ifdef PML_OMPI
#define PML_SELF_DIRECT 1
#else
#define PML_SELF_DIRECT 0
#endif
static inline int pml_type_predef(uintptr_t v)
{
    return pml_vh_of(v) == NULL; /* predefined (or null: the library reports it) */
}

/* dest is the calling rank itself (intracommunicators) */
static inline int pml_to_self(uintptr_t vcomm, int dest)
{
    struct pml_comm *c = pml_comm_of(vcomm);
    return c && !c->inter && dest == c->rank;
}

/* ---- the request table (reqs.c) ------------------------------------------------------------
 * One entry per request the application holds (indexed like its virtual handle) or that a
 * blocking call made for itself (on that call's stack). Active requests are kept in posting
 * order on the pending list: the drain tests them in that order and matches probed messages
 * to receives in that order; a restart re-posts the receives from it. */
enum pml_rq_kind {
    PML_RQ_NONE = 0, PML_RQ_SEND, PML_RQ_RECV, PML_RQ_NBC, PML_RQ_MRECV, PML_RQ_OTHER,
    PML_RQ_PAIR,  /* MPI_Isendrecv(_replace): two halves of its own (pairs.c), never pending */
    PML_RQ_PCOLL, /* a persistent collective (MPI_Allreduce_init...): made by the replay again */
    PML_RQ_GREQ   /* a generalized request (MPI_Grequest_start): the layer's alone, never pending */
};
enum pml_rq_mode { PML_MODE_STD = 0, PML_MODE_BUF, PML_MODE_SYNC, PML_MODE_READY };

#define PML_RQ_PERSIST 1u   /* persistent (Send_init, Recv_init...) */
#define PML_RQ_ACTIVE 2u    /* started and not yet completed for the application */
#define PML_RQ_CANCEL 4u    /* MPI_Cancel was called on it */
#define PML_RQ_DONE 8u      /* completed by Revive (drain, drain buffer): st holds the status */
#define PML_RQ_FREED 16u    /* the application freed it while active: Revive completes it */
#define PML_RQ_PENDING 32u  /* on the pending list */
#define PML_RQ_NOCOUNT 64u  /* its message was counted already (drain buffer, matched probe) */
/* a synchronous send whose message the receiver's drain took before its application matched it:
 * complete for the lower half (real: null, or a persistent one's template), not for the
 * application until the receiver's notice comes (owed.c; st holds the status) */
#define PML_RQ_OWED 128u
/* holds: the layer's references a pending receive took when the program freed its datatype or
 * communicator (pml_rq_hold_locked), given back when it completes (a restart posts it again with
 * them, then frees them in the fresh library as the program did) */
#define PML_RQ_HOLD_TYPE 1u
#define PML_RQ_HOLD_COMM 2u

struct pml_req {
    uintptr_t real;          /* the lower half's request (null when completed by Revive) */
    uintptr_t v;             /* the application's handle; 0 for a blocking call's own */
    struct pml_req *prev, *next;
    uint64_t order;          /* posting order */
    uint8_t kind, mode;
    uint16_t flags;
    int32_t peer, tag, count;
    uint8_t holds;           /* PML_RQ_HOLD_*: set at posting (pml_rq_fill), else under pml_vh_lock */
    uint8_t gstate;          /* PML_RQ_GREQ: PML_GREQ_* bits, changed atomically (any thread) */
    uint32_t later;          /* a pending synchronous send: sends posted after it on its
                              * (peer, communicator, tag) (owed.c pml_sync_later) */
    void *buf;
    uintptr_t dtype;         /* virtual */
    struct pml_comm *comm;
    uintptr_t vcomm;         /* the application's communicator handle */
    MPI_Status st;           /* PML_RQ_DONE: the status the application will see */
    struct pml_req *half[2]; /* PML_RQ_PAIR: its send and receive (NULL once completed) */
    void *gfn[3];            /* PML_RQ_GREQ: the program's query, free and cancel functions */
};

extern struct pml_req *pml_rq_tab; /* parallel to pml_vh_tab */
extern struct pml_req *pml_rq_head, *pml_rq_tail; /* the pending list */
extern uint64_t pml_rq_order;
extern uint32_t pml_rq_npending, pml_rq_ndone, pml_rq_nfreed;
extern uint32_t pml_rq_npairs; /* MPI_Isendrecv requests not yet complete (pairs.c) */
extern uint32_t pml_rq_ngreq;  /* generalized requests that exist (pairs.c) */

static inline struct pml_req *pml_rq_of(uintptr_t v)
{
    struct pml_vh *h = pml_vh_of(v);
    if (!h || h->kind != PML_REQ)
        return NULL;
    struct pml_req *r = &pml_rq_tab[h - pml_vh_tab];
    return r->v == v ? r : NULL; /* a handle only translated (Fortran) has no entry */
}

void pml_rq_init(void);
static inline void pml_rq_set_real(struct pml_req *r, uintptr_t real)
{
    r->real = real;
    if (r->v)
        pml_vh_of(r->v)->real = real;
}
struct pml_req *pml_rq_new(uintptr_t *v); /* a table entry and its virtual handle */
void pml_rq_drop(struct pml_req *r);       /* its handle released */
void pml_rq_posted(struct pml_req *r, uintptr_t real, int active, int kind, int mode, void *buf,
                   int count, uintptr_t dtype, int peer, int tag, uintptr_t vcomm);
void pml_rq_fill(struct pml_req *r, int kind, int mode, void *buf, int count, uintptr_t dtype,
                 int peer, int tag, uintptr_t vcomm);
void pml_rq_link(struct pml_req *r);       /* onto the pending list (active) */
/* The layer's references of a completed receive (PML_RQ_HOLD_*) given back. */
void pml_rq_let_go(struct pml_req *r);
void pml_rq_unlink(struct pml_req *r);
/* A request the lower half returned for a nonblocking collective (or another kind): made
 * virtual, entered in the table, pending. Returns the virtual handle. */
uintptr_t pml_rq_wrap(int kind, uintptr_t real, uintptr_t vcomm);
/* The request completed in the lower half (or by Revive): counts, unlinks. st may be NULL
 * when the status is not needed (not cancelled). */
void pml_rq_completed(struct pml_req *r, const MPI_Status *st);
/* Revive's wait loop on one request (a blocking call's own or the application's). */
int pml_rq_wait(struct pml_req *r, MPI_Status *st, struct pml_slot *t, uint32_t fid);
/* The same for a blocking receive: its errors go to its communicator's handler, as MPI_Recv's
 * do (MPICH's MPI_Test would use MPI_COMM_WORLD's). */
int pml_rq_wait_recv(struct pml_req *r, MPI_Status *st, struct pml_slot *t, uint32_t fid);
void pml_rq_test_freed(void);              /* completes requests freed while active */
/* The end of one turn of a completion loop that found nothing complete (pml_rq_wait, Waitany,
 * Waitall, Waitsome and their Test forms): requests the program freed while active are tested; a
 * test call (wait 0) stops there (-1); a wait parks if a snapshot closed the gate, and then
 * returns 0: the drain may have completed some of its requests, whose real handles must be read
 * again. 1: go on. */
static inline int pml_rq_turn_end(int wait, struct pml_slot *t, uint32_t fid)
{
    if (__builtin_expect(pml_rq_nfreed != 0, 0))
        pml_rq_test_freed();
    if (!wait) {
        pml_idle_test();
        return -1;
    }
    if (__builtin_expect(pml_ck_flags & PML_CK_GATE, 0)) {
        pml_gate_park(t, fid);
        return 0;
    }
    pml_idle(t);
    return 1;
}
/* ---- requests of two halves: MPI_Isendrecv(_replace) (pairs.c) ------------------------------
 * The application's request (kind PML_RQ_PAIR, its real the lower null request, never on the
 * pending list) stands for a send and a receive posted like MPI_Isend and MPI_Irecv, each an
 * entry of the table with a handle of the layer's own (pending, drained, re-posted at a
 * restart like any other). The pair becomes DONE once both halves completed. */
/* Tests the halves not yet completed; 1 when the pair is DONE (st: the receive's status). */
int pml_pair_progress(struct pml_req *p);
/* The same for every active pair, persistent collective (pml_pcoll_progress) and generalized
 * request (pml_greq_progress) among the array's requests; 1 when one of them is not DONE. */
int pml_pairs_progress(int n, const MPI_Request *v);
void pml_pair_cancel(struct pml_req *p);
void pml_pair_free(struct pml_req *p); /* the application freed it while active */
/* A persistent collective's MPI_Start: counted as the nonblocking collective it starts. */
int pml_pcoll_start(struct pml_req *r, uint32_t fid);
int pml_pcoll_progress(struct pml_req *r); /* an active one tested alone: 1 when DONE */
extern uint32_t pml_rq_npcoll;             /* persistent collective requests that exist */
uintptr_t pml_rq_wrap_pcoll(uintptr_t real, uintptr_t vcomm);
/* Whether an array may hold a request the layer completes itself (a pair, a persistent
 * collective, a generalized request): one load each, the steady state's only cost. */
extern uint32_t pml_rq_nowed;
static inline int pml_rq_special(void)
{
    return pml_rq_npairs || pml_rq_npcoll || __atomic_load_n(&pml_rq_ngreq, __ATOMIC_RELAXED) ||
           __atomic_load_n(&pml_rq_nowed, __ATOMIC_RELAXED);
}
/* ---- generalized requests (pairs.c) ----------------------------------------------------------
 * MPI_Grequest_start's request is an entry of the table (PML_RQ_GREQ, real the lower null
 * request, never pending: the drain has nothing to do with it and a restart nothing to post)
 * with the program's functions and extra state (buf). MPI_Grequest_complete, from any thread,
 * sets PML_GREQ_COMPLETE; a completion call that finds it set calls query_fn and makes it DONE
 * with that status. The program's MPI_Request_free sets PML_GREQ_FREED: whichever of the two
 * comes second drops the entry, calling free_fn unless MPI_Request_free did (MPICH does at once,
 * Open MPI at completion: the layer does as the library). */
#define PML_GREQ_COMPLETE 1u
#define PML_GREQ_FREED 2u
#define PML_GREQ_F77 4u /* started from Fortran: its functions take Fortran arguments */
#define PML_GREQ_FREEFN 8u /* free_fn was called (MPICH: at MPI_Request_free) */
int pml_greq_progress(struct pml_req *r); /* 1 when DONE (query_fn called) */
void pml_greq_poke(void); /* the library's progress, from a wait on generalized requests only */
/* An active one's MPI_Request_get_status: query_fn's status while complete (1), else 0. */
int pml_greq_peek(struct pml_req *r, MPI_Status *st, int *rc);
int pml_greq_cancel(struct pml_req *r);
int pml_greq_free(struct pml_req *r); /* the program freed it (DONE or not) */
int pml_greq_finish(struct pml_req *r); /* the program took its completion: free_fn, dropped */

/* The bytes count elements of type t (the lower half's) cover, relative to the buffer: [lo, hi)
 * (p2p.c; the copy MPI_Sendrecv_replace and MPI_Isendrecv_replace send from). */
void pml_span_of(int count, MPI_Datatype t, MPI_Aint *lo, MPI_Aint *hi);

/* Fills the status of a completed send/receive from saved fields. */
void pml_status_set(MPI_Status *st, int source, int tag, int error, uint64_t bytes);

/* ---- the drain buffer (drain.c) ------------------------------------------------------------- */
struct pml_dmsg {
    struct pml_dmsg *next;
    uintptr_t vcomm;         /* the communicator it came on (virtual) */
    struct pml_comm *comm;
    int source, tag;
    uint32_t claimed;        /* taken by MPI_Mprobe/Improbe: reachable only through its message */
    uint64_t bytes;
    uint64_t order;          /* arrival order */
    unsigned char *data;
    uint32_t fresh;          /* drained by this epoch's drain (owed.c looks at these) */
    uint32_t owes;           /* its send was synchronous: the sender waits for a notice */
    int owed_to;             /* the sender's world rank */
    uint64_t owed_id;        /* the sender's id of its request (owed.c) */
};
extern struct pml_dmsg *pml_dbuf_head, *pml_dbuf_tail;
extern volatile uint32_t pml_dbuf_n;   /* unclaimed messages in the buffer */

struct pml_dmsg *pml_dbuf_find(uintptr_t vcomm, int source, int tag);
void pml_dbuf_remove(struct pml_dmsg *m);
/* Delivers m into (buf, count, dtype): unpacked by the lower half itself, truncation reported
 * like a receive would (return code and st->MPI_ERROR). Frees m. */
int pml_dbuf_deliver(struct pml_dmsg *m, void *buf, int count, uintptr_t dtype, MPI_Status *st);
void pml_dbuf_status(const struct pml_dmsg *m, MPI_Status *st);
/* A receive that a drained message satisfies completes at once (1), else 0. */
int pml_dbuf_irecv(struct pml_req *r, void *buf, int count, uintptr_t dtype, int source, int tag,
                   uintptr_t vcomm);
/* The drain itself (agent thread, gate closed). 0 or -errno with a message. */
int pml_drain_run(struct snapc_drain_stats *st, char *err, size_t errlen);

/* ---- synchronous sends the drain completed too early (owed.c) -------------------------------
 * A synchronous send completes only once the receiving application matched it (MPI 3.4): one
 * the receiver's drain took into its buffer completed in the lower half before that. The drain
 * notes every synchronous send it completes (pml_owed_note), with the count of sends posted
 * after it on its key; after its barrier the ranks exchange their notes and the counts of
 * messages each drained, which tell, by the non-overtaking order of a (sender, receiver,
 * communicator, tag), which drained messages were synchronous sends: such a
 * send becomes PML_RQ_OWED again for the application, such a message owes its sender a notice,
 * sent on the private communicator when the application receives it (pml_dbuf_deliver). The
 * design in docs/mpi.md ("Synchronous sends at a global snapshot"). */
void pml_owed_reset(void);                     /* the drain begins */
void pml_owed_note(struct pml_req *r, int freed); /* the drain completed send r */
/* This rank's word in the drain's barrier: 1 when it noted a synchronous send this drain or
 * sent a notice since the last settle, so the settle's round is needed. */
int pml_owed_wanted(void);
/* After the drain's barrier; any: some rank's word was 1 (else no round, nothing owes). */
int pml_owed_settle(int any, double deadline, char *err, size_t errlen);
/* The notices' tag on the private communicator: above every tag of the epoch's exchanges
 * (drain_xchg.c asserts it), below MPI_TAG_UB's least bound */
#define PML_OWED_TAG 32001
void pml_owed_notify(struct pml_dmsg *m);      /* the application received drained message m */
void pml_owed_poll(void);                      /* notices that came: their requests DONE */
/* The application's turn on an owed request (completion calls): 1 when it is DONE now. */
static inline int pml_owed_progress(struct pml_req *r)
{
    pml_owed_poll();
    return !(r->flags & PML_RQ_OWED);
}
/* The application freed an owed request: dropped when its notice comes. */
void pml_owed_free(struct pml_req *r);
/* Which of a sender's sends on a (receiver, communicator, tag) the receiver's drain took: the
 * last k it posted there. A synchronous send pending in the lower half counts the sends posted
 * after it there (its `later`): the drain took its message iff later < k. The pending ones are
 * kept while in the pending list (pml_rq_link/unlink); every send's posting asks one load while
 * none is (pml_sync_later). */
extern uint32_t pml_sync_npending; /* synchronous sends on the pending list */
void pml_sync_posted(struct pml_req *r); /* r, a synchronous send, joins the pending list */
void pml_sync_gone(struct pml_req *r);   /* and leaves it */
void pml_sync_later_slow(struct pml_comm *c, int dest, int tag);
/* A send to dest on c with tag was posted (any kind, blocking or not): counted by every pending
 * synchronous send on that key. */
static inline void pml_sync_later(struct pml_comm *c, int dest, int tag)
{
    if (__builtin_expect(__atomic_load_n(&pml_sync_npending, __ATOMIC_RELAXED) != 0, 0))
        pml_sync_later_slow(c, dest, tag);
}

/* ---- the exchanges among ranks during an epoch (drain_xchg.c) ------------------------------ */
enum { PML_XCHG_COUNTS, PML_XCHG_DRAINED, PML_XCHG_SETTLED, PML_XCHG_KEYCOUNTS, PML_XCHG_KEYS,
       PML_XCHG_LOCKEDCOUNTS, PML_XCHG_LOCKED, PML_XCHG_OWEDCOUNTS, PML_XCHG_OWED,
       PML_XCHG_PHASES };
/* Agent thread, gate closed: every rank sends out[j] to rank j and gets in[j] from each rank j
 * (in[self] = out[self]); with out and in NULL, a barrier. `what` names the step in messages.
 * 0; -ECANCELED when the coordinator aborted the epoch meanwhile (the rank leaves at once),
 * -ETIMEDOUT past the deadline (now_s-style monotonic seconds), -EIO or -ENOMEM; with a
 * message in err. */
int pml_xchg(int phase, const uint64_t *out, uint64_t *in, double deadline, const char *what,
             char *err, size_t errlen);
/* The same frame, an all-gather of a variable number of numbers: every rank's n_mine numbers end
 * up in *all (malloc'd, rank 0's first), *n_all of them; two phases (the counts, the numbers; the
 * second is left out on every rank when all counts are 0). */
int pml_xchgv(int phase_counts, int phase_data, const uint64_t *mine, int n_mine, uint64_t **all,
              long *n_all, double deadline, const char *what, char *err, size_t errlen);

/* Messages: a virtual MPI_Message holds a message matched in the lower half (its envelope in
 * the handle's aux, for the drain) or, in the handle's info, a drained one. */
struct pml_msginfo {
    uintptr_t vcomm;
    int source, tag;
    uint64_t bytes;
};
struct pml_dmsg *pml_msg_drained(uintptr_t vmsg);

/* ---- the rank's checkpoint operations (rank_ops.c) and capture (capture.c) ---------------- */
int pml_rank_init_level(int required);        /* the level to initialise the lower half at */
int pml_rank_provided(int lower_provided);    /* the level the application is told */
void pml_rank_after_init(void);               /* the clock, the agent */
int pml_rank_finalize(int (*const *lower_finalize)(void)); /* counted, in_cs, then the lower half's (read past the gate) */
void pml_agent_notify(void);
int pml_agent_raise(uint64_t cid, uint64_t target);
int pml_capture(const char *image_path, struct snapc_capture_result *r);
/* REVIVE_FILE_DATA_MAX (mpirun -am ft-enable-cr --ckpt-file-data-max SIZE and restart-mpi's
 * option of that name set it for every rank; a restarted job reads restart-mpi's value): the
 * bytes of saved files a rank's image may hold. 1 with *bytes set (UINT64_MAX: no limit, for
 * 0), 0 when unset (libcr's default, CRS_FILE_DATA_MAX_DEFAULT, applies), -1 a value that is
 * no size. */
int pml_file_data_max(uint64_t *bytes);
/* The same from the program's own thread, without a coordinator (pml_restart_capture): 0, 1 in
 * the restarted rank (MPI is back), or -errno with the message in err. */
int pml_capture_self(const char *image_path, char *err, size_t errlen);
void pml_capture_init(void);
/* After a capture that kept the application's threads parked (snapc_capture_result.hold): let
 * them run on (the epoch did not end the job). */
void pml_capture_unhold(void);
/* In a restarted rank whose threads the capture held (window memory of the library's): let
 * them run on; called once every rank's windows are back (restart.c), again harmless. */
void pml_capture_restart_unhold(void);
/* A rank's zombie children (children.c): listed while every thread is parked (the pids, for
 * libcr's kept_zombies; their count), and made again in the restarted rank, from its restart
 * hook (0, or -errno with the message in err). pml_children_zombies_refused: 1 when the last
 * list kept none because the rank cannot choose a pid (not root nor CAP_CHECKPOINT_RESTORE). */
int pml_children_note(const int32_t **pids);
int pml_children_zombies_refused(void);
/* 1 when the last list kept none because the rank had more zombies than an image keeps (64) */
int pml_children_zombies_over(void);
/* When the last list found the rank unable to choose a pid and its children all ended (zombies,
 * none running): how many (65 for more than 64), the first one's pid and command; else 0. */
int pml_children_zombies_only(int32_t *first_pid, const char **first_comm);
int pml_children_kept(void); /* how many the last list kept (a tree capture: its zombie members) */
int pml_children_restore(char *err, size_t errlen);
void pml_children_reap(void); /* --term: the kept zombies reaped (and stopped tree children ended) */
/* Running children (a tree capture takes them along, capture.c). tree 0, before a capture: how
 * many the rank has now. tree 1, after pml_children_note in a tree capture: the zombies are the
 * tree's (none kept by the layer); returns how many running children there are when the rank
 * cannot choose a pid (a restart could not bring them back under their pids: refused), else 0,
 * with the first one's pid and command. */
int pml_children_running(int tree, int32_t *first_pid, const char **first_comm);
/* An epoch that holds the rank (--term, --stop, --save-files): the tree capture's running
 * children are about to be stopped. From the capture's commit: pml_children_stop_list before the
 * file is made durable takes the list of every process under the rank (0, or -ENOTSUP with a
 * message in err: more than such a snapshot stops; term: the words for --term);
 * pml_children_stop after it, before libcr's SIGSTOP, makes their cover, so that no child is
 * stopped without one. pml_children_reap ends them (--term), pml_children_job_stop takes them
 * over (--stop), pml_children_cont lets them run on (the unhold, or the epoch failed). */
int pml_children_stop_list(int term, char *err, size_t errlen);
/* The same count before the capture, its children running: 0, or -ENOTSUP with the same message
 * (a refusal at once, not after libcr wrote every member's image) */
int pml_children_stop_precheck(int term, char *err, size_t errlen);
void pml_children_stop(void);
void pml_children_cont(void);
/* ckpt-mpirun --stop (the agent's stop_tree, snapc/agent.h): pml_children_job_stop, before the
 * agent stops the rank, stops every process under it (its children and theirs, top down, each
 * one's children read once it is stopped) and gives those it stopped a cover (should the rank
 * die while stopped, they end: not stopped for ever); one stopped already (the application's or
 * a user's SIGSTOP, a debugger's) is said and left as it is. pml_children_job_cont, once the rank
 * runs again, continues those it stopped (the same process: its start time; one that ended
 * meanwhile is skipped). */
void pml_children_job_stop(void);
void pml_children_job_cont(void);
/* At MPI_Init: where the cover's program (revive-cover) is, beside the layer */
void pml_children_init(void);
extern int pml_agent_running;
/* revive_mpix_checkpoint, for libmpix_ckpt: declared in snapc/agent.h, defined in rank_ops.c */

#endif
