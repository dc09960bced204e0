/* The Fortran bindings' paths into the application's copy of the MPI library, routed through the
 * layer. The binding libraries the application links (Open MPI's libmpi_mpifh, and through it
 * libmpi_usempif08 and libmpi_usempi_ignore_tkr; MPICH's libmpichfort) mostly call the MPI_/PMPI_
 * entry points, which are the layer's; but a few of their functions call internal functions of
 * the MPI library, which would run in the application's never-initialised copy with the layer's
 * virtual handles (ABINIT's MPI_ATTR_GET: a SIGSEGV under Open MPI, "before initializing" under
 * MPICH). tests/mpi/upper_paths.py lists every such path from the libraries' symbol tables and
 * relocations and fails on one the layer does not cover; docs/mpi.md ("Fortran") says why each
 * is handled the way it is.
 *
 * Open MPI: the internal functions take the library's objects (a communicator's attribute hash,
 * read out of what PMPI_Comm_f2c returned), so they cannot be forwarded; the binding functions
 * that use them are replaced instead, by functions of the same names (the binding library's
 * thirteen names per call: mpi_x_, MPI_X, pmpi_x__, MPI_X_f08, ompi_x_f, ...; the f08 module
 * calls ompi_x_f). Attribute access and MPI_TYPE_MATCH_SIZE call the same binding function of
 * the lower half's copy of libmpi_mpifh (loaded into its namespace on first use), with the
 * object's and the keyval's integers translated to the lower library's (a program's Fortran
 * integers are the layer's, fortran_handles.c), and the lower library keeps Open MPI's exact
 * attribute semantics between C and Fortran. Keyval creation goes the same way with callbacks of the layer's that give the
 * application its virtual keyval and extra state; error handler creation goes through the
 * layer's C entry point with a Fortran trampoline. The string helpers the remaining bindings
 * call are the layer's own (the binding frees what they allocate, with the application's
 * malloc), and so is the error path's ompi_errhandler_invoke.
 * MPICH: the internal functions take handles and keyvals, so the layer defines them and calls
 * the lower library's with translated ones; the keyval language proxy is wrapped so that the
 * binding's proxy gets virtual handles and keyvals.
 *
 * Each of these entry points runs the lower library inside the gate (ckpt.h), as a C entry point
 * does: the binding calls it directly, and without the gate a snapshot could park the thread
 * inside the lower half, which a restart does not bring back. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "mpi"
#include "common/libc_dlsym.h"
#include "pml_hooks/layer.h"
#include "pml_hooks/ckpt.h"
#include "pml_hooks/objs.h"
#include "pml_hooks/restart.h"
#define PML_WANT_NAMES
#include "pml_hooks/pml_table.h"

#include <dlfcn.h>
#include <pthread.h>
#include <string.h>

static int fid_named(const char *name)
{
    for (int i = 0; i < PML_NFUNCS; i++)
        if (!strcmp(pml_fn_names[i], name))
            return i;
    return 0;
}

/* The lower MPI library itself, as a scope for lower_sym */
static void *lower_lib(void)
{
    return pml_lower_handle;
}

/* The function `name` of the lower object scope() gives, or a stop naming the Fortran call
 * before MPI_INIT. The scope is asked for only after the wait: during a restart the fresh lower
 * half replaces pml_lower_handle, and a handle read before the wait named the namespace that
 * was gone (MPICH, a Fortran attribute read while the restart replayed 1100 of them: dlsym
 * walked the old namespace's link map, SIGSEGV in do_lookup_x about 1 restart in 10, or "the
 * lower half has no MPII_Comm_get_attr"). */
static void *lower_sym(void *(*scope)(void), const char *name, const char *fname)
{
    pml_lower_wait();
    void *h = pml_lower_handle ? scope() : NULL;
    void *f = h ? revive_dlsym(h, name) : NULL;
    if (!f) {
        if (!pml_lower_handle)
            pml_not_ready_from(fname, NULL);
        pml_fatal("the lower half has no %s (needed by %s)", name, fname);
    }
    return f;
}

/* Records an attribute set from Fortran as the C call would be recorded, with the language
 * (struct pml_kvinfo's lang values) as a last item. */
static void record_set_attr(const char *cfn, uintptr_t vobj, int vkv, const void *val, int lang)
{
    struct pml_rec *R = pml_rec_open(fid_named(cfn));
    pml_rec_handle(R, vobj);
    pml_rec_handle(R, (uintptr_t)(unsigned)vkv);
    pml_rec_ptr(R, val);
    pml_rec_scalar(R, &lang, sizeof lang);
    pml_rec_close(R);
}

#ifdef PML_OMPI
#include "pml_hooks/fortran_ompi.h"

/* ---- the lower half's libmpi_mpifh -------------------------------------------------------- */
static void *lower_mpifh;  /* kept (layer.h): a restart empties it, the next use opens it again */
static pthread_mutex_t mpifh_lock = PTHREAD_MUTEX_INITIALIZER;

