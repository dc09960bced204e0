#!/bin/bash
# abinit.sh FLAVOR: ABINIT (Debian abinit + abinit-data, Fortran, Open MPI) computes the ground
# state of an H2 molecule in a box at four bond lengths, one dataset each (abinit-h2.abi), 2 ranks:
# run natively, and under Revive ended by "ckpt-mpirun --term" once dataset 2 has begun ("==
# DATASET  2" on its output), then restarted with restart-mpi. Issue 8 names ABINIT. ABINIT's
# SCF is deterministic here (two native runs print the same digits, ETOT to 13 decimals): the
# output from dataset 1 on of both generations, one after the other, must equal the native run's
# (a restarted job that computed dataset 1 again would print it twice), and so must h2.abo
# (written by both generations) and the eigenvalue file of every dataset, all but for dates and
# timings.
flavor=$1
. "$(dirname "$0")/ckapp.sh" || exit $?
need_prog /usr/bin/abinit
psp=/usr/share/abinit/psp/01h.pspgth
[ -r "$psp" ] || { echo "SKIP: $psp is not installed (abinit-data; run scripts/install-deps as root)"; exit 77; }
ldd /usr/bin/abinit | grep -q "libmpi.so.40" && [ "$flavor" = ompi ] ||
    { echo "SKIP: /usr/bin/abinit is not built with $flavor (Debian's abinit is Open MPI's)"; exit 77; }
input=$(cd "$(dirname "$0")" && pwd)/abinit-h2.abi
# dates, timings and cpu/wall lines change from run to run (and the restarted run's include
# the checkpoint); everything else is compared
untimed() { grep -hviE 'time|wall|cpu|^- \( at ' "$@"; }
# the output from dataset 1 on (before it: the echo of the input, printed by both runs alike),
# of the files one after the other
results() { cat "$@" | sed -n '/^== DATASET  1 /,$p' | untimed; }
n=2
d=$tmp/abinit
CKAPP_SETUP="cp '$input' h2.abi"
ck_try "$d" $n "grep -q '^== DATASET  2 ' gen0.out" abinit h2.abi || {
    echo "FAIL np=$n: $CK_WHY"; exit 1; }
results "$d/native/native.out" >"$d/n.res"
results "$d/revive/gen0.out" "$d/revive/gen1.out" >"$d/r.res"
untimed "$d/native/h2.abo" >"$d/n.abo"
untimed "$d/revive/h2.abo" >"$d/r.abo"
eig=$(ck_differing "$d/native" "$d/revive" h2o_DS1_EIG h2o_DS2_EIG h2o_DS3_EIG h2o_DS4_EIG)
if [ "$(grep -c '^ ETOT ' "$d/n.res")" -lt 4 ] || ! grep -q 'etotal4' "$d/n.abo"; then
    echo "FAIL np=$n: the native run did not compute the four datasets"; tail -5 "$d/native/native.out"; exit 1
fi
ck_same "the output of the two generations" "$d/n.res" "$d/r.res" || exit 1
ck_same "h2.abo (written by both generations)" "$d/n.abo" "$d/r.abo" || exit 1
[ -z "$eig" ] || { echo "FAIL np=$n: eigenvalue files differ from the native run's:$eig"; exit 1; }
echo "ok np=$n: checkpointed in dataset $(grep -E '^== DATASET' "$d/revive/gen0.out" | tail -1 | awk '{print $3}')," \
    "after $(grep -c '^ ETOT ' "$d/revive/gen0.out") SCF steps ($CK_SNAP), restarted; $(grep -c '^ ETOT ' "$d/n.res")" \
    "SCF steps, h2.abo and 4 eigenvalue files identical to the native run's; $(grep -E '^ +etotal4' "$d/n.abo" | awk '{print $1, $2}')"
