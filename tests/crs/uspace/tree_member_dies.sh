#!/bin/bash
# A member of a tree killed while the tree is checkpointed (newuser10 F6): cr_checkpoint --tree
# of crt_tree children, held by REVIVE_FAULT=tree-go-late once every member is parked, before the
# second member writes its image; that member is killed (SIGKILL) meanwhile. The checkpoint must
# fail in one line saying the process died during the checkpoint (before: "cannot reach process
# P 'crt_tree': Broken pipe"), exit 1, the image written before under that name intact (cr_info
# --verify) and no temporary file beside it; the program, whose child died, is not harmed by the
# checkpoint (it is let go and runs on).
. "$(dirname "$0")/../crs_lib.sh"
crs_setup tree_member_dies
crs_need_tools cr_run cr_checkpoint cr_info
crs_tree_held_ckpt KILL 120
crs_expect_refusal "a member killed during the checkpoint" "$WORK/ck.msg" "$st" "died during the checkpoint"
grep -q "Broken pipe" "$WORK/ck.msg" && crs_fail "the message still says 'Broken pipe'"
[ "$(cksum <"$WORK/img")" = "$sum0" ] && crs_tool "$WORK/v" cr_info --verify "$WORK/img" &&
    crs_pass "the earlier image is unchanged and verifies" || crs_fail "the earlier image changed or does not verify"
left=$(ls -A "$WORK" | grep '\.tmp\.' || true)
[ -z "$left" ] && crs_pass "no temporary file left" || crs_fail "temporary files left: $left"
kill -0 "$PID" 2>/dev/null && crs_pass "the program runs on" || crs_fail "the program did not run on"
touch "$d/go.1" "$d/go.2"
crs_wait_status "$d/orig" 30 >/dev/null
crs_summary tree_member_dies
