#!/bin/sh
# rma_hotpath.sh: the one-sided calls run in every epoch (fence, lock_all/unlock_all, Put, Get,
# Accumulate) make no locked read-modify-write and call no function of the layer outside its slow
# paths, in both layers of the build tree, and the lower half's ucp_worker_progress makes no call
# (rma_hotpath.py; bench/mpi/README.md has what each cost). Skipped unless the build is optimised.
: "${REVIVE_BUILDDIR:?run through make check}" "${REVIVE_SRCDIR:?run through make check}"
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }
libs=
for l in "$REVIVE_BUILDDIR"/.libs/revive-mpi-ompi.so "$REVIVE_BUILDDIR"/.libs/revive-mpi-mpich.so \
         "$REVIVE_BUILDDIR"/.libs/revive-lower-ompi.so "$REVIVE_BUILDDIR"/.libs/revive-lower-mpich.so; do
    [ -f "$l" ] && libs="$libs $l"
done
[ -n "$libs" ] || { echo "SKIP: no MPI layer built"; exit 77; }
# it judges the compiler's output: an unoptimised build (-O0, a debugging session) keeps every
# inline helper a call (diffrev25 A-L2)
cflags=$(sed -n 's/^CFLAGS = //p' "$REVIVE_BUILDDIR/Makefile")
case " $cflags " in
*" -O2 "* | *" -O3 "* | *" -Os "* | *" -O "*) ;;
*) echo "SKIP: the layers were built with CFLAGS '$cflags' (the check needs -O2 or higher)"; exit 77 ;;
esac
exec python3 "$REVIVE_SRCDIR/tests/mpi/rma_hotpath.py" $libs
