/* Virtual handles: the table behind the handles the application sees, the reverse map from
 * real handles, keyvals, and the trampolines that give callbacks virtual handles back. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "mpi"
#include "common/libc_dlsym.h"
#include "pml_hooks/layer.h"
#include "common/fault.h"

#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

struct pml_vh *pml_vh_tab;
uint32_t pml_vh_used;
uintptr_t pml_vh_bytes;
static uint32_t free_head = UINT32_MAX;
uintptr_t pml_up_lo, pml_up_span, pml_lo_lo;
intptr_t pml_delta;
int pml_threaded;
volatile int pml_vh_lock_word;

/* ---- reverse map: real handle -> index (not for requests and messages) ---------------- */
#define HASH_CAP (1u << 16) /* grows by doubling */
static struct { uintptr_t key; uint32_t idx; } *hash;
static uint32_t hash_cap, hash_n;

static uint32_t hslot(uintptr_t key)
{
    key ^= key >> 29;
    key *= 0xbf58476d1ce4e5b9ull;
    key ^= key >> 32;
    return (uint32_t)key & (hash_cap - 1);
}

static void hash_put(uintptr_t key, uint32_t idx);

static void hash_grow(void)
{
    uint32_t oldcap = hash_cap;
    __typeof__(hash) old = hash;
    hash_cap = oldcap ? oldcap * 2 : HASH_CAP;
    hash = calloc(hash_cap, sizeof *hash);
    if (!hash)
        pml_fatal("out of memory for the handle map");
    hash_n = 0;
    for (uint32_t i = 0; i < oldcap; i++)
        if (old[i].key)
            hash_put(old[i].key, old[i].idx);
    free(old);
}

static void hash_put(uintptr_t key, uint32_t idx)
{
    if ((hash_n + 1) * 2 > hash_cap)
        hash_grow();
    uint32_t s = hslot(key);
    while (hash[s].key && hash[s].key != key)
        s = (s + 1) & (hash_cap - 1);
    if (hash[s].key)
        return; /* the first live virtual handle of this real one keeps the entry */
    hash_n++;
    hash[s].key = key;
    hash[s].idx = idx;
}

static int hash_get(uintptr_t key, uint32_t *idx)
{
    if (!hash_cap)
        return 0;
    uint32_t s = hslot(key);
    while (hash[s].key) {
        if (hash[s].key == key) {
            *idx = hash[s].idx;
            return 1;
        }
        s = (s + 1) & (hash_cap - 1);
    }
    return 0;
}

static void hash_del(uintptr_t key, uint32_t idx)
{
    if (!hash_cap)
        return;
    uint32_t s = hslot(key);
    while (hash[s].key && hash[s].key != key)
        s = (s + 1) & (hash_cap - 1);
    if (!hash[s].key || hash[s].idx != idx)
        return;
    /* backward-shift deletion keeps probe chains intact */
    uint32_t i = s;
    for (;;) {
        hash[i].key = 0;
        uint32_t j = i;
        for (;;) {
            j = (j + 1) & (hash_cap - 1);
            if (!hash[j].key) {
                hash_n--;
                return;
            }
            uint32_t h = hslot(hash[j].key);
            if ((j > i && (h <= i || h > j)) || (j < i && (h <= i && h > j)))
                break;
        }
        hash[i] = hash[j];
        i = j;
    }
}

