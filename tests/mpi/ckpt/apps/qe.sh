#!/bin/bash
# qe.sh FLAVOR: Quantum ESPRESSO (Debian quantum-espresso, pw.x, Fortran, Open MPI) runs 10 steps
# of Born-Oppenheimer molecular dynamics of 8 silicon atoms, one displaced (qe-si8.in; the
# pseudopotential from quantum-espresso-data), 2 ranks, each step a full SCF: run natively, and
# under Revive ended by "ckpt-mpirun --term" once step 4 has begun ("Entering Dynamics:
# iteration = 4"), then restarted with restart-mpi. Issue 8 names Quantum ESPRESSO. Two native
# runs print the same digits: the output of both generations, one after the other, must equal the
# native run's but for timings (a restarted job that began again would print the steps twice),
# and so must what pw.x writes to out/ (the MD restart file si8.md, written every step by both
# generations; the mean square displacement; the charge density and wavefunctions in si8.save).
flavor=$1
. "$(dirname "$0")/ckapp.sh" || exit $?
need_prog /usr/bin/pw.x
psp=/usr/share/espresso/pseudo/Si.pz-vbc.UPF
[ -r "$psp" ] || { echo "SKIP: $psp is not installed (quantum-espresso-data; run scripts/install-deps as root)"; exit 77; }
ldd /usr/bin/pw.x | grep -q "libmpi.so.40" && [ "$flavor" = ompi ] ||
    { echo "SKIP: /usr/bin/pw.x is not built with $flavor (Debian's quantum-espresso is Open MPI's)"; exit 77; }
export OMP_NUM_THREADS=1
input=$(cd "$(dirname "$0")" && pwd)/qe-si8.in
# timings and dates change from run to run (and the restarted run's include the checkpoint)
untimed() { grep -hviE 'time|wall|cpu|starts on|terminated on' "$@"; }
n=2
d=$tmp/qe
CKAPP_SETUP="cp '$input' si8.in"
ck_try "$d" $n "grep -qE 'Entering Dynamics: +iteration = +4\$' gen0.out" pw.x -in si8.in || {
    echo "FAIL np=$n: $CK_WHY"; exit 1; }
untimed "$d/native/native.out" >"$d/n.res"
untimed "$d/revive/gen0.out" "$d/revive/gen1.out" >"$d/r.res"
files=$(ck_differing "$d/native/out" "$d/revive/out" si8.md si8.msd.dat si8.save/charge-density.dat si8.save/wfc1.dat)
if [ "$(grep -c '^!' "$d/n.res")" -lt 10 ] || ! grep -q 'End of molecular dynamics calculation' "$d/n.res"; then
    echo "FAIL np=$n: the native run did not compute the 10 steps"; tail -5 "$d/native/native.out"; exit 1
fi
ck_same "the output of the two generations" "$d/n.res" "$d/r.res" || exit 1
[ -z "$files" ] || { echo "FAIL np=$n: out/ differs from the native run's:$files"; exit 1; }
echo "ok np=$n: checkpointed in MD step $(grep -E 'Entering Dynamics' "$d/revive/gen0.out" | tail -1 | awk '{print $NF}')" \
    "($CK_SNAP), restarted; $(grep -c '^!' "$d/n.res") SCF energies, the MD output and out/ identical to the native run's;" \
    "$(grep -E 'Ekin \+ Etot' "$d/n.res" | tail -1 | sed 's/^ *//')"
