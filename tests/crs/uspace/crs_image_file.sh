#!/bin/bash
# The image file itself (issue 2, point 2): cr_checkpoint without -f writes
# ./context.PID in its own working directory, mode 0600, nothing else beside
# it, and leaves the process running by default; an existing file under the
# final name is replaced whole; a checkpoint interrupted half-way (the process
# killed while its image is being written, or cr_checkpoint itself killed)
# never leaves a partial image under the final name.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_image_file
crs_need_tools cr_run cr_checkpoint cr_restart cr_info

VDSO=$CRS_BIN/crt_vdso
HEAP=$CRS_BIN/crt_heap

# 1. default name, default action (continue), mode, nothing else left
d=$WORK/default
if crs_start "$d" orig "$CRS_TOOLS/cr_run" "$VDSO"; then
    mkdir -p "$d/cwd"
    (cd "$d/cwd" && crs_tool "$d/ck" cr_checkpoint "$PID")
    st=$?
    if [ "$st" != 0 ]; then
        crs_fail "default: cr_checkpoint PID: $(crs_status_text "$st")"
        crs_show "$d/ck.err"
    elif [ ! -f "$d/cwd/context.$PID" ]; then
        crs_fail "default: no ./context.$PID in cr_checkpoint's directory; it holds:" \
            "$(ls -A "$d/cwd" | tr '\n' ' ')"
    else
        mode=$(stat -c %a "$d/cwd/context.$PID")
        others=$(ls -A "$d/cwd" | grep -vx "context.$PID")
        [ "$mode" = 600 ] && crs_pass "default: ./context.$PID written, mode 600" ||
            crs_fail "default: image mode $mode, expected 600"
        [ -z "$others" ] || crs_fail "default: other files left beside the image:" $others
        crs_tool "$d/verify" cr_info --verify "$d/cwd/context.$PID" ||
            crs_fail "default: cr_info --verify rejects the image: $(head -n 1 "$d/verify.err")"
    fi
    if [ -d "/proc/$PID" ] && [ "$(sed 's/.*) \(.\).*/\1/' "/proc/$PID/stat")" != T ]; then
        crs_pass "default: the process still runs after the checkpoint"
    else
        crs_fail "default: the process is gone or stopped after a plain cr_checkpoint"
    fi
    if crs_finish "$d" orig; then
        crs_pass "default: the process finished normally"
    else
        crs_fail "default: the process did not finish normally: $(crs_status_text "$FINISH_STATUS")"
        crs_show "$d/orig.out" 50
    fi
else
    crs_fail "default: crt_vdso under cr_run never got ready"
    crs_show "$d/orig.err"
fi

# 2. an existing file under the final name is replaced by a complete image
d=$WORK/replace
if crs_start "$d" orig "$CRS_TOOLS/cr_run" "$VDSO"; then
    head -c 20000000 /dev/zero | tr '\0' 'x' >"$d/ctx"
    chmod 644 "$d/ctx"
    crs_tool "$d/ck" cr_checkpoint -f "$d/ctx" "$PID"
    st=$?
    if [ "$st" != 0 ]; then
        crs_fail "replace: cr_checkpoint over an existing file: $(crs_status_text "$st")"
        crs_show "$d/ck.err"
    else
        mode=$(stat -c %a "$d/ctx")
        if [ "$mode" = 600 ] && crs_tool "$d/verify" cr_info --verify "$d/ctx"; then
            crs_pass "replace: an existing file was replaced by a valid image, mode 600"
        else
            crs_fail "replace: after writing over an existing file: mode $mode," \
                "cr_info --verify: $(head -n 1 "$d/verify.err")"
        fi
    fi
    crs_finish "$d" orig || crs_fail "replace: the process did not finish normally"
else
    crs_fail "replace: crt_vdso under cr_run never got ready"
fi

# 3. interrupted checkpoints of a 1 GiB process.
# interrupt_test NAME WHO: starts cr_checkpoint -f ctx, waits until something
# appears in the directory (cr_checkpoint began writing; as long as it runs),
# then SIGKILLs WHO (the process, or cr_checkpoint itself). ctx must then be
# absent, or complete and valid. crt_heap gets 600 s to live (CRS_TIMEOUT): its
# 1 GiB took more than the default 60 s to be ready at load 16 (a CI).
interrupt_test() {
    local name=$1 who=$2 d=$WORK/$1 ckpid st i=0 left
    if ! CRT_HEAP_MB=1024 CRS_TIMEOUT=600 crs_start "$d" orig "$CRS_TOOLS/cr_run" "$HEAP"; then
        crs_fail "$name: crt_heap (1 GiB) never got ready"
        crs_show "$d/orig.err"
        return
    fi
    mkdir -p "$d/img"
    (crs_clean_exec timeout -k 5 "$CRS_CKPT_TIMEOUT" "$CRS_TOOLS/cr_checkpoint" -f "$d/img/ctx" \
        "$PID" </dev/null >"$d/ck.out" 2>"$d/ck.err") 2>/dev/null &
    ckpid=$!
    while [ -z "$(ls -A "$d/img")" ] && kill -0 "$ckpid" 2>/dev/null; do
        crs_nap 0.01
    done
    sleep 0.05 # into the writing, not a wait for anything
    if [ "$who" = process ]; then
        kill -9 "$PID"
    else
        # the subshell execs timeout, whose child is cr_checkpoint
        kill -9 "$(pgrep -P "$ckpid" | head -n 1)" 2>/dev/null
    fi
    wait "$ckpid" 2>/dev/null
    st=$?
    # a writer that outlives cr_checkpoint finishes or gives up: until no process holds a file of
    # the directory open (120 s at most)
    while ls -l /proc/[0-9]*/fd/ 2>/dev/null | grep -qF -- "$d/img/" && [ $i -lt 1200 ]; do
        crs_nap 0.1
        i=$((i + 1))
    done
    if [ "$st" = 0 ] && [ "$who" = process ]; then
        crs_note "$name: the checkpoint completed before the process could be killed (not conclusive)"
    elif [ "$who" = process ]; then
        if [ "$st" = 124 ] || [ "$st" -gt 128 ]; then
            crs_fail "$name: cr_checkpoint after its process died: $(crs_status_text "$st")," \
                "expected a failure exit with a message"
        elif [ "$(grep -c . "$d/ck.err")" = 0 ]; then
            crs_fail "$name: cr_checkpoint failed silently when its process died"
        else
            crs_pass "$name: cr_checkpoint reported: $(head -n 1 "$d/ck.err")"
        fi
    fi
    if [ -e "$d/img/ctx" ]; then
        if crs_tool "$d/verify" cr_info --verify "$d/img/ctx"; then
            crs_pass "$name: the image under the final name is complete and valid"
        else
            crs_fail "$name: a partial or invalid image under the final name:" \
                "$(head -n 1 "$d/verify.err")"
        fi
    else
        crs_pass "$name: no file under the final name"
    fi
    left=$(ls -A "$d/img" | grep -vx ctx)
    [ -n "$left" ] && crs_note "$name: left in the directory:" $left
    if [ "$who" = tool ]; then
        if CRS_TIMEOUT=600 crs_finish "$d" orig; then
            crs_pass "$name: the process went on and finished normally"
        else
            crs_fail "$name: after cr_checkpoint was killed, the process" \
                "$(crs_status_text "$FINISH_STATUS") instead of finishing normally"
        fi
    fi
    crs_kill_test_prog "$PID"
}
interrupt_test interrupt-process process
interrupt_test interrupt-tool tool

crs_summary crs_image_file
