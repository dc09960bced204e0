#!/bin/bash
# cr_checkpoint of a stopped process must not hang: one message saying so,
# non-zero exit, no file left; once continued, the checkpoint works.
set -u
. "$(dirname "$0")/lib.sh"
cleanup='kill -9 $pid 2>/dev/null'
restore_workdir stopped
clean_exec "$B/tools/cr_run" "$B/tests/crs/uspace/sleeper" >/dev/null 2>&1 &
pid=$!
sleep 0.5
kill -STOP "$pid"
fails=0
timeout 20 "$B/tools/cr_checkpoint" -f img "$pid" 2>err; st=$?
if [ "$st" != 0 ] && [ "$st" != 124 ] && [ "$(wc -l <err)" = 1 ] && grep -q "stopped" err && [ -z "$(ls -A | grep -v err)" ]; then
    echo "PASS: refused at once: $(cat err)"
else
    echo "FAIL: status $st, files: $(ls -A)"; cat err; fails=1
fi
kill -CONT "$pid"
if timeout 20 "$B/tools/cr_checkpoint" -f img "$pid" && "$B/tools/cr_info" --verify img >/dev/null; then
    echo "PASS: after SIGCONT the checkpoint works"
else
    echo "FAIL: checkpoint after SIGCONT"; fails=1
fi
[ "$fails" = 0 ]
