#!/bin/bash
# Inherited descriptors at restart (issue 10, point 12): crt_inherit is
# checkpointed with --kill at point 1. cr_info lists fds 5, 6 and 7 as
# inherited (text and JSON) and says what a restart does with them. Then
# cr_restart runs with its own fd 5 a pipe to a reader (the restarted
# process must write its line there), fd 6 a regular file (another type:
# closed) and no fd 7 (closed); and again with none of them. A descriptor
# the program opens itself keeps the strict rule: a checkpoint with the
# same kind of socket opened after the start is refused naming it. With
# REVIVE_VERBOSE=2 cr_restart says what became of each on its own stderr, also
# when the program's stderr was a regular file. A pipe to another process that
# a library's constructor made (preloaded after libcr: its constructor runs
# before libcr's) is the program's: refused naming it (newuser8 F1).
. "$(dirname "$0")/../crs_lib.sh"
crs_setup inherit_reconnect
crs_need_tools cr_run cr_checkpoint cr_restart cr_info
crs_good_image inherit_reconnect "$CRS_BIN/crt_inherit"

crs_tool "$WORK/info" cr_info "$GOOD"
for fd in 5 6 7; do
    if grep -Eq "^ +$fd inherited .*at restart cr_restart's own descriptor $fd" "$WORK/info.out"; then
        crs_pass "cr_info: fd $fd is inherited, with what a restart does"
    else
        crs_fail "cr_info: fd $fd is not listed as inherited"
        grep -E "^ +$fd " "$WORK/info.out" | sed 's/^/   | /'
    fi
done
crs_tool "$WORK/json" cr_info --json "$GOOD"
n=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sum(1 for f in d["fds"] if f["kind"]=="inherited" and "at_restart" in f))' "$WORK/json.out" 2>&1)
[ "$n" = 3 ] && crs_pass "cr_info --json: 3 inherited descriptors" || crs_fail "cr_info --json: inherited: $n"

# cr_restart with fd 5 a pipe to a reader, fd 6 a regular file, no fd 7
rm -f ready.*
(crs_clean_exec bash -c 'exec 5> >(cat >"$1/got5.txt") 6>"$1/plain.txt"; exec "$2" "$3" </dev/null >"$1/r1.out" 2>"$1/r1.err"' \
    x "$WORK" "$CRS_TOOLS/cr_restart" "$GOOD")
st=$?
sleep 0.3
crs_expect_run "cr_restart with a pipe as fd 5, a file as fd 6, no fd 7: the same output" \
    "$WORK/ref.after1" "$WORK/r1" "$st"
if grep -q "writes to its inherited fd 5 after point 1" "$WORK/got5.txt" 2>/dev/null; then
    crs_pass "the restarted process wrote to cr_restart's fd 5 (reconnected)"
else
    crs_fail "nothing of the restarted process reached cr_restart's fd 5: $(head -c 200 "$WORK/got5.txt" 2>&1)"
fi
[ -s "$WORK/plain.txt" ] && crs_fail "the restarted process wrote to cr_restart's fd 6, a file, not a socket"

# REVIVE_VERBOSE=2: cr_restart says what became of each
rm -f ready.*
st=$(REVIVE_VERBOSE=2 crs_run "$WORK/r2" "$CRS_TOOLS/cr_restart" "$GOOD")
[ "$st" = 42 ] || crs_fail "cr_restart without the descriptors: $(crs_status_text "$st")"
if [ "$(grep -c 'inherited from the process.s launcher, is closed' "$WORK/r2.err")" = 3 ]; then
    crs_pass "with REVIVE_VERBOSE=2 cr_restart says fds 5, 6, 7 are closed"
else
    crs_fail "cr_restart did not say that fds 5, 6, 7 are closed"
    crs_show "$WORK/r2.err"
fi

# REVIVE_VERBOSE=2 when the program's stderr was a regular file: what became
# of the inherited descriptors is cr_restart's to say, on its own stderr, not
# in the program's file (reopened as descriptor 2 before they are handled)
d3=$WORK/errfile
mkdir -p "$d3"
(cd "$d3" && export REVIVE_TEST_READY=$d3/ready REVIVE_TEST_GO=$d3/go &&
    crs_clean_exec timeout -k 5 "$CRS_TIMEOUT" "$CRS_TOOLS/cr_run" "$CRS_BIN/crt_inherit" \
        </dev/null >"$d3/orig.out" 2>"$d3/prog.err") 2>/dev/null &
