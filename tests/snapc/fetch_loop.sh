#!/bin/bash
# The coordinator's fetch of an image its host lacks (src/snapc/coord_fetch.c) does not stop its
# only loop when the fetch's pipe cannot be read (diffrev33 R-L9: a blocking waitpid then waited
# for the fetch to end, up to REVIVE_FETCH_TIMEOUT, answering no tool and passing on no signal).
# A job of 4 fake ranks, rank 1 on another host name (its own UTS namespace: root only), the
# staging held (filem-stage-hold) and the launcher stopped (SIGSTOP: it does not end the other
# ranks). Rank 1's cached image is removed, then rank 1 is killed: nobody can stage it and this
# host's cache lacks it, so the coordinator fetches it from rank 1's host. The fetch holds
# (snapc-fetch-hold) and its pipe reads as broken (snapc-fetch-pipe-error): the coordinator says
# so, ends the fetch, and fails the sequence naming the lost answer; meanwhile a ckpt-mpirun is
# answered (bounded at 30 s). Before: no answer (the loop waited in waitpid for the held fetch).
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-fetch-loop
[ "$(id -u)" = 0 ] && unshare -u true 2>/dev/null ||
    { echo "SKIP: a rank on another host name needs root and unshare -u"; exit 77; }

rank_named 1 revive-elsewhere
cleanup='touch "$W/fetch.hold" "$W/stage.hold"'
held_job a 4 REVIVE_FAULT=filem-stage-hold,snapc-fetch-hold,snapc-fetch-pipe-error \
    REVIVE_STAGE_HOLD="$W/stage.hold" REVIVE_FETCH_HOLD="$W/fetch.hold" REVIVE_FETCH_TIMEOUT=60
cached=$TMPDIR/revive-local-$(id -u)/$(basename "$jd")/0/rank_1.img
expect_rc 0 "a snapshot (--no-wait-stage, its staging held)" "$CKPT" --no-wait-stage $JOB || finish
wait_for 30 '[ -f "$cached" ]' || { fail "rank 1's image is not in the cache: $cached"; finish; }

rank_pid 1 || { fail "no launcher ($LAUNCHER) or rank 1"; finish; }
launcher=$LAUNCHER victim=$RANK_PID
[ "$(nsenter -t $victim -u hostname)" = revive-elsewhere ] || fail "rank 1 does not run under the host name revive-elsewhere"
rm -f "$cached"
kill -STOP $launcher
kill -KILL $victim

wait_for 60 'grep -q "fetching rank 1.s image from the other hosts. caches" "$W/a.err"' ||
    { fail "the coordinator did not fetch rank 1's image"; tail -20 "$W/a.err"; finish; }
wait_for 30 'grep -q "the answer of the fetch from other hosts. caches cannot be read" "$W/a.err"' ||
    fail "the coordinator did not say the fetch's answer is lost: $(grep -i fetch "$W/a.err" | tail -5)"
[ -e "$W/fetch.hold" ] && fail "the hold ended early"
# a tool's request is answered while the fetch holds
t0=$(date +%s%N)
timeout -k 5 30 "$CKPT" $JOB >"$W/st.out" 2>"$W/st.err"; st=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ $st != 124 ] && [ $st != 137 ] && { [ -s "$W/st.err" ] || [ -s "$W/st.out" ]; } ||
    { fail "ckpt-mpirun while the fetch holds: status $st after $ms ms (124: no answer in 30 s)"; cat "$W/st.err"; }
echo "    ckpt-mpirun answered in $ms ms, status $st: $(head -1 "$W/st.err")"
pass "the fetch's pipe unreadable while it holds: the coordinator says so and answers ckpt-mpirun"

# the sequence fails, naming the lost answer; the fetch was ended (not left to its hold)
wait_for 30 'grep -q "checkpoint 0 is not committed" "$W/a.err"' ||
    fail "sequence 0 did not fail: $(tail -5 "$W/a.err")"
grep "checkpoint 0 is not committed" "$W/a.err" | grep -q "its answer could not be read" ||
    fail "the failure does not name the lost answer: $(grep "checkpoint 0 is not committed" "$W/a.err")"
[ -f "$jd/0/snapshot.meta" ] && fail "sequence 0 committed"
fpid=$(sed -n "s/.*fetching rank 1's image from the other hosts' caches (process \([0-9]*\)).*/\1/p" "$W/a.err" | head -1)
[ -n "$fpid" ] || fail "the fetch's process is not named"
[ -n "$fpid" ] && wait_for 10 '! kill -0 $fpid 2>/dev/null' || fail "the fetch (process $fpid) still runs or was not reaped: $(ps -o pid,stat,args -p $fpid | tail -1)"
pass "the sequence fails naming the fetch's lost answer; the fetch is ended, not waited for"

touch "$W/fetch.hold" "$W/stage.hold"
end_held_job
finish
