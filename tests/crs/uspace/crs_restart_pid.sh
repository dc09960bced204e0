#!/bin/bash
# cr_checkpoint given cr_restart's PID (newuser11 F2): `cr_restart ctx.img &` then `cr_checkpoint
# $!`, the pid the shell gives, as ckpt-mpirun takes restart-mpi's. The restarted process runs as
# cr_restart's child under its old pid; cr_checkpoint said "process N (cr_restart) does not run
# under Revive (start it with cr_run, or link it with -lcr)", which did not apply. Now it takes
# the one child of cr_restart that answers, says so, and its image restarts as the uninterrupted
# run goes on.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_restart_pid
crs_need_tools cr_run cr_checkpoint cr_restart
crs_good_image crs_restart_pid "$CRS_BIN/crt_vdso"
rm -f "$d/go.1" "$d/go.2" "$d"/ready.*
# the restart waits at checkpoint point 1 (its go file is not there): cr_restart's pid is $!
(crs_clean_exec "$CRS_TOOLS/cr_restart" "$GOOD" </dev/null >"$WORK/r1.out" 2>"$WORK/r1.err") &
r=$!
disown $r # its end by SIGKILL (cr_checkpoint --kill) is expected: no "Killed" line
for i in $(seq 100); do
    [ -n "$(cat /proc/$r/task/$r/children 2>/dev/null)" ] && break
    crs_nap 0.1
done
crs_nap 0.5
crs_tool "$WORK/ck2" cr_checkpoint --kill -f "$WORK/g2.img" "$r"
st=$?
if [ $st = 0 ] && grep -q "process $r is cr_restart: checkpointing the process it restarted" "$WORK/ck2.err"; then
    crs_pass "cr_checkpoint of cr_restart's pid took the process it restarted: $(head -n 1 "$WORK/ck2.err")"
else
    crs_fail "cr_checkpoint of cr_restart's pid $r: $(crs_status_text $st): $(head -n 2 "$WORK/ck2.err" | tr '\n' ' ')"
fi
for i in $(seq 100); do # cr_restart ends with the process it restarted
    [ -d /proc/$r ] && [ "$(sed 's/.*) \(.\).*/\1/' /proc/$r/stat 2>/dev/null)" != Z ] || break
    crs_nap 0.1
done
touch "$d/go.1" "$d/go.2"
# the image's standard output is the first restart's file (r1.out, a regular file: reopened at
# its offset by the restart), where the uninterrupted run's lines after point 1 must come
if [ -s "$WORK/g2.img" ]; then
    st=$(crs_run "$WORK/r2" "$CRS_TOOLS/cr_restart" "$WORK/g2.img")
    cp "$WORK/r1.out" "$WORK/r2.out"
    crs_expect_run "its image restarts and ends as the uninterrupted run after point 1" \
        "$WORK/ref.after1" "$WORK/r2" "$st"
else
    crs_fail "no image of the restarted process was written"
fi
crs_summary crs_restart_pid
