/* One-sided communication under Revive: the entry points that keep a window's state (objs.h):
 * its kind, communicator and memory, and the epochs the program opens and closes (fences,
 * post/start groups, locks). Put, Get, the accumulates and flushes are generated from
 * mpi_iface.def: a handle translation and the library's own call, so RMA runs at the speed of
 * the library's own window (its shared-memory segment, registered memory...).
 *
 * Memory: MPI_Alloc_mem is served by the layer from the application's memory (upper half): it
 * is the program's data and must be in a rank image at the same address. Both libraries give a
 * window of MPI_Win_allocate or MPI_Win_allocate_shared on a communicator of one rank heap
 * memory of their own, which nothing could map again at its address after a restart. On MPICH
 * the layer allocates that memory itself and makes the library's window with MPI_Win_create on
 * it (the window says it is of the flavor the program asked for), so a restart makes the window
 * again on the same memory. Open MPI 4.1 cannot MPI_Win_create (nor MPI_Win_create_dynamic) on
 * one rank: there the layer arms the lower half's root while the library makes the window, and
 * the root serves the library's allocation of the window's size from a shared mapping
 * (lower_winmem.h), which is then treated as a segment of two or more ranks is. On two or more
 * ranks the library's memory is kept (Open MPI's MPI_Win_create needs single-copy transfers, its
 * MPI_Win_allocate does not): both libraries map it from a shared-memory segment; a snapshot
 * copies this rank's part into the application's memory and a restart maps the new segment at
 * the old addresses too (win_ckpt.c). Open MPI's osc/pt2pt mallocs an MPI_Win_allocate window of
 * any size: the root is armed for those too (newuser7f F1). Memory of the library's that is still
 * no shared mapping (looked at when the window is made) refuses every checkpoint while the
 * window is open, the job running on (win_ckpt.c pml_win_refusal). */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "mpi"
#include "common/fault.h"
#include "pml_hooks/objs.h"
#include "pml_hooks/lower_winmem.h"
#include "pml_hooks/restart.h" /* pml_attr_quiet */

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

struct pml_win *pml_wins;
static struct pml_win *wins_tail;
volatile uint32_t pml_epochs_open;

static void *xcalloc(size_t n, size_t s)
{
    void *p = calloc(n ? n : 1, s);
    if (!p)
        pml_fatal("out of memory for the state of an MPI window");
    return p;
}

#define RW(w) ((MPI_Win)pml_v2r(PML_H(w)))

/* ---- memory the program asks MPI for ------------------------------------------------------- */
int MPI_Alloc_mem(MPI_Aint size, MPI_Info info, void *baseptr)
{
    (void)info;
    if (!pml_L.MPI_Alloc_mem)
        return pml_not_ready("MPI_Alloc_mem");
    void *p = NULL;
    size_t al = size >= 65536 ? 4096 : 64;
    if (size < 0 || posix_memalign(&p, al, size > 0 ? (size_t)size : 1) != 0) {
        /* as the library would: MPI_COMM_WORLD's error handler decides */
        pml_L.MPI_Comm_call_errhandler((MPI_Comm)pml_v2r(PML_H(MPI_COMM_WORLD)), MPI_ERR_NO_MEM);
        return MPI_ERR_NO_MEM;
    }
    *(void **)baseptr = p;
    return MPI_SUCCESS;
}
int PMPI_Alloc_mem(MPI_Aint, MPI_Info, void *) __attribute__((alias("pml_own_MPI_Alloc_mem")));

int MPI_Free_mem(void *base)
{
    if (!pml_L.MPI_Free_mem)
        return pml_not_ready("MPI_Free_mem");
    free(base);
    return MPI_SUCCESS;
}
int PMPI_Free_mem(void *) __attribute__((alias("pml_own_MPI_Free_mem")));

/* Open MPI's window of one rank, and of MPI_Win_allocate on more (osc/pt2pt's malloc): the lower
 * root serves its memory from a shared mapping (lower_winmem.h). A lower root without the
 * function (an older build) serves nothing: the memory is then the library's heap, and no
 * checkpoint is taken while the window is open (win_ckpt.c pml_win_refusal). */
static void *arm_fn; /* forgotten at a restart (pml_lower_sym) */

void pml_win_arm(size_t size)
{
    if (revive_fault(REVIVE_FAULT_mpi_winmem_unarmed))
        return; /* the window lies in the library's heap, as with an older Revive (rst_winold.sh) */
    pml_winmem_arm_fn *f = (pml_winmem_arm_fn *)pml_lower_sym(&arm_fn, NULL, PML_LOWER_WINMEM_ARM);
    if (f && f(size) < 0)
        revive_log_warn("more threads make windows at once than the lower half's "
                        "root serves: this window's memory is the MPI library's heap, and no "
                        "checkpoint can be taken while it is open");
}

void pml_win_disarm(const char *call, int rc)
{
    pml_winmem_arm_fn *f = (pml_winmem_arm_fn *)pml_lower_sym(&arm_fn, NULL, PML_LOWER_WINMEM_ARM);
    int n = f ? f(0) : 0;
    /* the window's, and for small sizes the library's own objects of that size (lower_winmem.h) */
    revive_log_debug("%s: %d allocation(s) of the window's size served from shared mappings "
                     "(MPI error %d)", call, n, rc);
}

/* ---- creation and release -------------------------------------------------------------------- */
static void win_link(struct pml_win *w)
{
    pml_vh_lock();
    w->prev = wins_tail;
    w->next = NULL;
    if (wins_tail)
        wins_tail->next = w;
    else
        pml_wins = w;
    wins_tail = w;
    pml_vh_unlock();
}

static void win_unlink(struct pml_win *w)
{
    pml_vh_lock();
    if (w->prev)
        w->prev->next = w->next;
    else
        pml_wins = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        wins_tail = w->prev;
    pml_vh_unlock();
}

static uintptr_t win_made(MPI_Win r, int flavor, MPI_Comm comm, void *base, MPI_Aint size,
                          int disp_unit, const struct pml_comm *parent)
{
    uintptr_t v = pml_new(PML_WIN, PML_H(r));
    struct pml_win *w = xcalloc(1, sizeof *w);
    w->v = v;
    w->flavor = flavor;
    w->vcomm = PML_H(comm);
    MPI_Comm rc = (MPI_Comm)pml_v2r(PML_H(comm));
    pml_L.MPI_Comm_size(rc, &w->comm_size);
    pml_L.MPI_Comm_rank(rc, &w->comm_rank);
    w->clock = pml_obj_clock_new(parent, w->comm_size, w->comm_rank, 'W');
    w->base = base;
    w->size = size;
    w->disp_unit = disp_unit;
    w->locks = xcalloc((size_t)w->comm_size, 1);
    w->lock_asserts = xcalloc((size_t)w->comm_size, sizeof *w->lock_asserts);
    w->xwait = xcalloc((size_t)w->comm_size, 1);
    struct pml_vh *h = pml_vh_of(v);
    if (h)
        h->info = w;
    win_link(w);
    return v;
}

