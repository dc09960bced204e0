#!/bin/bash
# rank_initalloc.sh FLAVOR: a thread of each rank allocates (1 MiB and 300 KiB blocks: chunks the
# application's malloc maps for itself) and writes while MPI_Init runs (rank_initalloc.c), on 2
# ranks; --term after step 2 and restart-mpi: every block comes back (its pattern checked at
# each step, results as the uninterrupted run's). The halves' limit of session 31: a region that
# appeared while MPI_Init ran was taken for the library's and left out of the image (the restarted
# rank read unmapped memory). The rule now: the lower half reports every chunk its libc maps for
# itself (before its callbacks are set too), so such a chunk that nothing explains is the
# application's (src/pml_hooks/halves_moments.c). A run in which no block was made while MPI_Init
# ran proves nothing: tried again (3 runs at most), else SKIP-PART.
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog rank_initalloc
steps=12 ms=150
ck_workdir rinitalloc
for try in 1 2 3; do
    paced_term_cycle "blocks allocated while MPI_Init ran (run $try)" 2 || break
    k=$(sed -n 's/^rank [0-9]*: \([0-9]*\) of [0-9]* blocks made while MPI_Init ran$/\1/p' out.0 | sort -n | head -n 1)
    if [ -n "$k" ] && [ "$k" -gt 0 ]; then
        pass "each rank had made blocks while MPI_Init ran: $(grep -h 'blocks made while' out.0 | tr '\n' ' ')"
        break
    fi
    [ $try = 3 ] && echo "SKIP-PART: no rank made a block while MPI_Init ran in 3 runs (the check proves nothing)"
done
left=$(no_strays "$d/") || failed "processes left: $left"
exit $fail
