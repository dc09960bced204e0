/* Revive's MPI layer: internals shared by the entry points (generated from mpi_iface.def),
 * the virtual handles, the creation record and the lower-half loader.
 *
 * The file is compiled once per MPI library: against Open MPI's mpi.h with PML_OMPI defined,
 * against MPICH's with PML_MPICH defined. Handles the application sees are virtual:
 *   Open MPI (handles are pointers): a predefined handle is the address of an object in the
 *     application's (upper, never initialised) copy of libmpi; the lower copy is the same file,
 *     so the real handle is the same address moved by the distance between the two copies. A
 *     handle the application created is the address of a struct pml_vh holding the real one.
 *   MPICH (handles are ints): predefined handles are the same constants in every copy and are
 *     passed unchanged; a created handle is 0xC0000000 | object-type << 26 | index of its
 *     struct pml_vh (MPICH's own created handles never reach the application).
 * Keyvals are ints in both: 0x3C000000 | index for created ones, predefined ones unchanged. */
#ifndef PML_HOOKS_LAYER_H
#define PML_HOOKS_LAYER_H

#include <mpi.h>
#include "pml_hooks/ompi_weak.h" /* after mpi.h: its objects as weak references */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "pml_hooks/unsupported.h"
#include "common/log.h"

#if !defined(PML_OMPI) && !defined(PML_MPICH)
#error "compile with -DPML_OMPI or -DPML_MPICH"
#endif

#include "pml_hooks/pml_table.h" /* generated: struct pml_lower_fns */

enum pml_kind {
    PML_COMM = 1, PML_GROUP, PML_TYPE, PML_OP, PML_ERRH, PML_INFO, PML_REQ, PML_MSG,
    PML_WIN, PML_FILE, PML_KEYVAL, PML_NKINDS
};

/* One virtual handle. */
struct pml_vh {
    uintptr_t real;     /* the lower half's handle */
    uint16_t kind;      /* enum pml_kind; 0 when free */
    /* references handed out beyond the first: 32 bits, checked where they grow (pml_vh_ref,
     * pml_get): 16 bits wrapped after 65536 persistent requests on one datatype, and the
     * handle went while the program and the requests still held it (tests/mpi/ckpt/rst_refs) */
    uint32_t flags;
    int32_t rec;        /* index of the record entry that created it, or -1 */
    uint32_t next_free;
    uint32_t lrefs;     /* of those, the layer's own (objs.c pml_vh_ref): a view's or a persistent
                         * request's datatype, a persistent request's communicator, a file's error
                         * handler; a pending receive's datatype or communicator the program freed
                         * (pml_rq_hold_locked) */
    /* of the program's references, those the MPI library does not count since the last restart
     * (its replay made the object once, the program held the handle several times: got again
     * by MPI_Comm_get_errhandler...): the program's free of such a reference is the layer's
     * alone (pml_vh_unbacked_take), so that its last free is the library's last (set by
     * pml_vh_restart_refs) */
    uint32_t unbacked;
    void *aux;          /* heap memory that lives as long as the handle (nonblocking arrays) */
    void *info;         /* per-kind extra (keyval callbacks) */
};

#define PML_VH_CAP (1u << 22)
#define PML_STACK_HANDLES 64
#define PML_KV_TAG 0x3C000000u

/* The data every entry point reads is hidden: an exported variable of a shared object is read
 * through its GOT entry, one more load before each (handle translation, the gate's flags) */
#define PML_HOT __attribute__((visibility("hidden")))
PML_HOT extern struct pml_lower_fns pml_L;   /* NULL entries until MPI_Init succeeded */
PML_HOT extern struct pml_vh *pml_vh_tab;    /* PML_VH_CAP entries, reserved at load */
PML_HOT extern uint32_t pml_vh_used;         /* high-water mark */
/* pml_vh_used * sizeof(struct pml_vh), kept with it: the range of Open MPI's created handles
 * without a multiplication per translation */
PML_HOT extern uintptr_t pml_vh_bytes;

