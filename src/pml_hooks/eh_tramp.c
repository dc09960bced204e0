/* Error-handler trampolines: the library calls an error handler with its own handle; the
 * program's function must get the program's (virtual) handle. The library cannot be given a
 * closure, so each distinct function of the program gets a thunk of its own (thunk.c) that
 * translates the handle and calls it; the same function always gets the same thunk. Functions
 * of the upper copies of the libraries (MPI_ERRORS_ARE_FATAL's own...) are given the lower
 * half's copy instead (pml_fn_to_lower). One macro makes the set of each kind: communicators
 * (vhandle.c's callers), files (io.c), windows (win.c). */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "mpi"
#include "pml_hooks/layer.h"
#include "pml_hooks/restart.h" /* pml_attr_quiet */

/* The thunk of fn in set (thunk.c), or the lower half's copy of a function of the library. */
static void *pick(struct pml_thunk_set *set, void *target, void *fn)
{
    if (!fn || pml_fn_in_upper(fn))
        return (void *)pml_fn_to_lower(fn);
    return pml_thunk_for(set, target, fn);
}

/* The target of kind K's thunks: the program's function gets its handle (of PML kind KIND). The
 * library may pass more arguments (the handler is variadic); the program's gets the two. */
#define EH_KIND(K, KIND, name)                                                                     \
    static void eh_##K##_target(MPI_##K *h, int *err, void *a3, void *a4,                         \
                                const struct pml_thunk *t)                                         \
    {                                                                                              \
        (void)a3;                                                                                  \
        (void)a4;                                                                                  \
        if (pml_attr_quiet)                                                                        \
            return; /* the layer's own call (--term's give-back...): the code is returned */       \
        MPI_##K v = (MPI_##K)pml_r2v(KIND, PML_H(*h));                                             \
        ((MPI_##K##_errhandler_function *)t->ctx)(&v, err);                                       \
    }                                                                                              \
    static struct pml_thunk_set eh_##K##_set;                                                      \
    MPI_##K##_errhandler_function *pml_eh_tramp_##name(MPI_##K##_errhandler_function *fn)         \
    {                                                                                              \
        return (MPI_##K##_errhandler_function *)pick(&eh_##K##_set, (void *)eh_##K##_target,      \
                                                     (void *)fn);                                  \
    }

EH_KIND(Comm, PML_COMM, comm)
EH_KIND(File, PML_FILE, file)
EH_KIND(Win, PML_WIN, win)
