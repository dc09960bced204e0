#!/bin/bash
# cpu_clocks.sh FLAVOR (newuser8 F2): a rank's CPU-time clocks go on across a restart. The
# kernel counts a process's and its threads' CPU time from their creation: in a restarted rank
# clock(), CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID, times() and getrusage() started
# again from 0, and a program timing its CPU use got negative differences (Gerris printed
# "assertion 't->start >= 0.' failed" after every restart). cpu_clocks.c counts the reads that
# went back; a --term snapshot after step 2 and restart-mpi: the job's and the restart's lines
# == the native run's (every count 0). libcr's interposed calls add the CPU time of the
# checkpoint (src/crs/uspace/cpu_clocks.h).
flavor=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../mpienv.sh" || exit $?
. "$here/ckptenv.sh" || exit $?
mpicc=$(command -v "mpicc.$(echo "$flavor" | sed 's/ompi/openmpi/')")
[ -n "$mpicc" ] || { echo "SKIP: no mpicc for $flavor"; exit 77; }
ck_workdir cpu
"$mpicc" -O1 -o "$d/cpu_clocks" "$here/cpu_clocks.c" 2>cc.err ||
    { failed "cpu_clocks.c does not build:"; head -6 cc.err | sed 's/^/  /'; exit 1; }
prog=$d/cpu_clocks steps=12 ms=150
paced_term_cycle "CPU-time clocks across a restart (2 ranks)" 2
cd "$tmp" || exit 1
left=$(no_strays "$tmp/") || failed "processes left: $left"
exit $fail
