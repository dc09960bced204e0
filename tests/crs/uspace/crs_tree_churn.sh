#!/bin/bash
# A tree that changes while it is being checkpointed (issue 10, point 1):
# crt_churn starts short-lived children and reaps each at once, in four
# ways (modes): fork alone, fork then exec (a shell running commands),
# posix_spawn, and a bash loop running commands. Its tree is checkpointed
# many times while it churns (cr_checkpoint --tree --cont); the original
# must finish as the uninterrupted run did (every child exited with its own
# status: none died of Revive's park signal), and every image must restart
# into a tree whose parent gets from waitpid the child it waits for, with
# its status, and finishes as the uninterrupted run did.
# What went wrong before: a member list read once, before the members were
# parked, recorded a child already reaped and missed the live one (waitpid:
# ECHILD after the restart); a child parked while inside execve kept the
# park signal pending into the new program, which has no handler for it
# yet and died of it (signal 62: the shell saw status 190, exec mode 'status
# 0x3e'). Counts trials and failures of each step; any failure fails.
# A tree that never settles (fault point tree-unsettled) is refused in one
# line and runs on. CRS_CHURN_TRIALS (12), CRS_CHURN_MODES (all four).
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_tree_churn
crs_need_tools cr_run cr_checkpoint cr_restart cr_info
prog=$CRS_BIN/crt_churn
TRIALS=${CRS_CHURN_TRIALS:-12}
MODES=${CRS_CHURN_MODES:-fork exec spawn sh}
case " $MODES " in *" sh "*) command -v bash >/dev/null || crs_skip "bash is missing (mode sh)" ;; esac

churn() {
    local mode=$1 W=$WORK/$1 r d k n st
    mkdir -p "$W"
    # the uninterrupted run: what follows point 1
    r=$W/ref
    st=$(crs_uninterrupted "$r" out "$prog" "$mode")
    [ "$st" = 42 ] || { crs_fail "$mode: the uninterrupted run: $(crs_status_text "$st")"; return; }
    crs_after_point 1 "$r/out.out" >"$W/ref.after1"

    d=$W/orig
    crs_start "$d" orig "$CRS_TOOLS/cr_run" "$prog" "$mode" || {
        crs_fail "$mode: crt_churn under cr_run never got ready"
        return
    }
    touch "$d/go.1"
    local ck_fail=0 with_child=0
    for k in $(seq "$TRIALS"); do
        if crs_tool "$W/ck$k" cr_checkpoint --tree --cont -f "$W/img$k" "$PID"; then
            crs_tool "$W/info$k" cr_info "$W/img$k"
            n=$(sed -n 's/^members (\([0-9]*\)):$/\1/p' "$W/info$k.out")
            [ "${n:-0}" -ge 2 ] && with_child=$((with_child + 1))
        else
            ck_fail=$((ck_fail + 1))
            crs_note "$mode: checkpoint $k: $(head -n 1 "$W/ck$k.err")"
        fi
    done
    if [ "$mode" = fork ]; then
        # a tree that never settles (fault point tree-unsettled: every look
        # differs): refused in one line after the bounded looks, no file, the
        # members run on
        REVIVE_FAULT=tree-unsettled crs_tool "$W/unsettled" cr_checkpoint --tree -f "$W/unsettled.img" "$PID"
        crs_expect_refusal "a tree that keeps changing" "$W/unsettled.err" $? "kept changing"
        [ -e "$W/unsettled.img" ] && crs_fail "the refused checkpoint left a file"
    fi
    ls -A "$W" | grep -q '\.tmp' && crs_fail "$mode: a temporary file was left: $(ls -A "$W" | grep '\.tmp')"
    touch "$d/go.2"
    if crs_finish "$d" orig && cmp -s "$r/out.out" "$d/orig.out"; then
        crs_pass "$mode: after $TRIALS checkpoints the original finished as the uninterrupted run"
    else
        crs_fail "$mode: the original after the checkpoints: $(crs_status_text "$FINISH_STATUS")"
        diff "$r/out.out" "$d/orig.out" | head -n 10
    fi
    [ "$ck_fail" = 0 ] && crs_pass "$mode: $TRIALS checkpoints of the churning tree, none failed" ||
        crs_fail "$mode: $ck_fail of $TRIALS checkpoints of the churning tree failed"
    # the race is only met when a checkpoint catches a child (living or a zombie)
    [ "$with_child" -ge 1 ] && crs_pass "$mode: $with_child of $TRIALS images hold a child besides the parent" ||
        crs_fail "$mode: no image holds a child: the checkpoints never met the churn"

    local rs_fail=0 rs_done=0
    for k in $(seq "$TRIALS"); do
        [ -f "$W/img$k" ] || continue
        rs_done=$((rs_done + 1))
        st=$(crs_run "$W/rs$k" "$CRS_TOOLS/cr_restart" "$W/img$k")
        if [ "$st" != 42 ] || ! cmp -s "$W/ref.after1" "$W/rs$k.out"; then
            rs_fail=$((rs_fail + 1))
            crs_note "$mode: restart of image $k: $(crs_status_text "$st"): $(grep -m1 FAIL "$W/rs$k.out" || head -n 1 "$W/rs$k.err")"
        fi
    done
    [ "$rs_done" -gt 0 ] && [ "$rs_fail" = 0 ] &&
        crs_pass "$mode: $rs_done restarts, each finished as the uninterrupted run (the child waited for was there)" ||
        crs_fail "$mode: $rs_fail of $rs_done restarts differ from the uninterrupted run"
}

for mode in $MODES; do
    churn "$mode"
done
crs_summary crs_tree_churn
