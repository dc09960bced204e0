/*
 * Handle conversions between C and Fortran for Open MPI (in MPICH they are
 * macros: a Fortran integer is the C handle). Open MPI's Fortran wrappers
 * (libmpi_mpifh) turn every Fortran integer into a C handle with
 * PMPI_X_f2c and back with PMPI_X_c2f; the integer is an index in the lower
 * library's own table, so each conversion goes through the lower half and
 * the result is mapped to the application's virtual handle. Requests and
 * messages are the exception (their integers are the layer's, see below).
 */
#define _GNU_SOURCE
#include "pml_hooks/ckpt.h"

#ifdef PML_OMPI
#include <dlfcn.h>

/* The lower library's function `name`, once MPI_Init has loaded it. */
static void *lower_fn(void **cache, const char *name)
{
    void *f = pml_lower_sym(cache, NULL, name); /* emptied by a restart */
    if (!f)
        pml_not_ready(name + 1); /* name without its P */
    return f;
}

#define PML_CONVERSIONS(T, X, KIND)                                                            \
    MPI_Fint MPI_##X##_c2f(T h)                                                                \
    {                                                                                          \
        static void *f;                                                                        \
        MPI_Fint (*c2f)(T) = (MPI_Fint(*)(T))lower_fn(&f, "PMPI_" #X "_c2f");                  \
        return c2f((T)pml_v2r(PML_H(h)));                                                      \
    }                                                                                          \
    T MPI_##X##_f2c(MPI_Fint i)                                                                \
    {                                                                                          \
        static void *f;                                                                        \
        T (*f2c)(MPI_Fint) = (T(*)(MPI_Fint))lower_fn(&f, "PMPI_" #X "_f2c");                  \
        return (T)pml_r2v(KIND, PML_H(f2c(i)));                                                \
    }                                                                                          \
    MPI_Fint PMPI_##X##_c2f(T h) __attribute__((alias("MPI_" #X "_c2f")));                     \
    T PMPI_##X##_f2c(MPI_Fint i) __attribute__((alias("MPI_" #X "_f2c")));

PML_CONVERSIONS(MPI_Comm, Comm, PML_COMM)
PML_CONVERSIONS(MPI_Group, Group, PML_GROUP)
PML_CONVERSIONS(MPI_Datatype, Type, PML_TYPE)
PML_CONVERSIONS(MPI_Op, Op, PML_OP)
PML_CONVERSIONS(MPI_Errhandler, Errhandler, PML_ERRH)
PML_CONVERSIONS(MPI_Info, Info, PML_INFO)
/* Requests and messages: the Fortran integer is the layer's own, PML_F_BASE + the index of the
 * virtual handle, and not the lower library's index. The lower library's request or message
 * behind a handle changes (Revive completes a request or consumes a message itself while it
 * drains, and a restarted lower half has objects of its own), and its table may give the index
 * of a request that is gone to the next one: the integer the program holds must name the
 * handle, which stays. It also makes the conversion one lookup, where finding the handle that
 * holds a lower request took a walk over the request table. Below PML_F_BASE are the lower
 * library's indices of the predefined objects (MPI_REQUEST_NULL and MPI_MESSAGE_NULL are 0,
 * MPI_MESSAGE_NO_PROC is 1), converted by the lower library. */
#define PML_F_BASE 16

/* The null handle, without asking the lower library: Open MPI makes sure MPI_REQUEST_NULL and
 * MPI_MESSAGE_NULL get index 0 (it fails MPI_Init otherwise) */
static uintptr_t dyn_null(int kind)
{
    return kind == PML_REQ ? PML_H(MPI_REQUEST_NULL) : PML_H(MPI_MESSAGE_NULL);
}

static MPI_Fint dyn_c2f(uintptr_t v, int kind, void **cache, const char *name)
{
    struct pml_vh *h = pml_vh_of(v);
    if (h && h->kind == kind)
        return (MPI_Fint)(PML_F_BASE + (h - pml_vh_tab));
    if (v == dyn_null(kind))
        return 0;
    MPI_Fint (*c2f)(uintptr_t) = (MPI_Fint(*)(uintptr_t))lower_fn(cache, name);
    return c2f(pml_v2r(v));
}

static uintptr_t dyn_f2c(MPI_Fint i, int kind, void **cache, const char *name)
{
    if (i >= PML_F_BASE) {
        uint32_t idx = (uint32_t)i - PML_F_BASE;
        if (idx < pml_vh_used && pml_vh_tab[idx].kind == kind)
            return (uintptr_t)&pml_vh_tab[idx];
        return 0; /* no such handle (freed): NULL, as the library answers an unknown index */
    }
    if (i == 0)
        return dyn_null(kind);
    uintptr_t (*f2c)(MPI_Fint) = (uintptr_t(*)(MPI_Fint))lower_fn(cache, name);
    uintptr_t real = f2c(i);
    return pml_real_is_predef(real) ? pml_r2v_predef(real) : 0;
}

#define PML_DYN_CONVERSIONS(T, X, KIND)                                                        \
    MPI_Fint MPI_##X##_c2f(T h)                                                                \
    {                                                                                          \
        static void *f;                                                                        \
        return dyn_c2f(PML_H(h), KIND, &f, "PMPI_" #X "_c2f");                                 \
    }                                                                                          \
    T MPI_##X##_f2c(MPI_Fint i)                                                                \
    {                                                                                          \
        static void *f;                                                                        \
        return (T)dyn_f2c(i, KIND, &f, "PMPI_" #X "_f2c");                                     \
    }                                                                                          \
    MPI_Fint PMPI_##X##_c2f(T h) __attribute__((alias("MPI_" #X "_c2f")));                     \
    T PMPI_##X##_f2c(MPI_Fint i) __attribute__((alias("MPI_" #X "_f2c")));

PML_DYN_CONVERSIONS(MPI_Request, Request, PML_REQ)
PML_DYN_CONVERSIONS(MPI_Message, Message, PML_MSG)
#endif
