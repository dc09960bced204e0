#!/bin/bash
# A tree that changes while it is being checkpointed (issue 10, point 1):
# crt_churn forks short-lived children and reaps each at once. Its tree is
# checkpointed many times while it churns (cr_checkpoint --tree --cont);
# every image must restart into a tree whose parent gets from waitpid the
# child it waits for, with its status, and finishes as the uninterrupted
# run did. A member list read once, before the members were parked, recorded
# a child already reaped and missed the live one (waitpid: ECHILD after the
# restart). Counts trials and failures of each step; any failure fails.
# A tree that never settles (fault point tree-unsettled) is refused in one
# line and runs on.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_tree_churn
crs_need_tools cr_run cr_checkpoint cr_restart cr_info
prog=$CRS_BIN/crt_churn
TRIALS=${CRS_CHURN_TRIALS:-12}

# the uninterrupted run: what follows point 1
r=$WORK/ref
st=$(crs_uninterrupted "$r" out "$prog")
[ "$st" = 42 ] || { crs_fail "the uninterrupted run: $(crs_status_text "$st")"; crs_summary crs_tree_churn; }
crs_after_point 1 "$r/out.out" >"$WORK/ref.after1"

d=$WORK/orig
crs_start "$d" orig "$CRS_TOOLS/cr_run" "$prog" || {
    crs_fail "crt_churn under cr_run never got ready"
    crs_summary crs_tree_churn
}
touch "$d/go.1"
ck_fail=0 with_child=0
for k in $(seq "$TRIALS"); do
    if crs_tool "$WORK/ck$k" cr_checkpoint --tree --cont -f "$WORK/img$k" "$PID"; then
        crs_tool "$WORK/info$k" cr_info "$WORK/img$k"
        n=$(sed -n 's/^members (\([0-9]*\)):$/\1/p' "$WORK/info$k.out")
        [ "${n:-0}" -ge 2 ] && with_child=$((with_child + 1))
    else
        ck_fail=$((ck_fail + 1))
        crs_note "checkpoint $k: $(head -n 1 "$WORK/ck$k.err")"
    fi
done
# a tree that never settles (fault point tree-unsettled: every look differs):
# refused in one line after the bounded looks, no file, the members run on
REVIVE_FAULT=tree-unsettled crs_tool "$WORK/unsettled" cr_checkpoint --tree -f "$WORK/unsettled.img" "$PID"
crs_expect_refusal "a tree that keeps changing" "$WORK/unsettled.err" $? "kept changing"
[ -e "$WORK/unsettled.img" ] && crs_fail "the refused checkpoint left a file"
ls -A "$WORK" | grep -q '\.tmp' && crs_fail "a temporary file was left: $(ls -A "$WORK" | grep '\.tmp')"
touch "$d/go.2"
if crs_finish "$d" orig && cmp -s "$r/out.out" "$d/orig.out"; then
    crs_pass "after $TRIALS checkpoints the original finished as the uninterrupted run"
else
    crs_fail "the original after the checkpoints: $(crs_status_text "$FINISH_STATUS")"
    diff "$r/out.out" "$d/orig.out" | head -n 10
fi
[ "$ck_fail" = 0 ] && crs_pass "$TRIALS checkpoints of the churning tree, none failed" ||
    crs_fail "$ck_fail of $TRIALS checkpoints of the churning tree failed"
# the race is only met when a checkpoint catches a child (living or a zombie)
[ "$with_child" -ge 1 ] && crs_pass "$with_child of $TRIALS images hold a child besides the parent" ||
    crs_fail "no image holds a child: the checkpoints never met the churn"

rs_fail=0 rs_done=0
for k in $(seq "$TRIALS"); do
    [ -f "$WORK/img$k" ] || continue
    rs_done=$((rs_done + 1))
    st=$(crs_run "$WORK/rs$k" "$CRS_TOOLS/cr_restart" "$WORK/img$k")
    if [ "$st" != 42 ] || ! cmp -s "$WORK/ref.after1" "$WORK/rs$k.out"; then
        rs_fail=$((rs_fail + 1))
        crs_note "restart of image $k: $(crs_status_text "$st"): $(grep -m1 FAIL "$WORK/rs$k.out" || head -n 1 "$WORK/rs$k.err")"
    fi
done
[ "$rs_done" -gt 0 ] && [ "$rs_fail" = 0 ] &&
    crs_pass "$rs_done restarts, each finished as the uninterrupted run (the child waited for was there)" ||
    crs_fail "$rs_fail of $rs_done restarts differ from the uninterrupted run"
crs_summary crs_tree_churn
