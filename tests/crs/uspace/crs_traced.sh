#!/bin/bash
# A process under strace stops in state t ("tracing stop") for a moment at each system call and
# runs on: cr_checkpoint took one such moment for "stopped" and refused ("process N is stopped
# (state t)": crs_writeback.sh failed so in the CI of e2f6e5a). Part "transient": 12 checkpoints
# of a process making system calls without pause (dd bs=1) under strace must all be taken. Part
# "held": when the tracer itself is stopped (a debugger at a breakpoint holds its tracee the same
# way), cr_checkpoint must give up within a few seconds naming the tracer, keep the earlier image,
# and work again once the tracer runs. Old code (e2f6e5a), 3 runs: transient 3, 5 and 4 of 12 taken,
# held not naming the tracer, again refused. The held part hung (no answer in 15 s) in 7 of 8 runs
# with a first checkpoint before it until the threads' states were read (the checkpoint thread alone in t).
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_traced
crs_need_tools cr_run cr_checkpoint
command -v strace >/dev/null 2>&1 || crs_skip "strace is not installed: the test traces its process with it"
# Each in a session of its own: a stopped process in the test's process group gets SIGHUP from the
# kernel when that group becomes orphaned (POSIX job control): strace and dd died of it in the CI
# of e07fb86, and the held part saw a checkpoint succeed.
(crs_clean_exec setsid "$CRS_TOOLS/cr_run" dd if=/dev/zero of=/dev/null bs=1 </dev/null >/dev/null 2>&1) &
PID=$!
crs_at_exit "kill -KILL $PID"
crs_nap 0.5
(crs_clean_exec setsid strace -f -qq -e trace=sync_file_range -o /dev/null -p "$PID" </dev/null 2>"$WORK/strace.err") &
ST=$!
crs_at_exit "kill -CONT $ST; kill -TERM $ST"
for _ in $(seq 250); do
    [ "$(sed -n 's/^TracerPid:\s*//p' "/proc/$PID/status" 2>/dev/null)" = 0 ] || break
    crs_nap 0.02
done
tracer=$(sed -n 's/^TracerPid:\s*//p' "/proc/$PID/status" 2>/dev/null)
[ -n "$tracer" ] && [ "$tracer" != 0 ] ||
    crs_skip "strace could not attach to its process: $(head -n 1 "$WORK/strace.err")"

ok=0 bad=
for i in $(seq 12); do
    scope=
    [ "$i" = 12 ] && scope=--tree
    if crs_tool "$WORK/ck" cr_checkpoint $scope -f "$WORK/img" "$PID"; then
        ok=$((ok + 1))
    elif [ -z "$bad" ]; then
        bad="; the first refused (trial $i${scope:+ $scope}): $(head -n 1 "$WORK/ck.err")"
    fi
done
[ "$ok" = 12 ] && crs_pass "transient: 12 of 12 checkpoints of a process under strace taken (the last with --tree)" ||
    crs_fail "transient: only $ok of 12 checkpoints of a process under strace taken${bad}"

sum_before=$(md5sum <"$WORK/img" 2>/dev/null)
kill -STOP "$ST"
# the tracee's threads stop at their next system call and stay in state t (the main thread may
# instead wait for the checkpoint thread, in S, when that one stops first)
for _ in $(seq 250); do
    cat /proc/"$PID"/task/*/stat 2>/dev/null | grep -q ') t ' && break
    crs_nap 0.02
done
t0=$(date +%s%N)
if crs_tool "$WORK/ck" cr_checkpoint -f "$WORK/img" "$PID"; then
    crs_fail "held: cr_checkpoint of a process its stopped tracer holds reported success"
else
    ms=$((($(date +%s%N) - t0) / 1000000))
    if ! grep -q "under its tracer (process $tracer)" "$WORK/ck.err"; then
        crs_fail "held: the refusal does not name the tracer $tracer: $(head -n 1 "$WORK/ck.err")"
    elif [ "$ms" -gt 10000 ]; then
        crs_fail "held: the refusal took $ms ms (at most 10 s expected)"
    elif [ "$(md5sum <"$WORK/img" 2>/dev/null)" != "$sum_before" ]; then
        crs_fail "held: the earlier image changed"
    else
        crs_pass "held: refused in $ms ms naming the tracer, the earlier image kept"
    fi
fi
kill -CONT "$ST"
# a traced process stopped by a signal shows state t as well: the refusal must say kill -CONT
kill -STOP "$PID"
for _ in $(seq 250); do
    [ "$(sed 's/.*) \(.\).*/\1/' "/proc/$PID/stat" 2>/dev/null)" = t ] && break
    crs_nap 0.02
done
if crs_tool "$WORK/ck" cr_checkpoint -f "$WORK/img" "$PID"; then
    crs_fail "signal: cr_checkpoint of a traced process stopped by SIGSTOP reported success"
elif ! grep -q "kill -CONT $PID" "$WORK/ck.err"; then
    crs_fail "signal: the refusal does not say kill -CONT $PID: $(head -n 1 "$WORK/ck.err")"
else
    crs_pass "signal: a traced process stopped by SIGSTOP refused, saying kill -CONT"
fi
kill -CONT "$PID"
if crs_tool "$WORK/ck" cr_checkpoint -f "$WORK/img" "$PID"; then
    crs_pass "again: checkpoint taken once the tracer runs again"
else
    crs_fail "again: $(head -n 1 "$WORK/ck.err")"
fi
crs_summary crs_traced
