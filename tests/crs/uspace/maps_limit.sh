#!/bin/bash
# Many mappings, up to the kernel's limit (issue 10, point 9): crt_maps with
# as many mappings as vm.max_map_count leaves room for in the process, but
# not in cr_restart beside its own. The checkpoint works; cr_restart refuses
# with one line naming vm.max_map_count and the value to set. As root the
# limit is then raised for a moment and the same image restarts and passes
# (the limit is put back at once).
. "$(dirname "$0")/../crs_lib.sh"
crs_setup maps_limit
crs_need_tools cr_run cr_checkpoint cr_restart
LIMIT=$(cat /proc/sys/vm/max_map_count 2>/dev/null)
[ -n "$LIMIT" ] || crs_skip "cannot read /proc/sys/vm/max_map_count"
# crt_maps makes N anonymous and N/10 file mappings; the program and its
# libraries take some 60 more
N=$(((LIMIT - 100) * 10 / 11))
export CRT_MAPS=$N
crs_good_image maps_limit "$CRS_BIN/crt_maps"
crs_note "$N anonymous and $((N / 10)) file mappings; vm.max_map_count is $LIMIT"
crs_tool "$WORK/r1" cr_restart "$GOOD"
crs_expect_refusal "cr_restart past vm.max_map_count" "$WORK/r1.err" $? vm.max_map_count
if [ "$(id -u)" = 0 ] && echo $((LIMIT + 4096)) >/proc/sys/vm/max_map_count 2>/dev/null; then
    crs_at_exit "echo $LIMIT >/proc/sys/vm/max_map_count"
    rm -f ready.*
    st=$(crs_run "$WORK/r2" "$CRS_TOOLS/cr_restart" "$GOOD")
    echo "$LIMIT" >/proc/sys/vm/max_map_count
    crs_expect_run "cr_restart with vm.max_map_count raised to $((LIMIT + 4096))" \
        "$WORK/ref.after1" "$WORK/r2" "$st"
else
    crs_note "not root, or vm.max_map_count cannot be raised: the restart with a higher limit is not tried"
fi
crs_summary maps_limit
