#!/bin/bash
# Bad input (issue 2): a full disk. On an 8 MiB tmpfs (root only; skipped
# otherwise), a checkpoint of a 64 MiB process must fail with one clear line,
# a non-zero exit that is not a signal, no file under the final name and no
# temporary file left behind (it would keep the disk full); the process must
# live on (also with --kill, --stop and --fork: a failed checkpoint must not
# kill or stop it) and finish normally. An older image under the same name
# must survive the failed attempt byte for byte.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_bad_disk
crs_need_root "mounting a small tmpfs"
crs_need_tools cr_run cr_checkpoint cr_info

mnt=$WORK/small
mkdir -p "$mnt"
mount -t tmpfs -o size=8m,mode=755 tmpfs "$mnt" 2>"$WORK/mount.err" ||
    crs_skip "cannot mount a tmpfs: $(head -n 1 "$WORK/mount.err")"
crs_at_exit "umount $mnt"

# An older, small image under the final name (if one fits in 6 MiB).
old=
d=$WORK/vdso
if crs_start "$d" orig "$CRS_TOOLS/cr_run" "$CRS_BIN/crt_vdso"; then
    if crs_tool "$WORK/ckold" cr_checkpoint -f "$mnt/ctx" "$PID" &&
        [ "$(stat -c %s "$mnt/ctx")" -lt $((6 << 20)) ]; then
        old=$(md5sum <"$mnt/ctx")
    else
        crs_note "no older image fits on the small disk ($(head -n 1 "$WORK/ckold.err"));" \
            "the survival of an older image is not tested"
        rm -f "$mnt/ctx"
    fi
    crs_finish "$d" orig || crs_fail "setup: crt_vdso did not finish normally"
else
    crs_fail "setup: crt_vdso under cr_run never got ready"
fi

d=$WORK/heap
export CRT_HEAP_MB=64
if ! crs_start "$d" orig "$CRS_TOOLS/cr_run" "$CRS_BIN/crt_heap"; then
    crs_fail "setup: crt_heap under cr_run never got ready"
    crs_show "$d/orig.err"
    crs_summary crs_bad_disk
fi

for opt in "" --kill --stop --fork --compress; do
    name="full-disk${opt:+ $opt}"
    before=$(ls -A "$mnt" | tr '\n' ' ')
    crs_tool "$WORK/ck" cr_checkpoint $opt -f "$mnt/ctx" "$PID"
    crs_expect_refusal "$name" "$WORK/ck.err" $? &&
        ! grep -qF "$mnt" "$WORK/ck.err" &&
        crs_note "$name: the message does not say which file or file system is full"
    after=$(ls -A "$mnt" | tr '\n' ' ')
    [ "$before" = "$after" ] || crs_fail "$name: files under $mnt changed: '$before' -> '$after'"
    if [ -n "$old" ]; then
        [ "$(md5sum <"$mnt/ctx" 2>/dev/null)" = "$old" ] ||
            crs_fail "$name: the older image under the final name was damaged"
    else
        [ -e "$mnt/ctx" ] && crs_fail "$name: a file exists under the final name"
    fi
    if [ ! -d "/proc/$PID" ]; then
        crs_fail "$name: the process died although its checkpoint failed"
        break
    fi
    state=$(sed 's/.*) \(.\).*/\1/' "/proc/$PID/stat")
    if [ "$state" = T ]; then
        crs_fail "$name: the process is stopped although its checkpoint failed"
        kill -CONT "$PID"
    fi
    # anything left over from a forked writer?
    sleep 0.2
    leftover=$(ls -A "$mnt" | tr '\n' ' ')
    [ "$leftover" = "$after" ] || crs_fail "$name: files appeared later: '$leftover'"
done
if [ -n "$old" ] && crs_tool "$WORK/verify" cr_info --verify "$mnt/ctx"; then
    crs_pass "the older image is still valid"
elif [ -n "$old" ]; then
    crs_fail "the older image no longer verifies: $(head -n 1 "$WORK/verify.err")"
fi
if [ -d "/proc/$PID" ]; then
    if crs_finish "$d" orig; then
        crs_pass "the process lived through the failed checkpoints and finished normally"
    else
        crs_fail "the process $(crs_status_text "$FINISH_STATUS") instead of finishing normally"
        crs_show "$d/orig.out" 40
    fi
fi
crs_summary crs_bad_disk