static void win_free_state(struct pml_win *w)
{
    if (w->own_mem)
        free(w->base);
    pml_win_view_drop(w);
    if (w->saved) /* a snapshot's copy of the library's segment (win_ckpt.c) */
        munmap(w->saved, (size_t)w->size);
    free(w->locks);
    free(w->lock_asserts);
    free(w->xwait);
    free(w->start_ranks);
    free(w->post_ranks);
    pml_dupattr_free(&w->dup);
    free(w);
}

/* What the copy callbacks gave the library's duplicate of the communicator of window v, made
 * (dup_attrs.c); da is empty after */
static void win_keep_dup(uintptr_t v, struct pml_dup_attrs *da)
{
    struct pml_win *w = pml_win_of(v);
    if (w)
        w->dup = *da;
    else
        pml_dupattr_free(da);
    da->n = 0;
    da->a = NULL;
}

int MPI_Win_create(void *base, MPI_Aint size, int disp_unit, MPI_Info info, MPI_Comm comm,
                   MPI_Win *win)
{
    if (!pml_L.MPI_Win_create)
        return pml_not_ready("MPI_Win_create");
    PML_COLL_ENTER(PML_FID_MPI_Win_create, comm, 1);
    MPI_Win r = (MPI_Win)pml_v2r(PML_H(MPI_WIN_NULL));
    struct pml_dup_attrs da = {0};
    pml_dupattr_record(&da);
    int rc = pml_L.MPI_Win_create(base, size, disp_unit, (MPI_Info)pml_v2r(PML_H(info)),
                                  (MPI_Comm)pml_v2r(PML_H(comm)), &r);
    pml_dupattr_record(NULL);
    if (rc == MPI_SUCCESS) {
        uintptr_t v = win_made(r, MPI_WIN_FLAVOR_CREATE, comm, base, size, disp_unit, c_);
        win_keep_dup(v, &da);
        *win = (MPI_Win)v;
        struct pml_rec *R = pml_rec_open(PML_FID_MPI_Win_create);
        pml_rec_ptr(R, base);
        pml_rec_scalar(R, &size, sizeof size);
        pml_rec_scalar(R, &disp_unit, sizeof disp_unit);
        pml_rec_handle(R, PML_H(info));
        pml_rec_handle(R, PML_H(comm));
        pml_rec_out(R, v);
        pml_rec_close(R);
    }
    else
        pml_dupattr_free(&da);
    PML_COLL_LEAVE(1);
    return rc;
}
int PMPI_Win_create(void *, MPI_Aint, int, MPI_Info, MPI_Comm, MPI_Win *) __attribute__((alias("pml_own_MPI_Win_create")));

static int allocate(int shared, MPI_Aint size, int disp_unit, MPI_Info info, MPI_Comm comm,
                    void *baseptr, MPI_Win *win)
{
    const char *name = shared ? "MPI_Win_allocate_shared" : "MPI_Win_allocate";
    if (!(shared ? pml_L.MPI_Win_allocate_shared : pml_L.MPI_Win_allocate))
        return pml_not_ready(name);
    int fid = shared ? PML_FID_MPI_Win_allocate_shared : PML_FID_MPI_Win_allocate;
    PML_COLL_ENTER(fid, comm, 1);
    /* the library's function past the entry, where a snapshot parks the thread: one read before
     * it was the dead lower half's after a restart (SIGSEGV; tests/mpi/ckpt/rst_winfree.c) */
    __typeof__(pml_L.MPI_Win_allocate) fn = shared ? pml_L.MPI_Win_allocate_shared : pml_L.MPI_Win_allocate;
    MPI_Win r = (MPI_Win)pml_v2r(PML_H(MPI_WIN_NULL));
    MPI_Comm rcomm = (MPI_Comm)pml_v2r(PML_H(comm));
    int n = 0;
    pml_L.MPI_Comm_size(rcomm, &n);
    void *base = NULL;
    struct pml_dup_attrs da = {0};
#ifdef PML_OMPI
    int own = 0, rc; /* Open MPI 4.1 cannot MPI_Win_create on one rank (natively neither) */
    /* its memory in a shared mapping instead (see the top): on one rank, and for
     * MPI_Win_allocate on more (osc/pt2pt mallocs it) */
    int arm = pml_win_armed(shared, n, size);
#else
    int own = n == 1, rc, arm = 0;
#endif
    if (own) {
        /* the application's memory (see the comment at the top), as MPI_Alloc_mem's */
        size_t al = size >= 65536 ? 4096 : 64;
        if (size >= 0 && posix_memalign(&base, al, size > 0 ? (size_t)size : 1) != 0) {
            /* as the library would: the communicator's error handler decides (a negative size
             * goes to the library, which names it) */
            base = NULL;
            rc = MPI_ERR_NO_MEM;
            pml_L.MPI_Comm_call_errhandler(rcomm, rc);
        } else {
            pml_dupattr_record(&da);
            rc = pml_L.MPI_Win_create(base, size, disp_unit, (MPI_Info)pml_v2r(PML_H(info)),
                                      rcomm, &r);
            pml_dupattr_record(NULL);
            if (rc != MPI_SUCCESS) {
                free(base);
                base = NULL;
            }
        }
    } else {
        /* the meeting places of members all in comm: this member's vote (win_ckpt.c), counted
         * once the library's call returns (every member has entered it then) */
        if (shared && n >= 2)
            pml_win_meets_vote(PML_H(comm), NULL);
        pml_dupattr_record(&da);
        if (arm)
            pml_win_arm((size_t)size);
        rc = fn(size, disp_unit, (MPI_Info)pml_v2r(PML_H(info)), rcomm, &base, &r);
        if (arm)
            pml_win_disarm(name, rc);
        pml_dupattr_record(NULL);
    }
    if (rc == MPI_SUCCESS) {
        *(void **)baseptr = base;
        uintptr_t v = win_made(r, shared ? MPI_WIN_FLAVOR_SHARED : MPI_WIN_FLAVOR_ALLOCATE, comm,
                               base, size, disp_unit, c_);
        win_keep_dup(v, &da);
        struct pml_win *w = pml_win_of(v);
        if (w) {
            w->own_mem = own;
            if (!own && shared) {
                pml_win_segment(r, n, &w->seg_lo, &w->seg_hi);
                pml_win_meet_make(w, rcomm);
            }
            else if (!own && size > 0) {
                w->seg_lo = (uintptr_t)base;
                w->seg_hi = (uintptr_t)base + (uintptr_t)size;
            }
            if (!own)
                pml_win_memory_check(w); /* no snapshot while it is no shared mapping */
        }
        *win = (MPI_Win)v;
        struct pml_rec *R = pml_rec_open(fid);
        pml_rec_scalar(R, &size, sizeof size);
        pml_rec_scalar(R, &disp_unit, sizeof disp_unit);
        pml_rec_handle(R, PML_H(info));
        pml_rec_handle(R, PML_H(comm));
        pml_rec_ptr(R, base); /* what the program was given, where a restart must put it again */
        pml_rec_out(R, v);
        pml_rec_close(R);
    } else {
        pml_dupattr_free(&da);
        pml_win_meets_unvote();
    }
    PML_COLL_LEAVE(1);
    return rc;
}

