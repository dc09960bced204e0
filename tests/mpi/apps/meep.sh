#!/bin/sh
# meep.sh FLAVOR: Meep (Debian meep-openmpi, C++ over libctl/Guile, Open MPI) propagates a
# continuous source along a dielectric waveguide for 20 time units natively and under Revive with
# 2 ranks and prints the field at one point: the output must be identical (progress lines with
# timings left out). Meep used to print its results and then crash in MPI_Finalize: the
# application's and the MPI library's libc handed out the same thread-specific data keys
# (src/pml_hooks/lower_libc.h).
flavor=$1
. "$(dirname "$0")/appenv.sh" || exit $?
need_prog /usr/bin/meep
ldd /usr/bin/meep | grep -q "libmpi.so.40" && [ "$flavor" = ompi ] ||
    { echo "SKIP: /usr/bin/meep is not built with $flavor"; exit 77; }
cat >"$tmp/wg.ctl" <<EOI
(set! geometry-lattice (make lattice (size 8 4 no-size)))
(set! geometry (list (make block (center 0 0) (size infinity 1 infinity) (material (make dielectric (epsilon 12))))))
(set! sources (list (make source (src (make continuous-src (frequency 0.15))) (component Ez) (center -3 0))))
(set! pml-layers (list (make pml (thickness 1.0))))
(set! resolution 10)
(run-until 20 (at-end (lambda () (print "field at 2,0: " (get-field-point Ez (vector3 2 0)) "\n"))))
EOI
n=2 fail=0
(cd "$tmp" && run_native $n meep wg.ctl) >"$tmp/n.out" 2>"$tmp/n.err"; rn=$?
(cd "$tmp" && REVIVE_MPI_REPORT=$tmp/report run_revive $n meep wg.ctl) >"$tmp/r.out" 2>"$tmp/r.err"; rr=$?
strip() { grep -viE 'progress|time|elapsed|second' "$1"; }
if [ $rn != 0 ] || [ $rr != 0 ]; then
    echo "FAIL np=$n: exit status native $rn, revive $rr"; show_unsupported "$tmp/r.err"
    grep -m3 -iE 'revive:|signal' "$tmp/r.err" | sed 's/^/  revive: /'; fail=1
elif ! grep -q 'field at' "$tmp/n.out" || [ "$(strip "$tmp/n.out")" != "$(strip "$tmp/r.out")" ]; then
    echo "FAIL np=$n: outputs differ"; diff "$tmp/n.out" "$tmp/r.out" | head; fail=1
elif on_lower $n; then
    echo "ok np=$n: $(strip "$tmp/n.out" | wc -l) lines identical ($(grep 'field at' "$tmp/n.out")), $n ranks on the lower half"
else
    fail=1
fi
exit $fail