PML_HOT extern uintptr_t pml_up_lo, pml_up_span; /* the application's copy of the MPI library */
PML_HOT extern uintptr_t pml_lo_lo;              /* the lower copy: same file, other base */
PML_HOT extern intptr_t pml_delta;               /* lower - upper */

#ifdef PML_OMPI
#define PML_H(v) ((uintptr_t)(v))

/* Predefined objects the executable copied out of libmpi (copy relocations: the usual case for
 * MPI_COMM_WORLD, MPI_INT, ... in a PIE or non-PIE executable): upper address -> lower. */
#define PML_PRE_N 1024
struct pml_pre { uintptr_t k, v; };
PML_HOT extern struct pml_pre pml_pre_u2l[PML_PRE_N], pml_pre_l2u[PML_PRE_N];
/* Always inline: gcc made pml_v2r a call of its own in entry points that translate three
 * handles (MPI_Put, MPI_Get, MPI_Accumulate: tests/mpi/rma_hotpath.py), a frame per handle. */
#define PML_V2R_INLINE static inline __attribute__((always_inline))
PML_V2R_INLINE uintptr_t pml_pre_find(const struct pml_pre *t, uintptr_t k)
{
    for (uint32_t s = (uint32_t)(k >> 5) & (PML_PRE_N - 1); t[s].k; s = (s + 1) & (PML_PRE_N - 1))
        if (t[s].k == k)
            return t[s].v;
    return 0;
}

PML_V2R_INLINE uintptr_t pml_v2r(uintptr_t v)
{
    /* a created handle is its entry's address (vhandle.c encode), whose first field is the real
     * handle: read there, not by index (a division by the entry's 40 bytes: 7 instructions per
     * window translation). A value inside the table that is no entry's address is no handle
     * the program was given: its translation is a word of the table (by index, another entry's
     * real handle). */
    _Static_assert(offsetof(struct pml_vh, real) == 0, "a handle's address is its real handle's");
    if (v - (uintptr_t)pml_vh_tab < pml_vh_bytes) {
        uintptr_t r;
        __builtin_memcpy(&r, (const void *)v, sizeof r); /* one load (any alignment) */
        return r;
    }
    uintptr_t r = pml_pre_find(pml_pre_u2l, v);
    if (r)
        return r;
    if (v - pml_up_lo < pml_up_span)
        return v + (uintptr_t)pml_delta;
    return v; /* NULL or not a handle: the real MPI reports it as it would natively */
}
/* The same for a handle that is most often a predefined object the executable copied (a
 * datatype, an op: MPI_LONG, MPI_SUM in an operation's arguments): its first slot in the copied
 * objects' table looked at before anything else, ~6 instructions instead of ~15 (the handle
 * table's range check, then the table's probe loop); any other handle as pml_v2r. An empty slot
 * matches only the null handle, whose value there (0) is pml_v2r's too. */
PML_V2R_INLINE uintptr_t pml_v2r_pre(uintptr_t v)
{
    /* slot (v >> 5) & (PML_PRE_N - 1) as a byte offset: one shift and one mask */
    _Static_assert(sizeof(struct pml_pre) == 16, "pml_pre_u2l's slots are 16 bytes");
    const struct pml_pre *e = (const struct pml_pre *)((const char *)pml_pre_u2l +
                                                       ((v >> 1) & ((uintptr_t)(PML_PRE_N - 1) << 4)));
    if (__builtin_expect(e->k == v, 1))
        return e->v;
    return pml_v2r(v);
}
/* A front's translation (gen_mpi.py FAST): 1 with the real handle in *r when it is quick (a
 * created handle, a predefined object the executable copied found in its first slot, or one
 * still in the application's copy of the library), else 0: the caller takes the general way.
 * No probe loop: its registers were kept across the library's call in the fronts. */