int MPI_Win_allocate(MPI_Aint size, int disp_unit, MPI_Info info, MPI_Comm comm, void *baseptr,
                     MPI_Win *win)
{
    return allocate(0, size, disp_unit, info, comm, baseptr, win);
}
int PMPI_Win_allocate(MPI_Aint, int, MPI_Info, MPI_Comm, void *, MPI_Win *) __attribute__((alias("pml_own_MPI_Win_allocate")));

int MPI_Win_allocate_shared(MPI_Aint size, int disp_unit, MPI_Info info, MPI_Comm comm,
                            void *baseptr, MPI_Win *win)
{
    return allocate(1, size, disp_unit, info, comm, baseptr, win);
}
int PMPI_Win_allocate_shared(MPI_Aint, int, MPI_Info, MPI_Comm, void *, MPI_Win *)
    __attribute__((alias("pml_own_MPI_Win_allocate_shared")));

int MPI_Win_create_dynamic(MPI_Info info, MPI_Comm comm, MPI_Win *win)
{
    if (!pml_L.MPI_Win_create_dynamic)
        return pml_not_ready("MPI_Win_create_dynamic");
    PML_COLL_ENTER(PML_FID_MPI_Win_create_dynamic, comm, 1);
    MPI_Win r = (MPI_Win)pml_v2r(PML_H(MPI_WIN_NULL));
    struct pml_dup_attrs da = {0};
    pml_dupattr_record(&da);
    int rc = pml_L.MPI_Win_create_dynamic((MPI_Info)pml_v2r(PML_H(info)),
                                          (MPI_Comm)pml_v2r(PML_H(comm)), &r);
    pml_dupattr_record(NULL);
    if (rc == MPI_SUCCESS) {
        uintptr_t v = win_made(r, MPI_WIN_FLAVOR_DYNAMIC, comm, NULL, 0, 1, c_);
        win_keep_dup(v, &da);
        *win = (MPI_Win)v;
        struct pml_rec *R = pml_rec_open(PML_FID_MPI_Win_create_dynamic);
        pml_rec_handle(R, PML_H(info));
        pml_rec_handle(R, PML_H(comm));
        pml_rec_out(R, v);
        pml_rec_close(R);
    } else
        pml_dupattr_free(&da);
    PML_COLL_LEAVE(1);
    return rc;
}
int PMPI_Win_create_dynamic(MPI_Info, MPI_Comm, MPI_Win *) __attribute__((alias("pml_own_MPI_Win_create_dynamic")));

/* A call of the library that may wait inside it (an epoch's synchronisation, a lock, a free),
 * its UCX progress turns idle ones with REVIVE_MPI_YIELD_WHEN_IDLE=1 (ckpt.h, pml_idle_lib_enter):
 * MPICH's ranks spun there (rst_xlock-mpich: 112.7 s of CPU, 25.6 s with this). */
#define LIB_WAIT(call) PML_LIB_WAIT(t_, call) /* t_: the entry's slot (PML_GATE_ENTER) */

int MPI_Win_free(MPI_Win *win)
{
    if (!pml_L.MPI_Win_free)
        return pml_not_ready("MPI_Win_free");
    uintptr_t v = PML_H(*win);
    struct pml_win *w = pml_win_of(v);
    PML_COLL_ENTER_C(PML_FID_MPI_Win_free, w ? w->clock : NULL, 1);
    /* the real handle past the entry, where a snapshot parks the thread: one read before it was
     * the dead lower half's window after a restart, whose free function the fresh library
     * called (campaign-failures.md #28: Open MPI, SIGSEGV in the dead half) */
    MPI_Win r = RW(*win);
    if (w)
        pml_win_meets_vote(0, w); /* counted after the library's free (a barrier) */
    int rc = LIB_WAIT(pml_L.MPI_Win_free(&r));
    if (rc != MPI_SUCCESS)
        pml_win_meets_unvote();
    if (rc == MPI_SUCCESS) {
        if (w) {
            pml_win_meet_free(w); /* every member frees the window here: collective alike */
            win_unlink(w);
            pml_vh_of(v)->info = NULL;
            pml_comm_freed(w->clock);
            win_free_state(w);
        }
        pml_vh_release(v);
        *win = (MPI_Win)pml_r2v_predef(PML_H(r));
    }
    PML_COLL_LEAVE(1);
    return rc;
}
int PMPI_Win_free(MPI_Win *) __attribute__((alias("pml_own_MPI_Win_free")));

/* ---- epochs ---------------------------------------------------------------------------------- */
/* Fronts: the per-epoch calls below (fence, a shared lock, unlock, unlock_all) are, like the
 * generated operations (gen_mpi.py FAST), a front that takes the gate's fast case only, with
 * REVIVE_MPI_YIELD_WHEN_IDLE off, and the whole entry point (pml_full_NAME) behind it for
 * everything else, returned as a tail call (ckpt.h PML_FAST_ENTER): the front keeps only what
 * the call's bookkeeping needs across the library's call; with the slow paths inline every
 * argument lived in a callee-saved register (six pushed and popped per call). What both do past
 * the gate is one inline function. */
#define FAST_IDLE_OFF(full)                                                                   \
    if (__builtin_expect(pml_idle_on, 0)) {                                                   \
        __atomic_store_n(&t_->w, w_, __ATOMIC_RELEASE);                                       \
        return full;                                                                          \
    }

/* A front's look at window handle win: the entry of a window the program made, or NULL (the
 * front takes the whole entry point). On Open MPI the handle is its entry's address (vhandle.c):
 * no division by the entry's 40 bytes as pml_vh_of's index; an address inside the table is taken
 * for an entry only when 8-byte aligned, of a window, whose state names this very handle. The
 * entry's address and its state never change while the window lives; its real handle is read
 * past the gate (a restart makes it anew). */
static inline __attribute__((always_inline)) struct pml_vh *win_entry_quick(MPI_Win win)
{
    uintptr_t v = PML_H(win);
#ifdef PML_OMPI
    if (v - (uintptr_t)pml_vh_tab >= pml_vh_bytes || (v & 7))
        return NULL;
    struct pml_vh *h = (struct pml_vh *)v;
    if (h->kind != PML_WIN || !h->info || ((const struct pml_win *)h->info)->v != v)
        return NULL;
#else
    struct pml_vh *h = pml_vh_of(v);
    if (!h || h->kind != PML_WIN || !h->info)
        return NULL;
#endif
    return h;
}

/* MPI_Win_fence past its entry: h and w the window's handle entry and state, looked at before
 * the entry (the clock), the real handle read here (a restart makes it anew) */
static inline __attribute__((always_inline)) int
fence_call(struct pml_slot *t_, int assert, MPI_Win win, const struct pml_vh *h, struct pml_win *w,
           int wait)
{
    MPI_Win rw = h ? (MPI_Win)h->real : RW(win);
    int rc = wait ? LIB_WAIT(pml_L.MPI_Win_fence(assert, rw)) : pml_L.MPI_Win_fence(assert, rw);
    if (rc == MPI_SUCCESS && w) {
        w->nfence++;
        w->fence_open = !(assert & MPI_MODE_NOSUCCEED);
    }
    return rc;
}

