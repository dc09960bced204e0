#!/bin/sh
# State test: gfortran STATUS='SCRATCH' units (files removed while open),
# built here with gfortran against libcrt; every flavour. Skipped without
# gfortran.
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
