#!/bin/bash
# rst_heap.sh FLAVOR: a restarted job with a large heap that makes MPI windows and MPI_Alloc_mem
# memory after the restart, and unwinds (backtraces through the MPI library's frames, thread
# cancellation) in the restarted process (rst_heap.c says what the program does). Each case: a
# native run; a job under "mpirun -am ft-enable-cr" ended by "ckpt-mpirun --term" after its
# second step; "restart-mpi" runs it to its end; the step lines of both generations together
# must equal the native run's, and no process may be left. Cases: 2 ranks with 48 MiB each and
# the windows made after the snapshot (checked: the snapshot came before that step), the same
# with the windows made at the first step (in the snapshot), 4 ranks with the windows after.
# Fails without lower_dlfo.c (issue 7, finding A): ld.so's table for the unwinder still named
# the dead MPI library's objects after a restart, so the program's lookup of a return address
# its first generation met in the library named an object that is not loaded, and the
# unwinder's own lookup there (_Unwind_Find_FDE) died of SIGSEGV, SEGV_ACCERR.
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog rst_heap
export REVIVE_RESTART_RANK=$restarter
steps=14 wafter=12
# heap_case NAME N MIB WSTEP: one cycle (the program's MIB and WSTEP ride after the pace's MS,
# which paced_term_cycle passes last)
heap_case() {
    local name=$1 np=$2 mib=$3 wstep=$4
    ms="500 $mib $wstep"
    ck_workdir "$name"
    paced_term_cycle "$name: $np ranks, $mib MiB heaps, windows made at step $wstep" "$np" || return 1
    if [ "$wstep" -gt 1 ] && [ "$(nsteps out.0)" -ge "$wstep" ]; then
        failed "$name: the snapshot came after step $wstep: no window was made after the restart"
    fi
    left=$(no_strays "$d/") || failed "$name: processes left: $left"
}
heap_case after 2 48 $wafter
heap_case before 2 48 1
heap_case four 4 24 $wafter
exit $fail
