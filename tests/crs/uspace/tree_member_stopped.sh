#!/bin/bash
# A member of a tree stopped (SIGSTOP) once told to write its image (session 49: rst_popen-mpich in
# the CI of d59c58cd, a rank's capture held 15 minutes after its first child's image, no word):
# cr_checkpoint --tree --time 5 of crt_tree children, held by REVIVE_FAULT=tree-go-late once every
# member is parked, before the second member writes its image; that member is stopped meanwhile.
# Before, the requester waited for its image as long as it lived, whatever --time said (for ever).
# Now the checkpoint fails once the member wrote nothing for the park's bound (--time), in one line
# naming the process, that it is stopped and what to do; exit 1, the earlier image under that name
# intact and no temporary file; the program runs on once the member is continued.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup tree_member_stopped
crs_need_tools cr_run cr_checkpoint cr_info
crs_tree_held_ckpt STOP 60 --time 5
[ -n "$victim" ] && kill -CONT "$victim"
if [ "$st" = 124 ] || [ "$st" = 137 ]; then
    crs_fail "cr_checkpoint --time 5 still waited for the stopped member after $took s (killed by the test's limit)"
else
    crs_expect_refusal "a member stopped during the checkpoint" "$WORK/ck.msg" "$st" "is stopped (state T)"
    grep -q "kill -CONT $victim" "$WORK/ck.msg" && crs_pass "the message names the member ($victim) and what to do" ||
        crs_fail "the message does not say kill -CONT $victim: $(head -n 1 "$WORK/ck.msg")"
    [ $took -le 30 ] && crs_pass "it ended in $took s" || crs_fail "it ended only after $took s"
fi
[ "$(cksum <"$WORK/img")" = "$sum0" ] && crs_tool "$WORK/v" cr_info --verify "$WORK/img" &&
    crs_pass "the earlier image is unchanged and verifies" || crs_fail "the earlier image changed or does not verify"
left=$(ls -A "$WORK" | grep '\.tmp\.' || true)
[ -z "$left" ] && crs_pass "no temporary file left" || crs_fail "temporary files left: $left"
touch "$d/go.1" "$d/go.2"
s=$(crs_wait_status "$d/orig" 30)
[ "$s" = 42 ] && crs_pass "the program ran on to its end" || crs_fail "the program after the checkpoint: $(crs_status_text "$s")"
crs_summary tree_member_stopped
