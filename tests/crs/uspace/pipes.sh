#!/bin/bash
# Pipes the process holds both ends of come back with what they held.
set -u
. "$(dirname "$0")/lib.sh"
restore_workdir pipes
P=$B/tests/crs/uspace/pipes
"$P" ref.go >ref.out 2>&1 &
sleep 0.3; touch ref.go; wait
clean_exec "$B/tools/cr_run" "$P" go 2>/dev/null > >(cat >run.out) &
pid=$!
for i in $(seq 100); do grep -q filled run.out 2>/dev/null && break; sleep 0.05; done
fails=0
"$B/tools/cr_checkpoint" --kill -f img "$pid" 2>ck.err || { echo "FAIL: checkpoint: $(cat ck.err)"; exit 1; }
wait "$pid" 2>/dev/null
touch go
timeout 30 "$B/tools/cr_restart" img 2>r.err | cat >r.out
if diff <(tail -n +2 ref.out) r.out >/dev/null && ! grep -q FAIL r.out; then
    echo "PASS: restarted, the pipes gave back what they held and work on"; cat r.out
else
    echo "FAIL: after restart"; diff <(tail -n +2 ref.out) r.out; cat r.err; fails=1
fi
[ "$fails" = 0 ]