PML_V2R_INLINE int pml_v2r_quick(uintptr_t v, uintptr_t *r)
{
    if (v - (uintptr_t)pml_vh_tab < pml_vh_bytes) {
        __builtin_memcpy(r, (const void *)v, sizeof *r); /* pml_v2r's first case */
        return 1;
    }
    const struct pml_pre *e = (const struct pml_pre *)((const char *)pml_pre_u2l +
                                                       ((v >> 1) & ((uintptr_t)(PML_PRE_N - 1) << 4)));
    if (__builtin_expect(e->k == v, 1)) { /* pml_v2r_pre's (an empty slot: v is null, so is r) */
        *r = e->v;
        return 1;
    }
    if (v - pml_up_lo < pml_up_span) { /* pml_v2r's last case */
        *r = v + (uintptr_t)pml_delta;
        return 1;
    }
    return 0;
}
/* The same for a datatype or an op (pml_v2r_pre): the copied objects' slot first. */
PML_V2R_INLINE int pml_v2r_quick_pre(uintptr_t v, uintptr_t *r)
{
    const struct pml_pre *e = (const struct pml_pre *)((const char *)pml_pre_u2l +
                                                       ((v >> 1) & ((uintptr_t)(PML_PRE_N - 1) << 4)));
    if (__builtin_expect(e->k == v, 1)) {
        *r = e->v;
        return 1;
    }
    return pml_v2r_quick(v, r);
}
static inline struct pml_vh *pml_vh_of(uintptr_t v)
{
    if (v - (uintptr_t)pml_vh_tab < (uintptr_t)pml_vh_used * sizeof(struct pml_vh))
        return &pml_vh_tab[(v - (uintptr_t)pml_vh_tab) / sizeof(struct pml_vh)];
    return NULL;
}
/* A real handle that is one of the lower library's own objects (predefined or null). */
static inline int pml_real_is_predef(uintptr_t r)
{
    return r - pml_lo_lo < pml_up_span;
}
#else /* MPICH */
/* Handles are ints, except MPI_File, which is ROMIO's pointer. */
#define PML_H(v) _Generic((v), MPI_File: (uintptr_t)(v), default: (uintptr_t)(uint32_t)(uintptr_t)(v))
static inline uintptr_t pml_v2r(uintptr_t v)
{
    if ((v >> 30) == 3 && (v & 0x3ffffff) < pml_vh_used)
        return pml_vh_tab[v & 0x3ffffff].real;
    return v;
}
#define pml_v2r_pre pml_v2r /* predefined handles are passed unchanged already */
static inline int pml_v2r_quick(uintptr_t v, uintptr_t *r) /* Open MPI's above: always quick */
{
    *r = pml_v2r(v);
    return 1;
}
#define pml_v2r_quick_pre pml_v2r_quick
static inline struct pml_vh *pml_vh_of(uintptr_t v)
{
    if ((v >> 30) == 3 && (v & 0x3ffffff) < pml_vh_used)
        return &pml_vh_tab[v & 0x3ffffff];
    return NULL;
}
static inline int pml_real_is_predef(uintptr_t r)
{
    return (r >> 30) <= 1; /* MPICH: null (kind 0) and builtin (kind 1) handles */
}
#endif

/* Fortran integers (fortran_handles.c): the layer's own for the objects the program made, the
 * library's for predefined ones. c2f/f2c: of handle kind `kind`, with the lower library's
 * function `name` (kept in *cache) for predefined ones. to_lower/from_lower: the lower library's
 * integer of the same object and back, for paths that hand integers to the lower library's
 * Fortran bindings or get them from it. */
MPI_Fint pml_f_c2f_from(uintptr_t v, int kind, void **cache, const char *name, const void *caller);
uintptr_t pml_f_f2c_from(MPI_Fint i, int kind, void **cache, const char *name, const void *caller);
/* Macros so that a call before MPI_Init is named after the program's call (libmpi_mpifh's
 * MPI_COMM_RANK calling PMPI_Comm_f2c), not after the conversion: the caller is taken in the
 * conversion function the binding called. */
#define pml_f_c2f(v, kind, cache, name)                                                        \
    pml_f_c2f_from((v), (kind), (cache), (name), __builtin_return_address(0))
