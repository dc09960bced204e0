#!/bin/bash
# Copies of the standard streams of a program on a terminal (review MEDIUM-1b): crt_stdcopy runs
# under script(1), its descriptors 0, 1 and 2 one pseudo-terminal, with a copy of its standard
# output (dup(1)) and /dev/stdin opened read-only; it is checkpointed with --kill and
# restarted with standard input /dev/null and standard output a file. The capture cannot tell
# the copies apart (one file), so the restore chooses by the copy's access: one that may write
# takes standard output, then standard error, then standard input; a read-only one standard
# input first. Before, both became copies of standard input: the write through the copy of
# standard output failed (EBADF on the read-only /dev/null) and the program ended with status 3.
# Now its line is in the restart's output and it reads end of file through the other.
# It also holds saved_in = dup(0), O_RDWR as the terminal is (review MEDIUM-F): nothing tells it
# from a dup(1), so it becomes a copy of standard output like the other. That is the chosen
# behaviour, pinned here: a read through it fails (EBADF, the output file is write-only), and
# cr_restart says so at warning level, naming both copies and the streams they may have been.
# Before, the message was info level (not shown by default) and called it "a copy of standard
# stream 1".
. "$(dirname "$0")/../crs_lib.sh"
crs_setup stdcopy_tty
crs_need_tools cr_run cr_checkpoint cr_restart
command -v script >/dev/null || crs_skip "script(1) is missing: no pseudo-terminal to run on"
PROG=$CRS_BIN/crt_stdcopy
[ -x "$PROG" ] || crs_skip "$PROG is not built"
cd "$WORK" || exit 99

(crs_clean_exec timeout -k 5 "$CRS_TIMEOUT" script -qefc "exec '$CRS_TOOLS/cr_run' '$PROG' '$WORK/ready' '$WORK/go'" \
    /dev/null </dev/null >orig.raw 2>orig.err; echo $? >orig.status) &
if ! crs_wait_for ready 60 orig.status || ! PID=$(cat ready) || [ -z "$PID" ]; then
    crs_fail "setup: crt_stdcopy on a terminal never got ready"; crs_show orig.err; crs_show orig.raw
    crs_summary stdcopy_tty
fi
t0=$(readlink "/proc/$PID/fd/0") t1=$(readlink "/proc/$PID/fd/1")
if [ "$t0" != "$t1" ] || [ "${t1#/dev/pts/}" = "$t1" ]; then
    crs_fail "setup: standard input ($t0) and output ($t1) are not one terminal"
    kill -9 "$PID"; crs_summary stdcopy_tty
fi
crs_tool ck cr_checkpoint --kill -f "$WORK/img" "$PID" ||
    { crs_fail "setup: cr_checkpoint --kill: $(head -n 1 ck.err)"; kill -9 "$PID"; crs_summary stdcopy_tty; }
for _ in $(seq 300); do [ -d "/proc/$PID" ] || break; sleep 0.1; done
[ -d "/proc/$PID" ] && crs_fail "setup: the original did not end after --kill"
touch go
(crs_clean_exec timeout -k 5 "$CRS_TIMEOUT" "$CRS_TOOLS/cr_restart" "$WORK/img" </dev/null >r.out 2>r.err)
st=$?
if [ "$st" != 0 ]; then
    crs_fail "restarted with stdin /dev/null, stdout a file: $(crs_status_text "$st")"; crs_show r.err
elif ! grep -qx "through the copy of stdout" r.out; then
    crs_fail "the line written through the copy of stdout is not in the restart's output"; crs_show r.out
elif ! grep -qx "read 0 bytes through /dev/stdin opened" r.out; then
    crs_fail "/dev/stdin opened did not read the restart's standard input (/dev/null)"; crs_show r.out
else
    crs_pass "the copy of stdout writes to the restart's output, /dev/stdin opened reads its input"
fi
warned="warning: descriptor [0-9]*, a copy of /dev/pts/[0-9]*, the one file that was stdin/stdout/stderr when checkpointed, is now a copy of stdout"
if [ "$st" != 0 ]; then
    :
elif ! grep -qx "read through dup(0): Bad file descriptor" r.out; then
    crs_fail "the read through saved_in = dup(0) did not fail as a copy of the write-only stdout does"; crs_show r.out
elif [ "$(grep -c "$warned" r.err)" != 2 ]; then
    crs_fail "cr_restart did not warn that the copies of dup(1) and dup(0) are now copies of stdout"; crs_show r.err
else
    crs_pass "saved_in = dup(0) of the terminal is a copy of stdout now, and cr_restart warns of both copies"
fi
crs_summary stdcopy_tty
