/* Error-handler trampolines: the library calls an error handler with its own handle; the
 * program's function must get the program's (virtual) handle. The library cannot be given a
 * closure, so each distinct function of the program gets one of a fixed set of small functions
 * (32 per handle kind) that translate the handle and call it; the same function always gets the
 * same trampoline. Functions of the upper copies of the libraries (MPI_ERRORS_ARE_FATAL's own...)
 * are given the lower half's copy instead (pml_fn_to_lower). One macro makes the set of each
 * kind: communicators (vhandle.c's callers), files (io.c), windows (win.c). */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "mpi"
#include "pml_hooks/layer.h"

#define NEH 32

/* The trampoline of fn among user[] (NULL slots free) and tramps[], under the handle lock. */
static void *pick(void **user, void *const *tramps, void *fn, const char *call)
{
    if (!fn || pml_fn_in_upper(fn))
        return (void *)pml_fn_to_lower(fn);
    pml_vh_lock();
    int i;
    for (i = 0; i < NEH && user[i] && user[i] != fn; i++)
        ;
    if (i < NEH)
        user[i] = fn;
    pml_vh_unlock();
    if (i == NEH)
        pml_fatal("more than %d distinct error handler functions (%s)", NEH, call);
    return tramps[i];
}

/* Trampoline n (octal 0n: 0..037) of kind K, whose handles are of PML kind KIND. */
#define EH_T(K, KIND, n)                                                                           \
    static void eh_##K##_t##n(MPI_##K *h, int *err, ...)                                           \
    {                                                                                              \
        MPI_##K v = (MPI_##K)pml_r2v(KIND, PML_H(*h));                                             \
        ((MPI_##K##_errhandler_function *)eh_##K##_user[0##n])(&v, err);                          \
    }
#define EH_A(K, KIND, n) (void *)eh_##K##_t##n,
#define R8(M, K, KIND, b)                                                                          \
    M(K, KIND, b##0) M(K, KIND, b##1) M(K, KIND, b##2) M(K, KIND, b##3) M(K, KIND, b##4)          \
    M(K, KIND, b##5) M(K, KIND, b##6) M(K, KIND, b##7)
#define R32(M, K, KIND) R8(M, K, KIND, ) R8(M, K, KIND, 1) R8(M, K, KIND, 2) R8(M, K, KIND, 3)

#define EH_KIND(K, KIND, name)                                                                     \
    static void *eh_##K##_user[NEH];                                                               \
    R32(EH_T, K, KIND)                                                                             \
    static void *const eh_##K##_tramps[NEH] = { R32(EH_A, K, KIND) };                            \
    MPI_##K##_errhandler_function *pml_eh_tramp_##name(MPI_##K##_errhandler_function *fn)         \
    {                                                                                              \
        return (MPI_##K##_errhandler_function *)pick(eh_##K##_user, eh_##K##_tramps, (void *)fn,  \
                                                     "MPI_" #K "_create_errhandler");              \
    }

EH_KIND(Comm, PML_COMM, comm)
EH_KIND(File, PML_FILE, file)
EH_KIND(Win, PML_WIN, win)
