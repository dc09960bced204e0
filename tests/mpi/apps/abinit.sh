#!/bin/sh
# abinit.sh FLAVOR: ABINIT (Debian abinit + abinit-data, Fortran, Open MPI) computes the ground
# state of an H2 molecule in a box (GTH pseudopotential, 2 bands) natively and under Revive with
# 2 ranks: the total energy and the eigenvalue file must be identical. ABINIT's first MPI call
# from Fortran is MPI_ATTR_GET, whose Open MPI binding used to run the application's copy of
# libmpi (a SIGSEGV at start-up; src/pml_hooks/fortran_paths.c).
flavor=$1
. "$(dirname "$0")/appenv.sh" || exit $?
need_prog /usr/bin/abinit
psp=/usr/share/abinit/psp/01h.pspgth
[ -r "$psp" ] || { echo "SKIP: $psp is not installed (abinit-data; run scripts/install-deps as root)"; exit 77; }
ldd /usr/bin/abinit | grep -q "libmpi.so.40" && [ "$flavor" = ompi ] ||
    { echo "SKIP: /usr/bin/abinit is not built with $flavor"; exit 77; }
cat >"$tmp/h2.abi" <<EOI
acell 10 10 10
ntypat 1
znucl 1
natom 2
typat 1 1
xcart -0.7 0.0 0.0  0.7 0.0 0.0
ecut 10
kptopt 0
nkpt 1
nstep 10
toldfe 1.0d-6
diemac 2.0
nband 2
pp_dirpath "/usr/share/abinit/psp"
pseudos "01h.pspgth"
EOI
fail=0 n=2
for w in native revive; do
    mkdir -p "$tmp/$w" && cp "$tmp/h2.abi" "$tmp/$w/"
    (cd "$tmp/$w" && if [ $w = native ]; then run_native $n abinit h2.abi; else
        REVIVE_MPI_REPORT=$tmp/report run_revive $n abinit h2.abi; fi) >"$tmp/$w.out" 2>&1
    echo $? >"$tmp/$w.rc"
done
rn=$(cat "$tmp/native.rc") rr=$(cat "$tmp/revive.rc")
en=$(grep -m1 ' etotal ' "$tmp/native/h2.abo" 2>/dev/null) er=$(grep -m1 ' etotal ' "$tmp/revive/h2.abo" 2>/dev/null)
if [ "$rn" != 0 ] || [ "$rr" != 0 ]; then
    echo "FAIL np=$n: exit status native $rn, revive $rr"; show_unsupported "$tmp/revive.out"
    grep -m3 -iE 'revive:|signal' "$tmp/revive.out" | sed 's/^/  revive: /'; fail=1
elif [ -z "$en" ] || [ "$en" != "$er" ]; then
    echo "FAIL np=$n: total energy native '$en', revive '$er'"; fail=1
elif ! cmp -s "$tmp/native/h2o_EIG" "$tmp/revive/h2o_EIG"; then
    echo "FAIL np=$n: eigenvalue files differ"; diff "$tmp/native/h2o_EIG" "$tmp/revive/h2o_EIG" | head; fail=1
elif on_lower $n; then
    echo "ok np=$n: $(echo $en), eigenvalues identical, $n ranks on the lower half"
else
    fail=1
fi
exit $fail
