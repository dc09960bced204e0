#!/bin/bash
# lammps.sh FLAVOR: LAMMPS (Debian package lammps, built for Open MPI) on a Lennard-Jones melt
# (lammps-melt.in), 2 ranks: run natively, and under Revive ended by "ckpt-mpirun --term" once
# the run has printed step 300 of 1200, then restarted with restart-mpi. The screen output of the
# two generations, one after the other, and the log file (log.lammps, written by the first
# generation and continued by the restarted one) must equal the native run's, but for timing.
flavor=$1
. "$(dirname "$0")/ckapp.sh" || exit $?
lmp=/usr/bin/lmp
need_prog "$lmp"
ldd "$lmp" | grep -q "libmpi.so.40" || { echo "SKIP: $lmp is not built for Open MPI"; exit 77; }
input=$(cd "$(dirname "$0")" && pwd)/lammps-melt.in
# Timing is left out (it changes from run to run, and the restarted run's loop time includes
# the checkpoint and the restart): the "Loop time", "Performance", "CPU use" lines, the task
# timing breakdown table (Section, Pair, Neigh, Comm, Output, Modify, Other and its rules) and
# "Total wall time", and the set-up times ("create_atoms CPU = 0.423 seconds").
results() {
    grep -vE '^Loop time of|^Performance:|% CPU use with|^MPI task timing breakdown|^Section \||^-{20,}$|^(Pair|Bond|Kspace|Neigh|Comm|Output|Modify|Other) +\||^Total wall time| CPU = [0-9.]+ seconds' "$@"
}
n=2
d=$tmp/lmp
ck_try "$d" $n "grep -qE '^ +300 ' gen0.out" "$lmp" -in "$input" -var steps 1200 || {
    echo "FAIL np=$n: $CK_WHY"; exit 1; }
fail=0
results "$d/native/native.out" >"$d/n.screen"
cat "$d/revive/gen0.out" "$d/revive/gen1.out" | results >"$d/r.screen"
results "$d/native/log.lammps" >"$d/n.log"
results "$d/revive/log.lammps" >"$d/r.log"
last=$(grep -E '^ +1200 ' "$d/n.screen")
if [ -z "$last" ]; then
    echo "FAIL np=$n: the native run did not print step 1200"; fail=1
elif ! ck_same "the screen output" "$d/n.screen" "$d/r.screen" || ! ck_same log.lammps "$d/n.log" "$d/r.log"; then
    fail=1
else
    echo "ok np=$n: checkpointed at step $(grep -E '^ +[0-9]+ ' "$d/revive/gen0.out" | tail -1 | awk '{print $1}') ($CK_SNAP)," \
        "restarted; screen ($(wc -l <"$d/n.screen") lines) and log.lammps identical to the native run's; last step: $last"
fi
exit $fail