#define pml_f_f2c(i, kind, cache, name)                                                        \
    pml_f_f2c_from((i), (kind), (cache), (name), __builtin_return_address(0))
MPI_Fint pml_f_to_lower(int kind, MPI_Fint f);
MPI_Fint pml_f_from_lower(int kind, MPI_Fint f);
/* The same for an attribute callback (pml_r2v_cb): *made, if not 0, is a handle of an object the
 * program never had, to release (pml_vh_release) after the call. */
MPI_Fint pml_f_from_lower_cb(int kind, MPI_Fint f, uintptr_t *made);
MPI_Fint pml_f_lower_of(int kind, uintptr_t v); /* the lower library's integer of handle v */
MPI_Fint pml_f_lower_of_real(int kind, uintptr_t real); /* ... of the lower library's handle */

/* Virtual handles (vhandle.c). */
int pml_vh_init(void);
void pml_pre_init(void *lower_handle);
uintptr_t pml_new(int kind, uintptr_t real);   /* a handle the call created */
uintptr_t pml_get(int kind, uintptr_t real);   /* a handle that may exist already (+1 reference) */
/* pml_get for a call that records the handle it returns (a [get] of an @create call): *claim 1
 * when the handle had no record and no reference of the program's, then marked PML_REC_CLAIMED
 * (no other thread claims it) until the caller's pml_rec_close (which it must then call) */
uintptr_t pml_get_claim(int kind, uintptr_t real, int *claim);
#define PML_REC_CLAIMED (-2)
uintptr_t pml_new_raw(int kind, uintptr_t real); /* a request or message handle, whatever real is */
/* a datatype MPI_Type_get_contents or MPI_File_get_view hands out, recorded when new (layer.c) */
uintptr_t pml_type_handed_out(uintptr_t real, int fid, uintptr_t from, int k);
/* 1 when the real datatype is the MPI library's own, which Revive never frees and never makes
 * again as a derived type: a named one (predefined) or one the standard calls predefined although
 * the library makes it at run time (MPI 4.0 19.1.9, "cannot be freed": combiner
 * MPI_COMBINER_F90_REAL/_COMPLEX/_INTEGER; MPI_Type_match_size's are named). Told by the type's
 * own combiner, whatever call the layer first met it through (layer.c). */
int pml_type_library_owned(uintptr_t real);
/* The envelope of the lower half's datatype REAL (MPI_Type_get_envelope's four answers), asked
 * through MPI_Type_get_envelope_c where the library has it (MPICH 4): its int form refuses, and
 * fatally, a type made by a large-count constructor (MPI_Type_vector_c ...: "use
 * MPI_Type_get_envelope_c", rst_attr-mpich in the CI of 162dd921). *large (may be NULL) is set
 * when the type holds large counts: its contents then come only through
 * MPI_Type_get_contents_c. Counts past INT_MAX read as INT_MAX. MPI_SUCCESS or the library's
 * error code. */
int pml_type_envelope(uintptr_t real, int *ni, int *na, int *nd, int *comb, int *large);
uintptr_t pml_r2v(int kind, uintptr_t real);   /* the same for callbacks (no new reference) */
/* An attribute callback's handle. The library may call one for an object the program never had
 * (MPICH's MPI_Win_allocate duplicates the communicator, attributes and their callbacks
 * included, and frees the duplicate in MPI_Win_free): then *made is 1 and the handle must be
 * released after the call (pml_vh_release), or it stayed in the table naming a freed object,
 * and the next snapshot failed on it. */
uintptr_t pml_r2v_cb(int kind, uintptr_t real, int *made);
uintptr_t pml_r2v_predef(uintptr_t real);      /* a null or predefined real handle */
/* One reference fewer; the last goes with the handle, but for a datatype or communicator that
 * pending receives still use: each takes a reference of the layer's over (pml_rq_hold_locked). */
