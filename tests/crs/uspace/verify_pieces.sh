#!/bin/bash
# cr_info --verify of an image holding a 64 MiB heap (crt_heap) reads its chunks through a
# small buffer (crs_image_stream_chunk, as restart-mpi's check of every rank image and the
# restore's fill do): the pages it touches for that stay few. Its minor page faults beyond those
# of cr_info on the same image without --verify must stay under 512; reading each 4 MiB chunk
# whole touched the 1024 pages of a chunk's buffer for every image (perf of restart-mpi over 8
# rank images of 18 MB: a third of its CPU). Then the restart from the image runs as the
# original did (the fill, by pieces now).
. "$(dirname "$0")/../crs_lib.sh"
crs_need_tools cr_run cr_checkpoint cr_restart cr_info
[ -x /usr/bin/time ] || crs_skip "GNU time (/usr/bin/time) is missing: the page faults cannot be counted"
crs_setup verify_pieces
crs_good_image verify_pieces "$CRS_BIN/crt_heap"
# faults [--verify]: cr_info's minor page faults on the image
faults() {
    /usr/bin/time -f 'faults %R' "$CRS_TOOLS/cr_info" "$@" "$GOOD" 2>&1 >/dev/null | sed -n 's/^faults //p'
}
"$CRS_TOOLS/cr_info" --verify "$GOOD" >"$WORK/verify.out" 2>&1 || {
    crs_fail "cr_info --verify of a good image failed"
    crs_show "$WORK/verify.out"
}
base=$(faults)
ver=$(faults --verify)
if [ -z "$base" ] || [ -z "$ver" ]; then
    crs_fail "cannot count cr_info's page faults with /usr/bin/time"
elif [ $((ver - base)) -lt 512 ]; then
    crs_pass "cr_info --verify of a 64 MiB image: $((ver - base)) page faults beyond cr_info's own $base"
else
    crs_fail "cr_info --verify of a 64 MiB image: $((ver - base)) page faults beyond cr_info's own $base (under 512 expected: the chunks are read through a small buffer)"
fi
st=$(crs_run "$WORK/rst" "$CRS_TOOLS/cr_restart" "$GOOD")
crs_expect_run "restart of the image (the fill by pieces)" "$WORK/ref.after1" "$WORK/rst" "$st"
crs_summary verify_pieces