static __attribute__((noinline)) int pml_full_MPI_Win_fence(int assert, MPI_Win win)
{
    if (!pml_L.MPI_Win_fence)
        return pml_not_ready("MPI_Win_fence");
    /* the handle's entry looked at once: its state before the entry (the clock), the real handle
     * past it (a restart makes it anew); the entry's address never changes */
    struct pml_vh *h = pml_vh_of(PML_H(win));
    struct pml_win *w = h && h->kind == PML_WIN ? (struct pml_win *)h->info : NULL;
    PML_COLL_ENTER_C(PML_FID_MPI_Win_fence, w ? w->clock : NULL, 1);
    int rc = fence_call(t_, assert, win, h, w, 1);
    PML_COLL_LEAVE(1);
    return rc;
}

int MPI_Win_fence(int assert, MPI_Win win)
{
    if (!pml_L.MPI_Win_fence)
        return pml_not_ready("MPI_Win_fence");
    struct pml_vh *h = win_entry_quick(win);
    if (__builtin_expect(!h, 0))
        return pml_full_MPI_Win_fence(assert, win);
    struct pml_win *w = (struct pml_win *)h->info;
    struct pml_comm *c_ = w->clock;
    /* PML_COLL_ENTER_C's fast case (blocking): counted, in_cs */
    PML_FAST_ENTER_X(PML_FID_MPI_Win_fence, PML_T_ENTER, pml_full_MPI_Win_fence(assert, win));
    FAST_IDLE_OFF(pml_full_MPI_Win_fence(assert, win));
    if (c_)
        c_->seq++;
    t_->cs = c_;
    PML_BARRIER();
    t_->w = (uint32_t)PML_FID_MPI_Win_fence << 8 | PML_T_IN | PML_T_CS;
    int rc = fence_call(t_, assert, win, h, w, 0);
    PML_COLL_LEAVE(1);
    return rc;
}
int PMPI_Win_fence(int, MPI_Win) __attribute__((alias("pml_own_MPI_Win_fence")));

/* The ranks of a group in the window's communicator (for a restart's MPI_Win_post/start). */
static int *group_ranks(struct pml_win *w, MPI_Group g, int *n)
{
    MPI_Group wg;
    *n = 0;
    if (pml_L.MPI_Win_get_group(RW(w->v), &wg) != MPI_SUCCESS)
        return NULL;
    int gn = 0;
    pml_L.MPI_Group_size(g, &gn);
    int *in = xcalloc((size_t)gn, sizeof *in), *out = xcalloc((size_t)gn, sizeof *out);
    for (int i = 0; i < gn; i++)
        in[i] = i;
    if (pml_L.MPI_Group_translate_ranks(g, gn, in, wg, out) == MPI_SUCCESS)
        *n = gn;
    pml_L.MPI_Group_free(&wg);
    free(in);
    return out;
}

/* Post/start epochs and exclusive locks hold a snapshot back (clock.c: the rank is not at a safe
 * point while one is open); when the last one closes during an epoch the agent hears of it. The
 * call that opens one counts it at its entry, with the pair clocks of the ranks it links
 * (cross.c): a rank at a safe point is held there instead of opening one. */
#define EPOCH_ENTER(fid, xs, nx)                                                              \
    struct pml_slot *t_ = pml_slot();                                                         \
    uint32_t w_ = t_->w;                                                                      \
    t_->w = (uint32_t)(fid) << 8 | PML_T_IN | PML_T_ENTER;                                    \
    PML_BARRIER(); /* pml_epoch_enter fences when it must, before it reads the flags */       \
    pml_epoch_enter(t_, (uint32_t)(fid), (xs), (nx))

static void epoch_closed(void)
{
    if (__atomic_sub_fetch(&pml_epochs_open, 1, __ATOMIC_SEQ_CST) == 0 &&
        (pml_ck_flags & PML_CK_PENDING))
        pml_agent_notify();
}

/* The real handle of window win and its state, from one look at its handle: read past the
 * entry (a restart makes the real handle anew). The range check of the handle table was made
 * twice per call by RW and pml_win_of, and the compiler could not merge them across the call. */
static inline MPI_Win win_real(MPI_Win win, struct pml_win **w)
{
    struct pml_vh *h = pml_vh_of(PML_H(win));
    *w = h && h->kind == PML_WIN ? (struct pml_win *)h->info : NULL;
    return h ? (MPI_Win)h->real : RW(win);
}

static int post_start(int post, MPI_Group group, int assert, MPI_Win win)
{
    if (!(post ? pml_L.MPI_Win_post : pml_L.MPI_Win_start))
        return pml_not_ready(post ? "MPI_Win_post" : "MPI_Win_start");
    uint32_t fid = post ? PML_FID_MPI_Win_post : PML_FID_MPI_Win_start;
    struct pml_comm *const *xs = NULL;
    const struct pml_group_map *gm = NULL;
    int nx = pml_cross_win_group(PML_H(group), fid, &xs, &gm);
    EPOCH_ENTER(fid, xs, nx); /* the epoch counted as open from here: a rank waiting in the call
                                 is inside it already */
    /* past the entry, where a snapshot parks the thread (as in allocate) */
    __typeof__(pml_L.MPI_Win_post) fn = post ? pml_L.MPI_Win_post : pml_L.MPI_Win_start;
    MPI_Group rg = (MPI_Group)pml_v2r(PML_H(group));
    struct pml_win *w;
    MPI_Win rw = win_real(win, &w);
    int rc = LIB_WAIT(fn(rg, assert, rw));
    if (!w || rc != MPI_SUCCESS)
        epoch_closed();
    if (rc == MPI_SUCCESS && w) {
        /* the group's ranks in the window, worked out again only for another group */
        uint64_t serial = gm ? gm->serial : 0;
        int n = 0, *ranks = NULL, miss = !serial || serial != (post ? w->post_serial : w->start_serial);
        if (miss)
            ranks = group_ranks(w, rg, &n);
        if (post) {
            if (miss) {
                free(w->post_ranks);
                w->post_ranks = ranks;
                w->npost = n;
                w->post_serial = serial;
            }
            w->post_assert = assert;
            if (w->exposure_open)
                epoch_closed(); /* erroneous, but counted once */
            w->exposure_open = 1;
        } else {
            if (miss) {
                free(w->start_ranks);
                w->start_ranks = ranks;
                w->nstart = n;
                w->start_serial = serial;
            }
            w->start_assert = assert;
            if (w->access_open)
                epoch_closed();
            w->access_open = 1;
        }
    }
    PML_GATE_LEAVE();
    return rc;
}

int MPI_Win_post(MPI_Group group, int assert, MPI_Win win)
{
    return post_start(1, group, assert, win);
}
int PMPI_Win_post(MPI_Group, int, MPI_Win) __attribute__((alias("pml_own_MPI_Win_post")));

int MPI_Win_start(MPI_Group group, int assert, MPI_Win win)
{
    return post_start(0, group, assert, win);
}
int PMPI_Win_start(MPI_Group, int, MPI_Win) __attribute__((alias("pml_own_MPI_Win_start")));

