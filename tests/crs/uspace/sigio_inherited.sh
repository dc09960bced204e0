#!/bin/bash
# An inherited standard stream whose I/O-signal owner (F_SETOWN) another
# process set (as a shell sets its terminal's): the restart gives cr_restart's
# own stream, so the owner is no business of the image (review LOW; before,
# every checkpoint of such a process was refused). crt_pipes is started with
# its stdin's owner set to this test's shell, checkpointed with --kill at
# point 1 and restarted: it must end as an uninterrupted run.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup sigio_inherited
crs_need_tools cr_run cr_checkpoint cr_restart
command -v python3 >/dev/null || crs_skip "python3 is missing (it sets the owner)"
prog=$CRS_BIN/crt_pipes
r=$WORK/ref
crs_uninterrupted "$r" ref "$prog" >/dev/null
crs_after_point 1 "$r/ref.out" >"$WORK/ref.after1"
d=$WORK/prog
setown='import fcntl, sys; fcntl.fcntl(0, fcntl.F_SETOWN, int(sys.argv[1])); print(fcntl.fcntl(0, fcntl.F_GETOWN))'
crs_start_or_end "setup: crt_pipes (stdin's owner: process $$) under cr_run never got ready" "$d" \
    bash -c 'python3 -c "$1" "$2" >"$3" && exec "${@:4}"' setown "$setown" $$ "$WORK/owner" \
    "$CRS_TOOLS/cr_run" "$prog"
[ "$(cat "$WORK/owner")" = $$ ] || crs_fail "setup: stdin's owner is '$(cat "$WORK/owner")', not $$"
crs_tool "$WORK/ck" cr_checkpoint --kill -f "$WORK/img" "$PID"
st=$?
if [ "$st" != 0 ]; then
    crs_fail "cr_checkpoint --kill of a process whose inherited stdin's owner is process $$: $(crs_status_text "$st"): $(head -n 1 "$WORK/ck.err")"
    crs_summary sigio_inherited
fi
crs_pass "cr_checkpoint --kill of a process whose inherited stdin's owner is process $$"
crs_wait_status "$d/orig" 30 >/dev/null
touch "$d/go.1" "$d/go.2"
cd "$d" || exit 99
rm -f ready.*
st=$(crs_run "$WORK/r2" "$CRS_TOOLS/cr_restart" "$WORK/img")
crs_expect_run "the restart ends as the uninterrupted run" "$WORK/ref.after1" "$WORK/r2" "$st"
crs_summary sigio_inherited
