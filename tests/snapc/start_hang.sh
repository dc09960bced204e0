#!/bin/bash
# A ^C (SIGINT to the job's process group) during a job's start that the launcher takes but does
# not act on, the ranks never coming up: Hydra's mpiexec took a ^C at 0.2 s ("Sending Ctrl-C to
# processes as requested"), its proxy never passed it on, and the ranks waited in MPI_Init for
# ever (newuser7b M3's trials: 2 of ~80 MPICH starts hung 50 minutes; natively too). Here a fake
# launcher that ignores SIGINT and leaves a child in a session of its own (as hydra_pmi_proxy and
# the ranks are). The coordinator must end it: SIGTERM to the launcher REVIVE_TERM_GRACE s (2
# here) after the signal, SIGKILL as long later, what it leaves killed; status 130 (128 +
# SIGINT), nothing left. Before: the job ran until the launcher's own end (60 s).
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-start-hang
cat >"$W/launcher.py" <<'PY'
import os, signal, subprocess, sys, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
child = subprocess.Popen(["sleep", "60"], start_new_session=True)
open(sys.argv[1] + ".child", "w").write(str(child.pid))
time.sleep(60)
PY
( clean_exec REVIVE_VERBOSE=3 REVIVE_TERM_GRACE=2 setsid "$COORD" --flavor fake -- \
    python3 "$W/launcher.py" "$W/l" ) >"$W/job.out" 2>"$W/job.err" &
JOB=$!; jobs_started="$jobs_started $JOB"
wait_for 60 '[ -s "$W/l.child" ] && [ "$(cat /proc/$JOB/comm 2>/dev/null)" = revive-coord ]' ||
    { fail "the job did not start"; cat "$W/job.err"; finish; }
child=$(cat "$W/l.child")
t0=$(date +%s)
kill -INT -- -$JOB
wait_for 40 '! kill -0 $JOB 2>/dev/null || [ "$(sed "s/.*) \(.\).*/\1/" /proc/$JOB/stat 2>/dev/null)" = Z ]' ||
    { fail "the job did not end within 40 s of the ^C"; cat "$W/job.err"; kill -KILL -- -$JOB $child 2>/dev/null; finish; }
wait $JOB; rc=$?
took=$(( $(date +%s) - t0 ))
[ $rc = 130 ] || { fail "status $rc, not 130"; cat "$W/job.err"; }
[ $took -le 20 ] || fail "ended only after $took s (the launcher's own end), not by Revive"
grep -q "did not end within .* of SIGINT (its ranks were being started): SIGTERM to the launcher" "$W/job.err" ||
    { fail "the escalation was not said"; cat "$W/job.err"; }
wait_for 10 '! kill -0 $child 2>/dev/null' || { fail "the launcher's child $child is left"; kill -KILL $child; }
pass "a ^C the launcher ignored during the start: ended after ${took} s, status $rc, nothing left"
finish
