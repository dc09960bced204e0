#!/bin/bash
# Restarting while the original process still runs: its pid is taken, so the
# restarted copy gets it back inside a new pid namespace; both finish with
# the same output from the checkpoint on.
set -u
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: as a user this is what unprivileged.sh covers"; exit 77; }
restore_workdir pidtaken
clean_exec "$B/tools/cr_run" "$B/tests/crs/uspace/pid_printer" 12 2>/dev/null | cat >orig.out &
for i in $(seq 100); do grep -q '^step 2' orig.out 2>/dev/null && break; sleep 0.05; done
pid=$(awk '/^step/ {print $4; exit}' orig.out)
"$B/tools/cr_checkpoint" -f img "$pid" || { echo "FAIL: checkpoint"; exit 1; }
n=$(grep -c '^step' orig.out)
timeout 60 "$B/tools/cr_restart" img 2>r.err | cat >r.out
wait
fails=0
if [ "$(awk '/^step/ {print $4}' r.out | sort -u)" = "$pid" ]; then
    echo "PASS: the restarted copy runs as pid $pid while the original holds it"
else echo "FAIL: restarted pids: $(awk '/^step/ {print $4}' r.out | sort -u | tr '\n' ' ')"; cat r.err; fails=1; fi
if diff <(tail -n "$(wc -l <r.out)" orig.out) r.out >/dev/null && [ "$(tail -n1 r.out)" = "worker alive 1" ]; then
    echo "PASS: both finish with the same output from the checkpoint on"
else echo "FAIL: outputs differ"; diff <(tail -n "$(wc -l <r.out)" orig.out) r.out; fails=1; fi
[ "$fails" = 0 ]