orig3=$!
if crs_wait_for "$d3/ready.1" 60; then
    crs_tool "$WORK/ck3" cr_checkpoint --kill -f "$WORK/img3" "$(cat "$d3/ready.1")" ||
        crs_fail "stderr a file: cr_checkpoint --kill: $(head -n 1 "$WORK/ck3.err")"
    wait "$orig3" 2>/dev/null
    touch "$d3/go.1" "$d3/go.2"
    : >"$d3/prog.err"
    (cd "$d3" && REVIVE_VERBOSE=2 crs_clean_exec timeout -k 5 "$CRS_TIMEOUT" "$CRS_TOOLS/cr_restart" "$WORK/img3" \
        </dev/null >"$WORK/r3.out" 2>"$WORK/r3.err")
    st=$?
    n_own=$(grep -c 'inherited from the process.s launcher' "$WORK/r3.err")
    n_prog=$(grep -c 'inherited from the process.s launcher' "$d3/prog.err")
    if [ "$st" = 42 ] && [ "$n_own" = 3 ] && [ "$n_prog" = 0 ]; then
        crs_pass "stderr a file: cr_restart says what became of fds 5, 6, 7 on its own stderr, not in the program's"
    else
        crs_fail "stderr a file: $(crs_status_text "$st"); lines on cr_restart's stderr: $n_own, in the program's file: $n_prog"
        crs_show "$d3/prog.err"
    fi
else
    crs_fail "stderr a file: crt_inherit never got ready"
    wait "$orig3" 2>/dev/null
fi

# the strict rule for a pipe to another process that the program makes itself
export CRT_INHERIT_OWN_PIPE=1
d2=$WORK/own
crs_start "$d2" orig "$CRS_TOOLS/cr_run" "$CRS_BIN/crt_inherit" || crs_fail "own pipe: never got ready"
if [ -n "$PID" ]; then
    crs_tool "$WORK/own" cr_checkpoint -f "$WORK/own.img" "$PID"
    crs_expect_refusal "a pipe the program made to another process (fd 9)" "$WORK/own.err" $? \
        "file descriptor 9"
    [ -e "$WORK/own.img" ] && crs_fail "own pipe: the refused checkpoint left an image"
    crs_finish "$d2" orig || crs_fail "own pipe: the program did not finish well after the refusal" \
        "($FINISH_STATUS)"
fi
# a pipe to another process that a library's constructor made before libcr's (glibc runs the
# constructors of the libraries a program needs, and of those preloaded after libcr, first): the
# program's, under the strict rule; it was recorded as inherited (newuser8 F1)
cc=${CC:-cc}
d4=$WORK/ctor
mkdir -p "$d4"
if ! command -v "$cc" >/dev/null; then
    echo "SKIP-PART: a library constructor's pipe (no C compiler: $cc)"
elif ! "$cc" -O1 -shared -fPIC -o "$d4/libctorpipe.so" "$(dirname "$0")/crt_ctorpipe_lib.c" 2>"$d4/cc.err"; then
    crs_fail "crt_ctorpipe_lib.c does not build: $(head -n 3 "$d4/cc.err")"
else
    crs_start "$d4" orig env CRT_CTORPIPE_FD=9 CRT_HEAP_MB=4 LD_PRELOAD="$d4/libctorpipe.so" \
        "$CRS_TOOLS/cr_run" "$CRS_BIN/crt_heap" || crs_fail "library constructor's pipe: never got ready"
    if [ -n "$PID" ]; then
        if [ ! -e "/proc/$PID/fd/9" ]; then
            crs_fail "library constructor's pipe: the program has no fd 9"
        else
            crs_tool "$WORK/ctor" cr_checkpoint -f "$WORK/ctor.img" "$PID"
            crs_expect_refusal "a pipe to another process a library's constructor made (fd 9)" "$WORK/ctor.err" $? \
                "file descriptor 9"
            [ -e "$WORK/ctor.img" ] && crs_fail "library constructor's pipe: the refused checkpoint left an image"
        fi
        crs_finish "$d4" orig || crs_fail "library constructor's pipe: the program did not finish well after the refusal" \
            "($FINISH_STATUS)"
    fi
fi
crs_summary inherit_reconnect
