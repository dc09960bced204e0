#!/bin/bash
# dl_own.sh FLAVOR: an MPI program that defines dlsym itself (dl_own.c with owndlsym_wrap.c: it
# forwards to the C library's dlsym found with dlvsym, as tracing tools and profilers do, and
# counts what it answered) under "mpirun -am ft-enable-cr" (diffrev38 R-L8). Three cycles
# (paced_term_cycle: a native run, a "ckpt-mpirun --term" after step 2, restart-mpi to the end;
# the lines of both generations are the native run's), no process left. Before, libcr and the
# MPI layer found libc's calls through the symbol dlsym, so through the program's, whose
# RTLD_NEXT is relative to the program: the ranks never got through MPI_Init (each took its own
# function for the next one). A library preloaded with such a dlsym: tests/crs/uspace/crs_owndlsym.sh.
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog dl_own
export REVIVE_RESTART_RANK=$restarter
steps=24 ms=100
for c in 1 2 3; do
    ck_workdir cycle$c
    paced_term_cycle "cycle $c: 2 ranks, the program's own dlsym in front of libc's" 2 || continue
    left=$(no_strays "$d/") || failed "cycle $c: processes left: $left"
done
exit $fail
