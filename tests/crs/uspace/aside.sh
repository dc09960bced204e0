#!/bin/bash
# Regions that collide with cr_restart's own memory are mapped aside and moved
# into place at the last step. Collisions are rare by design, so the test
# sends every region that way (REVIVE_FAULT=restore-aside) and checks that the
# process runs on to the uninterrupted result, twice in a row.
set -u
. "$(dirname "$0")/lib.sh"
restore_workdir aside
P=$B/tests/crs/uspace/pid_printer
"$P" 14 | sed 's/pid [0-9]*/pid P/' >ref
clean_exec "$B/tools/cr_run" "$P" 14 2>/dev/null | cat >run.out &
for i in $(seq 100); do grep -q 'step 3' run.out 2>/dev/null && break; sleep 0.05; done
pid=$(awk '/^step/ {print $4; exit}' run.out)   # the program prints its pid
"$B/tools/cr_checkpoint" --kill -f one.img "$pid" || { echo "FAIL: checkpoint"; exit 1; }
wait
REVIVE_FAULT=restore-aside timeout 60 "$B/tools/cr_restart" one.img 2>r1.err | cat >r1.out &
for i in $(seq 100); do grep -q 'step' r1.out 2>/dev/null && break; sleep 0.05; done
pid=$(awk '/^step/ {print $4; exit}' r1.out)
"$B/tools/cr_checkpoint" --kill -f two.img "$pid" 2>ck2.err || { echo "FAIL: checkpoint of the restarted process"; cat ck2.err r1.err; exit 1; }
wait
REVIVE_FAULT=restore-aside timeout 60 "$B/tools/cr_restart" two.img 2>r2.err | cat >r2.out
cat run.out r1.out r2.out | sed 's/pid [0-9]*/pid P/' | awk '!seen[$0]++' >got
if diff ref got >/dev/null; then
    echo "PASS: restored through moves twice, output equals the uninterrupted run"
else
    echo "FAIL: output differs"; diff ref got; cat r1.err r2.err; exit 1
fi
