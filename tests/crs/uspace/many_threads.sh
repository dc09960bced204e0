#!/bin/bash
# 200 threads, half blocked on a condition variable, across checkpoint --kill
# and restart: all come back with their TLS and join.
set -u
. "$(dirname "$0")/lib.sh"
restore_workdir threads
P=$B/tests/crs/uspace/many_threads
mkfifo out.pipe
cat out.pipe >run.out &
clean_exec "$B/tools/cr_run" "$P" 200 go 2>/dev/null >out.pipe &
pid=$!
for i in $(seq 200); do grep -q started run.out 2>/dev/null && break; sleep 0.05; done
"$B/tools/cr_checkpoint" --kill -f img "$pid" 2>ck.err || { echo "FAIL: checkpoint: $(cat ck.err)"; exit 1; }
wait "$pid" 2>/dev/null
threads=$("$B/tools/cr_info" img | sed -n 's/^threads: //p')
touch go
timeout 60 "$B/tools/cr_restart" img 2>r.err | cat >r.out; st=${PIPESTATUS[0]}
if [ "$st" = 0 ] && grep -q "joined 200 threads, 0 lost their TLS, sum ok" r.out && [ "$threads" = 202 ]; then
    echo "PASS: $threads threads in the image (200, main, checkpoint thread); all joined after restart with their TLS"
else
    echo "FAIL: status $st, threads in image: $threads"; cat r.out r.err; exit 1
fi
