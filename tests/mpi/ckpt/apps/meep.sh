#!/bin/bash
# meep.sh FLAVOR: Meep (Debian meep-openmpi, C++ over libctl/Guile, Open MPI) propagates a
# continuous source along a dielectric waveguide (meep-waveguide.ctl), 2 ranks, printing the field
# at one point every 10 time units and appending Ez to one HDF5 file every 5 (to-appended: parallel
# HDF5 keeps wg-ez.h5 open over MPI-IO from the first output to the end of the run). Run natively,
# and under Revive ended by "ckpt-mpirun --term" once t=60 of 300 was printed, then restarted
# with restart-mpi: the open MPI file is reopened and written on. The printed fields of both
# generations, one after the other, must equal the native run's, and wg-ez.h5 must be identical
# to the native run's but for HDF5's modification times (tests/mpi/apps/h5cmp.py).
flavor=$1
. "$(dirname "$0")/ckapp.sh" || exit $?
need_prog /usr/bin/meep
ldd /usr/bin/meep | grep -q "libmpi.so.40" && [ "$flavor" = ompi ] ||
    { echo "SKIP: /usr/bin/meep is not built with $flavor (Debian's meep-openmpi is Open MPI's)"; exit 77; }
here=$(cd "$(dirname "$0")" && pwd)
h5cmp=$here/../../apps/h5cmp.py
n=2
d=$tmp/meep
# only the fields and the end: Meep's progress and timing lines change from run to run
results() { grep -hE '^step at t=|^run [0-9]+ finished' "$@"; }
CKAPP_SETUP="cp '$here/meep-waveguide.ctl' wg.ctl"
ck_try "$d" $n "grep -q '^step at t=60.0 ' gen0.out" meep wg.ctl || {
    echo "FAIL np=$n: $CK_WHY"; exit 1; }
results "$d/native/native.out" >"$d/n.res"
results "$d/revive/gen0.out" "$d/revive/gen1.out" >"$d/r.res"
if ! grep -q '^run 0 finished at t = 300' "$d/n.res"; then
    echo "FAIL np=$n: the native run did not reach t=300"; tail -5 "$d/native/native.out"; exit 1
elif ! ck_same "the printed fields" "$d/n.res" "$d/r.res"; then
    exit 1
elif ! python3 "$h5cmp" "$d/native/wg-ez.h5" "$d/revive/wg-ez.h5"; then
    echo "FAIL np=$n: wg-ez.h5 (appended to over MPI-IO by both generations) differs from the native run's"; exit 1
fi
echo "ok np=$n: checkpointed at $(grep '^step at' "$d/revive/gen0.out" | tail -1 | cut -d' ' -f3) ($CK_SNAP)," \
    "restarted; $(wc -l <"$d/n.res") field lines and wg-ez.h5 ($(stat -c %s "$d/native/wg-ez.h5") bytes, HDF5 over MPI-IO) identical to the native run's"