/* ---- the table ------------------------------------------------------------------------- */
int pml_vh_init(void)
{
    if (pml_vh_tab)
        return 0;
    void *p = mmap(NULL, (size_t)PML_VH_CAP * sizeof(struct pml_vh), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return -1;
    pml_vh_tab = p;
    pml_vh_used = 1; /* index 0 is never handed out */
    pml_vh_bytes = sizeof(struct pml_vh);
    return 0;
}

#ifdef PML_OMPI
static uintptr_t encode(uint32_t idx, int kind)
{
    (void)kind;
    return (uintptr_t)&pml_vh_tab[idx];
}
static uint32_t decode(uintptr_t v)
{
    return (uint32_t)((v - (uintptr_t)pml_vh_tab) / sizeof(struct pml_vh));
}
#else
static const uint32_t mpich_objtype[PML_NKINDS] = {
    [PML_COMM] = 1, [PML_GROUP] = 2, [PML_TYPE] = 3, [PML_FILE] = 4, [PML_ERRH] = 5,
    [PML_OP] = 6, [PML_INFO] = 7, [PML_WIN] = 8, [PML_KEYVAL] = 9, [PML_REQ] = 11,
    [PML_MSG] = 11,
};
static uintptr_t encode(uint32_t idx, int kind)
{
    return 0xC0000000u | mpich_objtype[kind] << 26 | idx;
}
static uint32_t decode(uintptr_t v)
{
    return (uint32_t)(v & 0x3ffffff);
}
#endif

uintptr_t pml_vh_handle(uint32_t idx)
{
    return encode(idx, pml_vh_tab[idx].kind);
}

static uint32_t vh_alloc(int kind, uintptr_t real)
{
    uint32_t idx;
    if (free_head != UINT32_MAX) {
        idx = free_head;
        free_head = pml_vh_tab[idx].next_free;
    } else {
        if (pml_vh_used >= PML_VH_CAP || pml_vh_used >= (1u << 26))
            pml_fatal("more than %u live MPI handles", PML_VH_CAP);
        idx = pml_vh_used++;
        pml_vh_bytes = (uintptr_t)pml_vh_used * sizeof(struct pml_vh);
    }
    struct pml_vh *h = &pml_vh_tab[idx];
    h->real = real;
    h->kind = (uint16_t)kind;
    h->flags = 0;
    h->lrefs = 0;
    h->unbacked = 0;
    h->rec = -1;
    h->aux = h->info = NULL;
    if (kind != PML_REQ && kind != PML_MSG && real) /* 0: the real one comes later (an update) */
        hash_put(real, idx);
    return idx;
}

#ifdef PML_OMPI
#include "pml_hooks/pml_datasyms_ompi.h"
#include <dlfcn.h>
struct pml_pre pml_pre_u2l[PML_PRE_N], pml_pre_l2u[PML_PRE_N];

static void pre_put(struct pml_pre *t, uintptr_t k, uintptr_t v)
{
    uint32_t s = (uint32_t)(k >> 5) & (PML_PRE_N - 1);
    while (t[s].k && t[s].k != k)
        s = (s + 1) & (PML_PRE_N - 1);
    t[s].k = k;
    t[s].v = v;
}

void pml_pre_init(void *lower)
{
    int n = 0;
    for (int i = 0; i < PML_NDATASYMS; i++) {
        uintptr_t u = (uintptr_t)revive_dlsym(RTLD_DEFAULT, pml_data_syms[i]);
        if (!u || u - pml_up_lo < pml_up_span)
            continue; /* still in libmpi: the distance between the copies translates it */
        uintptr_t l = (uintptr_t)revive_dlsym(lower, pml_data_syms[i]);
        if (!l)
            continue;
        if (++n > PML_PRE_N / 2)
            pml_fatal("too many MPI objects copied into the executable");
        pre_put(pml_pre_u2l, u, l);
        pre_put(pml_pre_l2u, l, u);
    }
    revive_log_debug("%d predefined MPI objects live in the executable (copy relocations)", n);
}
#else
void pml_pre_init(void *lower)
{
    (void)lower;
}
#endif

uintptr_t pml_r2v_predef(uintptr_t real)
{
#ifdef PML_OMPI
    uintptr_t u = pml_pre_find(pml_pre_l2u, real);
    if (u)
        return u;
    if (pml_real_is_predef(real))
        return real - (uintptr_t)pml_delta;
#endif
    return real;
}

/* ---- the program's references to predefined objects ----------------------------------------
 * A call may hand out a predefined group or error handler with a reference the program frees
 * (MPI_GROUP_EMPTY from a group constructor that selects no process, MPI 4.0 7.3.2;
 * MPI_ERRORS_ARE_FATAL/RETURN from MPI_Comm/Win/File_get_errhandler, 9.3.4). Open MPI counts them
 * on its static object: one free below its count called free() on it ("free(): invalid
 * pointer", MPI_GROUP_EMPTY: no margin at all) or was refused ("Cannot free predefined error
 * handler", MPI_ERRORS_RETURN after one). A predefined handle has no virtual handle, no record
 * entry: a restart's fresh library counted none of the references the program held at the
 * snapshot, and its frees of them after the restart went below the count (ck_coll-ompi np=1 in
 * the random-moment campaign: MPI_Group_excl of the only rank, a snapshot before its
 * MPI_Group_free). So the layer counts, per such object, the references the program holds
 * (held), and a restart marks them all unbacked: the program's free of one is the layer's alone,
 * as for a virtual handle got several times (pml_vh_unbacked_take). MPICH counts no builtin
 * object: the same bookkeeping changes nothing there. Datatypes and ops are left out: their
 * predefined objects cannot be freed (the library refuses, as natively), and no call hands out a
 * predefined communicator or info for the program to free. */
#define PRE_REFS_N 16 /* a handful of predefined groups and error handlers exist */
static struct pre_ref { uintptr_t v; uint32_t held, unbacked; } pre_refs[PRE_REFS_N];
static int pre_refs_n;

static struct pre_ref *pre_ref_find(uintptr_t v) /* with pml_vh_lock held */
{
    for (int i = 0; i < pre_refs_n; i++)
        if (pre_refs[i].v == v)
            return &pre_refs[i];
    return NULL;
}

/* The program got a reference to the predefined object v of kind `kind`. */
static void pre_ref_hold(int kind, uintptr_t v)
{
    if (kind != PML_GROUP && kind != PML_ERRH)
        return;
    pml_vh_lock();
    struct pre_ref *p = pre_ref_find(v);
    if (!p && pre_refs_n < PRE_REFS_N) {
        p = &pre_refs[pre_refs_n++];
        p->v = v;
    }
    if (p && p->held < UINT32_MAX) /* saturated: a program that never frees them never runs out */
        p->held++;
    pml_vh_unlock();
}

/* The program's free of a reference to predefined object v succeeded (pml_vh_release). */
static void pre_ref_drop(uintptr_t v)
{
    pml_vh_lock();
    struct pre_ref *p = pre_ref_find(v);
    if (p && p->held)
        p->held--;
    pml_vh_unlock();
}

/* pml_vh_unbacked_take for a predefined object: 1 when the fresh library lacks the reference. */
static int pre_ref_take(uintptr_t v)
{
    pml_vh_lock();
    struct pre_ref *p = pre_ref_find(v);
    int taken = p && p->unbacked > 0 && p->held > 0;
    if (taken)
        p->unbacked--;
    pml_vh_unlock();
    return taken;
}

uintptr_t pml_new(int kind, uintptr_t real)
{
    if (pml_real_is_predef(real)) {
        uintptr_t v = pml_r2v_predef(real);
        pre_ref_hold(kind, v);
        return v;
    }
    pml_vh_lock();
    uint32_t idx = vh_alloc(kind, real);
    pml_vh_unlock();
    return encode(idx, kind);
}

/* A handle for a request or message whatever the real one is (it may change later). */
uintptr_t pml_new_raw(int kind, uintptr_t real)
{
    pml_vh_lock();
    uint32_t idx = vh_alloc(kind, real);
    pml_vh_unlock();
    return encode(idx, kind);
}

static uintptr_t get_ref(int kind, uintptr_t real, int ref, int *claim);

uintptr_t pml_get(int kind, uintptr_t real)
{
    return get_ref(kind, real, 1, NULL);
}

uintptr_t pml_get_claim(int kind, uintptr_t real, int *claim)
{
    *claim = 0;
    return get_ref(kind, real, 1, claim);
}

/* The virtual handle of a real one, for callbacks: no new reference for the application. */
uintptr_t pml_r2v(int kind, uintptr_t real)
{
    return get_ref(kind, real, 0, NULL);
}

static uintptr_t get_ref(int kind, uintptr_t real, int ref, int *claim)
{
    if (pml_real_is_predef(real)) {
        uintptr_t v = pml_r2v_predef(real);
        if (ref)
            pre_ref_hold(kind, v);
        return v;
    }
    uint32_t idx;
    int made = 0;
    pml_vh_lock();
    int found = hash_get(real, &idx);
    /* a handle with no record and no reference of the program's is the caller's to record,
     * decided here under the lock and marked at once: of two threads getting the same new
     * handle (MPI_THREAD_MULTIPLE, the same f90 type) exactly one records it (diffrev45 R-L2:
     * looked at after the call, the second's reference hid it from both) */
    if (claim && found && pml_vh_tab[idx].rec == -1 && pml_vh_tab[idx].flags == 0) {
        *claim = 1;
        pml_vh_tab[idx].rec = PML_REC_CLAIMED;
    }
    if (found) {
        if (ref) { /* another reference to free (MPI_Comm_get_errhandler, ...) */
            if (pml_vh_tab[idx].flags == UINT32_MAX)
                pml_fatal("more than %u references to one MPI handle: the program gets it again "
                          "and again (MPI_Comm_group, MPI_Comm_get_errhandler...) without "
                          "freeing it", UINT32_MAX);
            pml_vh_tab[idx].flags++;
        }
    } else {
#ifdef PML_MPICH
        /* MPICH's pair types (MPI_FLOAT_INT ... MPI_LONG_DOUBLE_INT) are the direct handles of
         * indices 0-4, the same in every instance of the library. The direct slots after them
         * are handed out at run time (MPI_Type_create_f90_real gave 0x8c000007): such a handle
         * passed on raw was never recorded, and after a restart named whatever the fresh
         * library made there (session 44: an f90 real came back as an f90 complex) */
        if (kind == PML_TYPE && (real >> 26) == 0x23 && (real & 0x3ffffff) <= 4) {
            pml_vh_unlock();
            return real;
        }
#endif
        idx = vh_alloc(kind, real);
        made = ref;
        if (claim) {
            *claim = 1;
            pml_vh_tab[idx].rec = PML_REC_CLAIMED;
        }
    }
    pml_vh_unlock();
    /* fault point mpi-get-late: a handle just made for a call that gets it, handed back late, as
     * when the thread loses the CPU here: another thread's call for the same handle comes first
     * (rst_getrace.sh, diffrev45 R-L2) */
    if (made && revive_fault(REVIVE_FAULT_mpi_get_late)) {
        struct timespec late = {0, 2000000};
        nanosleep(&late, NULL);
    }
    return encode(idx, kind);
}

uintptr_t pml_r2v_cb(int kind, uintptr_t real, int *made)
{
    uint32_t idx;
    pml_vh_lock();
    int found = pml_real_is_predef(real) || hash_get(real, &idx);
    pml_vh_unlock();
    *made = !found;
    return pml_r2v(kind, real);
}

void pml_vh_release(uintptr_t v)
{
    struct pml_vh *h = pml_vh_of(v);
    if (!h) {
        pre_ref_drop(v); /* a predefined group or error handler the program freed */
        return;
    }
    if (!h->kind)
        return;
    pml_vh_lock();
    if (h->flags) { /* the handle was handed out more than once: one reference fewer */
        h->flags--;
        pml_vh_unlock();
        return;
    }
    if (h->kind == PML_TYPE || h->kind == PML_COMM) {
        /* receives pending with it (the library keeps it for them, MPI 3.1 4.1.9 and 6.4.3)
         * keep the handle: a restart posts them again with it, made again by the replay */
        uint32_t n = pml_rq_hold_locked(v, h);
        if (n) {
            h->lrefs = n;
            h->flags = n - 1;
            /* the program has it no more: a handle the library hands out again once the
             * receives completed maps to a handle of its own */
            hash_del(h->real, decode(v));
            pml_vh_unlock();
            return;
        }
    }
    if (h->kind != PML_REQ && h->kind != PML_MSG)
        hash_del(h->real, decode(v));
    if (h->rec >= 0)
        pml_rec_kill(h->rec);
    if (h->aux)
        free(h->aux);
    if (h->kind == PML_REQ && h->info)
        free(h->info);
    h->aux = h->info = NULL;
    h->kind = 0;
    h->real = 0;
    h->next_free = free_head;
    free_head = decode(v);
    pml_vh_unlock();
}

/* layer.h. The keyvals' flags are bits (keyvals.c), requests and messages are never handed out
 * twice. */
void pml_vh_restart_refs(void)
{
    for (uint32_t i = 1; i < pml_vh_used; i++) {
        struct pml_vh *h = &pml_vh_tab[i];
        h->unbacked = 0;
        if (!h->kind || h->kind == PML_REQ || h->kind == PML_MSG || h->kind == PML_KEYVAL ||
            !h->real || h->flags <= h->lrefs || pml_real_is_predef(h->real) ||
            (h->kind == PML_TYPE && pml_type_library_owned(h->real)))
            continue;
        h->unbacked = h->flags - h->lrefs;
        revive_log_debug("handle %#lx: the program holds %u references the fresh library does not count",
                         (unsigned long)pml_vh_handle(i), h->unbacked);
    }
    /* every reference to a predefined object: the fresh library counted none (pre_ref_hold) */
    pml_vh_lock();
    for (int i = 0; i < pre_refs_n; i++) {
        pre_refs[i].unbacked = pre_refs[i].held;
        if (pre_refs[i].held)
            revive_log_debug("predefined object %#lx: the program holds %u references the fresh "
                             "library does not count", (unsigned long)pre_refs[i].v, pre_refs[i].held);
    }
    pml_vh_unlock();
}

int pml_vh_unbacked_take(uintptr_t v)
{
    struct pml_vh *h = pml_vh_of(v);
    if (!h)
        return pre_ref_take(v);
    if (!h->kind)
        return 0;
    pml_vh_lock();
    int taken = h->unbacked > 0 && h->flags > 0;
    if (taken)
        h->unbacked--;
    pml_vh_unlock();
    return taken;
}

void pml_vh_unmap(uintptr_t v)
{
    struct pml_vh *h = pml_vh_of(v);
    if (!h || !h->kind || h->kind == PML_REQ || h->kind == PML_MSG)
        return;
    pml_vh_lock();
    hash_del(h->real, decode(v));
    pml_vh_unlock();
}

void pml_vh_update(uintptr_t v, uintptr_t real)
{
    struct pml_vh *h = pml_vh_of(v);
    if (h && h->real != real) {
        pml_vh_lock();
        if (h->kind != PML_REQ && h->kind != PML_MSG) {
            hash_del(h->real, decode(v));
            hash_put(real, decode(v));
        }
        h->real = real;
        pml_vh_unlock();
    }
}

void pml_vh_attach(uintptr_t v, void *a, void *b)
{
    struct pml_vh *h = pml_vh_of(v);
    if (!h) { /* a request that completed at once (predefined): nothing holds the arrays */
        free(a);
        free(b);
        return;
    }
    h->aux = a;
    h->info = b;
}

/* A request or message whose real handle changed in a completion call. */
uintptr_t pml_req_done(uintptr_t v, uintptr_t real)
{
    if (pml_real_is_predef(real)) {
        pml_vh_release(v);
        return pml_r2v_predef(real);
    }
    pml_vh_update(v, real);
    return v;
}

void *pml_tmp_heap(int n, size_t size)
{
    void *p = malloc((n > 0 ? (size_t)n : 1) * size);
    if (!p)
        pml_fatal("out of memory translating %d handles", n);
    return p;
}

/* Record index of the creation entry for a virtual handle. */
void pml_vh_set_rec(uintptr_t v, int32_t rec)
{
    struct pml_vh *h = pml_vh_of(v);
    if (h)
        h->rec = rec;
}

/* ---- keyvals --------------------------------------------------------------------------- */
int pml_kv_v2r(int v)
{
    uint32_t u = (uint32_t)v;
    if ((u & 0xFC000000u) == PML_KV_TAG && (u & 0x3ffffff) < pml_vh_used)
        return (int)pml_vh_tab[u & 0x3ffffff].real;
    return v;
}

int pml_kv_new(int real, void *info)
{
    pml_vh_lock();
    uint32_t idx = vh_alloc(PML_KEYVAL, (uintptr_t)(uint32_t)real);
    pml_vh_tab[idx].info = info;
    pml_vh_unlock();
    return (int)(PML_KV_TAG | idx);
}

void pml_kv_update(int v, int real)
{
    uint32_t u = (uint32_t)v;
    if ((u & 0xFC000000u) != PML_KV_TAG || (u & 0x3ffffff) >= pml_vh_used)
        return;
    uint32_t idx = u & 0x3ffffff;
    pml_vh_lock();
    hash_del(pml_vh_tab[idx].real, idx);
    pml_vh_tab[idx].real = (uintptr_t)(uint32_t)real;
    hash_put(pml_vh_tab[idx].real, idx);
    pml_vh_unlock();
}

/* After a restart: every real handle belongs to the dead lower half. The virtual handles stay
 * (the application holds them); the reverse map is emptied, and the replay gives each live one
 * its new real handle (pml_vh_update, pml_kv_update). Predefined objects of the lower library
 * are found again by pml_pre_init. */
void pml_vh_restart_reset(void)
{
    pml_vh_lock();
    if (hash_cap)
        memset(hash, 0, (size_t)hash_cap * sizeof *hash);
    hash_n = 0;
    for (uint32_t i = 1; i < pml_vh_used; i++)
        if (pml_vh_tab[i].kind && pml_vh_tab[i].kind != PML_REQ && pml_vh_tab[i].kind != PML_MSG)
            pml_vh_tab[i].real = 0;
#ifdef PML_OMPI
    memset(pml_pre_u2l, 0, sizeof pml_pre_u2l);
    memset(pml_pre_l2u, 0, sizeof pml_pre_l2u);
#endif
    pml_vh_unlock();
}

void pml_kv_release(int v)
{
    uint32_t u = (uint32_t)v;
    if ((u & 0xFC000000u) != PML_KV_TAG || (u & 0x3ffffff) >= pml_vh_used)
        return;
    uint32_t idx = u & 0x3ffffff;
    struct pml_vh *h = &pml_vh_tab[idx];
    pml_vh_lock();
    hash_del(h->real, idx);
    if (h->rec >= 0)
        pml_rec_kill(h->rec);
    /* the callbacks' info stays: attributes still attached may call them */
    h->kind = 0;
    h->next_free = free_head;
    free_head = idx;
    pml_vh_unlock();
}

/* ---- function pointers that live in the MPI library ------------------------------------- */
int pml_fn_in_upper(const void *fn)
{
    return (uintptr_t)fn - pml_up_lo < pml_up_span;
}

const void *pml_fn_to_lower(const void *fn)
{
    return pml_fn_in_upper(fn) ? (const void *)((uintptr_t)fn + (uintptr_t)pml_delta) : fn;
}

const int *pml_weights(const int *w)
{
    return pml_fn_to_lower(w); /* MPICH's MPI_UNWEIGHTED/MPI_WEIGHTS_EMPTY point into the library */
}

/* ---- trampolines: callbacks from the lower half get virtual handles ------------------- */
/* A thunk per reduction function of the program (thunk.c): the library's datatype becomes the
 * program's. */
static void op_target(void *in, void *inout, int *len, MPI_Datatype *dt, const struct pml_thunk *t)
{
    MPI_Datatype v = (MPI_Datatype)pml_r2v(PML_TYPE, PML_H(*dt));
    ((MPI_User_function *)t->ctx)(in, inout, len, &v);
}
static struct pml_thunk_set op_thunks;

MPI_User_function *pml_op_tramp(MPI_User_function *fn)
{
    if (!fn || pml_fn_in_upper((const void *)fn))
        return (MPI_User_function *)pml_fn_to_lower((const void *)fn);
    return (MPI_User_function *)pml_thunk_for(&op_thunks, (void *)op_target, (void *)fn);
}

/* ---- sizes of the arrays some calls take ------------------------------------------------ */
int pml_wcount(MPI_Comm comm)
{
    MPI_Comm r = (MPI_Comm)pml_v2r(PML_H(comm));
    int inter = 0, n = 0;
    if (pml_L.MPI_Comm_test_inter(r, &inter) != MPI_SUCCESS)
        return 0;
    if (inter)
        pml_L.MPI_Comm_remote_size(r, &n);
    else
        pml_L.MPI_Comm_size(r, &n);
    return n;
}

static int nbr_count(MPI_Comm comm, int in)
{
    MPI_Comm r = (MPI_Comm)pml_v2r(PML_H(comm));
    int topo = MPI_UNDEFINED, n = 0;
    if (pml_L.MPI_Topo_test(r, &topo) != MPI_SUCCESS)
        return 0;
    if (topo == MPI_CART) {
        pml_L.MPI_Cartdim_get(r, &n);
        return 2 * n;
    }
    if (topo == MPI_GRAPH) {
        int me;
        pml_L.MPI_Comm_rank(r, &me);
        pml_L.MPI_Graph_neighbors_count(r, me, &n);
        return n;
    }
    if (topo == MPI_DIST_GRAPH) {
        int i, o, w;
        pml_L.MPI_Dist_graph_neighbors_count(r, &i, &o, &w);
        return in ? i : o;
    }
    return 0;
}

int pml_nbr_in(MPI_Comm comm) { return nbr_count(comm, 1); }
int pml_nbr_out(MPI_Comm comm) { return nbr_count(comm, 0); }

int pml_cartdim(MPI_Comm comm)
{
    int n = 0;
    pml_L.MPI_Cartdim_get((MPI_Comm)pml_v2r(PML_H(comm)), &n);
    return n;
}

int pml_isum(int n, const int *a)
{
    int s = 0;
    for (int i = 0; a && i < n; i++)
        s += a[i];
    return s;
}
