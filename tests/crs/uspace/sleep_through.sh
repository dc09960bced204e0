#!/bin/bash
# Checkpoints taken while a process sleeps must not cut its sleeps short
# (the kernel makes an interrupted sleep return EINTR when a handler runs;
# Revive finishes it instead). Three checkpoints land in three sleeps.
set -u
. "$(dirname "$0")/lib.sh"
restore_workdir sleep
clean_exec timeout 60 "$B/tools/cr_run" "$B/tests/crs/uspace/sleeper" >out 2>err &
tpid=$!
pid=
for i in $(seq 100); do pid=$(pgrep -P "$tpid" -x sleeper) && break; sleep 0.02; done
[ -n "$pid" ] || { echo "FAIL: the program did not start"; exit 1; }
fails=0
for at in 0.7 1.6 1.2; do   # inside sleep(2), usleep(1.5 s), nanosleep(1 s)
    sleep "$at"
    "$B/tools/cr_checkpoint" -f img "$pid" || { echo "FAIL: checkpoint at +$at s"; fails=1; }
done
wait "$tpid"; st=$?
cat out
if [ "$st" = 0 ] && grep -q "RESULT ok" out; then echo "PASS: every sleep lasted its full time"
else echo "FAIL: status $st"; cat err; fails=1; fi
[ "$fails" = 0 ]
