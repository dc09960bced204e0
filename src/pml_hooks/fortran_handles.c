/*
 * Handle conversions between C and Fortran. A Fortran integer of an object the program made is
 * the layer's own: PML_F_BASE + the index of its virtual handle. The library's own integer
 * would not do: a restart brings a fresh lower library, which numbers the objects the replay
 * makes again as it pleases (a Fortran MPI_TYPE_VECTOR was 73 before a restart and named no
 * datatype after it: "MPI_ERR_TYPE: invalid datatype"), and the layer itself completes requests
 * and consumes messages while it drains, so the library's object behind a request changes. The
 * virtual handle stays, and so does its index. Below PML_F_BASE are the library's integers of
 * its predefined objects (MPI_COMM_WORLD, MPI_INTEGER, MPI_SUM, MPI_REQUEST_NULL...), the same in
 * every copy of the library and fixed by its Fortran headers; they are converted by the lower
 * library.
 *
 * Open MPI: every kind (MPI_X_c2f/f2c are functions of the library, which its Fortran bindings
 * call for every handle). MPICH: a Fortran integer is the C handle (macros), the layer's
 * virtual one, except for files (ROMIO's pointers, converted through a table of ROMIO's):
 * io.c converts files here in both. Paths that hand Fortran integers to the lower library or
 * get them from it (fortran_paths.c: the lower libmpi_mpifh's attribute functions, keyval
 * callbacks) translate with pml_f_to_lower and pml_f_from_lower.
 */
#define _GNU_SOURCE
#include "pml_hooks/ckpt.h"

#include <dlfcn.h>
#include <stdio.h>

/* Above every predefined object's integer in both libraries (Open MPI 4.1: datatypes up to 72,
 * MPI_COUNT; operations up to 14). */
#define PML_F_BASE 1024

/* The lower library's function `name`, once MPI_Init has loaded it; before, the program's call
 * (from `caller`) is named and the job stopped. */
static void *lower_fn_from(void **cache, const char *name, const void *caller)
{
    void *f = pml_lower_sym(cache, NULL, name); /* emptied by a restart */
    if (!f)
        pml_not_ready_from(name + 1, caller); /* name without its P */
    return f;
}

static void *lower_fn(void **cache, const char *name)
{
    return lower_fn_from(cache, name, NULL);
}

MPI_Fint pml_f_c2f_from(uintptr_t v, int kind, void **cache, const char *name, const void *caller)
{
    struct pml_vh *h = pml_vh_of(v);
    if (h && h->kind == kind)
        return (MPI_Fint)(PML_F_BASE + (h - pml_vh_tab));
    MPI_Fint (*c2f)(uintptr_t) = (MPI_Fint(*)(uintptr_t))lower_fn_from(cache, name, caller);
    return c2f(pml_v2r(v));
}

uintptr_t pml_f_f2c_from(MPI_Fint i, int kind, void **cache, const char *name, const void *caller)
{
    if (i >= PML_F_BASE) {
        uint32_t idx = (uint32_t)i - PML_F_BASE;
        if (idx < pml_vh_used && pml_vh_tab[idx].kind == kind)
            return pml_vh_handle(idx);
        return 0; /* no such handle (freed): NULL, as the library answers an unknown index */
    }
    uintptr_t (*f2c)(MPI_Fint) = (uintptr_t(*)(MPI_Fint))lower_fn_from(cache, name, caller);
    uintptr_t real = f2c(i);
    /* a predefined object; anything else the program cannot have had from the layer (it names
     * an object of the lower library until a restart, as it did before the layer's integers) */
    if (pml_real_is_predef(real))
        return pml_r2v_predef(real);
    return real && kind != PML_REQ && kind != PML_MSG ? pml_r2v(kind, real) : 0;
}

/* ---- the lower library's integers (fortran_paths.c) ---------------------------------------- */
static const char *const kind_name[PML_NKINDS] = {
    [PML_COMM] = "Comm", [PML_GROUP] = "Group", [PML_TYPE] = "Type", [PML_OP] = "Op",
    [PML_ERRH] = "Errhandler", [PML_INFO] = "Info", [PML_REQ] = "Request",
    [PML_MSG] = "Message", [PML_WIN] = "Win", [PML_FILE] = "File",
};

static void *lower_conv(int kind, int to_f)
{
    static void *cache[2][PML_NKINDS]; /* kept (layer.h) */
    char name[48];
    snprintf(name, sizeof name, "PMPI_%s_%s", kind_name[kind], to_f ? "c2f" : "f2c");
    return lower_fn(&cache[to_f][kind], name);
}

