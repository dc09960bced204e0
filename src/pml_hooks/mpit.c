/* MPI_T, the tool information interface (control and performance variables, categories, pvar
 * sessions and handles), passed to the lower half. MPI_T may be used before MPI_Init and after
 * MPI_Finalize (MPI-3.1 ch. 14): MPI_T_init_thread loads the lower half, as
 * MPI_Get_library_version does, and the MPI_Init that follows initialises that same library.
 *
 * The program gets handles of the layer's own (heap memory of the application: nothing of the
 * lower half's MPI_T state is in them or in an image), each holding the lower half's handle and
 * what makes it again. A restart brings a fresh library whose MPI_T state is new: before its
 * MPI_Init it is initialised as often as the program had it initialised, and the control
 * variables the program wrote (bound to no object) are written again; every cvar handle, pvar
 * session, pvar handle and enumeration the program holds is made again in the fresh library at
 * its first use after the restart (variables found again by name, the object a handle is bound to
 * through its virtual handle, a started pvar handle started again). A performance variable's
 * value is then the fresh library's (a counter counts from the restart; docs/mpi.md, "MPI_T"). */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "mpi"
#include "common/libc_dlsym.h"
#include "pml_hooks/ckpt.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FID_MPIT (PML_NFUNCS + 1) /* pml_fn_name's "MPI_T" */

/* The calls of MPI-3.1's MPI_T, then MPICH 4.0's MPI-4 queries that take no handle. */
#define MPIT_CALLS(X)                                                                             \
    X(init_thread) X(finalize) X(cvar_get_num) X(cvar_get_info) X(cvar_get_index)                 \
    X(cvar_handle_alloc) X(cvar_handle_free) X(cvar_read) X(cvar_write) X(pvar_get_num)            \
    X(pvar_get_info) X(pvar_get_index) X(pvar_session_create) X(pvar_session_free)                 \
    X(pvar_handle_alloc) X(pvar_handle_free) X(pvar_start) X(pvar_stop) X(pvar_read)               \
    X(pvar_write) X(pvar_reset) X(pvar_readreset) X(enum_get_info) X(enum_get_item)                \
    X(category_get_num) X(category_get_info) X(category_get_index) X(category_get_cvars)           \
    X(category_get_pvars) X(category_get_categories) X(category_changed)
#if MPI_VERSION >= 4
#define MPIT_CALLS4(X)                                                                            \
    X(category_get_num_events) X(category_get_events) X(source_get_num)                           \
    X(source_get_timestamp) X(event_get_num) X(event_get_index)
#else
#define MPIT_CALLS4(X)
#endif

static struct {
    void *handle; /* the lower half these were looked up in */
#define X(n) __typeof__(MPI_T_##n) *n;
    MPIT_CALLS(X) MPIT_CALLS4(X)
#undef X
} L;

static pthread_mutex_t mt = PTHREAD_MUTEX_INITIALIZER;
static int t_count;                    /* MPI_T_init_thread calls not yet finalized */
static int t_level = MPI_THREAD_SINGLE; /* the level of the first */
static unsigned gen;                   /* the lower half's: one more at each restart */

