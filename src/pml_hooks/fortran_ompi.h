/* What the layer's replacements of Open MPI's Fortran binding functions share (fortran_paths.c,
 * fortran_objs.c): the Fortran integer, and every name under which libmpi_mpifh exports one
 * binding function, so that each name the application (or libmpi_usempif08, which calls the
 * ompi_x_f forms) can reach resolves to the layer's replacement. Open MPI only. */
#ifndef PML_HOOKS_FORTRAN_OMPI_H
#define PML_HOOKS_FORTRAN_OMPI_H

#include <mpi.h>

typedef MPI_Fint F;

/* The names of one binding function in libmpi_mpifh (ompi/mpi/fortran/mpif-h) but its bare
 * lower-case one (mpi_wait: a Fortran compiled without trailing underscores). Exported from a
 * preloaded object, a name interposes on every other object's definition of it: R's Rmpi.so has
 * C functions named mpi_wait, mpi_test, mpi_comm_spawn ... (its .Call entry points), whose
 * registration then bound to the layer's Fortran MPI_WAIT, and R died of SIGSEGV at the first
 * mpi.wait() (newuser10 F1). gfortran, flang and ifort add the underscore. */
#define OMPI_F_NAMES(fn, lc, UC, Mx) OMPI_F_NAMES_P(fn, MPI, PMPI, mpi, pmpi, lc, UC, Mx)
/* The same for the MPIX_ extensions (mpix_x_, PMPIX_X, MPIX_X_f08, ...). */
#define OMPIX_F_NAMES(fn, lc, UC, Mx) OMPI_F_NAMES_P(fn, MPIX, PMPIX, mpix, pmpix, lc, UC, Mx)

#define OMPI_F_NAMES_P(fn, P, PP, p, pp, lc, UC, Mx)                                           \
    __typeof__(fn) P##_##UC __attribute__((alias(#fn)));                                       \
    __typeof__(fn) p##_##lc##_ __attribute__((alias(#fn)));                                    \
    __typeof__(fn) p##_##lc##__ __attribute__((alias(#fn)));                                   \
    __typeof__(fn) PP##_##UC __attribute__((alias(#fn)));                                      \
    __typeof__(fn) pp##_##lc##_ __attribute__((alias(#fn)));                                   \
    __typeof__(fn) pp##_##lc##__ __attribute__((alias(#fn)));                                  \
    __typeof__(fn) P##_##Mx##_f __attribute__((alias(#fn)));                                   \
    __typeof__(fn) P##_##Mx##_f08 __attribute__((alias(#fn)));                                 \
    __typeof__(fn) PP##_##Mx##_f __attribute__((alias(#fn)));                                  \
    __typeof__(fn) PP##_##Mx##_f08 __attribute__((alias(#fn)));

#endif
