#!/bin/bash
# The signal witness (src/snapc/coord_witness.c) after the job's process group was stopped and
# continued: a SIGINT sent to the group reaches the launcher once, before and after
# kill -STOP/-CONT -- -PGID (a shell's ^Z and fg). The witness's "continued" report from
# waitpid(WCONTINUED) was taken for its end: from then on the witness was gone and a group
# SIGINT reached the launcher twice (itself, and passed on by the coordinator). A SIGINT sent
# to the coordinator alone still reaches the launcher once.
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
( clean_exec setsid "$COORD" --flavor fake -- python3 "$W/launcher.py" "$W/ints" ) >"$W/job.out" 2>"$W/job.err" &
JOB=$!; jobs_started="$jobs_started $JOB"
wait_for 60 '[ -e "$W/ints.up" ] && [ "$(cat /proc/$JOB/comm 2>/dev/null)" = revive-coord ]' ||
    { fail "the job did not start"; cat "$W/job.err"; finish; }
witness() { local p; for p in $(pgrep -P $JOB); do [ "$(cat /proc/$p/comm 2>/dev/null)" = revive-witness ] && echo $p; done; }
wait_for 30 '[ -n "$(witness)" ]' || fail "no revive-witness under the coordinator"
nints() { awk 'END { print NR }' "$W/ints" 2>/dev/null || echo 0; }
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

kill -STOP -- -$JOB
wait_for 30 '[ "$(awk "{print \$3}" /proc/$JOB/stat)" = T ]' || fail "the coordinator did not stop"
kill -CONT -- -$JOB
sleep 1
w=$(witness)
[ -n "$w" ] || fail "the witness is gone after the process group was stopped and continued"
send_int -$JOB 2 "SIGINT to the process group after STOP/CONT"
pass "after the process group was stopped and continued: the witness still runs, a group SIGINT reaches the launcher once"

send_int $JOB 3 "SIGINT to the coordinator alone"
pass "a SIGINT to the coordinator alone is passed on to the launcher once"

kill -TERM $JOB
job_gone $JOB 30 || fail "the coordinator did not end after SIGTERM"
wait $JOB 2>/dev/null
[ -z "$w" ] || ! kill -0 $w 2>/dev/null || fail "the witness $w outlived the coordinator"
pass "the job ends on SIGTERM, and its witness with it"
finish