static void mpifh_open(void)
{
    /* the application's copy (the next definition after the layer's own), opened again by the
     * lower namespace's root, whose dlopen opens in its namespace */
    Dl_info di;
    void *up = revive_dlsym_next("ompi_attr_get_f");
    void *(*ldlopen)(const char *, int) =
        (void *(*)(const char *, int))revive_dlsym(pml_lower_handle, "dlopen");
    if (!up || !dladdr(up, &di) || !di.dli_fname || !ldlopen)
        pml_fatal("cannot find Open MPI's Fortran library (libmpi_mpifh) to load in the lower half");
    if (!pml_lower_keep(&lower_mpifh, ldlopen(di.dli_fname, RTLD_NOW)))
        pml_fatal("cannot load %s in the lower half: %s", di.dli_fname, dlerror());
    revive_log_info("Fortran bindings %s loaded in the lower half", di.dli_fname);
}

static void *mpifh_scope(void)
{
    void *h = __atomic_load_n(&lower_mpifh, __ATOMIC_ACQUIRE);
    if (!h && pml_lower_handle) {
        pthread_mutex_lock(&mpifh_lock);
        if (!lower_mpifh)
            mpifh_open();
        h = lower_mpifh;
        pthread_mutex_unlock(&mpifh_lock);
    }
    return h;
}

static void *mpifh(const char *name, const char *fname)
{
    return lower_sym(mpifh_scope, name, fname);
}

