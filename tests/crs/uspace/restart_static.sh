#!/bin/bash
# cr_restart is static (README, src/crs/Makefile.inc): it needs no shared library where it
# restarts an image, and maps none beside the image's memory. Checked: it asks for no
# program interpreter (readelf), and a restart of crt_ids with a library path of unusable
# libc, libzstd and libxxhash (empty files) finishes as the uninterrupted run. Before,
# libtool's -static linked only Revive's own libraries in: cr_restart was dynamically linked
# (libc, libzstd, libxxhash) and failed to start there ("error while loading shared
# libraries", exit 127).
. "$(dirname "$0")/../crs_lib.sh"
crs_need_tools cr_run cr_checkpoint cr_restart
crs_setup restart_static
command -v readelf >/dev/null || crs_skip "readelf is not installed"
if readelf -l "$CRS_TOOLS/cr_restart" | grep -q 'program interpreter'; then
    crs_fail "cr_restart asks for a program interpreter: $(readelf -d "$CRS_TOOLS/cr_restart" | grep NEEDED | tr -s ' ' | tr '\n' ' ')"
else
    crs_pass "cr_restart asks for no program interpreter"
fi
bad=$WORK/badlibs
mkdir -p "$bad"
: >"$bad/libc.so.6"
: >"$bad/libzstd.so.1"
: >"$bad/libxxhash.so.0"
crs_good_image restart_static "$CRS_BIN/crt_ids"
rm -f ready.*
st=$(crs_run "$WORK/badlib" env LD_LIBRARY_PATH="$bad" "$CRS_TOOLS/cr_restart" "$GOOD")
crs_expect_run "a restart with unusable shared libraries on the library path" "$WORK/ref.after1" "$WORK/badlib" "$st"
crs_summary restart_static
