#!/bin/bash
# What a checkpoint cannot restore must be refused, not lost (review 13
# HIGH-3, HIGH-4): a POSIX message queue (named, and unlinked) was saved as a
# "deleted file" and the restarted process got EBADF; a message carrying a
# descriptor (SCM_RIGHTS) in a Unix socket's queue came back without it,
# exit 0. For each kind (crt_inflight): the checkpoint at point 1 is refused
# in one line naming the object and the descriptor, leaves no image, and the
# program runs on with the object intact (the message and its descriptor
# arrive, no descriptor left behind); at point 2, the object gone, it is
# checkpointed with --kill and restarted: the same output as an
# uninterrupted run.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_inflight
crs_need_tools cr_run cr_checkpoint cr_restart
prog=$CRS_BIN/crt_inflight
for kind in mq mq-unlinked scm-dgram scm-stream; do
    case $kind in
        mq) word="POSIX message queue /revive-crt-inflight." ;;
        mq-unlinked) word="unlinked since" ;;
        *) word="holds a descriptor in flight" ;;
    esac
    r=$WORK/ref-$kind
    st=$(crs_uninterrupted "$r" ref "$prog" "$kind")
    [ "$st" = 42 ] || { crs_fail "$kind: the uninterrupted run: $(crs_status_text "$st")"; continue; }
    crs_after_point 2 "$r/ref.out" >"$WORK/ref-$kind.after2"
    d=$WORK/prog-$kind
    if ! crs_start "$d" orig "$CRS_TOOLS/cr_run" "$prog" "$kind"; then
        crs_fail "$kind: the program under cr_run never got ready"
        crs_show "$d/orig.err"
        continue
    fi
    crs_tool "$WORK/ck1-$kind" cr_checkpoint -f "$WORK/ck1-$kind.img" "$PID"
    crs_expect_refusal "$kind: the checkpoint is refused" "$WORK/ck1-$kind.err" $? "$word"
    [ -e "$WORK/ck1-$kind.img" ] && crs_fail "$kind: the refused checkpoint left an image"
    touch "$d/go.1"
    if ! crs_wait_for "$d/ready.2" 60 "$d/orig.status"; then
        crs_fail "$kind: the program did not reach point 2 after the refused checkpoint"
        crs_show "$d/orig.out"
        continue
    fi
    crs_tool "$WORK/ck2-$kind" cr_checkpoint --kill -f "$WORK/ck2-$kind.img" "$PID"
    st=$?
    if [ "$st" != 0 ]; then
        crs_fail "$kind: the checkpoint at point 2: $(crs_status_text "$st"): $(head -n 1 "$WORK/ck2-$kind.err")"
        continue
    fi
    crs_wait_status "$d/orig" 30 >/dev/null
    grep -q FAIL "$d/orig.out" && { crs_fail "$kind: the program after the refusal:"; crs_show "$d/orig.out"; }
    touch "$d/go.2"
    rm -f "$d"/ready.*
    st=$(cd "$d" && crs_run "$WORK/r-$kind" "$CRS_TOOLS/cr_restart" "$WORK/ck2-$kind.img")
    crs_expect_run "$kind: the restart at point 2 finishes as the uninterrupted run" \
        "$WORK/ref-$kind.after2" "$WORK/r-$kind" "$st"
done
crs_summary crs_inflight