MPI_Fint pml_f_to_lower(int kind, MPI_Fint f)
{
    if (f < PML_F_BASE || kind <= 0 || kind >= PML_NKINDS || !kind_name[kind])
        return f; /* a predefined object's: the same in the lower library */
    uint32_t idx = (uint32_t)f - PML_F_BASE;
    if (idx >= pml_vh_used || pml_vh_tab[idx].kind != kind)
        return f; /* no such object: the lower library says so as it would */
    MPI_Fint (*c2f)(uintptr_t) = (MPI_Fint(*)(uintptr_t))lower_conv(kind, 1);
    return c2f(pml_vh_tab[idx].real);
}

MPI_Fint pml_f_lower_of_real(int kind, uintptr_t real)
{
    MPI_Fint (*c2f)(uintptr_t) = (MPI_Fint(*)(uintptr_t))lower_conv(kind, 1);
    return c2f(real);
}

MPI_Fint pml_f_lower_of(int kind, uintptr_t v)
{
    return pml_f_lower_of_real(kind, pml_v2r(v));
}

MPI_Fint pml_f_from_lower_cb(int kind, MPI_Fint f, uintptr_t *made)
{
    *made = 0;
    if (kind <= 0 || kind >= PML_NKINDS || !kind_name[kind])
        return f;
    uintptr_t (*f2c)(MPI_Fint) = (uintptr_t(*)(MPI_Fint))lower_conv(kind, 0);
    uintptr_t real = f2c(f);
    if (!real || pml_real_is_predef(real))
        return f;
    int fresh;
    uintptr_t v = pml_r2v_cb(kind, real, &fresh);
    if (fresh)
        *made = v;
    struct pml_vh *h = pml_vh_of(v);
    return h ? (MPI_Fint)(PML_F_BASE + (h - pml_vh_tab)) : f;
}

MPI_Fint pml_f_from_lower(int kind, MPI_Fint f)
{
    uintptr_t made;
    return pml_f_from_lower_cb(kind, f, &made);
}

#ifdef PML_OMPI
#define PML_CONVERSIONS(T, X, KIND)                                                            \
    MPI_Fint MPI_##X##_c2f(T h)                                                                \
    {                                                                                          \
        static void *f;                                                                        \
        return pml_f_c2f(PML_H(h), KIND, &f, "PMPI_" #X "_c2f");                               \
    }                                                                                          \
    T MPI_##X##_f2c(MPI_Fint i)                                                                \
    {                                                                                          \
        static void *f;                                                                        \
        return (T)pml_f_f2c(i, KIND, &f, "PMPI_" #X "_f2c");                                   \
    }                                                                                          \
    MPI_Fint PMPI_##X##_c2f(T h) __attribute__((alias("MPI_" #X "_c2f")));                     \
    T PMPI_##X##_f2c(MPI_Fint i) __attribute__((alias("MPI_" #X "_f2c")));

PML_CONVERSIONS(MPI_Comm, Comm, PML_COMM)
PML_CONVERSIONS(MPI_Group, Group, PML_GROUP)
PML_CONVERSIONS(MPI_Datatype, Type, PML_TYPE)
PML_CONVERSIONS(MPI_Op, Op, PML_OP)
PML_CONVERSIONS(MPI_Errhandler, Errhandler, PML_ERRH)
PML_CONVERSIONS(MPI_Info, Info, PML_INFO)
/* Requests and messages: as the others (the null ones are 0 without asking the lower library:
 * Open MPI makes sure MPI_REQUEST_NULL and MPI_MESSAGE_NULL get index 0, and a completion call
 * converts them often). */
#define PML_NULL0_CONVERSIONS(T, X, KIND, NUL)                                                 \
    MPI_Fint MPI_##X##_c2f(T h)                                                                \
    {                                                                                          \
        static void *f;                                                                        \
        if (PML_H(h) == PML_H(NUL))                                                            \
            return 0;                                                                          \
        return pml_f_c2f(PML_H(h), KIND, &f, "PMPI_" #X "_c2f");                               \
    }                                                                                          \
    T MPI_##X##_f2c(MPI_Fint i)                                                                \
    {                                                                                          \
        static void *f;                                                                        \
        if (i == 0)                                                                            \
            return NUL;                                                                        \
        return (T)pml_f_f2c(i, KIND, &f, "PMPI_" #X "_f2c");                                   \
    }                                                                                          \
    MPI_Fint PMPI_##X##_c2f(T h) __attribute__((alias("MPI_" #X "_c2f")));                     \
    T PMPI_##X##_f2c(MPI_Fint i) __attribute__((alias("MPI_" #X "_f2c")));

PML_NULL0_CONVERSIONS(MPI_Request, Request, PML_REQ, MPI_REQUEST_NULL)
PML_NULL0_CONVERSIONS(MPI_Message, Message, PML_MSG, MPI_MESSAGE_NULL)
#endif
