#!/bin/bash
# A checkpoint that fails at a named step (REVIVE_FAULT) leaves the earlier
# image under the same name untouched and restartable, and no partial file.
set -u
. "$(dirname "$0")/lib.sh"
pids=
cleanup='kill -9 $pids 2>/dev/null'
restore_workdir faults
start() {   # start [env...]: a program under cr_run with only fds 0-2; sets pid
    clean_exec "$@" "$B/tools/cr_run" "$B/tests/crs/uspace/pid_printer" 200 >/dev/null 2>&1 &
    pid=$!
    pids="$pids $pid"
    sleep 0.5
}
only_ctx() { [ "$(ls -A | grep -v '^ctx$' | grep -v '\.err$' | grep -c .)" = 0 ]; }
fails=0
start
"$B/tools/cr_checkpoint" -f ctx "$pid" || { echo "FAIL: first checkpoint"; exit 1; }
before=$(sha256sum <ctx)

# the tool fails after the image is written, before the rename
REVIVE_FAULT=image-commit "$B/tools/cr_checkpoint" -f ctx "$pid" 2>tool.err; st=$?
if [ "$st" != 0 ] && grep -q "image-commit" tool.err && [ "$(sha256sum <ctx)" = "$before" ] && only_ctx; then
    echo "PASS: a failure before the rename leaves the earlier image, no temporary file"
else
    echo "FAIL (image-commit): status $st, files: $(ls -A)"; cat tool.err; fails=1
fi

# the process's writer fails before finishing the image
start REVIVE_FAULT=image-finish
"$B/tools/cr_checkpoint" -f ctx "$pid" 2>proc.err; st=$?
if [ "$st" != 0 ] && grep -q "image-finish" proc.err && [ "$(wc -l <proc.err)" = 1 ] &&
   [ "$(sha256sum <ctx)" = "$before" ] && only_ctx; then
    echo "PASS: a writer failing halfway leaves the earlier image, no temporary file"
else
    echo "FAIL (image-finish): status $st, files: $(ls -A)"; cat proc.err; fails=1
fi
kill -0 "$pid" 2>/dev/null && echo "PASS: the process runs on after the failed checkpoint" || { echo "FAIL: the process died"; fails=1; }

kill -9 $pids 2>/dev/null; wait 2>/dev/null
timeout 30 "$B/tools/cr_restart" ctx >r.out 2>r.err &
rpid=$!
for i in $(seq 50); do grep -q '^step' r.out && break; sleep 0.1; done
pkill -9 -P "$rpid" 2>/dev/null; wait "$rpid" 2>/dev/null
if grep -q "^step" r.out; then echo "PASS: the earlier image still restarts"
else echo "FAIL: the earlier image does not restart"; cat r.err; fails=1; fi
[ "$fails" = 0 ]