/* The lower libmpi_mpifh's function, kept (layer.h) */
#define LOWER_F(var, name, fname, ...)                                                         \
    static void *var##_p;                                                                      \
    if (!__atomic_load_n(&var##_p, __ATOMIC_ACQUIRE))                                          \
        pml_lower_keep(&var##_p, mpifh(name, fname));                                          \
    void (*var)(__VA_ARGS__) = (void (*)(__VA_ARGS__))var##_p

/* ---- attributes: the object and the keyval translated to the lower library's ------------- */
void ompi_attr_get_f(F *comm, F *keyval, F *val, F *flag, F *ierr);
void ompi_attr_get_f(F *comm, F *keyval, F *val, F *flag, F *ierr)
{
    PML_GATE_ENTER(PML_FID_MPI_Comm_get_attr);
    LOWER_F(f, "ompi_attr_get_f", "MPI_ATTR_GET", F *, F *, F *, F *, F *);
    F kv = pml_kv_v2r(*keyval), c = pml_f_to_lower(PML_COMM, *comm);
    f(&c, &kv, val, flag, ierr);
    PML_GATE_LEAVE();
}
OMPI_F_NAMES(ompi_attr_get_f, attr_get, ATTR_GET, Attr_get)

void ompi_attr_put_f(F *comm, F *keyval, F *val, F *ierr);
void ompi_attr_put_f(F *comm, F *keyval, F *val, F *ierr)
{
    PML_GATE_ENTER(PML_FID_MPI_Comm_set_attr);
    LOWER_F(f, "ompi_attr_put_f", "MPI_ATTR_PUT", F *, F *, F *, F *);
    F kv = pml_kv_v2r(*keyval), c = pml_f_to_lower(PML_COMM, *comm);
    f(&c, &kv, val, ierr);
    if (*ierr == MPI_SUCCESS)
        record_set_attr("MPI_Comm_set_attr", PML_H(MPI_Comm_f2c(*comm)), *keyval,
                        (const void *)(intptr_t)*val, PML_KV_FINT);
    PML_GATE_LEAVE();
}
OMPI_F_NAMES(ompi_attr_put_f, attr_put, ATTR_PUT, Attr_put)

/* OUT: what the C call adds to the library's answer (a window's: pml_win_fattr_out) */
#define OMPI_GET_ATTR(x, X, Mx, K, OUT)                                                        \
    void ompi_##x##_get_attr_f(F *obj, F *keyval, MPI_Aint *val, F *flag, F *ierr);            \
    void ompi_##x##_get_attr_f(F *obj, F *keyval, MPI_Aint *val, F *flag, F *ierr)             \
    {                                                                                          \
        PML_GATE_ENTER(PML_FID_MPI_##Mx##_get_attr);                                           \
        LOWER_F(f, "ompi_" #x "_get_attr_f", "MPI_" #X "_GET_ATTR", F *, F *, MPI_Aint *, F *, \
                F *);                                                                          \
        F kv = pml_kv_v2r(*keyval), o = pml_f_to_lower(K, *obj);                               \
        f(&o, &kv, val, flag, ierr);                                                           \
        if (*ierr == MPI_SUCCESS && *flag)                                                     \
            OUT;                                                                               \
        PML_GATE_LEAVE();                                                                      \
    }                                                                                          \
    OMPI_F_NAMES(ompi_##x##_get_attr_f, x##_get_attr, X##_GET_ATTR, Mx##_get_attr)

#define OMPI_SET_ATTR(x, X, Mx, T, K)                                                          \
    void ompi_##x##_set_attr_f(F *obj, F *keyval, MPI_Aint *val, F *ierr);                     \
    void ompi_##x##_set_attr_f(F *obj, F *keyval, MPI_Aint *val, F *ierr)                      \
    {                                                                                          \
        PML_GATE_ENTER(PML_FID_MPI_##Mx##_set_attr);                                           \
        LOWER_F(f, "ompi_" #x "_set_attr_f", "MPI_" #X "_SET_ATTR", F *, F *, MPI_Aint *, F *);\
        F kv = pml_kv_v2r(*keyval), o = pml_f_to_lower(K, *obj);                               \
        f(&o, &kv, val, ierr);                                                                 \
        if (*ierr == MPI_SUCCESS)                                                              \
            record_set_attr("MPI_" #Mx "_set_attr", PML_H(MPI_##T##_f2c(*obj)), *keyval,       \
                            (const void *)*val, PML_KV_FAINT);                                 \
        PML_GATE_LEAVE();                                                                      \
    }                                                                                          \
    OMPI_F_NAMES(ompi_##x##_set_attr_f, x##_set_attr, X##_SET_ATTR, Mx##_set_attr)

OMPI_GET_ATTR(comm, COMM, Comm, PML_COMM, (void)0)
OMPI_GET_ATTR(type, TYPE, Type, PML_TYPE, (void)0)
OMPI_GET_ATTR(win, WIN, Win, PML_WIN, pml_win_fattr_out(PML_H(MPI_Win_f2c(*obj)), *keyval, val))
OMPI_SET_ATTR(comm, COMM, Comm, Comm, PML_COMM)
OMPI_SET_ATTR(type, TYPE, Type, Type, PML_TYPE)
OMPI_SET_ATTR(win, WIN, Win, Win, PML_WIN)

/* ---- keyvals --------------------------------------------------------------------------------
 * The lower library calls these with Fortran conventions (everything by reference), its own
 * integer of the object and, as extra state, the index of the keyval's pml_kvinfo; they call the
 * application's function with the program's integer of the object, its own extra state and the
 * virtual keyval. The extra state is the index of the virtual keyval's entry in the handle table
 * (an INTEGER for MPI_KEYVAL_CREATE: too small for a pointer), whose info is the pml_kvinfo; the
 * entry lives as long as the lower library can call back with it (keyvals.c), so there is no
 * limit on the keyvals a program makes from Fortran (a fixed table of 1024 stopped the job). */

typedef void fcopy_aint(F *, F *, MPI_Aint *, MPI_Aint *, MPI_Aint *, F *, F *);
typedef void fdel_aint(F *, F *, MPI_Aint *, MPI_Aint *, F *);
typedef void fcopy_fint(F *, F *, F *, F *, F *, F *, F *);
typedef void fdel_fint(F *, F *, F *, F *, F *);

static struct pml_kvinfo *fkv_of(MPI_Aint i)
{
    if (i <= 0 || (uint64_t)i >= pml_vh_used || pml_vh_tab[i].kind != PML_KEYVAL || !pml_vh_tab[i].info)
        pml_fatal("an attribute callback of a Fortran keyval came with unknown extra state %ld",
                  (long)i);
    return pml_vh_tab[i].info;
}

/* While a restart's replay makes the objects again, the program's callbacks do not run (they
 * ran when the program made them; restart.h, pml_attr_quiet): nothing copied, nothing to delete. */
static int quiet(F *flag, F *ierr)
{
    if (!pml_attr_quiet)
        return 0;
    if (flag)
        *flag = 0;
    *ierr = MPI_SUCCESS;
    return 1;
}

static void copy_aint_t(F *obj, F *kv, MPI_Aint *xs, MPI_Aint *in, MPI_Aint *out, F *flag, F *ierr)
{
    (void)kv;
    if (pml_dupattr_handing_back()) { /* a restart's window or file: what it had (dup_attrs.c) */
        *out = *in;
        *flag = 1;
        *ierr = MPI_SUCCESS;
        return;
    }
    if (quiet(flag, ierr))
        return;
    struct pml_kvinfo *ki = fkv_of(*xs);
    F vkv = ki->vkv;
    MPI_Aint extra = (MPI_Aint)ki->extra;
    uintptr_t made;
    F o = pml_f_from_lower_cb(ki->okind, *obj, &made);
    ((fcopy_aint *)ki->copy)(&o, &vkv, &extra, in, out, flag, ierr);
    if (made)
        pml_vh_release(made);
    if (*ierr == MPI_SUCCESS && *flag && ki->okind == PML_COMM)
        pml_dupattr_note(ki->vkv, PML_KV_FAINT, *out);
}

static void del_aint_t(F *obj, F *kv, MPI_Aint *val, MPI_Aint *xs, F *ierr)
{
    (void)kv;
    if (quiet(NULL, ierr))
        return;
    struct pml_kvinfo *ki = fkv_of(*xs);
    F vkv = ki->vkv;
    MPI_Aint extra = (MPI_Aint)ki->extra;
    uintptr_t made;
    F o = pml_f_from_lower_cb(ki->okind, *obj, &made);
    ((fdel_aint *)ki->del)(&o, &vkv, val, &extra, ierr);
    if (made)
        pml_vh_release(made);
}

static void copy_fint_t(F *obj, F *kv, F *xs, F *in, F *out, F *flag, F *ierr)
{
    (void)kv;
    if (pml_dupattr_handing_back()) { /* a restart's window or file: what it had (dup_attrs.c) */
        *out = *in;
        *flag = 1;
        *ierr = MPI_SUCCESS;
        return;
    }
    if (quiet(flag, ierr))
        return;
    struct pml_kvinfo *ki = fkv_of(*xs);
    F vkv = ki->vkv;
    F extra = (F)(intptr_t)ki->extra;
    uintptr_t made;
    F o = pml_f_from_lower_cb(ki->okind, *obj, &made);
    ((fcopy_fint *)ki->copy)(&o, &vkv, &extra, in, out, flag, ierr);
    if (made)
        pml_vh_release(made);
    if (*ierr == MPI_SUCCESS && *flag && ki->okind == PML_COMM)
        pml_dupattr_note(ki->vkv, PML_KV_FINT, (MPI_Aint)*out);
}

static void del_fint_t(F *obj, F *kv, F *val, F *xs, F *ierr)
{
    (void)kv;
    if (quiet(NULL, ierr))
        return;
    struct pml_kvinfo *ki = fkv_of(*xs);
    F vkv = ki->vkv;
    F extra = (F)(intptr_t)ki->extra;
    uintptr_t made;
    F o = pml_f_from_lower_cb(ki->okind, *obj, &made);
    ((fdel_fint *)ki->del)(&o, &vkv, val, &extra, ierr);
    if (made)
        pml_vh_release(made);
}

/* The callback the lower library gets: the lower copy of a predefined function of libmpi
 * (MPI_COMM_DUP_FN, MPI_NULL_DELETE_FN, ...), else the trampoline. */
static void *callback(void *user, void *tramp)
{
    return pml_fn_in_upper(user) ? (void *)pml_fn_to_lower(user) : tramp;
}

/* The lower library's keyval for ki (slot idx of fkv) through its Fortran binding function f. */
static void lower_create_f(void *f, struct pml_kvinfo *ki, int idx, F *real, F *ierr)
{
    if (ki->lang == PML_KV_FAINT) {
        MPI_Aint xs = idx;
        ((void (*)(void *, void *, F *, MPI_Aint *, F *))f)(callback(ki->copy, (void *)copy_aint_t),
                                                            callback(ki->del, (void *)del_aint_t),
                                                            real, &xs, ierr);
    } else {
        F xs = idx;
        ((void (*)(void *, void *, F *, F *, F *))f)(callback(ki->copy, (void *)copy_fint_t),
                                                     callback(ki->del, (void *)del_fint_t), real,
                                                     &xs, ierr);
    }
}

/* After a restart (layer.c pml_keyval_remake): a keyval made from Fortran is made again in the
 * fresh lower half as it was made (the lower libmpi_mpifh's function, the layer's Fortran
 * trampolines, its slot in fkv as extra state); the C entry point's trampolines would call the
 * program's Fortran function with C arguments (SIGSEGV at the first copy after a restart). */
int pml_fkeyval_remake(struct pml_kvinfo *ki, int *real)
{
    int idx = (int)((uint32_t)ki->vkv & 0x3ffffff);
    const char *name = ki->lang == PML_KV_FINT  ? "ompi_keyval_create_f"
                     : ki->okind == PML_TYPE    ? "ompi_type_create_keyval_f"
                     : ki->okind == PML_WIN     ? "ompi_win_create_keyval_f"
                                                : "ompi_comm_create_keyval_f";
    F r = 0, ierr = MPI_SUCCESS;
    lower_create_f(mpifh(name, "the restart of a keyval made from Fortran"), ki, idx, &r, &ierr);
    *real = r;
    return ierr;
}

static void create_keyval_f(const char *lower_fn, const char *fname, const char *cfn, int lang,
                            int okind, void *copy, void *del, F *keyval, MPI_Aint extra, F *ierr)
{
    PML_GATE_ENTER(fid_named(cfn));
    void *f = mpifh(lower_fn, fname);
    struct pml_kvinfo *ki = calloc(1, sizeof *ki);
    if (!ki)
        pml_fatal("out of memory creating a keyval");
    ki->copy = copy;
    ki->del = del;
    ki->extra = (void *)extra;
    ki->lang = lang;
    ki->okind = okind;
    /* the virtual keyval first: its entry's index is the extra state the lower library gets */
    int v = pml_kv_new(0, ki);
    F real = 0;
    lower_create_f(f, ki, (int)((uint32_t)v & 0x3ffffff), &real, ierr);
    if (*ierr != MPI_SUCCESS) {
        pml_kv_release(v);
        free(ki);
        PML_GATE_LEAVE();
        return;
    }
    pml_kv_update(v, real);
    ki->vkv = *keyval = v;
    struct pml_rec *R = pml_rec_open(fid_named(cfn));
    pml_rec_ptr(R, copy);
    pml_rec_ptr(R, del);
    pml_rec_handle(R, (uintptr_t)(unsigned)*keyval);
    pml_rec_ptr(R, ki->extra);
    pml_rec_scalar(R, &lang, sizeof lang);
    pml_vh_tab[(uint32_t)*keyval & 0x3ffffff].rec = pml_rec_close(R);
    PML_GATE_LEAVE();
}

void ompi_keyval_create_f(void *copy, void *del, F *keyval, F *extra, F *ierr);
void ompi_keyval_create_f(void *copy, void *del, F *keyval, F *extra, F *ierr)
{
    create_keyval_f("ompi_keyval_create_f", "MPI_KEYVAL_CREATE", "MPI_Comm_create_keyval",
                    PML_KV_FINT, PML_COMM, copy, del, keyval, *extra, ierr);
}
OMPI_F_NAMES(ompi_keyval_create_f, keyval_create, KEYVAL_CREATE, Keyval_create)

void ompi_comm_create_keyval_f(void *copy, void *del, F *keyval, MPI_Aint *extra, F *ierr);
void ompi_comm_create_keyval_f(void *copy, void *del, F *keyval, MPI_Aint *extra, F *ierr)
{
    create_keyval_f("ompi_comm_create_keyval_f", "MPI_COMM_CREATE_KEYVAL", "MPI_Comm_create_keyval",
                    PML_KV_FAINT, PML_COMM, copy, del, keyval, *extra, ierr);
}
OMPI_F_NAMES(ompi_comm_create_keyval_f, comm_create_keyval, COMM_CREATE_KEYVAL, Comm_create_keyval)

void ompi_type_create_keyval_f(void *copy, void *del, F *keyval, MPI_Aint *extra, F *ierr);
void ompi_type_create_keyval_f(void *copy, void *del, F *keyval, MPI_Aint *extra, F *ierr)
{
    create_keyval_f("ompi_type_create_keyval_f", "MPI_TYPE_CREATE_KEYVAL", "MPI_Type_create_keyval",
                    PML_KV_FAINT, PML_TYPE, copy, del, keyval, *extra, ierr);
}
OMPI_F_NAMES(ompi_type_create_keyval_f, type_create_keyval, TYPE_CREATE_KEYVAL, Type_create_keyval)

void ompi_win_create_keyval_f(void *copy, void *del, F *keyval, MPI_Aint *extra, F *ierr);
void ompi_win_create_keyval_f(void *copy, void *del, F *keyval, MPI_Aint *extra, F *ierr)
{
    create_keyval_f("ompi_win_create_keyval_f", "MPI_WIN_CREATE_KEYVAL", "MPI_Win_create_keyval",
                    PML_KV_FAINT, PML_WIN, copy, del, keyval, *extra, ierr);
}
OMPI_F_NAMES(ompi_win_create_keyval_f, win_create_keyval, WIN_CREATE_KEYVAL, Win_create_keyval)

/* ---- error handlers: the layer's C entry point (virtual handle, record) with a trampoline that
 * gives the application's Fortran handler the Fortran communicator and code ------------------ */
typedef void fhandler(F *, F *);
/* the thunks' targets (thunk.c): the program's Fortran handler with the Fortran handle and code */
#define FEH_TARGET(x, Mx, T)                                                                   \
    static void x##_eh_target(T *o, int *err, void *a3, void *a4, const struct pml_thunk *t)   \
    {                                                                                          \
        (void)a3;                                                                              \
        (void)a4;                                                                              \
        F fo = MPI_##Mx##_c2f(*o), fe = *err;                                                  \
        ((fhandler *)t->ctx)(&fo, &fe);                                                        \
    }
FEH_TARGET(comm, Comm, MPI_Comm)
static struct pml_thunk_set comm_eh_thunks;

void ompi_comm_create_errhandler_f(fhandler *fn, F *errhandler, F *ierr);
void ompi_comm_create_errhandler_f(fhandler *fn, F *errhandler, F *ierr)
{
    MPI_Errhandler eh;
    *ierr = MPI_Comm_create_errhandler(
        (MPI_Comm_errhandler_function *)pml_thunk_for(&comm_eh_thunks, (void *)comm_eh_target, (void *)fn),
        &eh);
    if (*ierr == MPI_SUCCESS)
        *errhandler = MPI_Errhandler_c2f(eh);
}
OMPI_F_NAMES(ompi_comm_create_errhandler_f, comm_create_errhandler, COMM_CREATE_ERRHANDLER,
             Comm_create_errhandler)

/* Windows and files: the same with the window's or the file's Fortran handle. */
#define FOBJ_EH(x, X, Mx, T)                                                                   \
    FEH_TARGET(x, Mx, T)                                                                       \
    static struct pml_thunk_set x##_eh_thunks;                                                 \
    void ompi_##x##_create_errhandler_f(fhandler *fn, F *errhandler, F *ierr);                 \
    void ompi_##x##_create_errhandler_f(fhandler *fn, F *errhandler, F *ierr)                  \
    {                                                                                          \
        MPI_Errhandler eh;                                                                     \
        *ierr = MPI_##Mx##_create_errhandler(                                                  \
            (MPI_##Mx##_errhandler_function *)pml_thunk_for(&x##_eh_thunks,                    \
                                                            (void *)x##_eh_target, (void *)fn), \
            &eh);                                                                              \
        if (*ierr == MPI_SUCCESS)                                                              \
            *errhandler = MPI_Errhandler_c2f(eh);                                              \
    }                                                                                          \
    OMPI_F_NAMES(ompi_##x##_create_errhandler_f, x##_create_errhandler, X##_CREATE_ERRHANDLER, \
                 Mx##_create_errhandler)
FOBJ_EH(win, WIN, Win, MPI_Win)
FOBJ_EH(file, FILE, File, MPI_File)

/* ---- MPI_TYPE_MATCH_SIZE: the lower library's, which returns its own integer (a predefined
 * datatype's: the same for the program) ------------------------------------------------------ */
void ompi_type_match_size_f(F *typeclass, F *size, F *type, F *ierr);
void ompi_type_match_size_f(F *typeclass, F *size, F *type, F *ierr)
{
    PML_GATE_ENTER(PML_FID_MPI_Type_match_size);
    LOWER_F(f, "ompi_type_match_size_f", "MPI_TYPE_MATCH_SIZE", F *, F *, F *, F *);
    f(typeclass, size, type, ierr);
    if (*ierr == MPI_SUCCESS)
        *type = pml_f_from_lower(PML_TYPE, *type);
    PML_GATE_LEAVE();
}
OMPI_F_NAMES(ompi_type_match_size_f, type_match_size, TYPE_MATCH_SIZE, Type_match_size)

/* ---- restart.c: an attribute of a keyval made from Fortran, set again by the lower half's
 * Fortran binding (the lower library keeps it as a Fortran value) ------------------------------ */
int pml_fattr_set(int okind, uintptr_t real_obj, int real_kv, MPI_Aint val, int lang)
{
    F o = pml_f_lower_of_real(okind, real_obj), kv = real_kv, ierr = 0;
    if (lang == PML_KV_FINT) {
        LOWER_F(f, "ompi_attr_put_f", "MPI_ATTR_PUT", F *, F *, F *, F *);
        F v = (F)val;
        f(&o, &kv, &v, &ierr);
    } else if (okind == PML_TYPE) {
        LOWER_F(f, "ompi_type_set_attr_f", "MPI_TYPE_SET_ATTR", F *, F *, MPI_Aint *, F *);
        f(&o, &kv, &val, &ierr);
    } else if (okind == PML_WIN) {
        LOWER_F(f, "ompi_win_set_attr_f", "MPI_WIN_SET_ATTR", F *, F *, MPI_Aint *, F *);
        f(&o, &kv, &val, &ierr);
    } else {
        LOWER_F(f, "ompi_comm_set_attr_f", "MPI_COMM_SET_ATTR", F *, F *, MPI_Aint *, F *);
        f(&o, &kv, &val, &ierr);
    }
    return ierr;
}

/* ---- calls with internal paths that Revive does not support yet (user data representations
 * from Fortran, dynamic processes): stop with the Fortran name before the binding reaches the
 * library ------------------------------------------------------------------------------------- */
#define OMPI_F_UNSUPPORTED(lc, UC, Mx)                                                         \
    void ompi_##lc##_f(void);                                                                  \
    void ompi_##lc##_f(void)                                                                   \
    {                                                                                          \
        pml_unsupported_from("MPI_" #UC, NULL);                                                \
    }                                                                                          \
    OMPI_F_NAMES(ompi_##lc##_f, lc, UC, Mx)

OMPI_F_UNSUPPORTED(register_datarep, REGISTER_DATAREP, Register_datarep)
OMPI_F_UNSUPPORTED(comm_spawn, COMM_SPAWN, Comm_spawn)
OMPI_F_UNSUPPORTED(comm_spawn_multiple, COMM_SPAWN_MULTIPLE, Comm_spawn_multiple)

/* ---- internal functions the other bindings call ------------------------------------------ */
/* A Fortran string (blank padded, no terminator) as a C string, leading and trailing blanks
 * dropped, in memory of the application's malloc: the binding frees it with free(). */
int ompi_fortran_string_f2c(char *fstr, int len, char **cstr);
int ompi_fortran_string_f2c(char *fstr, int len, char **cstr)
{
    int lo = 0, hi = len;
    while (lo < hi && fstr[lo] == ' ')
        lo++;
    while (hi > lo && fstr[hi - 1] == ' ')
        hi--;
    char *c = malloc((size_t)(hi - lo) + 1);
    if (!c)
        return -2; /* OMPI_ERR_OUT_OF_RESOURCE */
    memcpy(c, fstr + lo, (size_t)(hi - lo));
    c[hi - lo] = 0;
    *cstr = c;
    return 0;
}

/* A C string into a Fortran string of len characters, blank padded (cut if longer). */
int ompi_fortran_string_c2f(char *cstr, char *fstr, int len);
int ompi_fortran_string_c2f(char *cstr, char *fstr, int len)
{
    int i = 0;
    for (; i < len && cstr[i]; i++)
        fstr[i] = cstr[i];
    for (; i < len; i++)
        fstr[i] = ' ';
    return 0;
}

/* The bindings' error path (OMPI_ERRHANDLER_INVOKE, taken when a string or array cannot be
 * converted): the handler object the binding read from the application's copy is meaningless,
 * so the object's handler (communicator, window or file: the binding says which) is asked from
 * the lower half and invoked there. */
int ompi_errhandler_invoke(void *errhandler, void *mpi_object, int type, int err_code,
                           const char *message);
int ompi_errhandler_invoke(void *errhandler, void *mpi_object, int type, int err_code,
                           const char *message)
{
    (void)errhandler;
    /* Open MPI's enum ompi_errhandler_type_t: 1 communicator, 2 window, 3 file */
    if (type < 1 || type > 3) {
        struct pml_vh *h = pml_vh_of(PML_H(mpi_object));
        type = h && h->kind == PML_WIN ? 2 : h && h->kind == PML_FILE ? 3 : 1;
    }
    uintptr_t real = pml_v2r(PML_H(mpi_object));
    MPI_Errhandler eh;
    int got = MPI_ERR_OTHER;
    if (type == 1 && pml_L.MPI_Comm_get_errhandler)
        got = pml_L.MPI_Comm_get_errhandler((MPI_Comm)real, &eh);
    else if (type == 2 && pml_L.MPI_Win_get_errhandler)
        got = pml_L.MPI_Win_get_errhandler((MPI_Win)real, &eh);
    else if (type == 3 && pml_L.MPI_File_get_errhandler)
        got = pml_L.MPI_File_get_errhandler((MPI_File)real, &eh);
    if (got != MPI_SUCCESS)
        return err_code;
    int (*inv)(void *, void *, int, int, const char *) =
        (int (*)(void *, void *, int, int, const char *))lower_sym(lower_lib,
                                                                  "ompi_errhandler_invoke",
                                                                  message ? message : "?");
    int rc = inv(eh, (void *)real, type, err_code, message);
    pml_L.MPI_Errhandler_free(&eh);
    return rc;
}
#endif /* PML_OMPI */

#ifdef PML_MPICH
/* ---- attributes: MPII_* take handles and keyvals, translated here ----------------------- */
typedef int get_attr_fn(int, int, void *, int *, int);
typedef int set_attr_fn(int, int, void *, int);

/* A window's attribute read from Fortran (type 1, MPIR_ATTR_AINT: the value itself), as the C
 * call gives it (pml_win_fattr_out). MPICH's Fortran keyvals of the predefined attributes are
 * C's plus one (mpif.h: MPI_WIN_BASE 0x66000002, mpi.h 0x66000001). */
static void win_attr_out(int obj, int keyval, void *val, int type)
{
    if (type == 1 && (keyval == MPI_WIN_BASE + 1 || keyval == MPI_WIN_CREATE_FLAVOR + 1))
        pml_win_fattr_out(PML_H(obj), keyval - 1, (MPI_Aint *)val);
}

/* OUT: what the C call adds to the library's answer (a window's: pml_win_fattr_out; MPICH's
 * bindings ask for the value itself, type MPIR_ATTR_AINT 1 or MPIR_ATTR_INT 3, a C caller's
 * pointer is type 0) */
#define MPICH_ATTR(X, K, CX, OUT)                                                              \
    int MPII_##X##_get_attr(int obj, int keyval, void *val, int *flag, int type);              \
    int MPII_##X##_get_attr(int obj, int keyval, void *val, int *flag, int type)               \
    {                                                                                          \
        static void *fp; /* kept (layer.h) */                                                \
        PML_GATE_ENTER(PML_FID_MPI_##X##_get_attr);                                           \
        if (!__atomic_load_n(&fp, __ATOMIC_ACQUIRE))                                           \
            pml_lower_keep(&fp, lower_sym(lower_lib, "MPII_" #X "_get_attr",                   \
                                          "MPI_" #CX "_GET_ATTR"));                            \
        get_attr_fn *f = (get_attr_fn *)fp;                                                    \
        int rc = f((int)pml_v2r(PML_H(obj)), pml_kv_v2r(keyval), val, flag, type);             \
        if (rc == MPI_SUCCESS && *flag)                                                        \
            OUT;                                                                               \
        PML_GATE_LEAVE();                                                                      \
        return rc;                                                                             \
    }                                                                                          \
    int MPII_##X##_set_attr(int obj, int keyval, void *val, int type);                         \
    int MPII_##X##_set_attr(int obj, int keyval, void *val, int type)                          \
    {                                                                                          \
        static void *fp; /* kept (layer.h) */                                                \
        PML_GATE_ENTER(PML_FID_MPI_##X##_set_attr);                                           \
        if (!__atomic_load_n(&fp, __ATOMIC_ACQUIRE))                                           \
            pml_lower_keep(&fp, lower_sym(lower_lib, "MPII_" #X "_set_attr",                   \
                                          "MPI_" #CX "_SET_ATTR"));                            \
        set_attr_fn *f = (set_attr_fn *)fp;                                                    \
        int rc = f((int)pml_v2r(PML_H(obj)), pml_kv_v2r(keyval), val, type);                   \
        if (rc == MPI_SUCCESS)                                                                 \
            record_set_attr("MPI_" #X "_set_attr", PML_H(obj), keyval, val,                    \
                            type == 0 ? PML_KV_C : type == 3 ? PML_KV_FINT : PML_KV_FAINT);    \
        PML_GATE_LEAVE();                                                                      \
        return rc;                                                                             \
    }

MPICH_ATTR(Comm, PML_COMM, COMM, (void)0)
MPICH_ATTR(Type, PML_TYPE, TYPE, (void)0)
MPICH_ATTR(Win, PML_WIN, WIN, win_attr_out(obj, keyval, val, type))

/* restart.c: an attribute of a keyval made from Fortran set again with its Fortran type
 * (MPICH's attribute types: 1 address-sized integer, 3 INTEGER, as its binding passes them) */
int pml_fattr_set(int okind, uintptr_t real_obj, int real_kv, MPI_Aint val, int lang)
{
    static void *fp[3]; /* kept (layer.h) */
    int k = okind == PML_TYPE ? 1 : okind == PML_WIN ? 2 : 0;
    static const char *const names[3] = { "MPII_Comm_set_attr", "MPII_Type_set_attr",
                                          "MPII_Win_set_attr" };
    if (!__atomic_load_n(&fp[k], __ATOMIC_ACQUIRE))
        pml_lower_keep(&fp[k], lower_sym(lower_lib, names[k], "a restart"));
    set_attr_fn *f = (set_attr_fn *)fp[k];
    return f((int)real_obj, real_kv, (void *)(intptr_t)val, lang == PML_KV_FINT ? 3 : 1);
}

/* MPI_GREQUEST_START (mpif.h, `use mpi`) calls MPI_Grequest_start, the layer's, with the program's
 * Fortran functions and the address of its extra state, then this on the new request: the layer
 * calls those functions as MPICH would (pairs.c, PML_GREQ_F77). */
void MPII_Grequest_set_lang_f77(int greq);
void MPII_Grequest_set_lang_f77(int greq)
{
    pml_greq_set_f77((uintptr_t)(unsigned)greq);
}

/* ---- keyval language proxies --------------------------------------------------------------
 * The binding creates a keyval through the layer (whose C callbacks get a pml_kvinfo as extra
 * state), then sets its language proxies: the lower library then calls a proxy with the callback
 * it holds (the layer's), real handles and keyval. The layer registers its own proxies, which
 * call the binding's with the application's function, virtual handle and keyval and its extra
 * state. */
typedef int copy_proxy_fn(void *user, int handle, int keyval, void *extra, int type, void *attrib,
                          void **copy, int *flag);
typedef int del_proxy_fn(void *user, int handle, int keyval, int type, void *attrib, void *extra);

static int kind_of_keyval(int real)
{
    switch (((unsigned)real >> 22) & 0xf) { /* MPICH keeps the object kind in these bits */
    case 1:
        return PML_COMM;
    case 3:
        return PML_TYPE;
    default:
        return PML_WIN;
    }
}

static int copy_proxy(void *user, int handle, int keyval, void *extra, int type, void *attrib,
                      void **copy, int *flag)
{
    (void)user;
    struct pml_kvinfo *ki = extra;
    if (pml_dupattr_handing_back()) { /* a restart's window or file: what it had (dup_attrs.c) */
        *copy = attrib;
        *flag = 1;
        return MPI_SUCCESS;
    }
    if (pml_attr_quiet) { /* a restart's replay: the program's callbacks do not run */
        *flag = 0;
        return MPI_SUCCESS;
    }
    int made;
    int kind = kind_of_keyval(keyval);
    int v = (int)pml_r2v_cb(kind, PML_H(handle), &made);
    int rc = ((copy_proxy_fn *)ki->proxy_copy)(ki->copy, v, ki->vkv, ki->extra, type, attrib, copy,
                                               flag);
    if (made)
        pml_vh_release(PML_H(v));
    if (rc == MPI_SUCCESS && *flag && kind == PML_COMM)
        pml_dupattr_note(ki->vkv, ki->lang, (MPI_Aint)(intptr_t)*copy);
    return rc;
}

static int del_proxy(void *user, int handle, int keyval, int type, void *attrib, void *extra)
{
    (void)user;
    struct pml_kvinfo *ki = extra;
    if (pml_attr_quiet)
        return MPI_SUCCESS;
    int made;
    int v = (int)pml_r2v_cb(kind_of_keyval(keyval), PML_H(handle), &made);
    int rc = ((del_proxy_fn *)ki->proxy_del)(ki->del, v, ki->vkv, type, attrib, ki->extra);
    if (made)
        pml_vh_release(PML_H(v));
    return rc;
}

typedef void set_proxy_fn(int, copy_proxy_fn *, del_proxy_fn *);
static set_proxy_fn *lower_set_proxy(void)
{
    static void *fp; /* kept (layer.h) */
    if (!__atomic_load_n(&fp, __ATOMIC_ACQUIRE))
        pml_lower_keep(&fp, lower_sym(lower_lib, "MPII_Keyval_set_proxy",
                                      "MPI_COMM_CREATE_KEYVAL"));
    return (set_proxy_fn *)fp;
}

/* After a restart (layer.c pml_keyval_remake): a keyval made from Fortran gets the layer's
 * proxies again in the fresh lower half (without them the library called the C trampolines,
 * which called the program's Fortran function with C arguments: SIGSEGV). */
void pml_fkeyval_proxy(struct pml_kvinfo *ki, int real)
{
    if (ki->proxy_copy || ki->proxy_del)
        lower_set_proxy()(real, copy_proxy, del_proxy);
}

void MPII_Keyval_set_proxy(int keyval, copy_proxy_fn *cp, del_proxy_fn *dp);
void MPII_Keyval_set_proxy(int keyval, copy_proxy_fn *cp, del_proxy_fn *dp)
{
    PML_GATE_ENTER(PML_FID_MPI_Comm_create_keyval);
    set_proxy_fn *f = lower_set_proxy();
    uint32_t u = (uint32_t)keyval;
    struct pml_kvinfo *ki = NULL;
    if ((u & 0xFC000000u) == PML_KV_TAG && (u & 0x3ffffff) < pml_vh_used)
        ki = pml_vh_tab[u & 0x3ffffff].info;
    if (!ki) { /* not a keyval the layer made: nothing to translate */
        f(keyval, cp, dp);
        PML_GATE_LEAVE();
        return;
    }
    ki->proxy_copy = (void *)cp;
    ki->proxy_del = (void *)dp;
    ki->lang = PML_KV_FAINT;
    f(pml_kv_v2r(keyval), copy_proxy, del_proxy);
    PML_GATE_LEAVE();
}
#endif /* PML_MPICH */
