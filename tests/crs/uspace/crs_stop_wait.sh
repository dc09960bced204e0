#!/bin/bash
# cr_checkpoint --stop returns with the process stopped (state T), as BLCR's did: the SIGSTOP
# alone did not promise it, and on a busy machine the target had not run since the signal
# (crs_procattr's "stop" part failed in CI at load 19: "the process state after --stop is 'R'").
# The target runs at nice 19 on one CPU beside a busy loop of normal priority, so it gets a
# core rarely; each of 5 checkpoints (4 of the process, 1 with --tree) must leave it stopped.
# Old code (93389d4): 3 of 5 not stopped on return in a trial run; SCHED_IDLE 5 of 5.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_stop_wait
crs_need_tools cr_run cr_checkpoint
command -v taskset >/dev/null || crs_skip "taskset is not installed (util-linux)"
(crs_clean_exec taskset -c 0 bash -c 'while :; do :; done') &
hog=$!
crs_at_exit "kill -KILL $hog"
(crs_clean_exec taskset -c 0 nice -n 19 "$CRS_TOOLS/cr_run" sleep 1000 </dev/null >/dev/null 2>&1) &
PID=$!
crs_at_exit "kill -KILL $PID"
# until it sleeps in sleep(1) with Revive's library loaded: at nice 19 beside the hog, under the
# suite's load its start took more than the fixed 1 s this waited before (session 51, helpers'
# builds at load 12: trials 1 and 2 "does not run under Revive")
for i in $(seq 600); do
    [ "$(cat "/proc/$PID/comm" 2>/dev/null)" = sleep ] && grep -q libcr "/proc/$PID/maps" 2>/dev/null &&
        [ "$(sed 's/.*) \(.\).*/\1/' "/proc/$PID/stat" 2>/dev/null)" = S ] && break
    sleep 0.1
done
stopped=0
for i in 1 2 3 4 5; do
    scope=
    [ $i = 5 ] && scope=--tree
    if ! crs_tool "$WORK/ck" cr_checkpoint --stop $scope -f "$WORK/img.$i" "$PID"; then
        crs_fail "cr_checkpoint --stop${scope:+ $scope} (trial $i): $(head -n 1 "$WORK/ck.err")"
        kill -CONT "$PID"
        continue
    fi
    state=$(sed 's/.*) \(.\).*/\1/' "/proc/$PID/stat" 2>/dev/null)
    [ "$state" = T ] && stopped=$((stopped + 1)) ||
        crs_fail "trial $i: the process state on cr_checkpoint --stop${scope:+ $scope}'s return is '$state', expected T"
    kill -CONT "$PID"
    sleep 0.3
done
[ $stopped = 5 ] && crs_pass "stopped on return in 5 of 5 checkpoints (4 of the process, 1 --tree)"
crs_summary crs_stop_wait
