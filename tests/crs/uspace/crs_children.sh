#!/bin/bash
# Child processes (issue 10, point 1, until process trees are saved): a
# checkpoint of a process with a running child and an unreaped zombie is
# refused in one line naming both, leaving no image; the program runs on,
# reaps them, and at its next point (no children left) is checkpointed with
# --kill and restarted: the same output as an uninterrupted run.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_children
crs_need_tools cr_run cr_checkpoint cr_restart
prog=$CRS_BIN/crt_children
r=$WORK/ref
st=$(crs_uninterrupted "$r" ref "$prog")
[ "$st" = 42 ] || { crs_fail "the uninterrupted run: $(crs_status_text "$st")"; crs_summary crs_children; }
crs_after_point 2 "$r/ref.out" >"$WORK/ref.after2"
d=$WORK/prog
crs_start_or_end "setup: crt_children under cr_run never got ready" "$d" "$CRS_TOOLS/cr_run" "$prog"
kids=$(cat /proc/"$PID"/task/*/children 2>/dev/null | wc -w)
[ "$kids" = 2 ] || crs_note "the program has $kids children as /proc counts them"
crs_tool "$WORK/ck1" cr_checkpoint -f "$WORK/ck1.img" "$PID"
if crs_expect_refusal "a process with a child and a zombie" "$WORK/ck1.err" $? "child process"; then
    for k in $(cat /proc/"$PID"/task/*/children); do
        grep -q "$k" "$WORK/ck1.err" && crs_pass "the message names child $k" ||
            crs_fail "the message does not name child $k"
    done
    grep -q zombie "$WORK/ck1.err" && crs_pass "the message says which is a zombie" ||
        crs_fail "the message does not say which child is a zombie"
fi
[ -e "$WORK/ck1.img" ] && crs_fail "the refused checkpoint left an image"
touch "$d/go.1"
if crs_wait_for "$d/ready.2" 60 "$d/orig.status"; then
    crs_tool "$WORK/ck2" cr_checkpoint --kill -f "$WORK/ck2.img" "$PID"
    st=$?
    if [ "$st" = 0 ]; then
        crs_pass "with its children reaped the process is checkpointed"
        crs_wait_status "$d/orig" 30 >/dev/null
        touch "$d/go.2"
        rm -f "$d"/ready.*
        st=$(cd "$d" && crs_run "$WORK/r1" "$CRS_TOOLS/cr_restart" "$WORK/ck2.img")
        crs_expect_run "the restart finishes as the uninterrupted run" \
            "$WORK/ref.after2" "$WORK/r1" "$st"
    else
        crs_fail "the checkpoint at point 2: $(crs_status_text "$st"): $(head -n 1 "$WORK/ck2.err")"
    fi
else
    crs_fail "the program did not reach point 2 after the refused checkpoint"
    crs_show "$d/orig.out"
fi
crs_summary crs_children
