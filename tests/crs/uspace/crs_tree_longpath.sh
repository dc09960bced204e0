#!/bin/bash
# A tree member's failure reaches cr_restart whole up to PIPE_BUF, cut with "..." past it
# (3bc4b39: cr_restart_tree.c's report() is one write into the pipe every member shares, at most
# PIPE_BUF so that two members' lines never mix; before, 1024 bytes, cut without a mark). A
# --tree checkpoint of crt_tree (children) into a directory ~4 KB deep, a member's chunk damaged:
# cr_restart refuses in one line that names the image (whole path), marks the cut, and still
# ends with the advice for a tree (the cut took the image reader's advice away before, so the
# parent had none to replace: no advice at all).
. "$(dirname "$0")/../crs_lib.sh"
crs_own_ipc "$@"
crs_setup crs_tree_longpath
crs_need_tools cr_run cr_checkpoint cr_restart cr_info
# the image's path: ~4050 bytes (PATH_MAX 4096), in components of 250
deep=$WORK
while [ $(( ${#deep} + 251 )) -lt 4040 ]; do deep=$deep/$(printf "t%.0s" $(seq 250)); done
deep=$deep/$(printf "u%.0s" $(seq $(( 4040 - ${#deep} - 1 ))))
mkdir -p "$deep" || { crs_fail "cannot make $deep"; crs_summary crs_tree_longpath; }
img=$deep/ck.img
d=$WORK/run
CRT_TREE=children crs_start_or_end "the program never got ready" "$d" "$CRS_TOOLS/cr_run" "$CRS_BIN/crt_tree"
crs_tool "$WORK/ck" cr_checkpoint --tree --kill -f "$img" "$PID" ||
    crs_fail "cr_checkpoint --tree --kill to a ${#img}-byte path: $(head -c 300 "$WORK/ck.err")"
crs_wait_status "$d/orig" 30 >/dev/null
# a member's chunk damaged (bytes between member images are under no checksum: the flip must land
# where cr_info --verify sees it)
sz=$(stat -c %s "$img")
flip=
for at in $((sz / 2)) $((sz / 3)) $((sz * 2 / 3)) $((sz / 5)) $((sz * 4 / 5)); do
    "$REVIVE_BUILDDIR/tests/crs/base/crt_imgtool" flipcopy "$img" "$deep/bad.img" "$at"
    "$CRS_TOOLS/cr_info" --verify "$deep/bad.img" >/dev/null 2>&1 || { flip=$at; break; }
done
if [ -z "$flip" ]; then
    crs_fail "no flipped offset of the tree's file made cr_info --verify fail"
else
    crs_tool "$WORK/bad" cr_restart "$deep/bad.img"
    st=$? ok=1
    crs_expect_refusal "cr_restart of a damaged tree at a ${#img}-byte path" "$WORK/bad.err" $st \
        "; restart an earlier checkpoint of the process tree instead (cr_info --verify FILE checks one first)" || ok=0
    line=$(head -n 1 "$WORK/bad.err")
    # the member's report: "cr_restart: " + at most PIPE_BUF (4096) bytes, its cut marked, then
    # the advice
    [[ $line == "cr_restart: $deep/bad.img"* ]] || { ok=0; crs_fail "the image's path is not whole: ${line:0:300}..."; }
    [[ $line == *"...; restart an earlier checkpoint of the process tree instead"* ]] ||
        { ok=0; crs_fail "the member's report is not cut with \"...\" before the advice (${#line} bytes): ...${line: -300}"; }
    rep=${line#cr_restart: }
    rep=${rep%%; restart an earlier checkpoint of the process tree instead*}
    [ ${#rep} -le 4096 ] && [ ${#rep} -gt 4000 ] ||
        { ok=0; crs_fail "the member's report is ${#rep} bytes, not PIPE_BUF (4096) at most and more than 4000"; }
    [ -e "/proc/$PID" ] && grep -q crt_tree "/proc/$PID/cmdline" 2>/dev/null &&
        { ok=0; crs_fail "the failed restart left process $PID running"; }
    [ $ok = 1 ] && crs_pass "a damaged member at a ${#img}-byte path: its report cut at PIPE_BUF with \"...\", the advice kept"
fi
crs_summary crs_tree_longpath
