#!/bin/sh
# bench_ckpt.sh FLAVOR: a smoke run of bench/mpi/ckpt.sh at the smallest sizes (2 ranks, no memory
# of their own, one snapshot with and one without a window, one restart of each kind): the
# script runs to its end (exit 0 or 1: the figures are not judged here, the machine's load decides
# them) and prints each of its six verdict lines with a number in it. With Open MPI, also
# bench/mpi/lammps.sh on 32 atoms for 50 steps (SKIP-PART without Debian's lmp): the same
# thermodynamic output natively and under Revive, and its verdict line.
flavor=$1
. "$(dirname "$0")/mpienv.sh" || exit $?
[ -x "$REVIVE_BUILDDIR/bench/mpi/ckptjob-$flavor" ] || { echo "SKIP: ckptjob-$flavor not built"; exit 77; }
fail=0
out=$(cd "$REVIVE_BUILDDIR" && RANKS=2 WINDOWS="0 1" ROUNDS=1 SNAPS=1 REPS=1 RESTART_RANKS=2 MIB=0 \
    BENCH_DIR=$tmp timeout -k 5 $((TMO * 4)) bash "$REVIVE_SRCDIR/bench/mpi/ckpt.sh" "$flavor" 2>&1)
rc=$?
echo "$out"
n=$(echo "$out" | grep -cE "^$flavor (2 ranks, [01] windows: (coordination|committed) [0-9.]+ ms|restart: restart-mpi( --no-verify)? [0-9]+ ms).*: (met|NOT met)$")
if [ $rc -gt 1 ] || [ "$n" != 6 ]; then
    echo "FAIL: bench/mpi/ckpt.sh $flavor: exit status $rc, $n of 6 verdict lines"; fail=1
else
    echo "ok: bench/mpi/ckpt.sh $flavor ran (exit status $rc) and printed its 6 verdicts"
fi
if [ "$flavor" = ompi ]; then
    if [ ! -x /usr/bin/lmp ]; then
        echo "SKIP-PART: bench/mpi/lammps.sh (Debian's lammps is not installed)"
    else
        out=$(cd "$REVIVE_BUILDDIR" && N=2 STEPS=50 REPS=1 timeout -k 5 $((TMO * 2)) bash "$REVIVE_SRCDIR/bench/mpi/lammps.sh" 2>&1)
        rc=$?
        echo "$out"
        if [ $rc -gt 1 ] || ! echo "$out" | grep -qE '^LAMMPS end to end within 1% of native \(best wall times\): (met|NOT met)$' ||
            ! echo "$out" | grep -qE "thermodynamic output identical \([1-9][0-9]* lines\)"; then
            echo "FAIL: bench/mpi/lammps.sh: exit status $rc, or no verdict, or no thermodynamic output compared"; fail=1
        else
            echo "ok: bench/mpi/lammps.sh ran (exit status $rc): same thermodynamic output, a verdict"
        fi
    fi
fi
exit $fail
