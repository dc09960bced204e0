#!/bin/sh
# State test (C++): thread_local objects with non-trivial destructors in six threads (two end
# between the points, two after point 2, two start after point 1), the main thread's, and a
# static object with a destructor: after every restart each destructor runs exactly once, at
# its thread's exit or at exit(3), with the output of an uninterrupted run (crt_cxxtls.cc).
# Built here with the C++ compiler against libcrt; skipped without one.
# flavours: every one (a caller's CRS_FLAVOURS wins): thread ids change (nopid), the process
# dies of a signal (term, sigdeath: no destructor runs), a second copy (busy)
cxx=$(command -v "${CXX:-g++}" || command -v c++)
[ -n "$cxx" ] || { echo "SKIP: no C++ compiler (g++, c++)"; exit 77; }
b=${REVIVE_BUILDDIR:-.}
src=${REVIVE_SRCDIR:-$(dirname "$0")/../../..}
if ! "$cxx" -std=c++17 -O1 -pthread -o "$b/tests/crs/uspace/crt_cxxtls" "$src/tests/crs/uspace/crt_cxxtls.cc" \
    "$b/tests/crs/.libs/libcrt.a" 2>"$b/tests/crs/uspace/crt_cxxtls.build.err"; then
    echo "FAIL: $cxx cannot build crt_cxxtls:"
    head -n 5 "$b/tests/crs/uspace/crt_cxxtls.build.err"
    exit 1
fi
exec bash "$(dirname "$0")/../cr_cycle.sh" crt_cxxtls