static void bind_lower(void)
{
    if (L.handle == pml_lower_handle)
        return;
#define X(n)                                                                                      \
    L.n = (__typeof__(L.n))revive_dlsym(pml_lower_handle, "PMPI_T_" #n);                          \
    if (!L.n)                                                                                     \
        L.n = (__typeof__(L.n))revive_dlsym(pml_lower_handle, "MPI_T_" #n);
    MPIT_CALLS(X) MPIT_CALLS4(X)
#undef X
    L.handle = pml_lower_handle;
}

/* ---- the program's handles ------------------------------------------------------------- */
enum { O_CVAR = 1, O_SESSION, O_PVAR, O_ENUM };
#define MPIT_MAGIC 0x4d504954u

struct mpit_obj {
    uint32_t magic;
    int kind;
    unsigned gen;             /* of the lower half real belongs to */
    void *real;               /* the lower half's handle */
    struct mpit_obj *next;
    char *name;               /* the variable's, whole (an enumeration: of the variable it came
                               * from); "" when it could not be had */
    int var_kind;             /* an enumeration's: O_CVAR or O_PVAR */
    int var_class;            /* a pvar's */
    int bind;                 /* MPI_T_BIND_*: the object a handle is bound to */
    uintptr_t vobj;           /* that object's virtual handle */
    int continuous, started;  /* a pvar handle's */
    struct mpit_obj *session; /* a pvar handle's */
    size_t esize;             /* a cvar's element size (0: not one MPI_T uses) */
    int str;                  /* a cvar of MPI_CHAR: a string, kept up to its end */
    int unkept_said;          /* a cvar of an unknown datatype: its write not kept, said once */
    void *value;              /* an object-bound cvar handle's last write */
    size_t vsize;
};
static struct mpit_obj *objs;

/* The writes of control variables bound to no object, by name: written again in a fresh
 * library before its MPI_Init (one written before MPI_Init may only be written then). */
struct mpit_write {
    struct mpit_write *next;
    char *name; /* whole, in the same allocation, after value */
    size_t size;
    unsigned char value[];
};
static struct mpit_write *writes;

static struct mpit_obj *obj_new(int kind, void *real)
{
    struct mpit_obj *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->magic = MPIT_MAGIC;
    o->kind = kind;
    o->gen = gen;
    o->real = real;
    o->next = objs;
    objs = o;
    return o;
}

/* get_info of variable i for its name alone */
static int var_get_name(int var_kind, int i, char *name, int *len)
{
    int verb, bind, scope, cls, ro, cont, at, dl = 0;
    MPI_Datatype dt;
    MPI_T_enum en;
    return var_kind == O_CVAR
               ? L.cvar_get_info(i, name, len, &verb, &dt, &en, NULL, &dl, &bind, &scope)
               : L.pvar_get_info(i, name, len, &verb, &cls, &dt, &en, NULL, &dl, &bind, &ro,
                                 &cont, &at);
}

/* The name of variable i (var_kind O_CVAR or O_PVAR) of the lower half, whole, malloc'd; ""
 * (malloc'd) when it cannot be had, NULL only without memory. Names have no bound in either
 * library (Open MPI builds them from framework, component and variable names; MPICH's come from
 * its build): a name cut to a fixed buffer (256 bytes before) would not be found again by name
 * after a restart. The longest in Open MPI 4.1 and MPICH 4.0 are 55 bytes (cvars; pvars: 31,
 * none). */
static char *var_name(int var_kind, int i)
{
    for (int tries = 0; tries < 2; tries++) {
        int len = 0; /* name_len 0: the length is asked (MPI-3.1 14.3.3) */
        if (var_get_name(var_kind, i, NULL, &len) != MPI_SUCCESS || len <= 0)
            break;
        char *nm = calloc(1, (size_t)len + 1);
        if (!nm)
            return NULL;
        int got = len + 1;
        if (var_get_name(var_kind, i, nm, &got) == MPI_SUCCESS && strlen(nm) < (size_t)len)
            return nm;
        free(nm); /* changed between the calls: asked again */
    }
    return strdup("");
}

static void obj_free(struct mpit_obj *o)
{
    for (struct mpit_obj **p = &objs; *p; p = &(*p)->next)
        if (*p == o) {
            *p = o->next;
            break;
        }
    o->magic = 0;
    free(o->value);
    free(o->name);
    free(o);
}

/* The program's handle h as one of the layer's of kind, or NULL: not one (never made, freed). */
static struct mpit_obj *obj_of(const void *h, int kind)
{
    struct mpit_obj *o = (struct mpit_obj *)h;
    if (!o)
        return NULL;
    for (struct mpit_obj *p = objs; p; p = p->next) /* a handle freed since is no longer listed */
        if (p == o)
            return o->magic == MPIT_MAGIC && o->kind == kind ? o : NULL;
    return NULL;
}

/* ---- objects a handle is bound to --------------------------------------------------------- */
union robj {
    MPI_Comm c;
    MPI_Datatype d;
    MPI_Errhandler e;
    MPI_File f;
    MPI_Group g;
    MPI_Op o;
    MPI_Request r;
    MPI_Win w;
    MPI_Message m;
    MPI_Info i;
};

/* The virtual handle *obj names (a handle of the kind bind says), 0 for no object. */
static uintptr_t obj_virtual(int bind, const void *obj)
{
    if (!obj)
        return 0;
    switch (bind) {
    case MPI_T_BIND_MPI_COMM: return PML_H(*(const MPI_Comm *)obj);
    case MPI_T_BIND_MPI_DATATYPE: return PML_H(*(const MPI_Datatype *)obj);
    case MPI_T_BIND_MPI_ERRHANDLER: return PML_H(*(const MPI_Errhandler *)obj);
    case MPI_T_BIND_MPI_FILE: return PML_H(*(const MPI_File *)obj);
    case MPI_T_BIND_MPI_GROUP: return PML_H(*(const MPI_Group *)obj);
    case MPI_T_BIND_MPI_OP: return PML_H(*(const MPI_Op *)obj);
    case MPI_T_BIND_MPI_REQUEST: return PML_H(*(const MPI_Request *)obj);
    case MPI_T_BIND_MPI_WIN: return PML_H(*(const MPI_Win *)obj);
    case MPI_T_BIND_MPI_MESSAGE: return PML_H(*(const MPI_Message *)obj);
    case MPI_T_BIND_MPI_INFO: return PML_H(*(const MPI_Info *)obj);
    default: return 0;
    }
}

/* What to give the lower half for the object virtual handle v of kind bind: the real handle,
 * in u. The caller's obj unchanged for no object. */
static void *obj_lower(int bind, void *obj, uintptr_t v, union robj *u)
{
    if (bind == MPI_T_BIND_NO_OBJECT || !obj)
        return obj;
    uintptr_t r = pml_v2r(v);
    switch (bind) {
    case MPI_T_BIND_MPI_COMM: u->c = (MPI_Comm)r; break;
    case MPI_T_BIND_MPI_DATATYPE: u->d = (MPI_Datatype)r; break;
    case MPI_T_BIND_MPI_ERRHANDLER: u->e = (MPI_Errhandler)r; break;
    case MPI_T_BIND_MPI_FILE: u->f = (MPI_File)r; break;
    case MPI_T_BIND_MPI_GROUP: u->g = (MPI_Group)r; break;
    case MPI_T_BIND_MPI_OP: u->o = (MPI_Op)r; break;
    case MPI_T_BIND_MPI_REQUEST: u->r = (MPI_Request)r; break;
    case MPI_T_BIND_MPI_WIN: u->w = (MPI_Win)r; break;
    case MPI_T_BIND_MPI_MESSAGE: u->m = (MPI_Message)r; break;
    case MPI_T_BIND_MPI_INFO: u->i = (MPI_Info)r; break;
    default: return obj;
    }
    return u;
}

/* The size of one element of a variable of the lower half's datatype dt (MPI_T's: MPI-3.1
 * 14.3.5, and MPI_C_BOOL, which Open MPI 4.1 gives its boolean variables), 0 for another. */
static size_t elem_size(MPI_Datatype dt)
{
    uintptr_t u = pml_r2v_predef(PML_H(dt));
    if (u == PML_H(MPI_INT) || u == PML_H(MPI_UNSIGNED))
        return sizeof(int);
    if (u == PML_H(MPI_C_BOOL))
        return sizeof(_Bool);
    if (u == PML_H(MPI_UNSIGNED_LONG) || u == PML_H(MPI_UNSIGNED_LONG_LONG) ||
        u == PML_H(MPI_COUNT) || u == PML_H(MPI_DOUBLE))
        return 8;
    if (u == PML_H(MPI_CHAR))
        return 1;
    return 0;
}

/* ---- the fresh lower half's handles for the program's, made at their first use ---------- */
static int session_fresh(struct mpit_obj *s)
{
    if (s->gen == gen)
        return MPI_SUCCESS;
    void *r = NULL;
    int rc = L.pvar_session_create((MPI_T_pvar_session *)&r);
    if (rc != MPI_SUCCESS)
        return rc;
    s->real = r;
    s->gen = gen;
    return MPI_SUCCESS;
}

static int cvar_fresh(struct mpit_obj *o)
{
    if (o->gen == gen)
        return MPI_SUCCESS;
    int i, count;
    union robj u;
    void *r = NULL;
    if (L.cvar_get_index(o->name, &i) != MPI_SUCCESS)
        return MPI_T_ERR_INVALID_HANDLE; /* the fresh library has no such variable */
    int rc = L.cvar_handle_alloc(i, obj_lower(o->bind, o->vobj ? &u : NULL, o->vobj, &u),
                                 (MPI_T_cvar_handle *)&r, &count);
    if (rc != MPI_SUCCESS)
        return rc;
    if (o->value && L.cvar_write((MPI_T_cvar_handle)r, o->value) != MPI_SUCCESS)
        revive_log_warn("MPI_T: control variable %s (bound to an object) could not be written "
                        "again after the restart: it has the fresh library's value", o->name);
    o->real = r;
    o->gen = gen;
    return MPI_SUCCESS;
}

static int pvar_fresh(struct mpit_obj *o)
{
    int rc = session_fresh(o->session);
    if (rc != MPI_SUCCESS || o->gen == gen)
        return rc;
    int i, count;
    union robj u;
    void *r = NULL;
    if (L.pvar_get_index(o->name, o->var_class, &i) != MPI_SUCCESS)
        return MPI_T_ERR_INVALID_HANDLE;
    rc = L.pvar_handle_alloc((MPI_T_pvar_session)o->session->real, i,
                             obj_lower(o->bind, o->vobj ? &u : NULL, o->vobj, &u),
                             (MPI_T_pvar_handle *)&r, &count);
    if (rc != MPI_SUCCESS)
        return rc;
    o->real = r;
    o->gen = gen;
    if (o->started && !o->continuous &&
        L.pvar_start((MPI_T_pvar_session)o->session->real, (MPI_T_pvar_handle)r) != MPI_SUCCESS)
        revive_log_warn("MPI_T: performance variable %s could not be started again after the "
                        "restart", o->name);
    return MPI_SUCCESS;
}

static int enum_fresh(struct mpit_obj *o)
{
    if (o->gen == gen)
        return MPI_SUCCESS;
    int i, verb, bind, scope, cls, ro, cont, at, dl = 0, rc;
    MPI_Datatype dt;
    MPI_T_enum en = MPI_T_ENUM_NULL;
    if (o->var_kind == O_CVAR)
        rc = L.cvar_get_index(o->name, &i) != MPI_SUCCESS
                 ? MPI_T_ERR_INVALID_HANDLE
                 : L.cvar_get_info(i, NULL, NULL, &verb, &dt, &en, NULL, &dl, &bind, &scope);
    else
        rc = L.pvar_get_index(o->name, o->var_class, &i) != MPI_SUCCESS
                 ? MPI_T_ERR_INVALID_HANDLE
                 : L.pvar_get_info(i, NULL, NULL, &verb, &cls, &dt, &en, NULL, &dl, &bind, &ro,
                                   &cont, &at);
    if (rc != MPI_SUCCESS || en == MPI_T_ENUM_NULL)
        return MPI_T_ERR_INVALID_HANDLE;
    o->real = en;
    o->gen = gen;
    return MPI_SUCCESS;
}

/* The program's enumeration for the lower half's en, of the variable of kind var_kind (O_CVAR,
 * O_PVAR) and index i: one per enumeration of the lower half. */
static MPI_T_enum enum_virtual(MPI_T_enum en, int var_kind, int i)
{
    if (en == MPI_T_ENUM_NULL)
        return MPI_T_ENUM_NULL;
    for (struct mpit_obj *p = objs; p; p = p->next)
        if (p->kind == O_ENUM && p->gen == gen && p->real == (void *)en)
            return (MPI_T_enum)p;
    int verb, bind, scope, cls = 0, ro, cont, at, dl = 0, rc;
    MPI_Datatype dt;
    MPI_T_enum e2;
    rc = var_kind == O_CVAR
             ? L.cvar_get_info(i, NULL, NULL, &verb, &dt, &e2, NULL, &dl, &bind, &scope)
             : L.pvar_get_info(i, NULL, NULL, &verb, &cls, &dt, &e2, NULL, &dl, &bind, &ro,
                               &cont, &at);
    char *nm = rc == MPI_SUCCESS ? var_name(var_kind, i) : NULL;
    struct mpit_obj *o = nm ? obj_new(O_ENUM, (void *)en) : NULL;
    if (!o) {
        free(nm);
        return MPI_T_ENUM_NULL;
    }
    o->name = nm;
    o->var_kind = var_kind;
    o->var_class = cls;
    return (MPI_T_enum)o;
}

/* A restart made every handle of the lower half's stale; MPI_T_finalize to none frees them. */
static void free_all(void)
{
    while (objs)
        obj_free(objs);
}

/* ---- entry points ------------------------------------------------------------------------ */
/* Every call passes the gate (a checkpoint never captures a thread inside the lower half's
 * MPI_T) and then holds mt. Before MPI_T_init_thread loaded the lower half: not initialised. */
#define BEGIN(fn)                                                                                 \
    pml_lower_wait();                                                                             \
    PML_GATE_ENTER(FID_MPIT);                                                                     \
    pthread_mutex_lock(&mt);                                                                      \
    int rc = MPI_T_ERR_NOT_INITIALIZED;                                                           \
    if (!pml_lower_handle)                                                                        \
        goto out;                                                                                 \
    bind_lower();                                                                                 \
    if (!L.fn) {                                                                                  \
        rc = MPI_T_ERR_INVALID;                                                                   \
        goto out;                                                                                 \
    }
#define END()                                                                                     \
    out:                                                                                          \
    pthread_mutex_unlock(&mt);                                                                    \
    PML_GATE_LEAVE();                                                                             \
    return rc;

int MPI_T_init_thread(int required, int *provided)
{
    pml_lower_wait();
    PML_GATE_ENTER(FID_MPIT);
    pthread_mutex_lock(&mt);
    pml_lower_load(); /* before MPI_Init: the library MPI_Init will initialise */
    bind_lower();
    int rc = L.init_thread ? L.init_thread(required, provided) : MPI_T_ERR_INVALID;
    if (rc == MPI_SUCCESS && t_count++ == 0)
        t_level = required;
    pthread_mutex_unlock(&mt);
    PML_GATE_LEAVE();
    return rc;
}

int MPI_T_finalize(void)
{
    BEGIN(finalize);
    rc = L.finalize();
    if (rc == MPI_SUCCESS && t_count > 0 && --t_count == 0)
        free_all(); /* the library freed its sessions and handles */
    END();
}

/* the calls that take no handle */
#define PASS(fn, params, args)                                                                    \
    int MPI_T_##fn params                                                                         \
    {                                                                                             \
        BEGIN(fn);                                                                                \
        rc = L.fn args;                                                                           \
        END();                                                                                    \
    }
PASS(cvar_get_num, (int *num), (num))
PASS(cvar_get_index, (const char *name, int *index), (name, index))
PASS(pvar_get_num, (int *num), (num))
PASS(pvar_get_index, (const char *name, int var_class, int *index), (name, var_class, index))
PASS(category_get_num, (int *num), (num))
PASS(category_get_info,
     (int i, char *name, int *name_len, char *desc, int *desc_len, int *num_cvars, int *num_pvars,
      int *num_categories),
     (i, name, name_len, desc, desc_len, num_cvars, num_pvars, num_categories))
PASS(category_get_index, (const char *name, int *index), (name, index))
PASS(category_get_cvars, (int i, int len, int indices[]), (i, len, indices))
PASS(category_get_pvars, (int i, int len, int indices[]), (i, len, indices))
PASS(category_get_categories, (int i, int len, int indices[]), (i, len, indices))
PASS(category_changed, (int *stamp), (stamp))
#if MPI_VERSION >= 4
PASS(category_get_num_events, (int i, int *num), (i, num))
PASS(category_get_events, (int i, int len, int indices[]), (i, len, indices))
PASS(source_get_num, (int *num), (num))
PASS(source_get_timestamp, (int i, MPI_Count *stamp), (i, stamp))
PASS(event_get_num, (int *num), (num))
PASS(event_get_index, (const char *name, int *index), (name, index))
#endif

int MPI_T_cvar_get_info(int i, char *name, int *name_len, int *verbosity, MPI_Datatype *datatype,
                        MPI_T_enum *enumtype, char *desc, int *desc_len, int *bind, int *scope)
{
    BEGIN(cvar_get_info);
    MPI_Datatype dt = MPI_DATATYPE_NULL;
    MPI_T_enum en = MPI_T_ENUM_NULL;
    rc = L.cvar_get_info(i, name, name_len, verbosity, &dt, &en, desc, desc_len, bind, scope);
    if (rc == MPI_SUCCESS) {
        if (datatype)
            *datatype = (MPI_Datatype)pml_r2v_predef(PML_H(dt));
        if (enumtype)
            *enumtype = enum_virtual(en, O_CVAR, i);
    }
    END();
}

int MPI_T_pvar_get_info(int i, char *name, int *name_len, int *verbosity, int *var_class,
                        MPI_Datatype *datatype, MPI_T_enum *enumtype, char *desc, int *desc_len,
                        int *bind, int *readonly, int *continuous, int *atomic)
{
    BEGIN(pvar_get_info);
    MPI_Datatype dt = MPI_DATATYPE_NULL;
    MPI_T_enum en = MPI_T_ENUM_NULL;
    rc = L.pvar_get_info(i, name, name_len, verbosity, var_class, &dt, &en, desc, desc_len, bind,
                         readonly, continuous, atomic);
    if (rc == MPI_SUCCESS) {
        if (datatype)
            *datatype = (MPI_Datatype)pml_r2v_predef(PML_H(dt));
        if (enumtype)
            *enumtype = enum_virtual(en, O_PVAR, i);
    }
    END();
}

int MPI_T_enum_get_info(MPI_T_enum enumtype, int *num, char *name, int *name_len)
{
    BEGIN(enum_get_info);
    struct mpit_obj *o = obj_of(enumtype, O_ENUM);
    rc = !o ? MPI_T_ERR_INVALID_HANDLE : enum_fresh(o);
    if (rc == MPI_SUCCESS)
        rc = L.enum_get_info((MPI_T_enum)o->real, num, name, name_len);
    END();
}

int MPI_T_enum_get_item(MPI_T_enum enumtype, int index, int *value, char *name, int *name_len)
{
    BEGIN(enum_get_item);
    struct mpit_obj *o = obj_of(enumtype, O_ENUM);
    rc = !o ? MPI_T_ERR_INVALID_HANDLE : enum_fresh(o);
    if (rc == MPI_SUCCESS)
        rc = L.enum_get_item((MPI_T_enum)o->real, index, value, name, name_len);
    END();
}

/* ---- control variables ------------------------------------------------------------------- */
int MPI_T_cvar_handle_alloc(int i, void *obj_handle, MPI_T_cvar_handle *handle, int *count)
{
    BEGIN(cvar_handle_alloc);
    int verb, bind = MPI_T_BIND_NO_OBJECT, scope, dl = 0;
    MPI_Datatype dt = MPI_DATATYPE_NULL;
    MPI_T_enum en;
    union robj u;
    void *r = NULL;
    rc = L.cvar_get_info(i, NULL, NULL, &verb, &dt, &en, NULL, &dl, &bind, &scope);
    if (rc != MPI_SUCCESS)
        goto out;
    uintptr_t v = obj_virtual(bind, obj_handle);
    rc = L.cvar_handle_alloc(i, obj_lower(bind, obj_handle, v, &u), (MPI_T_cvar_handle *)&r, count);
    if (rc != MPI_SUCCESS)
        goto out;
    char *nm = var_name(O_CVAR, i);
    struct mpit_obj *o = nm ? obj_new(O_CVAR, r) : NULL;
    if (!o) {
        free(nm);
        L.cvar_handle_free((MPI_T_cvar_handle *)&r);
        rc = MPI_T_ERR_MEMORY;
        goto out;
    }
    o->name = nm;
    o->bind = bind;
    o->vobj = v;
    o->esize = elem_size(dt);
    o->str = pml_r2v_predef(PML_H(dt)) == PML_H(MPI_CHAR);
    o->vsize = o->esize * (size_t)(*count > 0 ? *count : 0);
    *handle = (MPI_T_cvar_handle)o;
    END();
}

int MPI_T_cvar_handle_free(MPI_T_cvar_handle *handle)
{
    BEGIN(cvar_handle_free);
    struct mpit_obj *o = obj_of(handle ? *handle : NULL, O_CVAR);
    rc = MPI_T_ERR_INVALID_HANDLE;
    if (!o)
        goto out;
    rc = MPI_SUCCESS;
    if (o->gen == gen) /* else the dead library's: nothing to free in the fresh one */
        rc = L.cvar_handle_free((MPI_T_cvar_handle *)&o->real);
    if (rc == MPI_SUCCESS) {
        obj_free(o);
        *handle = MPI_T_CVAR_HANDLE_NULL;
    }
    END();
}

int MPI_T_cvar_read(MPI_T_cvar_handle handle, void *buf)
{
    BEGIN(cvar_read);
    struct mpit_obj *o = obj_of(handle, O_CVAR);
    rc = !o ? MPI_T_ERR_INVALID_HANDLE : cvar_fresh(o);
    if (rc == MPI_SUCCESS)
        rc = L.cvar_read((MPI_T_cvar_handle)o->real, buf);
    END();
}

/* A write that succeeded, kept to be made again in a fresh library: the value's bytes (a
 * string's up to its end). */
static void keep_write(struct mpit_obj *o, const void *buf)
{
    size_t n = o->vsize;
    if (!o->esize && buf && !o->unkept_said) {
        /* a restart could not write it again: say so rather than let it revert silently */
        revive_log_warn("MPI_T: control variable %s has a datatype Revive does not know the size of: "
                        "a restart will not write the program's value again (the fresh library's "
                        "default applies)", o->name);
        o->unkept_said = 1;
    }
    if (!n || !buf)
        return;
    if (o->str)
        n = strnlen(buf, n - 1) + 1;
    /* zeros beyond the value: a library that reads a boolean as an int reads 0 there */
    size_t room = n < sizeof(long long) ? sizeof(long long) : n;
    if (o->bind != MPI_T_BIND_NO_OBJECT) {
        void *v = calloc(1, room);
        if (!v)
            return;
        memcpy(v, buf, n);
        if (o->str)
            ((char *)v)[n - 1] = 0;
        free(o->value);
        o->value = v;
        return;
    }
    struct mpit_write **p = &writes;
    for (; *p; p = &(*p)->next)
        if (!strcmp((*p)->name, o->name))
            break;
    size_t nlen = strlen(o->name) + 1;
    struct mpit_write *w = calloc(1, sizeof *w + room + nlen);
    if (!w)
        return;
    w->name = (char *)w->value + room;
    memcpy(w->name, o->name, nlen);
    w->size = n;
    memcpy(w->value, buf, n);
    if (o->str)
        w->value[n - 1] = 0;
    if (*p) { /* the same variable written again: the last value counts */
        w->next = (*p)->next;
        free(*p);
    } else
        w->next = NULL;
    *p = w;
}

int MPI_T_cvar_write(MPI_T_cvar_handle handle, const void *buf)
{
    BEGIN(cvar_write);
    struct mpit_obj *o = obj_of(handle, O_CVAR);
    rc = !o ? MPI_T_ERR_INVALID_HANDLE : cvar_fresh(o);
    if (rc == MPI_SUCCESS)
        rc = L.cvar_write((MPI_T_cvar_handle)o->real, buf);
    if (rc == MPI_SUCCESS)
        keep_write(o, buf);
    END();
}

/* ---- performance variables --------------------------------------------------------------- */
int MPI_T_pvar_session_create(MPI_T_pvar_session *session)
{
    BEGIN(pvar_session_create);
    void *r = NULL;
    rc = L.pvar_session_create((MPI_T_pvar_session *)&r);
    if (rc != MPI_SUCCESS)
        goto out;
    struct mpit_obj *o = obj_new(O_SESSION, r);
    if (!o) {
        L.pvar_session_free((MPI_T_pvar_session *)&r);
        rc = MPI_T_ERR_MEMORY;
        goto out;
    }
    *session = (MPI_T_pvar_session)o;
    END();
}

int MPI_T_pvar_session_free(MPI_T_pvar_session *session)
{
    BEGIN(pvar_session_free);
    struct mpit_obj *s = obj_of(session ? *session : NULL, O_SESSION);
    rc = MPI_T_ERR_INVALID_SESSION;
    if (!s)
        goto out;
    rc = MPI_SUCCESS;
    if (s->gen == gen)
        rc = L.pvar_session_free((MPI_T_pvar_session *)&s->real);
    if (rc != MPI_SUCCESS)
        goto out;
    for (struct mpit_obj *p = objs, *n; p; p = n) { /* its handles went with it */
        n = p->next;
        if (p->kind == O_PVAR && p->session == s)
            obj_free(p);
    }
    obj_free(s);
    *session = MPI_T_PVAR_SESSION_NULL;
    END();
}

int MPI_T_pvar_handle_alloc(MPI_T_pvar_session session, int i, void *obj_handle,
                            MPI_T_pvar_handle *handle, int *count)
{
    BEGIN(pvar_handle_alloc);
    struct mpit_obj *s = obj_of(session, O_SESSION);
    rc = !s ? MPI_T_ERR_INVALID_SESSION : session_fresh(s);
    if (rc != MPI_SUCCESS)
        goto out;
    int verb, cls, bind = MPI_T_BIND_NO_OBJECT, ro, cont = 0, at, dl = 0;
    MPI_Datatype dt;
    MPI_T_enum en;
    union robj u;
    void *r = NULL;
    rc = L.pvar_get_info(i, NULL, NULL, &verb, &cls, &dt, &en, NULL, &dl, &bind, &ro, &cont, &at);
    if (rc != MPI_SUCCESS)
        goto out;
    uintptr_t v = obj_virtual(bind, obj_handle);
    rc = L.pvar_handle_alloc((MPI_T_pvar_session)s->real, i, obj_lower(bind, obj_handle, v, &u),
                             (MPI_T_pvar_handle *)&r, count);
    if (rc != MPI_SUCCESS)
        goto out;
    char *nm = var_name(O_PVAR, i);
    struct mpit_obj *o = nm ? obj_new(O_PVAR, r) : NULL;
    if (!o) {
        free(nm);
        L.pvar_handle_free((MPI_T_pvar_session)s->real, (MPI_T_pvar_handle *)&r);
        rc = MPI_T_ERR_MEMORY;
        goto out;
    }
    o->name = nm;
    o->var_class = cls;
    o->bind = bind;
    o->vobj = v;
    o->continuous = cont;
    o->started = cont;
    o->session = s;
    *handle = (MPI_T_pvar_handle)o;
    END();
}

/* MPI_T_PVAR_ALL_HANDLES as the program sees it (lower 0) or the lower half (1): MPICH's is a
 * variable of the library (read by name: no reference to MPICH's data from the layer, which
 * every child of a rank loads: tests/mpi/layer_syms.sh), Open MPI's a constant. */
static void *all_handles(int lower)
{
#ifdef PML_OMPI
    (void)lower;
    return (void *)MPI_T_PVAR_ALL_HANDLES;
#else
    void **p = revive_dlsym(lower ? pml_lower_handle : RTLD_DEFAULT, "MPI_T_PVAR_ALL_HANDLES");
    return p ? *p : (void *)-1;
#endif
}

/* The session and handle of a pvar call, made again when a restart came since; for
 * MPI_T_PVAR_ALL_HANDLES (*all set) every handle of the session. */
static int pvar_args(void *session, void *handle, struct mpit_obj **s, struct mpit_obj **o,
                     int *all)
{
    *s = obj_of(session, O_SESSION);
    if (!*s)
        return MPI_T_ERR_INVALID_SESSION;
    int rc = session_fresh(*s);
    if (rc != MPI_SUCCESS)
        return rc;
    *all = handle == all_handles(0);
    *o = NULL;
    if (*all) {
        for (struct mpit_obj *p = objs; p; p = p->next)
            if (p->kind == O_PVAR && p->session == *s && (rc = pvar_fresh(p)) != MPI_SUCCESS)
                return rc;
        return MPI_SUCCESS;
    }
    *o = obj_of(handle, O_PVAR);
    if (!*o || (*o)->session != *s)
        return MPI_T_ERR_INVALID_HANDLE;
    return pvar_fresh(*o);
}

#define PVAR_SH(s) ((MPI_T_pvar_session)(s)->real)
#define PVAR_H(o, all) ((MPI_T_pvar_handle)((all) ? all_handles(1) : (o)->real))

/* After MPI_T_pvar_start or _stop (on) of o, or of every handle of s (all) */
static void mark_started(struct mpit_obj *s, struct mpit_obj *o, int all, int on)
{
    if (!all) {
        o->started = on || o->continuous;
        return;
    }
    for (struct mpit_obj *p = objs; p; p = p->next)
        if (p->kind == O_PVAR && p->session == s && !p->continuous)
            p->started = on;
}

int MPI_T_pvar_handle_free(MPI_T_pvar_session session, MPI_T_pvar_handle *handle)
{
    BEGIN(pvar_handle_free);
    struct mpit_obj *s = obj_of(session, O_SESSION), *o = obj_of(handle ? *handle : NULL, O_PVAR);
    rc = !s ? MPI_T_ERR_INVALID_SESSION : !o || o->session != s ? MPI_T_ERR_INVALID_HANDLE : 0;
    if (rc != MPI_SUCCESS)
        goto out;
    if (o->gen == gen && s->gen == gen)
        rc = L.pvar_handle_free(PVAR_SH(s), (MPI_T_pvar_handle *)&o->real);
    if (rc == MPI_SUCCESS) {
        obj_free(o);
        *handle = MPI_T_PVAR_HANDLE_NULL;
    }
    END();
}

/* MPI_T_pvar_start (mark 1), _stop (mark 0) or _reset (mark -1: no mark changes) of one handle
 * or of MPI_T_PVAR_ALL_HANDLES: the one path of the three (session and handles made again after
 * a restart, the call, then what a restart must start again). Called with mt held. */
static int pvar_act(MPI_T_pvar_session session, MPI_T_pvar_handle handle,
                    int (*fn)(MPI_T_pvar_session, MPI_T_pvar_handle), int mark)
{
    struct mpit_obj *s, *o;
    int all;
    int rc = pvar_args(session, handle, &s, &o, &all);
    if (rc == MPI_SUCCESS)
        rc = fn(PVAR_SH(s), PVAR_H(o, all));
    if (rc == MPI_SUCCESS && mark >= 0)
        mark_started(s, o, all, mark);
    return rc;
}

int MPI_T_pvar_start(MPI_T_pvar_session session, MPI_T_pvar_handle handle)
{
    BEGIN(pvar_start);
    rc = pvar_act(session, handle, L.pvar_start, 1);
    END();
}

int MPI_T_pvar_stop(MPI_T_pvar_session session, MPI_T_pvar_handle handle)
{
    BEGIN(pvar_stop);
    rc = pvar_act(session, handle, L.pvar_stop, 0);
    END();
}

int MPI_T_pvar_reset(MPI_T_pvar_session session, MPI_T_pvar_handle handle)
{
    BEGIN(pvar_reset);
    rc = pvar_act(session, handle, L.pvar_reset, -1);
    END();
}

/* read, write, readreset: one handle (MPI_T_PVAR_ALL_HANDLES is no handle for them) */
#define PVAR_ONE(fn, bufdecl)                                                                     \
    int MPI_T_pvar_##fn(MPI_T_pvar_session session, MPI_T_pvar_handle handle, bufdecl buf)        \
    {                                                                                             \
        BEGIN(pvar_##fn);                                                                         \
        struct mpit_obj *s, *o;                                                                   \
        int all;                                                                                  \
        rc = pvar_args(session, handle, &s, &o, &all);                                            \
        if (rc == MPI_SUCCESS)                                                                    \
            rc = all ? MPI_T_ERR_INVALID_HANDLE : L.pvar_##fn(PVAR_SH(s), PVAR_H(o, 0), buf);     \
        END();                                                                                    \
    }
PVAR_ONE(read, void *)
PVAR_ONE(readreset, void *)
PVAR_ONE(write, const void *)

/* ---- a fresh lower half after a restart (layer.c pml_lower_reload, before its MPI_Init) ---- */
void pml_mpit_reload(void)
{
    gen++; /* every handle the program holds is the dead library's */
    L.handle = NULL; /* the fresh one's handle may have the dead one's value */
    bind_lower();
    if ((!t_count && !writes) || !L.init_thread || !L.finalize)
        return;
    int n = t_count ? t_count : 1, provided;
    for (int k = 0; k < n; k++)
        if (L.init_thread(t_level, &provided) != MPI_SUCCESS) {
            revive_log_warn("MPI_T: the fresh MPI library's MPI_T_init_thread failed: every MPI_T "
                            "call of the program will fail");
            return;
        }
    for (struct mpit_write *w = writes; w; w = w->next) {
        int i, count, ok = 0;
        void *h = NULL;
        if (L.cvar_get_index(w->name, &i) == MPI_SUCCESS &&
            L.cvar_handle_alloc(i, NULL, (MPI_T_cvar_handle *)&h, &count) == MPI_SUCCESS) {
            ok = L.cvar_write((MPI_T_cvar_handle)h, w->value) == MPI_SUCCESS;
            L.cvar_handle_free((MPI_T_cvar_handle *)&h);
        }
        if (!ok)
            revive_log_warn("MPI_T: control variable %s, which the program wrote, could not be "
                            "written in the fresh MPI library: it has that library's value",
                            w->name);
    }
    if (!t_count)
        L.finalize();
}

/* The PMPI names. */
#define ALIAS(n) __typeof__(MPI_T_##n) PMPI_T_##n __attribute__((alias("MPI_T_" #n)));
MPIT_CALLS(ALIAS)
MPIT_CALLS4(ALIAS)
