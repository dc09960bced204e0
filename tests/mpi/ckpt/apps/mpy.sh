#!/bin/bash
# mpy.sh FLAVOR: Yorick's mpy (Debian yorick-mpy-openmpi / yorick-mpy-mpich2: the interpreter
# over MPI) solves an explicit 1-D heat equation on a periodic rod of 400000 cells split between 2
# ranks (mpy-heat.i: halo cells exchanged with mp_send/mp_recv every step, sums gathered with
# mp_handin every 30 of 600 steps; rank 0 prints them, appends them to heat.log, which it keeps
# open and flushes, and writes the final field to heat.out). Run natively, and under Revive ended
# by "ckpt-mpirun --term" once step 180 is in heat.log, then restarted with restart-mpi. Issue 8
# names Yorick's mpy. The printed sums of both generations, one after the other, heat.log and
# heat.out (17 digits) must equal the native run's (two native runs, and Open MPI and MPICH,
# write the same bytes).
flavor=$1
. "$(dirname "$0")/ckapp.sh" || exit $?
case $flavor in
ompi) mpy=/usr/bin/mpy.openmpi lib=libmpi.so.40 ;;
mpich) mpy=/usr/bin/mpy.mpich2 lib=libmpich.so.12 ;;
esac
need_prog "$mpy"
ldd "$mpy" | grep -q "$lib" || { echo "SKIP: $mpy is not built with $flavor"; exit 77; }
here=$(cd "$(dirname "$0")" && pwd)
n=2
d=$tmp/mpy
# mpy's -batch file runs on rank 0 only: it includes the task's definition on every rank
CKAPP_SETUP="cp '$here/mpy-heat.i' heat.i && printf 'mp_include, \"heat.i\";\\nheat, 400000, 600, 30;\\n' >run.i"
ck_try "$d" $n "grep -qs '^180 ' heat.log" "$mpy" -batch run.i || {
    echo "FAIL np=$n: $CK_WHY"; exit 1; }
if [ "$(wc -l <"$d/native/heat.log")" != 20 ] || [ "$(wc -l <"$d/native/heat.out")" != 400000 ]; then
    echo "FAIL np=$n: the native run did not compute the 600 steps"; tail -3 "$d/native/native.out"; exit 1
elif ! cmp -s "$d/native/native.out" <(cat "$d/revive/gen0.out" "$d/revive/gen1.out"); then
    echo "FAIL np=$n: the output of the two generations differs from the native run's"
    diff "$d/native/native.out" <(cat "$d/revive/gen0.out" "$d/revive/gen1.out") | head -10; exit 1
elif ! cmp -s "$d/native/heat.log" "$d/revive/heat.log"; then
    echo "FAIL np=$n: heat.log (written by both generations) differs from the native run's"
    diff "$d/native/heat.log" "$d/revive/heat.log" | head -10; exit 1
elif ! cmp -s "$d/native/heat.out" "$d/revive/heat.out"; then
    echo "FAIL np=$n: the final field heat.out differs from the native run's"; exit 1
fi
echo "ok np=$n: checkpointed once step 180 of 600 was written ($CK_SNAP), restarted; the 20 printed sums," \
    "heat.log and the final field (400000 values) identical to the native run's; $(tail -1 "$d/native/heat.log")"