int MPI_Win_complete(MPI_Win win)
{
    if (!pml_L.MPI_Win_complete)
        return pml_not_ready("MPI_Win_complete");
    PML_GATE_ENTER(PML_FID_MPI_Win_complete);
    struct pml_win *w;
    MPI_Win rw = win_real(win, &w);
    int rc = LIB_WAIT(pml_L.MPI_Win_complete(rw));
    if (rc == MPI_SUCCESS && w && w->access_open) {
        w->access_open = 0;
        epoch_closed();
    }
    PML_GATE_LEAVE();
    return rc;
}
int PMPI_Win_complete(MPI_Win) __attribute__((alias("pml_own_MPI_Win_complete")));

static void exposure_done(struct pml_win *w)
{
    if (w && w->exposure_open) {
        w->exposure_open = 0;
        epoch_closed();
    }
}

int MPI_Win_wait(MPI_Win win)
{
    if (!pml_L.MPI_Win_wait)
        return pml_not_ready("MPI_Win_wait");
    PML_GATE_ENTER(PML_FID_MPI_Win_wait);
    struct pml_win *w;
    MPI_Win rw = win_real(win, &w);
    int rc = LIB_WAIT(pml_L.MPI_Win_wait(rw));
    if (rc == MPI_SUCCESS)
        exposure_done(w);
    PML_GATE_LEAVE();
    return rc;
}
int PMPI_Win_wait(MPI_Win) __attribute__((alias("pml_own_MPI_Win_wait")));

int MPI_Win_test(MPI_Win win, int *flag)
{
    if (!pml_L.MPI_Win_test)
        return pml_not_ready("MPI_Win_test");
    PML_GATE_ENTER(PML_FID_MPI_Win_test);
    struct pml_win *w;
    MPI_Win rw = win_real(win, &w);
    int rc = pml_L.MPI_Win_test(rw, flag);
    if (rc == MPI_SUCCESS && *flag)
        exposure_done(w);
    PML_GATE_LEAVE();
    return rc;
}
int PMPI_Win_test(MPI_Win, int *) __attribute__((alias("pml_own_MPI_Win_test")));

/* Passive target: the locks held are known. Shared ones (and lock_all) do not hold a snapshot
 * back: it completes their operations with a flush (objs_ckpt.c). An exclusive lock does, like a
 * post/start epoch: a rank waiting for it (a flush inside the library) could wait for a holder
 * parked at a safe point. */
/* A shared lock of one target that another rank's exclusive lock could wait for (not asserted
 * MPI_MODE_NOCHECK). Its holder parked at a safe point (the entry of an exclusive lock of another
 * window, rst_slock; a collective the waiter is not in, rst_lockwait) held back a rank waiting
 * in the library for an exclusive lock on that target, never at a safe point itself, and the
 * snapshot timed out. A holder is therefore not at a safe point once a rank is known to wait for
 * its target (pml_win_holds_waited, below), and runs on until it lets go. Until then it parks
 * where it is at its targets, exclusive lock entries too: it has said it is at them, and an
 * epoch opened after that was found open by the drain (354210c let such a holder run on into
 * every exclusive lock: "could not drain its messages: 1 ... exclusive lock(s) ... open (the rank
 * was not at a safe point)", rst_slock under MPICH). */
static int shared_counted(const struct pml_win *w, int t)
{
    return w->locks[t] == 1 && !(w->lock_asserts[t] & MPI_MODE_NOCHECK);
}

/* The lock call past its entry on slot t_ (the real handle read here: a restart makes it anew),
 * with h and w the window's handle entry and state looked at before; excl: it opened an epoch
 * there. Inline: its frame was 14 of the ~130 instructions the layer added to MPI_Win_lock. */
static inline __attribute__((always_inline)) int
lock_call(struct pml_slot *t_, int excl, int lock_type, int rank, int assert, MPI_Win win,
          const struct pml_vh *h, struct pml_win *w)
{
    int rc = LIB_WAIT(pml_L.MPI_Win_lock(lock_type, rank, assert, h ? (MPI_Win)h->real : RW(win)));
    if (excl && (!w || rc != MPI_SUCCESS || w->locks[rank] == 2))
        epoch_closed(); /* failed, or erroneous (locked already): counted once */
    if (rc == MPI_SUCCESS && w && rank >= 0 && rank < w->comm_size) {
        w->nlocks += !w->locks[rank];
        w->locks[rank] = (unsigned char)(lock_type == MPI_LOCK_EXCLUSIVE ? 2 : 1);
        w->lock_asserts[rank] = assert;
    }
    return rc;
}

static __attribute__((noinline)) int pml_full_MPI_Win_lock(int lock_type, int rank, int assert,
                                                            MPI_Win win)
{
    if (!pml_L.MPI_Win_lock)
        return pml_not_ready("MPI_Win_lock");
    struct pml_vh *h = pml_vh_of(PML_H(win)); /* looked at once (as in MPI_Win_fence) */
    struct pml_win *w = h && h->kind == PML_WIN ? (struct pml_win *)h->info : NULL;
    int known = w && rank >= 0 && rank < w->comm_size;
    if (!(known && lock_type == MPI_LOCK_EXCLUSIVE)) {
        /* a shared lock opens no epoch that holds a snapshot back (see above); it is marked in
         * the slot (ckpt.h) unless a call this one is nested in (an error handler's) marks one */
        struct pml_slot *s = pml_slot();
        int mark = known && lock_type == MPI_LOCK_SHARED && !(assert & MPI_MODE_NOCHECK) && !s->swin;
        if (mark) {
            s->srank = rank;
            __atomic_store_n(&s->swin, w, __ATOMIC_RELEASE); /* after srank */
        }
        PML_GATE_ENTER(PML_FID_MPI_Win_lock);
        if (mark && __builtin_expect(pml_ck_flags & PML_CK_PENDING, 0) && !(w_ & PML_T_IN) &&
            !t_->agent) /* not nested (gate.c) */
            pml_shared_enter(t_, PML_FID_MPI_Win_lock, w, rank);
        int rc = lock_call(t_, 0, lock_type, rank, assert, win, h, w);
        if (mark) /* held now (w->locks, written before), or not at all */
            __atomic_store_n(&s->swin, NULL, __ATOMIC_RELEASE);
        PML_GATE_LEAVE();
        return rc;
    }
    EPOCH_ENTER(PML_FID_MPI_Win_lock, NULL, 0);
    w->xwait[rank]++; /* a snapshot may find it waiting there (pml_win_xwait_raise) */
    int rc = lock_call(t_, 1, lock_type, rank, assert, win, h, w);
    w->xwait[rank]--;
    PML_GATE_LEAVE();
    return rc;
}

/* The front (see MPI_Win_fence) takes a shared lock of a target of a window the program made,
 * not NOCHECK, not nested in a call that marks one: the whole entry point's first case, with the
 * same mark in the slot before the gate's check (ckpt.h, pml_win_holds_waited). A snapshot under
 * way (whose PENDING flag sends the entry to pml_shared_enter) or anything else: the mark is
 * dropped with the slot's word put back, as if the front never ran, and the whole entry point
 * marks again its own way. */
