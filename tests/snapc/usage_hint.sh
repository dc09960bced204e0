#!/bin/bash
# Issue 7 F7: an unknown option to ckpt-mpirun, ckpt-info or restart-mpi is said in one line
# that points at --help (status 2), not followed by the whole usage; and restart-mpi refusing a
# damaged sequence suggests another one only when the job directory holds another committed
# sequence (a job of fake ranks checkpointed twice; sequence 1's image damaged, with and
# without sequence 0 beside it).
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-usage
export REVIVE_RESTART_RANK=$FRANK REVIVE_COORD_BIN=$COORD

one_line() { [ "$(grep -c . "$W/cmd.err")" = 1 ] || fail "$1: more than one line: $(cat "$W/cmd.err")"; }
expect_rc 2 "ckpt-mpirun --bogus" "$CKPT" --bogus 1 &&
    err_has "ckpt-mpirun: unknown option --bogus; see ckpt-mpirun --help" && one_line ckpt-mpirun
expect_rc 2 "ckpt-info --bogus" "$INFO" --bogus "$W" &&
    err_has "ckpt-info: unknown option --bogus; see ckpt-info --help" && one_line ckpt-info
expect_rc 2 "restart-mpi --bogus" "$RESTART" --bogus "$W" &&
    err_has "restart-mpi: unknown option --bogus (launcher options go after --); see restart-mpi --help" &&
    one_line restart-mpi
pass "an unknown option: one line, see --help, status 2"

start_job a 2 --iters $UNTIL_KILLED --sleep-us 500
expect_rc 0 "the first checkpoint" "$CKPT" --wait $JOB
expect_rc 0 "the second checkpoint (--term)" "$CKPT" --term $JOB && ref=$(tail -n1 "$W/cmd.out")
wait $JOB
jd=${ref%/*}
[ "${ref##*/}" = 1 ] && [ -f "$jd/0/snapshot.meta" ] || fail "two committed sequences expected: $(ls "$jd")"
printf X | dd of="$ref/rank_1.img" bs=1 seek=200 conv=notrunc status=none
expect_rc 1 "a damaged sequence beside a good one" "$RESTART" "$ref" &&
    err_has "is damaged" && err_has "use another sequence (ckpt-info --verify $jd)"
rm -rf "$jd/0"
expect_rc 1 "a damaged sequence alone" "$RESTART" "$ref" &&
    err_has "is damaged" && err_has "$jd holds no other committed sequence to restart from"
grep -q "another sequence" "$W/cmd.err" && fail "another sequence suggested where there is none: $(cat "$W/cmd.err")"
pass "restart-mpi suggests another sequence only when there is one"
wait_no_strays
finish
