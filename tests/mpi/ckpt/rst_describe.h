/* The hash the datatype tests (rst_handout, rst_getrefs, rst_getrace) print per step, and what
 * it takes of a type: only what the standard fixes about it (its combiner, size, lower bound
 * and extent), never a handle's value, which differs between a run and its restart. One copy
 * for the three (diffrev47 D1-D3: the same helpers were written out in each). */
#ifndef REVIVE_TESTS_RST_DESCRIBE_H
#define REVIVE_TESTS_RST_DESCRIBE_H

#include <mpi.h>

static inline unsigned long long rst_mix(unsigned long long h, unsigned long long v)
{
    return (h ^ v) * 1099511628211ull + 7;
}

/* t's combiner word (what the caller keeps of the combiner), size, lower bound and extent
 * hashed into h */
static inline unsigned long long rst_describe_as(MPI_Datatype t, unsigned long long h,
                                                 unsigned long long (*word)(int comb))
{
    int ni, na, nd, comb, sz;
    MPI_Aint lb, ext;
    MPI_Type_get_envelope(t, &ni, &na, &nd, &comb);
    MPI_Type_size(t, &sz);
    MPI_Type_get_extent(t, &lb, &ext);
    return rst_mix(rst_mix(rst_mix(rst_mix(h, word(comb)), (unsigned long long)sz),
                           (unsigned long long)lb),
                   (unsigned long long)ext);
}

static inline unsigned long long rst_comb_itself(int comb)
{
    return (unsigned long long)comb;
}

/* of a combiner, only its kind: whether it is MPI_COMBINER_F90_REAL (what rst_getrace hashes
 * of its f90 and MPI_Type_match_size types) */
static inline unsigned long long rst_comb_f90_real(int comb)
{
    return comb == MPI_COMBINER_F90_REAL;
}

/* what the standard fixes about a type: its combiner, size and extent */
static inline unsigned long long rst_describe(MPI_Datatype t, unsigned long long h)
{
    return rst_describe_as(t, h, rst_comb_itself);
}

/* the same, of the combiner only whether it is MPI_COMBINER_F90_REAL */
static inline unsigned long long rst_describe_f90(MPI_Datatype t, unsigned long long h)
{
    return rst_describe_as(t, h, rst_comb_f90_real);
}

#endif
