#!/bin/bash
# cp2k.sh FLAVOR: CP2K (Debian cp2k, cp2k.popt: Fortran, MPI without OpenMP, Open MPI) runs 8
# steps of Born-Oppenheimer molecular dynamics of a water molecule with Quickstep (PBE, GPW;
# cp2k-h2o.inp, basis and potentials from cp2k-data), 2 ranks, writing the electron density as a
# cube file every 3 steps (over MPI-IO: the issue found CP2K stopped by its cube files). Run
# natively, and under Revive ended by "ckpt-mpirun --term" once step 4 has begun ("MD| Step
# number 3" printed), then restarted with restart-mpi. Issue 8 names CP2K. Two native runs print
# the same digits: the SCF iterations, energies and MD lines of both generations, one after the
# other, must equal the native run's but for timings and memory (a restarted job that began again
# would print the steps twice), and so must the files both generations write: the energies
# (h2o-1.ener but for its time column), the trajectory, the restart file but for its date, folder
# and time, the wavefunction and the cube files of steps 0 and 3 (the first generation) and 6
# (the restarted one).
flavor=$1
. "$(dirname "$0")/ckapp.sh" || exit $?
cp2k=/usr/bin/cp2k.popt
need_prog "$cp2k"
[ -r /usr/share/cp2k/BASIS_MOLOPT ] && [ -r /usr/share/cp2k/GTH_POTENTIALS ] ||
    { echo "SKIP: cp2k-data is not installed (run scripts/install-deps as root)"; exit 77; }
ldd "$cp2k" | grep -q "libmpi.so.40" && [ "$flavor" = ompi ] ||
    { echo "SKIP: $cp2k is not built with $flavor (Debian's cp2k is Open MPI's)"; exit 77; }
export OMP_NUM_THREADS=1
input=$(cd "$(dirname "$0")" && pwd)/cp2k-h2o.inp
# the SCF iterations without their time column, the energies, the MD lines but for CPU time and
# the process's memory (larger under Revive)
results() {
    grep -hE '^ +[0-9]+ [A-Za-z_]+/[A-Za-z]+\. |ENERGY\| Total|^ MD\| ' "$@" |
        grep -vE 'CPU time|memory' | awk '/\/Diag\.|\/OT/ {$4 = ""} {print}'
}
untimed_restart() { grep -vE 'current date|current working dir|AVECPU' "$1"; }
n=2
d=$tmp/cp2k
CKAPP_SETUP="cp '$input' h2o.inp"
ck_try "$d" $n "grep -qE '^ MD\\| Step number +3\$' gen0.out" "$cp2k" -i h2o.inp || {
    echo "FAIL np=$n: $CK_WHY"; exit 1; }
results "$d/native/native.out" >"$d/n.res"
results "$d/revive/gen0.out" "$d/revive/gen1.out" >"$d/r.res"
files=$(ck_differing "$d/native" "$d/revive" h2o-pos-1.xyz h2o-RESTART.wfn h2o-ELECTRON_DENSITY-1_0.cube \
    h2o-ELECTRON_DENSITY-1_3.cube h2o-ELECTRON_DENSITY-1_6.cube)
cmp -s <(awk '{NF--; print}' "$d/native/h2o-1.ener") <(awk '{NF--; print}' "$d/revive/h2o-1.ener") ||
    files="$files h2o-1.ener"
cmp -s <(untimed_restart "$d/native/h2o-1.restart") <(untimed_restart "$d/revive/h2o-1.restart") ||
    files="$files h2o-1.restart"
if [ "$(grep -c '^ MD| Step number' "$d/n.res")" != 8 ] || [ ! -s "$d/native/h2o-ELECTRON_DENSITY-1_6.cube" ]; then
    echo "FAIL np=$n: the native run did not compute the 8 steps"; tail -5 "$d/native/native.out"; exit 1
fi
ck_same "the output of the two generations" "$d/n.res" "$d/r.res" || exit 1
[ -z "$files" ] || { echo "FAIL np=$n: files differ from the native run's:$files"; exit 1; }
echo "ok np=$n: checkpointed in MD step $(grep -E '^ MD\| Step number' "$d/revive/gen0.out" | tail -1 | awk '{print $NF + 1}')" \
    "($CK_SNAP), restarted; $(grep -cE '/Diag\.' "$d/n.res") SCF iterations, 8 MD steps, energies, trajectory," \
    "wavefunction, restart file and 3 cube files identical to the native run's;" \
    "$(grep -E 'ENERGY\| Total' "$d/n.res" | tail -1 | sed 's/^ *//')"
