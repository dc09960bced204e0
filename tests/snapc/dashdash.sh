#!/bin/bash
# "--" ends the options of every command (getopt's convention), so scripts can write
# `ckpt-mpirun -- "$pid"`: ckpt-mpirun, ckpt-info and cr_info refused it as an unknown option
# (issue 7). A job of fake ranks is checkpointed with `ckpt-mpirun --term -- PID`; its reference
# goes to `ckpt-info -- REF`, `restart-mpi --showme -- REF` and a rank image to `cr_info -- FILE`;
# cr_checkpoint, cr_restart and cr_run (getopt_long, or their own "--") are checked to say what
# they say without it; an option after "--" is taken as the operand.
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-dashdash

start_job a 2 --iters $UNTIL_KILLED --sleep-us 500
expect_rc 0 "ckpt-mpirun --term -- PID" "$CKPT" --term -- $JOB && ref=$(tail -n1 "$W/cmd.out")
wait $JOB
[ -d "${ref:-/nonexistent}" ] || fail "ckpt-mpirun -- PID gave no reference: '${ref:-}'"
expect_rc 0 "ckpt-info -- REF" "$INFO" -- "$ref" && grep -q committed "$W/cmd.out" ||
    fail "ckpt-info -- REF: $(head -c 300 "$W/cmd.out")"
expect_rc 0 "ckpt-info --verify -- REF" "$INFO" --verify -- "$ref"
expect_rc 0 "restart-mpi --showme -- REF" "$RESTART" --showme -- "$ref" &&
    grep -q "revive-restart-rank $ref\$" "$W/cmd.out" || fail "restart-mpi --showme -- REF: $(cat "$W/cmd.out")"
expect_rc 0 "cr_info -- FILE" "$B/tools/cr_info" -- "$ref/rank_0.img"
pass "ckpt-mpirun, ckpt-info, restart-mpi and cr_info with -- before the operand"

# after "--", what looks like an option is the operand
expect_rc 2 "ckpt-mpirun -- -5" "$CKPT" -- -5 && err_has "'-5' is not a process id"
expect_rc 3 "ckpt-info -- --verify" "$INFO" -- --verify && err_has "--verify does not exist"
expect_rc 1 "cr_info -- --json" "$B/tools/cr_info" -- --json && err_has "image --json: cannot open"
expect_rc 2 "ckpt-mpirun -- 1 2" "$CKPT" -- 1 2 && err_has "one PID only"
pass "an option after -- is the operand"

# the BLCR commands: the same convention
expect_rc 2 "cr_checkpoint -- 12ab" "$B/tools/cr_checkpoint" -- 12ab && err_has "'12ab' is not a process id"
expect_rc 1 "cr_restart -- FILE" "$B/tools/cr_restart" -- "$W/none" && err_has "image $W/none: cannot open"
expect_rc 0 "cr_run -- true" "$B/tools/cr_run" -- true
pass "cr_checkpoint, cr_restart and cr_run with --"
finish
