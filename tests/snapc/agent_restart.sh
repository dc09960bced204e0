#!/bin/bash
# The rank agent after a restart: when capture returns 1 (a restarted process) the agent drops
# the old connection, reads the coordinator variables handed to the restored process
# (snapc_agent_set_restart_env), says HELLO to the new coordinator as a restarted rank, and
# resumes the layer with SNAPC_RESUME_RESTARTED; the new coordinator can then checkpoint the
# ranks. Here the "restart" is simulated in place by the fake rank (--restart-env).
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-agent-restart

# the new job's coordinator (its launcher just waits; the ranks come from elsewhere)
( clean_exec REVIVE_VERBOSE=3 "$COORD" --flavor fake -- sleep 60 ) >"$W/new.out" 2>"$W/new.err" &
NEW=$!; jobs_started="$jobs_started $NEW"
# (its child that launcher_of finds is the "launcher" once it has exec'd sleep with the
# coordinator's variables; the other, revive-witness, tells signals sent to the process group:
# src/snapc/coord_witness.c)
wait_for 60 '[ "$(cat /proc/$(launcher_of $NEW)/comm 2>/dev/null)" = sleep ]' || fail "the new coordinator did not start"
tr '\0' '\n' </proc/$(launcher_of $NEW)/environ | grep '^REVIVE_\(COORD\|JOB_SECRET\|JOB_ID\)=' >"$W/env"
[ "$(wc -l <"$W/env")" = 3 ] || fail "no coordinator variables: $(cat "$W/env")"
chmod 600 "$W/env"

REVIVE_CAPTURE_TIMEOUT=8 start_job a 3 --iters $UNTIL_KILLED --sleep-us 300 --restart-env "$W/env"
expect_rc 1 "the old coordinator's checkpoint" "$CKPT" $JOB && err_has "did not write its image within 8 s"
wait_for 60 '[ "$(grep -c "resumed as a restarted rank" "$W/a.err")" = 3 ]'
n=$(grep -c "resumed as a restarted rank" "$W/a.err")
[ "$n" = 3 ] || { fail "$n of 3 ranks resumed as restarted"; cat "$W/a.err"; }
wait_for 60 '[ "$(grep -c "connected after a restart" "$W/new.err")" = 3 ]'
n=$(grep -c "connected after a restart" "$W/new.err")
[ "$n" = 3 ] || { fail "$n of 3 ranks said HELLO to the new coordinator as restarted"; cat "$W/new.err"; }
expect_rc 0 "the new coordinator checkpoints the ranks" "$CKPT" $NEW && consistent "$(tail -n1 "$W/cmd.out")" 3
expect_rc 0 "and again" "$CKPT" $NEW && consistent "$(tail -n1 "$W/cmd.out")" 3
kill -TERM $JOB $NEW; wait $JOB; wait $NEW
pass "the agent goes over to the new coordinator after a restart"
finish