int MPI_Win_lock(int lock_type, int rank, int assert, MPI_Win win)
{
    if (!pml_L.MPI_Win_lock)
        return pml_not_ready("MPI_Win_lock");
    /* an exclusive lock at once: the front's look at the window cost it 12 instructions */
    if (lock_type != MPI_LOCK_SHARED || (assert & MPI_MODE_NOCHECK))
        return pml_full_MPI_Win_lock(lock_type, rank, assert, win);
    struct pml_vh *h = win_entry_quick(win);
    struct pml_win *w = h ? (struct pml_win *)h->info : NULL;
    struct pml_slot *t_ = pml_self;
    if (__builtin_expect(!w || rank < 0 || rank >= w->comm_size || !t_ || t_->swin, 0))
        return pml_full_MPI_Win_lock(lock_type, rank, assert, win);
    t_->srank = rank;
    __atomic_store_n(&t_->swin, w, __ATOMIC_RELEASE); /* after srank */
    uint32_t w_ = t_->w;
    t_->w = (uint32_t)PML_FID_MPI_Win_lock << 8 | PML_T_IN;
    PML_BARRIER();
    if (PML_GATE_ANY() || __builtin_expect(pml_idle_on, 0)) {
        PML_FAST_BACK();
        __atomic_store_n(&t_->swin, NULL, __ATOMIC_RELEASE);
        return pml_full_MPI_Win_lock(lock_type, rank, assert, win);
    }
    int rc = pml_L.MPI_Win_lock(lock_type, rank, assert, (MPI_Win)h->real);
    if (rc == MPI_SUCCESS) { /* lock_call's bookkeeping of a shared lock */
        w->nlocks += !w->locks[rank];
        w->locks[rank] = 1;
        w->lock_asserts[rank] = assert;
    }
    __atomic_store_n(&t_->swin, NULL, __ATOMIC_RELEASE); /* held now (w->locks), or not at all */
    PML_GATE_LEAVE();
    return rc;
}
int PMPI_Win_lock(int, int, int, MPI_Win) __attribute__((alias("pml_own_MPI_Win_lock")));

/* The lock of target rank of window w let go (MPI_Win_unlock succeeded) */
static inline __attribute__((always_inline)) void unlocked(struct pml_win *w, int rank)
{
    if (w && rank >= 0 && rank < w->comm_size) {
        if (w->locks[rank] == 2)
            epoch_closed();
        w->nlocks -= !!w->locks[rank];
        w->locks[rank] = 0;
    }
}

static __attribute__((noinline)) int pml_full_MPI_Win_unlock(int rank, MPI_Win win)
{
    if (!pml_L.MPI_Win_unlock)
        return pml_not_ready("MPI_Win_unlock");
    PML_GATE_ENTER(PML_FID_MPI_Win_unlock);
    struct pml_win *w;
    MPI_Win rw = win_real(win, &w);
    int rc = LIB_WAIT(pml_L.MPI_Win_unlock(rank, rw));
    if (rc == MPI_SUCCESS)
        unlocked(w, rank);
    PML_GATE_LEAVE();
    return rc;
}

int MPI_Win_unlock(int rank, MPI_Win win)
{
    if (!pml_L.MPI_Win_unlock)
        return pml_not_ready("MPI_Win_unlock");
    PML_FAST_ENTER(PML_FID_MPI_Win_unlock, pml_full_MPI_Win_unlock(rank, win));
    struct pml_vh *h = win_entry_quick(win);
    if (__builtin_expect(!h || pml_idle_on, 0)) {
        PML_FAST_BACK();
        return pml_full_MPI_Win_unlock(rank, win);
    }
    int rc = pml_L.MPI_Win_unlock(rank, (MPI_Win)h->real);
    if (rc == MPI_SUCCESS)
        unlocked((struct pml_win *)h->info, rank);
    PML_GATE_LEAVE();
    return rc;
}
int PMPI_Win_unlock(int, MPI_Win) __attribute__((alias("pml_own_MPI_Win_unlock")));

int MPI_Win_lock_all(int assert, MPI_Win win)
{
    if (!pml_L.MPI_Win_lock_all)
        return pml_not_ready("MPI_Win_lock_all");
    struct pml_vh *h = pml_vh_of(PML_H(win));
    struct pml_win *w = h && h->kind == PML_WIN ? (struct pml_win *)h->info : NULL;
    struct pml_slot *s = pml_slot();
    int mark = w && !(assert & MPI_MODE_NOCHECK) && !s->swin; /* as in MPI_Win_lock */
    if (mark) {
        s->srank = -1;
        __atomic_store_n(&s->swin, w, __ATOMIC_RELEASE); /* after srank */
    }
    PML_GATE_ENTER(PML_FID_MPI_Win_lock_all);
    if (mark && __builtin_expect(pml_ck_flags & PML_CK_PENDING, 0) && !(w_ & PML_T_IN) &&
        !t_->agent) /* not nested (gate.c) */
        pml_shared_enter(t_, PML_FID_MPI_Win_lock_all, w, -1);
    int rc = LIB_WAIT(pml_L.MPI_Win_lock_all(assert, h ? (MPI_Win)h->real : RW(win)));
    if (rc == MPI_SUCCESS && w)
        w->lock_all = assert + 1;
    if (mark) /* held now (w->lock_all), or not at all */
        __atomic_store_n(&s->swin, NULL, __ATOMIC_RELEASE);
    PML_GATE_LEAVE();
    return rc;
}
int PMPI_Win_lock_all(int, MPI_Win) __attribute__((alias("pml_own_MPI_Win_lock_all")));

static __attribute__((noinline)) int pml_full_MPI_Win_unlock_all(MPI_Win win)
{
    if (!pml_L.MPI_Win_unlock_all)
        return pml_not_ready("MPI_Win_unlock_all");
    PML_GATE_ENTER(PML_FID_MPI_Win_unlock_all);
    struct pml_win *w;
    MPI_Win rw = win_real(win, &w);
    int rc = LIB_WAIT(pml_L.MPI_Win_unlock_all(rw));
    if (rc == MPI_SUCCESS && w)
        w->lock_all = 0;
    PML_GATE_LEAVE();
    return rc;
}

int MPI_Win_unlock_all(MPI_Win win)
{
    if (!pml_L.MPI_Win_unlock_all)
        return pml_not_ready("MPI_Win_unlock_all");
    PML_FAST_ENTER(PML_FID_MPI_Win_unlock_all, pml_full_MPI_Win_unlock_all(win));
    struct pml_vh *h = win_entry_quick(win);
    if (__builtin_expect(!h || pml_idle_on, 0)) {
        PML_FAST_BACK();
        return pml_full_MPI_Win_unlock_all(win);
    }
    int rc = pml_L.MPI_Win_unlock_all((MPI_Win)h->real);
    if (rc == MPI_SUCCESS)
        ((struct pml_win *)h->info)->lock_all = 0;
    PML_GATE_LEAVE();
    return rc;
}
int PMPI_Win_unlock_all(MPI_Win) __attribute__((alias("pml_own_MPI_Win_unlock_all")));

