#!/bin/bash
# A restart while another process holds a conflicting lock (issue 10, point
# 4): crt_locks is checkpointed with --cont and restarted while the original
# still holds its locks: cr_restart must fail in one line naming the locked
# file and the process that holds it, the program never running; once the
# original has finished, the same image restarts. Then another process holds
# one of the locks (review MEDIUM-4): an open file description (OFD) lock,
# which /proc/locks lists under pid -1 (the message named "process 1"), and
# a flock lock whose taker has ended while its child holds it on (the message
# named the ended taker): the refusal must name the process holding it now. And another run of the
# same program holding the locks is named as "process P", not as the original (newuser10 M4).
. "$(dirname "$0")/../crs_lib.sh"
crs_setup locks_busy
crs_need_tools cr_run cr_checkpoint cr_restart
crs_busy_image locks_busy "$CRS_BIN/crt_locks"
crs_tool "$WORK/r1" cr_restart "$WORK/img"
crs_expect_refusal "cr_restart while the original holds the locks" "$WORK/r1.err" $? "locks.a"
grep -Eq "the original process \($PID, [^)]*\) holds" "$WORK/r1.err" &&
    crs_pass "the message names the holder, the original process $PID" ||
    crs_fail "the message does not name the original process $PID as the holder: $(head -n 1 "$WORK/r1.err")"
[ -s "$WORK/r1.out" ] && crs_fail "the refused restart printed: $(head -n 1 "$WORK/r1.out")"
crs_restart_after_original "once the original is gone the image restarts and holds the locks"

# Another run of the same program (a new process, not the image's) holds the locks: the refusal
# names it as any other holder, never as "the original process" (newuser10 M4: the user looked
# for an original long gone).
rm -f "$d"/go.* "$d"/ready.*
if crs_start "$d" second "$CRS_BIN/crt_locks"; then
    crs_at_exit "kill $PID"
    crs_tool "$WORK/r3" cr_restart "$WORK/img"
    crs_expect_refusal "cr_restart while another run of the program holds the locks" "$WORK/r3.err" $? "locks.a"
    if grep -Eq "process $PID \([^)]*\) holds" "$WORK/r3.err" && ! grep -q "original" "$WORK/r3.err"; then
        crs_pass "the message names process $PID, another run of the program, not as the original"
    else
        crs_fail "another run of the program, process $PID, is not named as any holder: $(head -n 1 "$WORK/r3.err")"
    fi
    crs_finish "$d" second || crs_fail "the second run: $FINISH_STATUS"
else
    crs_fail "setup: a second run of crt_locks never got ready"
fi

# hold_case KIND FILE N: lock_hold KIND holds a lock on FILE; a restart is refused naming FILE
# and lock_hold's holding process.
hold_case() {
    local kind=$1 file=$2 n=$3 hp st
    (crs_clean_exec setsid "$CRS_BIN/lock_hold" "$kind" "$file" "$WORK/hold$n" </dev/null \
        >"$WORK/hold$n.out" 2>&1 &)
    if ! crs_wait_for "$WORK/hold$n" 30; then
        crs_fail "setup: lock_hold $kind $file never got ready: $(head -n 1 "$WORK/hold$n.out")"
        return
    fi
    hp=$(cat "$WORK/hold$n")
    crs_at_exit "kill $hp"
    rm -f ready.*
    crs_tool "$WORK/h$n" cr_restart "$WORK/img"
    st=$?
    crs_expect_refusal "cr_restart while process $hp holds a $kind lock on $file" "$WORK/h$n.err" $st "$file"
    grep -Eq "process \(?$hp[ ,)].* holds" "$WORK/h$n.err" &&
        crs_pass "the message names process $hp, which holds the $kind lock on $file" ||
        crs_fail "the message does not name process $hp, which holds the $kind lock on $file: $(head -n 1 "$WORK/h$n.err")"
    kill "$hp" 2>/dev/null
    while kill -0 "$hp" 2>/dev/null; do sleep 0.05; done
}
hold_case ofd locks.c 1
hold_case flock-child locks.b 2
crs_summary locks_busy
