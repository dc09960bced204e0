/*
 * Handle conversions between C and Fortran for Open MPI (in MPICH they are
 * macros: a Fortran integer is the C handle). Open MPI's Fortran wrappers
 * (libmpi_mpifh) turn every Fortran integer into a C handle with
 * PMPI_X_f2c and back with PMPI_X_c2f; the integer is an index in the lower
 * library's own table, so each conversion goes through the lower half and
 * the result is mapped to the application's virtual handle.
 */
#define _GNU_SOURCE
#include "pml_hooks/ckpt.h"

#ifdef PML_OMPI
#include <dlfcn.h>

/* The lower library's function `name`, once MPI_Init has loaded it. */
static void *lower_fn(void **cache, const char *name)
{
    if (!*cache && pml_lower_handle)
        *cache = dlsym(pml_lower_handle, name);
    if (!*cache)
        pml_not_ready(name + 1); /* name without its P */
    return *cache;
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
/* Requests: the handle the application holds for an active request (the table tracks it: it
 * must be completed through it, or the counts and the drain lose it). */
static uintptr_t request_r2v(uintptr_t real)
{
    for (struct pml_req *r = pml_rq_head; r; r = r->next)
        if (r->real == real && r->v && !(r->flags & PML_RQ_FREED))
            return r->v;
    for (uint32_t i = 1; i < pml_vh_used; i++) /* an inactive persistent request */
        if (pml_vh_tab[i].kind == PML_REQ && pml_rq_tab[i].v && pml_rq_tab[i].real == real)
            return pml_rq_tab[i].v;
    return pml_r2v(PML_REQ, real);
}

MPI_Fint MPI_Request_c2f(MPI_Request h)
{
    static void *f;
    MPI_Fint (*c2f)(MPI_Request) = (MPI_Fint(*)(MPI_Request))lower_fn(&f, "PMPI_Request_c2f");
    return c2f((MPI_Request)pml_v2r(PML_H(h)));
}
MPI_Request MPI_Request_f2c(MPI_Fint i)
{
    static void *f;
    MPI_Request (*f2c)(MPI_Fint) = (MPI_Request(*)(MPI_Fint))lower_fn(&f, "PMPI_Request_f2c");
    uintptr_t real = PML_H(f2c(i));
    if (pml_real_is_predef(real))
        return (MPI_Request)pml_r2v_predef(real);
    return (MPI_Request)request_r2v(real);
}
MPI_Fint PMPI_Request_c2f(MPI_Request h) __attribute__((alias("MPI_Request_c2f")));
MPI_Request PMPI_Request_f2c(MPI_Fint i) __attribute__((alias("MPI_Request_f2c")));
PML_CONVERSIONS(MPI_Message, Message, PML_MSG)
#endif