/* ---- exclusive locks waited for during a snapshot ------------------------------------------
 * A rank waiting in the library for an exclusive lock (MPI_Win_lock, or on MPICH the first
 * operation, flush or unlock after it) is in an epoch and never at a safe point; the lock comes
 * only when every rank holding a shared lock of that target, or lock_all, on the window lets go.
 * A holder parked at a safe point (a collective the waiter is not in, an exclusive lock of
 * another window) held it back for good, and the snapshot timed out (rst_lockwait). The waiter
 * cannot say so from inside the library; its agent does, through the targets every rank gets:
 * while a snapshot converges and the rank is not at its targets, each (window, target) it holds
 * or waits for exclusively is raised as a clock of its own, id XWAIT_TAG | hash (ids of
 * communicators lie far below 2^62, those of windows, files and pairs of ranks at 2^63 and up).
 * A rank that holds a shared lock or lock_all on a target so named is not at a safe point
 * (pml_all_reached): it runs on, raising the targets of the collectives it passes, until it lets
 * go. Nothing changes while nobody waits: a rank holding lock_all for the whole run (Global
 * Arrays) still parks at the exclusive locks of its mutex window. */
#define XWAIT_TAG (1ull << 62)

/* the same on every member: the window's clock id and the target's rank in the window */
static uint64_t xwait_cid(const struct pml_win *w, int t)
{
    uint64_t h = (w->clock->cid ^ (uint64_t)(t + 1) * 0x9E3779B97F4A7C15ull) * 0xBF58476D1CE4E5B9ull;
    h ^= h >> 31;
    return XWAIT_TAG | (h & (XWAIT_TAG - 1));
}

int pml_xwait_cid(uint64_t cid)
{
    return cid >> 62 == 1;
}

/* A thread entering MPI_Win_lock for a shared lock of rank (not NOCHECK), or MPI_Win_lock_all
 * (rank -1), counts the lock as held from before the gate's check of the flags to the end of the
 * call (its slot's swin and srank): a snapshot that begins meanwhile (its begin fences every
 * thread, pml_membarrier) finds it in pml_win_holds_waited, or the entry sees the snapshot's flag
 * and takes pml_shared_enter, which drops the mark while it decides and parks. Without it, a rank
 * could say it was at its targets while its thread waited in the library for a shared lock (a
 * writer's exclusive lock on that target held), come out holding a target another rank waits
 * for, and run on into an exclusive lock (reasoned, not seen).
 * taking: the shared locks and lock_alls threads are taking (their slots' marks), read before
 * the windows' locks: a mark found gone was let go after the lock was written down. With
 * pml_ck_lock held (pml_shared_enter changes a mark under it), so the table is the agent's. */
static struct taking { const struct pml_win *w; int rank; } taking[PML_MAX_SLOTS];

static int taking_read(void)
{
    int n = 0;
    for (int i = 0; i < PML_MAX_SLOTS; i++) {
        struct pml_slot *t = &pml_slots[i];
        if (!t->used)
            continue;
        const struct pml_win *w = __atomic_load_n(&t->swin, __ATOMIC_ACQUIRE);
        if (!w)
            continue;
        /* the thread marks without pml_ck_lock: a rank read between its unmark and its next
         * mark belongs to the next one; read the window again and keep the pair only if it
         * stayed (diffrev25 A-L1) */
        int r = __atomic_load_n(&t->srank, __ATOMIC_ACQUIRE);
        if (__atomic_load_n(&t->swin, __ATOMIC_ACQUIRE) == w)
            taking[n++] = (struct taking){ w, r };
    }
    return n;
}

/* Whether a thread takes a shared lock of target t of w (t -1: lock_all) */
static int taken(const struct pml_win *w, int t, int n)
{
    for (int i = 0; i < n; i++)
        if (taking[i].w == w && taking[i].rank == t)
            return 1;
    return 0;
}

/* With pml_ck_lock held (the targets stay). */
int pml_win_holds_waited(void)
{
    int held = 0, n = taking_read();
    pml_vh_lock();
    for (struct pml_win *w = pml_wins; w && !held; w = w->next) {
        if (!w->clock)
            continue; /* one rank: nobody else can wait for it */
        int any = 0;
        for (int i = 0; i < n && !any; i++)
            any = taking[i].w == w;
        int all = (w->lock_all && !((w->lock_all - 1) & MPI_MODE_NOCHECK)) || (any && taken(w, -1, n));
        if (!all && !w->nlocks && !any)
            continue;
        for (int t = 0; t < w->comm_size && !held; t++)
            held = (all || shared_counted(w, t) || (any && taken(w, t, n))) &&
                   pml_target_of(xwait_cid(w, t));
    }
    pml_vh_unlock();
    return held;
}

int pml_win_waited(const struct pml_win *w, int rank)
{
    if (!w->clock)
        return 0;
    if (rank >= 0)
        return pml_target_of(xwait_cid(w, rank)) != 0;
    for (int t = 0; t < w->comm_size; t++)
        if (pml_target_of(xwait_cid(w, t)))
            return 1;
    return 0;
}

/* The agent, while a snapshot converges and this rank is not at its targets (rank_ops.c). Each
 * (window, target) once per version of the targets at most: a raise makes a new one. */
void pml_win_xwait_raise(void)
{
    static uint32_t raised_at, raised_in; /* a version is counted from 1 in every epoch */
    if (!pml_tgt_version || (raised_at == pml_tgt_version && raised_in == pml_clock_epochs) ||
        !__atomic_load_n(&pml_epochs_open, __ATOMIC_SEQ_CST))
        return;
    uint64_t want[16];
    int n = 0;
    pml_vh_lock();
    for (struct pml_win *w = pml_wins; w && n < 16; w = w->next) {
        if (!w->clock)
            continue;
        for (int t = 0; t < w->comm_size && n < 16; t++)
            if ((w->locks[t] == 2 || w->xwait[t]) && !pml_target_of(xwait_cid(w, t)))
                want[n++] = xwait_cid(w, t);
    }
    pml_vh_unlock();
    int sent = 0;
    for (int i = 0; i < n; i++) {
        revive_log_debug("a snapshot waits for an exclusive lock: clock %#llx raised",
                         (unsigned long long)want[i]);
        sent += pml_agent_raise(want[i], 1) == 0;
    }
    if (sent == n && n) {
        raised_at = pml_tgt_version;
        raised_in = pml_clock_epochs;
    }
}

/* ---- addresses the library hands out -------------------------------------------------------- */
/* After a restart the library's window memory may lie elsewhere than where the program saw it
 * (win_ckpt.c maps the same pages at the program's addresses); the library's addresses are given
 * back as the program knew them. */
int MPI_Win_shared_query(MPI_Win win, int rank, MPI_Aint *size, int *disp_unit, void *baseptr)
{
    if (!pml_L.MPI_Win_shared_query)
        return pml_not_ready("MPI_Win_shared_query");
    PML_GATE_ENTER(PML_FID_MPI_Win_shared_query);
    struct pml_win *w = pml_win_of(PML_H(win));
    if (w && w->own_mem && w->flavor == MPI_WIN_FLAVOR_SHARED &&
        (rank == 0 || rank == MPI_PROC_NULL)) {
        /* a shared window of one rank is a created one in the library (see the top) */
        *size = w->size;
        *disp_unit = w->disp_unit;
        *(void **)baseptr = w->base;
        PML_GATE_LEAVE();
        return MPI_SUCCESS;
    }
    int rc = pml_L.MPI_Win_shared_query(RW(win), rank, size, disp_unit, baseptr);
    if (rc == MPI_SUCCESS && w)
        *(void **)baseptr = pml_win_addr_out(w, *(void **)baseptr);
    PML_GATE_LEAVE();
    return rc;
}
int PMPI_Win_shared_query(MPI_Win, int, MPI_Aint *, int *, void *) __attribute__((alias("pml_own_MPI_Win_shared_query")));