void pml_vh_release(uintptr_t v);
/* With pml_vh_lock held, the last reference to datatype or communicator v (kind PML_TYPE or
 * PML_COMM, h its entry) going: the pending receives (not persistent, not a blocking call's own)
 * that use it each take a reference of the layer's (PML_RQ_HOLD_*, given back when they complete:
 * pml_rq_let_go). Returns how many took one (reqs.c). */
uint32_t pml_rq_hold_locked(uintptr_t v, struct pml_vh *h);
/* After a restart's replay, which made the object of each live handle once (one reference of the
 * library's for the program), while the program may hold it more often (a [get] call handed the
 * same handle out again, each time with a reference of the library's, MPI 4.0 8.3.1, 7.3.2):
 * each handle's references the library now lacks (the program's beyond the first, the layer's
 * own lrefs not counted; none for the library's own datatypes, which the program never frees)
 * are marked unbacked. Before, every free of the program reached the fresh library, which then
 * counted below zero at the second one (MPICH: assertion "ref_count >= 0"; Open MPI: the object
 * freed while still in use, a corrupted heap: tests/mpi/ckpt/rst_getrefs). */
void pml_vh_restart_refs(void);
/* The program frees its handle v (MPI_Errhandler_free, MPI_Group_free, MPI_Type_free,
 * MPI_Info_free, MPI_Op_free: generated): 1 when one of its unbacked references is taken (the
 * library is not to be called; the caller releases the handle as after a free that succeeded),
 * else 0 (the library frees its reference). A predefined group or error handler v: the same for
 * the program's references to it (vhandle.c pre_ref_take). */
int pml_vh_unbacked_take(uintptr_t v);
void pml_vh_update(uintptr_t v, uintptr_t real);
/* v's real handle no longer maps back to it (the program freed it; the layer holds it for requests
 * that use it, and the library may hand the real one out again once they are done). */
void pml_vh_unmap(uintptr_t v);
void pml_vh_attach(uintptr_t v, void *a, void *b); /* freed with the handle */
void pml_vh_set_rec(uintptr_t v, int32_t rec);     /* the handle's creation entry (record.c) */
uintptr_t pml_req_done(uintptr_t v, uintptr_t real);
void *pml_tmp_heap(int n, size_t size);
int pml_kv_v2r(int v);
int pml_kv_new(int real, void *info);
void pml_kv_release(int v);
void pml_kv_update(int v, int real);
/* keyvals.c: keyvals the program freed while attributes still used them, let go of once none
 * does (called after a keyval is made) */
void pml_kv_collect_some(void);
void pml_vh_restart_reset(void);
uintptr_t pml_vh_handle(uint32_t idx); /* the virtual handle of table entry idx */
MPI_User_function *pml_op_tramp(MPI_User_function *fn);
/* error-handler trampolines, one set per handle kind (eh_tramp.c) */
MPI_Comm_errhandler_function *pml_eh_tramp_comm(MPI_Comm_errhandler_function *fn);
MPI_File_errhandler_function *pml_eh_tramp_file(MPI_File_errhandler_function *fn);
MPI_Win_errhandler_function *pml_eh_tramp_win(MPI_Win_errhandler_function *fn);
const int *pml_weights(const int *w);
int pml_wcount(MPI_Comm comm);
int pml_nbr_in(MPI_Comm comm);
int pml_nbr_out(MPI_Comm comm);
int pml_cartdim(MPI_Comm comm);
int pml_isum(int n, const int *a);
int pml_fn_in_upper(const void *fn);
const void *pml_fn_to_lower(const void *fn);
/* The handle table's lock: taken only when the program runs MPI_THREAD_MULTIPLE. */
extern int pml_threaded;
extern volatile int pml_vh_lock_word;
static inline void pml_vh_lock(void)
{
    if (__builtin_expect(pml_threaded, 0))
        while (__atomic_exchange_n(&pml_vh_lock_word, 1, __ATOMIC_ACQUIRE))
            __builtin_ia32_pause();
}
static inline void pml_vh_unlock(void)
{
    if (__builtin_expect(pml_threaded, 0))
        __atomic_store_n(&pml_vh_lock_word, 0, __ATOMIC_RELEASE);
}

