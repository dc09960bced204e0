/* The MPI functions Revive does not support yet: gen_mpi.py --stubs writes one stub per such
 * function (pml_stubs_<mpi>.c), which stops the job naming the call. What the stubs and
 * layer.c share is here, without mpi.h: the stubs take no arguments, so they cannot see the
 * MPI library's prototypes. */
#ifndef REVIVE_PML_UNSUPPORTED_H
#define REVIVE_PML_UNSUPPORTED_H

/* Stop the job: "NAME is not supported under Revive yet" (layer.c). caller is the address
 * the entry point returns to, to name the call as the application wrote it (see layer.h,
 * pml_called_name); NULL: name as given. */
void pml_unsupported(const char *name) __attribute__((noreturn));
void pml_unsupported_from(const char *name, const void *caller) __attribute__((noreturn));

/* How many stubs there are (pml_stubs_<mpi>.c). */
extern const int pml_n_unsupported;

#endif
