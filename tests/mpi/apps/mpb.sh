#!/bin/sh
# mpb.sh FLAVOR: MPB (Debian mpb-mpi, Open MPI) computes the TM bands of a square lattice of
# dielectric rods at 10 k-points natively and under Revive with 2 ranks: the band frequencies
# (printed to 6 digits; MPB's random starting fields make later digits and the iteration counts
# vary from run to run natively too) must be identical, and so must the dielectric function it
# writes to sq-epsilon.h5 (parallel HDF5 over MPI-IO) but for the HDF5 objects' modification
# times (4-byte UNIX times in the object headers; any other differing byte fails). MPB used to
# crash in MPI_Finalize (src/pml_hooks/lower_libc.h).
flavor=$1
. "$(dirname "$0")/appenv.sh" || exit $?
need_prog /usr/bin/mpb-mpi
ldd /usr/bin/mpb-mpi | grep -q "libmpi.so.40" && [ "$flavor" = ompi ] ||
    { echo "SKIP: /usr/bin/mpb-mpi is not built with $flavor"; exit 77; }
cat >"$tmp/sq.ctl" <<EOI
(set! num-bands 4)
(set! k-points (interpolate 2 (list (vector3 0 0 0) (vector3 0.5 0 0) (vector3 0.5 0.5 0) (vector3 0 0 0))))
(set! geometry (list (make cylinder (center 0 0 0) (radius 0.2) (height infinity) (material (make dielectric (epsilon 12))))))
(set! geometry-lattice (make lattice (size 1 1 no-size)))
(set! resolution 16)
(run-tm)
EOI
n=2 fail=0
mkdir "$tmp/n" "$tmp/r"
(cd "$tmp/n" && run_native $n mpb-mpi ../sq.ctl) >"$tmp/n.out" 2>"$tmp/n.err"; rn=$?
(cd "$tmp/r" && REVIVE_MPI_REPORT=$tmp/report run_revive $n mpb-mpi ../sq.ctl) >"$tmp/r.out" 2>"$tmp/r.err"; rr=$?
if [ $rn != 0 ] || [ $rr != 0 ]; then
    echo "FAIL np=$n: exit status native $rn, revive $rr"; show_unsupported "$tmp/r.err"
    grep -m3 -iE 'revive:|signal' "$tmp/r.err" | sed 's/^/  revive: /'; fail=1
elif [ "$(grep -c '^tmfreqs:' "$tmp/n.out")" != 11 ] ||
     [ "$(grep '^tmfreqs:' "$tmp/n.out")" != "$(grep '^tmfreqs:' "$tmp/r.out")" ]; then
    echo "FAIL np=$n: band frequencies differ"; diff "$tmp/n.out" "$tmp/r.out" | grep tmfreqs | head; fail=1
elif [ ! -s "$tmp/n/sq-epsilon.h5" ] || ! python3 "$apps_src/h5cmp.py" "$tmp/n/sq-epsilon.h5" "$tmp/r/sq-epsilon.h5"; then
    echo "FAIL np=$n: sq-epsilon.h5 (HDF5 through MPI-IO) differs"; fail=1
elif on_lower $n; then
    echo "ok np=$n: sq-epsilon.h5 identical but for modification times; 10 k-points x 4 TM bands identical ($(grep '^tmfreqs:, 2,' "$tmp/n.out" | cut -d, -f8-)), $n ranks on the lower half"
else
    fail=1
fi
exit $fail