/* Thunks (thunk.c): code addresses made at run time for the program's callbacks. Calling one
 * with up to four integer or pointer arguments runs target(a1, a2, a3, a4, t) where t is its
 * struct pml_thunk; t->ctx is the program's function. A set gives one thunk per function of the
 * program (the same function: the same thunk, as long as the process lives, images included). */
struct pml_thunk {
    void *ctx;
    void *target;
};
struct pml_thunk_set {
    void **fn, **code;
    int n, cap;
};
/* The thunk of fn in set (made on first use, calling target); takes the handle table's lock. */
void *pml_thunk_for(struct pml_thunk_set *set, void *target, void *fn);

/* The creation record (record.c): what replay against a fresh lower half needs. */
struct pml_rec;
struct pml_rec *pml_rec_open(int fid);
void pml_rec_scalar(struct pml_rec *R, const void *p, size_t n);
void pml_rec_handle(struct pml_rec *R, uintptr_t v);
void pml_rec_handles(struct pml_rec *R, const void *arr, int n, size_t elsize);
void pml_rec_array(struct pml_rec *R, const void *p, size_t n);
void pml_rec_weights(struct pml_rec *R, const int *w, int n);
void pml_rec_str(struct pml_rec *R, const char *s);
void pml_rec_ptr(struct pml_rec *R, const void *p);
void pml_rec_out(struct pml_rec *R, uintptr_t v);
/* topo.c: what MPI_Dist_graph_create's library chose (the neighbour lists in its order), read
 * from the communicator it made (real handle), recorded before that handle (gen_mpi.py REC_EXTRA) */
void pml_rec_dist_graph(struct pml_rec *R, uintptr_t made);
int32_t pml_rec_close(struct pml_rec *R); /* returns the entry's index */
/* The info object the library made (real handle), recorded on virtual handle v as what it holds:
 * MPI_Info_create, then MPI_Info_set of each key and value (info_env.c). */
void pml_info_record_contents(uintptr_t v, uintptr_t real);
void pml_rec_kill(int32_t rec);
int pml_rec_dump(const char *path);
int pml_rec_counts(int *live); /* entries, and live ones */
int32_t pml_rec_count(void);
/* How a restart decides whether entry i (a call that made a communicator) is made again: NONE
 * (not such a call, or its communicator had no clock: the members agree during the replay), LOCAL
 * (this rank alone took part) or GLOBAL (key names the call alike on every member). */
enum { PML_REC_KEY_NONE, PML_REC_KEY_LOCAL, PML_REC_KEY_GLOBAL };
int pml_rec_key(int32_t i, uint64_t key[2]);
/* Drops entry i of the first n where !keep[i] (the handles' entry indices follow); the number
 * dropped. */
int pml_rec_compact(const unsigned char *keep, int32_t n);
/* Entry i as recorded: 0, or -1 past the end. items/len: its tagged items (record.c). */
int pml_rec_entry(int32_t i, int *fid, int *live, const unsigned char **items, size_t *len);
/* The layer (layer.c). A call before MPI_Init or after MPI_Finalize, and a call Revive does not
 * support yet, stop the process with a message naming the call as the application wrote it:
 * caller is the address the entry point returns to (NULL: name as given); from a Fortran
 * binding library the name is the Fortran one (MPI_FILE_OPEN, not PMPI_File_open). A name given
 * in capitals is a Fortran one. */
int pml_not_ready_from(const char *name, const void *caller) __attribute__((noreturn));
#define pml_not_ready(name) pml_not_ready_from((name), __builtin_return_address(0))
/* pml_unsupported_from: unsupported.h */
/* Set (with the call's name in pml_stopping_what) once a rank has begun stopping the job on a
 * call Revive does not support: no snapshot taken from then on could restart (its image would
 * resume inside the stop, on a library no restart initialised), so a checkpoint refuses it
 * (rank_ops.c op_refuse before an epoch, capture.c once the threads are parked). */