int MPI_Win_get_attr(MPI_Win win, int keyval, void *val, int *flag)
{
    if (!pml_L.MPI_Win_get_attr)
        return pml_not_ready("MPI_Win_get_attr");
    PML_GATE_ENTER(PML_FID_MPI_Win_get_attr);
    int rc = pml_L.MPI_Win_get_attr(RW(win), pml_kv_v2r(keyval), val, flag);
    struct pml_win *w = pml_win_of(PML_H(win));
    if (rc == MPI_SUCCESS && *flag && w && keyval == MPI_WIN_BASE)
        *(void **)val = pml_win_addr_out(w, *(void **)val);
    if (rc == MPI_SUCCESS && *flag && w && keyval == MPI_WIN_CREATE_FLAVOR && w->own_mem) {
        /* the library made the window with MPI_Win_create on the layer's memory */
        static const int flavors[] = { MPI_WIN_FLAVOR_ALLOCATE, MPI_WIN_FLAVOR_SHARED };
        *(const int **)val = &flavors[w->flavor == MPI_WIN_FLAVOR_SHARED];
    }
    PML_GATE_LEAVE();
    return rc;
}
int PMPI_Win_get_attr(MPI_Win, int, void *, int *) __attribute__((alias("pml_own_MPI_Win_get_attr")));

/* The Fortran bindings read attributes through the library's own Fortran paths, past
 * MPI_Win_get_attr (fortran_paths.c): after a restart MPI_WIN_BASE was the fresh library's
 * address, and on MPICH a window of one rank said MPI_WIN_FLAVOR_CREATE from the start
 * (tests/mpi/ckpt/rst_fwin.f90) */
void pml_win_fattr_out(uintptr_t vwin, int keyval, MPI_Aint *val)
{
    struct pml_win *w = pml_win_of(vwin);
    if (!w)
        return;
    if (keyval == MPI_WIN_BASE)
        *val = (MPI_Aint)(uintptr_t)pml_win_addr_out(w, (void *)(uintptr_t)*val);
    else if (keyval == MPI_WIN_CREATE_FLAVOR && w->own_mem)
        *val = w->flavor;
}

/* ---- keyvals: the program's callbacks get its window handle and keyval ------------------ */
/* (pml_attr_quiet, layer.c: while a restart sets attribute values again, no callback runs) */
static int win_copy_t(MPI_Win old, int kv, void *xs, void *in, void *out, int *flag)
{
    (void)kv;
    struct pml_kvinfo *ki = xs;
    if (pml_attr_quiet) {
        *flag = 0;
        return MPI_SUCCESS;
    }
    int made;
    MPI_Win v = (MPI_Win)pml_r2v_cb(PML_WIN, PML_H(old), &made);
    int rc = ((MPI_Win_copy_attr_function *)ki->copy)(v, ki->vkv, ki->extra, in, out, flag);
    if (made)
        pml_vh_release(PML_H(v));
    return rc;
}

static int win_del_t(MPI_Win w, int kv, void *val, void *xs)
{
    (void)kv;
    struct pml_kvinfo *ki = xs;
    if (pml_attr_quiet)
        return MPI_SUCCESS;
    int made;
    MPI_Win v = (MPI_Win)pml_r2v_cb(PML_WIN, PML_H(w), &made);
    int rc = ((MPI_Win_delete_attr_function *)ki->del)(v, ki->vkv, val, ki->extra);
    if (made)
        pml_vh_release(PML_H(v));
    return rc;
}

/* The lower half's keyval for info ki (its callbacks: ours, or the library's predefined ones);
 * also a restart's (layer.c pml_keyval_remake). */
int pml_win_keyval_lower(struct pml_kvinfo *ki, int *real)
{
    void *lc = ki->copy && !pml_fn_in_upper(ki->copy) ? (void *)win_copy_t
                                                       : (void *)pml_fn_to_lower(ki->copy);
    void *ld = ki->del && !pml_fn_in_upper(ki->del) ? (void *)win_del_t
                                                     : (void *)pml_fn_to_lower(ki->del);
    return pml_L.MPI_Win_create_keyval((MPI_Win_copy_attr_function *)lc,
                                       (MPI_Win_delete_attr_function *)ld, real, ki);
}

int MPI_Win_create_keyval(MPI_Win_copy_attr_function *copy, MPI_Win_delete_attr_function *del,
                          int *keyval, void *extra)
{
    if (!pml_L.MPI_Win_create_keyval)
        return pml_not_ready("MPI_Win_create_keyval");
    struct pml_kvinfo *ki = xcalloc(1, sizeof *ki);
    ki->copy = (void *)copy;
    ki->del = (void *)del;
    ki->extra = extra;
    int real = 0;
    PML_GATE_ENTER(PML_FID_MPI_Win_create_keyval);
    pml_kv_collect_some();
    int rc = pml_win_keyval_lower(ki, &real);
    PML_GATE_LEAVE();
    if (rc != MPI_SUCCESS) {
        free(ki);
        return rc;
    }
    ki->vkv = *keyval = pml_kv_new(real, ki);
    struct pml_rec *R = pml_rec_open(PML_FID_MPI_Win_create_keyval);
    pml_rec_ptr(R, (const void *)copy);
    pml_rec_ptr(R, (const void *)del);
    pml_rec_handle(R, (uintptr_t)(unsigned)*keyval);
    pml_rec_ptr(R, extra);
    pml_vh_tab[(uint32_t)*keyval & 0x3ffffff].rec = pml_rec_close(R);
    return rc;
}
int PMPI_Win_create_keyval(MPI_Win_copy_attr_function *, MPI_Win_delete_attr_function *, int *, void *)
    __attribute__((alias("pml_own_MPI_Win_create_keyval")));

/* ---- C and Fortran handles (functions in Open MPI, macros in MPICH) ------------------------ */
#ifdef PML_OMPI
/* The layer's own integers (fortran_handles.c): a restart makes the windows again in a fresh
 * library, whose table numbers them as it pleases. */
MPI_Fint MPI_Win_c2f(MPI_Win win)
{
    static void *f;
    return pml_f_c2f(PML_H(win), PML_WIN, &f, "PMPI_Win_c2f");
}

MPI_Win MPI_Win_f2c(MPI_Fint win)
{
    static void *f;
    return (MPI_Win)pml_f_f2c(win, PML_WIN, &f, "PMPI_Win_f2c");
}
MPI_Fint PMPI_Win_c2f(MPI_Win) __attribute__((alias("MPI_Win_c2f")));
MPI_Win PMPI_Win_f2c(MPI_Fint) __attribute__((alias("MPI_Win_f2c")));
#endif
