#!/bin/bash
# mpb.sh FLAVOR: MPB (Debian mpb-mpi, C over libctl/Guile, Open MPI) computes 8 TM bands of a
# square lattice of dielectric rods at 13 k-points (mpb-rods.ctl), 2 ranks, writing the dielectric
# function to rods-epsilon.h5 before the bands and again to end-epsilon.h5 after them (parallel
# HDF5 over MPI-IO: the second file is written by the restarted generation). Run natively, and
# under Revive ended by "ckpt-mpirun --term" once k-point 4 was printed, then restarted with
# restart-mpi. Issue 8 names MPB. The band frequencies ("tmfreqs:", 6 digits: MPB starts from
# random fields, so later digits and the iteration counts vary between native runs, but two
# native runs print the same 6 digits) of both generations, one after the other, must equal
# the native run's (a restarted job that began again would print k-points twice), and both HDF5
# files must be identical to the native run's but for HDF5's modification times
# (tests/mpi/apps/h5cmp.py).
flavor=$1
. "$(dirname "$0")/ckapp.sh" || exit $?
need_prog /usr/bin/mpb-mpi
ldd /usr/bin/mpb-mpi | grep -q "libmpi.so.40" && [ "$flavor" = ompi ] ||
    { echo "SKIP: /usr/bin/mpb-mpi is not built with $flavor (Debian's mpb-mpi is Open MPI's)"; exit 77; }
here=$(cd "$(dirname "$0")" && pwd)
h5cmp=$here/../../apps/h5cmp.py
n=2
d=$tmp/mpb
# the bands only: MPB's timing lines and iteration counts change from run to run
results() { grep -hE '^tmfreqs:' "$@"; }
CKAPP_SETUP="cp '$here/mpb-rods.ctl' rods.ctl"
ck_try "$d" $n "grep -q '^tmfreqs:, 4,' gen0.out" mpb-mpi rods.ctl || {
    echo "FAIL np=$n: $CK_WHY"; exit 1; }
results "$d/native/native.out" >"$d/n.res"
results "$d/revive/gen0.out" "$d/revive/gen1.out" >"$d/r.res"
if [ "$(grep -c '^tmfreqs:, 13,' "$d/n.res")" != 1 ]; then
    echo "FAIL np=$n: the native run did not reach k-point 13"; tail -5 "$d/native/native.out"; exit 1
elif ! cmp -s "$d/n.res" "$d/r.res"; then
    echo "FAIL np=$n: the band frequencies differ from the native run's"; diff "$d/n.res" "$d/r.res" | head -10; exit 1
fi
for h in rods-epsilon.h5 end-epsilon.h5; do
    [ -s "$d/native/$h" ] || { echo "FAIL np=$n: the native run wrote no $h"; exit 1; }
    python3 "$h5cmp" "$d/native/$h" "$d/revive/$h" ||
        { echo "FAIL np=$n: $h (HDF5 over MPI-IO) differs from the native run's"; exit 1; }
done
echo "ok np=$n: checkpointed after k-point $(grep '^tmfreqs:, [0-9]' "$d/revive/gen0.out" | tail -1 | cut -d, -f2 | tr -d ' ')" \
    "of 13 ($CK_SNAP), restarted; 13 k-points x 8 TM bands identical to the native run's," \
    "rods-epsilon.h5 and end-epsilon.h5 (HDF5 over MPI-IO, the second written after the restart) identical but for modification times"
