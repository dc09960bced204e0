#!/bin/bash
# The signal witness (src/snapc/coord_witness.c): a signal sent to the job's process group reaches
# the launcher once (itself), one sent to the coordinator alone once (passed on):
#   - a group SIGINT;
#   - a second group SIGINT sent while the coordinator waits after its batch of signals (fault
#     point snapc-signal-gap): the witness was cleared of every pending signal only after the
#     batch, so that SIGINT lost its evidence there and was passed on too (diffrev W1: the
#     launcher got it twice);
#   - a group SIGINT after kill -STOP/-CONT -- -PGID (a shell's ^Z and fg): the witness's
#     "continued" report from waitpid(WCONTINUED) was taken for its end, and from then on a
#     group SIGINT reached the launcher twice (d0e1521, reverted in 3c5d3db, now again);
#   - a SIGINT to the coordinator alone;
# and the witness ends with the coordinator.
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-witness

# the launcher: one line per SIGINT it gets
cat >"$W/launcher.py" <<'PY'
import signal, sys
out = sys.argv[1]
def on_int(sig, frame):
    with open(out, "a") as f:
        f.write("INT\n")
signal.signal(signal.SIGINT, on_int)
open(out + ".up", "w").close()
while True:
    signal.pause()
PY
( clean_exec REVIVE_VERBOSE=3 REVIVE_FAULT=snapc-signal-gap setsid "$COORD" --flavor fake -- \
    python3 "$W/launcher.py" "$W/ints" ) >"$W/job.out" 2>"$W/job.err" &
JOB=$!; jobs_started="$jobs_started $JOB"
wait_for 60 '[ -e "$W/ints.up" ] && [ "$(cat /proc/$JOB/comm 2>/dev/null)" = revive-coord ]' ||
    { fail "the job did not start"; cat "$W/job.err"; finish; }
witness() { local p; for p in $(pgrep -P $JOB); do [ "$(cat /proc/$p/comm 2>/dev/null)" = revive-witness ] && echo $p; done; }
wait_for 30 '[ -n "$(witness)" ]' || fail "no revive-witness under the coordinator"
nints() { awk 'END { print NR }' "$W/ints" 2>/dev/null || echo 0; }
# judged: how many times the coordinator said a SIGINT reached the group too (logged before the
# fault point's wait)
judged() { grep -c 'signal 2 reached the launcher.s process group too' "$W/job.err"; }
# send_int TARGET WANT WHAT: kill -INT TARGET; the launcher has then WANT lines, and no more 2 s on
send_int() {
    local want=$2
    kill -INT -- "$1"
    wait_for 30 '[ "$(nints)" -ge $want ]'
    sleep 2
    [ "$(nints)" = "$want" ] || fail "$3: the launcher got $(( $(nints) - want + 1 )) SIGINTs, expected 1"
}
send_int -$JOB 1 "SIGINT to the process group"
pass "a SIGINT to the process group reaches the launcher once"

# the second while the coordinator waits after judging the first
n0=$(judged)
kill -INT -- -$JOB
wait_for 30 '[ "$(judged)" -gt $n0 ]' || fail "the coordinator did not take the group SIGINT as one"
kill -INT -- -$JOB
wait_for 30 '[ "$(nints)" -ge 3 ]'
sleep 3
[ "$(nints)" = 3 ] && pass "two group SIGINTs, the second while the coordinator waits after the first: each reaches the launcher once" ||
    fail "two group SIGINTs, the second while the coordinator waits after the first: the launcher got $(( $(nints) - 1 )) SIGINTs, expected 2"

kill -STOP -- -$JOB
wait_for 30 '[ "$(awk "{print \$3}" /proc/$JOB/stat)" = T ]' || fail "the coordinator did not stop"
kill -CONT -- -$JOB
sleep 1
w=$(witness)
[ -n "$w" ] || fail "the witness is gone after the process group was stopped and continued"
send_int -$JOB 4 "SIGINT to the process group after STOP/CONT"
pass "after the process group was stopped and continued: the witness still runs, a group SIGINT reaches the launcher once"

send_int $JOB 5 "SIGINT to the coordinator alone"
pass "a SIGINT to the coordinator alone is passed on to the launcher once"

kill -TERM $JOB
job_gone $JOB 30 || fail "the coordinator did not end after SIGTERM"
wait $JOB 2>/dev/null
[ -z "$w" ] || ! kill -0 $w 2>/dev/null || fail "the witness $w outlived the coordinator"
pass "the job ends on SIGTERM, and its witness with it"
finish
