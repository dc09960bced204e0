#!/bin/bash
# Many mappings, up to the kernel's limit (issue 10, point 9): crt_maps with
# as many mappings as vm.max_map_count leaves room for in the process, but
# not in cr_restart beside its own. cr_checkpoint --kill refuses before
# ending the process, and so does cr_checkpoint --tree --kill (diffrev20
# MEDIUM-A: before, the tree was killed and its file kept), leaving an
# earlier image at the path as it was; --tree without --kill writes it with
# a warning; --cont writes the image with a warning; cr_restart
# refuses with one line naming vm.max_map_count and the value to set. As root the
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
# The image could not be restarted here: cr_checkpoint --kill refuses before ending the process,
# naming the limit (before, the process was killed and its image only failed at restart), and
# --cont writes it with a warning.
r=$WORK/ref
crs_uninterrupted "$r" ref "$CRS_BIN/crt_maps" >/dev/null
crs_after_point 1 "$r/ref.out" >"$WORK/ref.after1"
d=$WORK/prog
crs_start "$d" orig "$CRS_TOOLS/cr_run" "$CRS_BIN/crt_maps" || {
    crs_fail "setup: crt_maps under cr_run never got ready"
    crs_summary maps_limit
}
crs_note "$N anonymous and $((N / 10)) file mappings; vm.max_map_count is $LIMIT"
GOOD=$WORK/good.img
crs_tool "$WORK/ck0" cr_checkpoint --kill -f "$GOOD" "$PID"
crs_expect_refusal "cr_checkpoint --kill past vm.max_map_count" "$WORK/ck0.err" $? vm.max_map_count
sleep 0.2
kill -0 "$PID" 2>/dev/null && crs_pass "the process was not killed" || crs_fail "cr_checkpoint --kill ended the process"
[ -e "$GOOD" ] && crs_fail "the refused checkpoint left $GOOD"
# the same as a tree (of one process): refused, nothing ended, an earlier image at the path kept
TREE=$WORK/tree.img
echo "an earlier image" >"$TREE"
crs_tool "$WORK/ckt" cr_checkpoint --tree --kill -f "$TREE" "$PID"
crs_expect_refusal "cr_checkpoint --tree --kill past vm.max_map_count" "$WORK/ckt.err" $? vm.max_map_count
grep -q "no process of the tree was ended (--kill)" "$WORK/ckt.err" ||
    crs_fail "--tree --kill: the refusal does not say that no process was ended"
sleep 0.2
[ -e "/proc/$PID" ] && [ "$(awk '{print $3}' "/proc/$PID/stat" 2>/dev/null)" != Z ] &&
    crs_pass "--tree --kill: the process was not killed" || {
    crs_fail "cr_checkpoint --tree --kill ended the process"
    crs_summary maps_limit
}
[ "$(cat "$TREE" 2>/dev/null)" = "an earlier image" ] && crs_pass "--tree --kill: the earlier image at $TREE is kept" ||
    crs_fail "--tree --kill: the refused checkpoint replaced the earlier image at $TREE"
crs_tool "$WORK/ckt2" cr_checkpoint --tree -f "$TREE" "$PID" &&
    grep -q "warning: the tree $PID written to .*vm.max_map_count" "$WORK/ckt2.err" &&
    crs_pass "cr_checkpoint --tree warns: $(head -n 1 "$WORK/ckt2.err")" ||
    crs_fail "cr_checkpoint --tree wrote the image without the warning: $(head -n 1 "$WORK/ckt2.err")"
rm -f "$TREE"
crs_tool "$WORK/ck" cr_checkpoint --cont -f "$GOOD" "$PID" || {
    crs_fail "setup: cr_checkpoint --cont: $(head -n 1 "$WORK/ck.err")"
    crs_summary maps_limit
}
grep -q "warning: .*vm.max_map_count" "$WORK/ck.err" && crs_pass "cr_checkpoint --cont warns: $(head -n 1 "$WORK/ck.err")" ||
    crs_fail "cr_checkpoint --cont wrote the image without a warning"
kill -KILL "$PID"
crs_wait_status "$d/orig" 30 >/dev/null
touch "$d/go.1" "$d/go.2"
cd "$d" || exit 99
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