extern volatile int pml_stopping_job;
extern char pml_stopping_what[128];
/* 1 with "rank N is stopping the job (NAME is not supported ...)" in buf (at most len bytes)
 * once pml_stopping_job is set; else 0, buf untouched */
int pml_stopping_refusal(char *buf, size_t len);
const char *pml_fn_name(uint32_t fid); /* "MPI_Bcast" for PML_FID_MPI_Bcast */
/* The name of the MPI call that reached entry point `name` from address `caller`, written to
 * out: the Fortran name when caller is in a Fortran binding library, else name. Returns 1 when
 * the result is a Fortran name (also when name was given in capitals). callname.c. */
int pml_called_name(const char *name, const void *caller, char *out, size_t n);

/* At MPI_Init, rank 0: says which PMPI tool's wrappers run in front of the layer, and which a tool
 * defines that cannot run under Revive (tools.c). */
void pml_tools_report(void);
/* 1 when the loaded object M (a struct link_map * of the program's namespace) is the application's
 * copy of the MPI library, not a tool (tools.c) */
int pml_tools_mpi_library(void *m);

/* Makes the code of the application's copy of the MPI library (the object at upper_base, and
 * Open MPI's libopen-rte/libopen-pal) unreachable, so that a call into it stops the rank with a
 * message (upper_guard.c; REVIVE_MPI_GUARD=0: not done). */
void pml_guard_upper(const void *upper_base);
/* After a restart: the guard's SIGSEGV handler may chain to the handler the dead lower half had
 * installed (Open MPI's, in memory that is gone), and a fresh MPI_Init installs none while the
 * guard's is there. lower_gone (restart hook, other threads parked) puts back the action the
 * guard chains to, the default instead when that is the dead lower half's (is_upper: whether an
 * address is the application's), so a program's own SIGSEGV handler stays as natively; rearm
 * (after the fresh MPI_Init) installs the guard's handler again, chained to whatever is there
 * then (the program's, or what the fresh library installed). Both do nothing without a guard. */
void pml_guard_lower_gone(int (*is_upper)(uint64_t));
void pml_guard_rearm(void);

/* The signal actions of a restarted rank (sig_lib.c): before_init, at the first MPI_Init before
 * the lower one runs, notes the actions it finds; at a restart, captured (the restart hook, before
 * lower_reset.c's pml_ldso_forget) notes which actions were the dead library's handlers (is_upper:
 * whether an address is the application's), lower_gone (after it) gives those the actions the
 * first MPI_Init found; around the fresh MPI_Init (pml_lower_reload, the checkpoint agent's
 * thread), before_reinit notes the actions and the agent's alternate signal stack before the
 * fresh library's load and after_reinit undoes what the fresh library set over the program's
 * choices (handlers in the lower namespace only: a program thread's of meanwhile stay; the
 * fresh library's handlers stay in the dead one's place) and the agent's stack. SIGSEGV is
 * upper_guard.c's. is_lower: whether an action's handler lies in the link-map namespace LMID
 * (the lower half's, pml_lower_lmid). */
void pml_sig_before_init(void);
void pml_sig_captured(int (*is_upper)(uint64_t));
void pml_sig_lower_gone(void);
void pml_sig_before_reinit(void);
void pml_sig_after_reinit(void);
struct sigaction;
int pml_sig_is_lower(const struct sigaction *sa, long lmid);

/* What the lower half's attribute callbacks get as extra state for a keyval the layer made
 * (layer.c for C, fortran_paths.c for Fortran): the application's functions and extra state and
 * the virtual keyval. lang says which convention the functions follow. */
