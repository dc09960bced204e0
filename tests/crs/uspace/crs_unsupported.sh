#!/bin/bash
# A checkpoint Revive refuses without harm (review 13 HIGH-12): a process with
# memory behind a protection key with access disabled (the capture used to read
# it and kill the process with SIGSEGV, even without --kill). Plain cr_checkpoint
# and --kill refuse in one line naming "memory protection keys", leave no image,
# and the process runs on; its key dropped, it is then checkpointed with --kill
# at point 2 and restarted, and prints what an uninterrupted run prints.
# (crt_unsupported's seccomp mode is not run: a refusal of seccomp filters would
# refuse every process of a container whose runtime installs one; HIGH-8 open.)
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_unsupported
crs_need_tools cr_run cr_checkpoint cr_restart
prog=$CRS_BIN/crt_unsupported
grep -qw pku /proc/cpuinfo && grep -qw ospke /proc/cpuinfo ||
    crs_skip "no memory protection keys on this machine (pku, ospke)"
modes=pkey
for mode in $modes; do
    case $mode in
        pkey) word="memory protection keys" ;;
        seccomp) word="seccomp filter" ;;
    esac
    r=$WORK/ref-$mode
    st=$(crs_uninterrupted "$r" ref "$prog" "$mode")
    if [ "$st" != 42 ]; then
        crs_fail "$mode: the uninterrupted run: $(crs_status_text "$st")"
        crs_show "$r/ref.out"
        continue
    fi
    d=$WORK/prog-$mode
    crs_start_or_end "$mode: setup: crt_unsupported under cr_run never got ready" "$d" "$CRS_TOOLS/cr_run" "$prog" "$mode"
    crs_tool "$WORK/ck1-$mode" cr_checkpoint -f "$WORK/ck1-$mode.img" "$PID"
    crs_expect_refusal "$mode: a plain checkpoint is refused" "$WORK/ck1-$mode.err" $? "$word"
    crs_tool "$WORK/ck2-$mode" cr_checkpoint --kill -f "$WORK/ck2-$mode.img" "$PID"
    crs_expect_refusal "$mode: a checkpoint with --kill is refused" "$WORK/ck2-$mode.err" $? "$word"
    [ -e "$WORK/ck1-$mode.img" ] || [ -e "$WORK/ck2-$mode.img" ] && crs_fail "$mode: a refused checkpoint left an image"
    if kill -0 "$PID" 2>/dev/null && [ ! -e "$d/orig.status" ]; then
        crs_pass "$mode: the process runs on after the refusals"
    else
        crs_fail "$mode: the process ended: $(crs_status_text "$(cat "$d/orig.status" 2>/dev/null)")"
        continue
    fi
    touch "$d/go.1"
    if ! crs_wait_for "$d/ready.2" 60 "$d/orig.status"; then
        crs_fail "$mode: the program did not reach point 2 after the refused checkpoints"
        crs_show "$d/orig.out"
        continue
    fi
    if [ "$mode" = seccomp ]; then
        touch "$d/go.2"
        st=$(crs_wait_status "$d/orig")
        crs_expect_run "$mode: the process ends as the uninterrupted run" "$r/ref.out" "$d/orig" "$st"
        continue
    fi
    crs_after_point 2 "$r/ref.out" >"$WORK/ref-$mode.after2"
    crs_tool "$WORK/ck3-$mode" cr_checkpoint --kill -f "$WORK/ck3-$mode.img" "$PID"
    st=$?
    if [ "$st" != 0 ]; then
        crs_fail "$mode: the checkpoint at point 2 (key dropped): $(crs_status_text "$st"): $(head -n 1 "$WORK/ck3-$mode.err")"
        continue
    fi
    crs_pass "$mode: with its key dropped the process is checkpointed"
    crs_wait_status "$d/orig" 30 >/dev/null
    touch "$d/go.2"
    rm -f "$d"/ready.*
    st=$(cd "$d" && crs_run "$WORK/r1-$mode" "$CRS_TOOLS/cr_restart" "$WORK/ck3-$mode.img")
    crs_expect_run "$mode: the restart finishes as the uninterrupted run" "$WORK/ref-$mode.after2" "$WORK/r1-$mode" "$st"
done
crs_summary crs_unsupported
