#!/bin/sh
# State test: gfortran STATUS='SCRATCH' units (files removed while open),
# built here with gfortran against libcrt; its flavours. Skipped without
# gfortran.
# flavours: "state" by default (a caller's CRS_FLAVOURS wins); the state ones (cr_cycle.sh) act on
# the program's state; scratch units are files removed while open, restored by every checkpoint;
# the generic flavours add nothing to them
export CRS_FLAVOURS=${CRS_FLAVOURS:-"state"}
fc=$(command -v gfortran)
[ -n "$fc" ] || { echo "SKIP: no gfortran"; exit 77; }
b=${REVIVE_BUILDDIR:-.}
src=${REVIVE_SRCDIR:-$(dirname "$0")/../../..}
if ! "$fc" -O1 -o "$b/tests/crs/uspace/crt_scratch" "$src/tests/crs/uspace/crt_scratch.f90" \
    "$b/tests/crs/.libs/libcrt.a" 2>"$b/tests/crs/uspace/crt_scratch.build.err"; then
    echo "FAIL: gfortran cannot build crt_scratch:"
    head -n 5 "$b/tests/crs/uspace/crt_scratch.build.err"
    exit 1
fi
exec bash "$(dirname "$0")/../cr_cycle.sh" crt_scratch