struct pml_kvinfo {
    void *copy, *del, *extra;
    int vkv;
    int lang;                     /* PML_KV_C, PML_KV_FINT (MPI_KEYVAL_CREATE), PML_KV_FAINT */
    int okind;                    /* Open MPI, Fortran: the kind of object it is for */
    void *proxy_copy, *proxy_del; /* MPICH: the Fortran binding's language proxies */
};
enum { PML_KV_C, PML_KV_FINT, PML_KV_FAINT };
/* A generalized request started from Fortran: the layer calls its functions with Fortran
 * arguments (pairs.c; MPICH's MPII_Grequest_set_lang_f77 in fortran_paths.c, Open MPI's
 * ompi_grequest_start_f in fortran_objs.c). */
void pml_greq_set_f77(uintptr_t v);
/* fortran_paths.c, for a restart's replay of a keyval made from Fortran (layer.c) */
int pml_fkeyval_remake(struct pml_kvinfo *ki, int *real); /* Open MPI */
/* win.c: the lower half's keyval for a window keyval's info (at creation and at a restart) */
int pml_win_keyval_lower(struct pml_kvinfo *ki, int *real);
/* layer.c, for the replay: keyval vkv (for objects of kind okind) made again in the fresh lower
 * half; its new real keyval in *real */
int pml_keyval_remake(int okind, int vkv, int *real);
/* The kind of object a keyval made by record entry fid's call is for (PML_COMM, PML_TYPE,
 * PML_WIN), or 0 when the call does not make a keyval */
int pml_keyval_kind(int fid);
void pml_fkeyval_proxy(struct pml_kvinfo *ki, int real);   /* MPICH */
/* restart.c, dup_attrs.c: an attribute of a keyval made from Fortran set again as Fortran sets
 * it (value val, lang PML_KV_FINT or PML_KV_FAINT) on the lower library's communicator, datatype
 * or window real_obj (okind PML_COMM, PML_TYPE, PML_WIN), with its keyval real_kv */
int pml_fattr_set(int okind, uintptr_t real_obj, int real_kv, MPI_Aint val, int lang);
/* Prints "revive: mpi: [pid N] text" and ends the process with status 1. */
void pml_fatal(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
extern void *pml_lower_handle;
/* Pointers into the lower half that other files keep (a function looked up once, the lower
 * copy of libmpi_mpifh): each lives in a cache of its own, filled through these, and a restart
 * empties every one (pml_lower_forget_kept, from the restart hook) before a fresh lower half
 * can be reached: a cache kept by value pointed into the dead half after a restart (Open MPI,
 * Fortran: MPI_Comm_f2c's, SIGSEGV on PROT_NONE memory: campaign-failures.md #6, cc_fort).
 *   pml_lower_keep   stores value in *cache and remembers cache; returns value
 *   pml_lower_sym    *cache, or name looked up in scope (the lower half when NULL) and kept;
 *                    while a restart brings a fresh lower half it first waits at the gate for
 *                    it; NULL when there is no lower half or no such symbol */
void *pml_lower_keep(void **cache, void *value);
void *pml_lower_sym(void **cache, void *scope, const char *name);
void pml_lower_forget_kept(void);
/* Loads the lower half (the library MPI_Init will initialise) unless it is: MPI_T before
 * MPI_Init (mpit.c). Stops the rank with a message when it cannot. */
void pml_lower_load(void);
/* mpit.c: the fresh lower half of a restart, loaded and not initialised: MPI_T initialised as
 * the program had it, the control variables it wrote written again; its handles made again at
 * their next use. */
void pml_mpit_reload(void);
void pml_lower_wait(void); /* returns once a restart's fresh lower half is up (or at once) */
/* restart.c: the restart hook (tid 0: not known yet), then the thread that restores (it never
 * waits), then done */
void pml_lower_restoring(pid_t tid);
void pml_lower_restored(void);

/* Where a loaded ELF object lies in memory (lo..hi, unaligned) and its load bias, read from
 * the program headers its first segment maps. 0, or -1 when fbase is not an ELF header. */
struct pml_span { uintptr_t lo, hi, bias; };
int pml_elf_span(const void *fbase, struct pml_span *q);
extern long pml_lower_lmid;

/* Knowing the halves apart (halves_moments.c). */
void pml_halves_init(void);
void pml_halves_lower_loaded(void *handle);

#endif
