#!/bin/bash
# REVIVE_IMAGE_DIRECT=1: the image's pages go to the disk with O_DIRECT (image.h, crs_iw_direct;
# session 34; through a buffer of huge pages since session 36): after a checkpoint of crt_heap (64 MiB) on ext4 or XFS the page cache holds the
# image's header and metadata, not its pages, and the image verifies and restarts to the
# uninterrupted output.
#   direct    REVIVE_IMAGE_DIRECT=1 in the checkpointed process's environment
#   cow       REVIVE_IMAGE_DIRECT=1 in a process (crt_cowshare) whose 32 MiB are shared
#             copy-on-write with its parent: checkpointed without --kill, it still shares them
#             after (those pages written buffered: a direct write's pin would have copied them),
#             runs on to its end, and the image restarts to the uninterrupted output
#   compress  the same with --compress: the compressed chunks go direct too (their last partial
#             block buffered)
#   fork      REVIVE_IMAGE_DIRECT=1 with --fork: the writer child writes through the page cache
#   buffered  the default: every write through the page cache, the pages there after it
#   tmpfs     REVIVE_IMAGE_DIRECT=1, the image in /dev/shm (no direct writes there): buffered, the
#             image as good
#   nothp     REVIVE_IMAGE_DIRECT=1 in a process started with THP off (PR_SET_THP_DISABLE):
#             buffered, the image as good
#   full      REVIVE_IMAGE_DIRECT=1, the image on a 24 MiB ext4 (loop device, root): one line
#             naming the full disk, no file left, the process runs on
# fincore (util-linux) counts the image's bytes in the page cache, read before anything reads it.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_direct
crs_need_tools cr_run cr_checkpoint cr_restart cr_info
command -v fincore >/dev/null 2>&1 ||
    crs_skip "fincore (util-linux) is not installed: it tells whether the image's pages are in the page cache"
HEAP=$CRS_BIN/crt_heap
fstype=$(stat -f -c %T "$WORK")
case $fstype in
ext2/ext3 | xfs) ;;
*) crs_skip "$WORK is on $fstype: the writer writes directly on ext4 and XFS only (image.h)" ;;
esac

ref=$WORK/ref
crs_uninterrupted "$ref" ref "$HEAP" >/dev/null
crs_after_point 1 "$ref/ref.out" >"$WORK/ref.after1"

# one_case NAME IMGDIR CKPT_OPTS ENV...: crt_heap (under cr_run, with ENV) checkpointed with --kill
# and CKPT_OPTS into IMGDIR/NAME.img at point 1; then cr_info --verify and cr_restart, whose output
# after point 1 must be the uninterrupted one. Sets RES and SIZE (the image's bytes in the page
# cache right after the checkpoint, and its size); returns 1 when something failed.
one_case() {
    local name=$1 imgdir=$2 opts=$3 d=$WORK/$1 img
    shift 3
    img=$imgdir/$name.img
    RES= SIZE=
    crs_start "$d" orig env "$@" "$CRS_TOOLS/cr_run" "$HEAP" || {
        crs_fail "$name: crt_heap under cr_run never got ready"
        crs_show "$d/orig.err"
        return 1
    }
    # --fork writes from a child while the process runs on (with --kill the image is written in
    # place): the process is killed after it
    local kill=--kill
    [ "$opts" = --fork ] && kill=
    # shellcheck disable=SC2086
    crs_tool "$d/ck" cr_checkpoint $kill $opts -f "$img" "$PID" || {
        crs_fail "$name: cr_checkpoint $kill $opts: $(head -n 1 "$d/ck.err")"
        return 1
    }
    [ -z "$kill" ] && kill -KILL "$PID" 2>/dev/null
    crs_wait_status "$d/orig" 30 >/dev/null
    RES=$(fincore --bytes --noheadings --output RES "$img")
    SIZE=$(stat -c %s "$img")
    crs_tool "$d/verify" cr_info --verify "$img" || {
        crs_fail "$name: cr_info --verify rejects the image: $(head -n 1 "$d/verify.err")"
        return 1
    }
    touch "$d/go.1" "$d/go.2"
    (cd "$d" && crs_clean_exec timeout -k 5 "$CRS_TIMEOUT" "$CRS_TOOLS/cr_restart" "$img" </dev/null \
        >"$d/rs.out" 2>"$d/rs.err")
    crs_expect_run "$name: the image restarts to the uninterrupted output" "$WORK/ref.after1" "$d/rs" "$?" ||
        return 1
    rm -f "$img"
    return 0
}

# the writer writes directly only through a buffer of huge pages: where this process and its
# children get none (THP [never], or started with PR_SET_THP_DISABLE, inherited), it rightly
# writes buffered and the direct parts cannot run (diffrev36 R-M1)
thp=1
grep -q '\[never\]' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null && thp=0
grep -qE '^THP_enabled:[[:space:]]*0' /proc/self/status && thp=0
# the page cache holds at most 1/8 of a direct image (header, metadata), at least half of a buffered one
if [ $thp = 0 ]; then
    echo "SKIP-PART: direct (no transparent huge pages for this process: the writer writes buffered)"
elif one_case direct "$WORK" "" REVIVE_IMAGE_DIRECT=1; then
    [ "$RES" -le $((SIZE / 8)) ] && crs_pass "direct: $RES of the image's $SIZE bytes in the page cache" ||
        crs_fail "direct: $RES of the image's $SIZE bytes in the page cache after the checkpoint" \
            "(written through it, not directly)"
fi
# cow: crt_cowshare's child (the process checkpointed) shares 32 MiB copy-on-write with its parent
cow_case() {
    local d=$WORK/cow img=$WORK/cow.img before after
    crs_uninterrupted "$WORK/cowref" ref "$CRS_BIN/crt_cowshare" >/dev/null
    crs_after_point 1 "$WORK/cowref/ref.out" >"$WORK/cowref.after1"
    crs_start "$d" orig env REVIVE_IMAGE_DIRECT=1 "$CRS_TOOLS/cr_run" "$CRS_BIN/crt_cowshare" || {
        crs_fail "cow: crt_cowshare under cr_run never got ready"
        crs_show "$d/orig.err"
        return 1
    }
    before=$(awk '/^Shared_Dirty:/ {print $2}' "/proc/$PID/smaps_rollup")
    if [ "${before:-0}" -lt $((30 * 1024)) ]; then
        echo "SKIP-PART: cow (the process shares only ${before:-?} kB with its parent before the checkpoint)"
        kill -KILL "$PID" 2>/dev/null
        return 0
    fi
    crs_tool "$d/ck" cr_checkpoint -f "$img" "$PID" || {
        crs_fail "cow: cr_checkpoint: $(head -n 1 "$d/ck.err")"
        return 1
    }
    after=$(awk '/^Shared_Dirty:/ {print $2}' "/proc/$PID/smaps_rollup")
    if [ "${after:-0}" -ge $((30 * 1024)) ]; then
        crs_pass "cow: the process still shares its memory with its parent (Shared_Dirty $before -> $after kB)"
    else
        crs_fail "cow: the checkpoint copied the pages the process shares with its parent" \
            "(Shared_Dirty $before -> ${after:-?} kB: written directly)"
    fi
    crs_finish "$d" orig && crs_pass "cow: the process ran on to its end" ||
        crs_fail "cow: the process did not run on to its end ($(crs_status_text "$FINISH_STATUS"))"
    crs_tool "$d/verify" cr_info --verify "$img" || {
        crs_fail "cow: cr_info --verify rejects the image: $(head -n 1 "$d/verify.err")"
        return 1
    }
    (cd "$d" && crs_clean_exec timeout -k 5 "$CRS_TIMEOUT" "$CRS_TOOLS/cr_restart" "$img" </dev/null \
        >"$d/rs.out" 2>"$d/rs.err")
    crs_expect_run "cow: the image restarts to the uninterrupted output" "$WORK/cowref.after1" "$d/rs" "$?"
    rm -f "$img"
}
cow_case
if [ $thp = 0 ]; then
    echo "SKIP-PART: compress (no transparent huge pages for this process: the writer writes buffered)"
elif one_case compress "$WORK" --compress REVIVE_IMAGE_DIRECT=1; then
    [ "$RES" -le $((SIZE / 8)) ] && crs_pass "compress: $RES of the image's $SIZE bytes in the page cache" ||
        crs_fail "compress: $RES of the image's $SIZE bytes in the page cache after the checkpoint" \
            "(written through it, not directly)"
fi
# --fork's writer child never writes directly: a direct write would copy every page it shares
# copy-on-write with the process (diffrev34 R-M1)
if one_case fork "$WORK" --fork REVIVE_IMAGE_DIRECT=1; then
    [ "$RES" -ge $((SIZE / 2)) ] && crs_pass "fork: the writer child wrote buffered ($RES of $SIZE bytes in the page cache)" ||
        crs_fail "fork: only $RES of the image's $SIZE bytes in the page cache: the --fork writer child wrote" \
            "directly (copying the pages it shares with the process)"
fi
if one_case buffered "$WORK" ""; then
    [ "$RES" -ge $((SIZE / 2)) ] && crs_pass "buffered: by default $RES of $SIZE bytes in the page cache" ||
        crs_fail "buffered: by default only $RES of the image's $SIZE bytes in the page cache" \
            "(written directly all the same?)"
fi
shm=$(mktemp -d /dev/shm/revive-crs_direct.XXXXXX 2>/dev/null)
if [ -n "$shm" ] && [ "$(stat -f -c %T "$shm")" = tmpfs ]; then
    crs_at_exit "rm -rf '$shm'"
    one_case tmpfs "$shm" "" REVIVE_IMAGE_DIRECT=1 && crs_pass "tmpfs: the image in /dev/shm (buffered writes) verifies and restarts"
else
    echo "SKIP-PART: tmpfs (no tmpfs at /dev/shm to write into)"
    [ -n "$shm" ] && rm -rf "$shm"
fi
# nothp: the process started with transparent huge pages turned off (prctl PR_SET_THP_DISABLE,
# inherited across exec): the bounce buffer would be of 4 KiB pages, whose direct requests are
# ~1 MiB and slower than buffered writes (bench/mpi/README.md, session 36), so the image goes
# through the page cache, and restarts the same
if command -v python3 >/dev/null 2>&1; then
    nothp='import ctypes, os, sys
if ctypes.CDLL(None).prctl(41, 1, 0, 0, 0) != 0: sys.exit("prctl(PR_SET_THP_DISABLE) failed")
os.execv(sys.argv[1], sys.argv[1:])'
    if one_case nothp "$WORK" "" REVIVE_IMAGE_DIRECT=1 python3 -c "$nothp"; then
        [ "$RES" -ge $((SIZE / 2)) ] && crs_pass "nothp: without huge pages written buffered ($RES of $SIZE bytes in the page cache)" ||
            crs_fail "nothp: only $RES of the image's $SIZE bytes in the page cache: written directly from" \
                "a buffer of 4 KiB pages"
    fi
else
    echo "SKIP-PART: nothp (python3 is needed to start a process with PR_SET_THP_DISABLE)"
fi
# full: REVIVE_IMAGE_DIRECT=1 and the image on a 24 MiB ext4 (a loop device: root only), too
# small for crt_heap's 64 MiB: the direct write's ENOSPC fails the checkpoint in one line naming
# it, no file is left, the process runs on to its end
full_case() {
    local d=$WORK/full fsimg=$WORK/full.ext4 mnt=$WORK/fullmnt left
    if [ "$(id -u)" != 0 ] || ! command -v mkfs.ext4 >/dev/null 2>&1; then
        echo "SKIP-PART: full (root and mkfs.ext4 needed: a loop-mounted ext4)"
        return 0
    fi
    mkdir -p "$mnt"
    if ! truncate -s 24M "$fsimg" || ! mkfs.ext4 -q -F "$fsimg" >"$WORK/mkfs.err" 2>&1 ||
        ! mount -o loop "$fsimg" "$mnt" 2>"$WORK/mount.err"; then
        echo "SKIP-PART: full (cannot make and mount a small ext4: $(cat "$WORK/mkfs.err" "$WORK/mount.err" 2>/dev/null | head -n 1))"
        return 0
    fi
    crs_at_exit "umount '$mnt'"
    crs_start "$d" orig env REVIVE_IMAGE_DIRECT=1 "$CRS_TOOLS/cr_run" "$HEAP" || {
        crs_fail "full: crt_heap under cr_run never got ready"
        crs_show "$d/orig.err"
        return 1
    }
    if crs_tool "$d/ck" cr_checkpoint -f "$mnt/full.img" "$PID"; then
        crs_fail "full: cr_checkpoint wrote a 64 MiB image on a 24 MiB file system"
    elif [ "$(wc -l <"$d/ck.err")" = 1 ] && grep -q "No space left on device; free space" "$d/ck.err"; then
        crs_pass "full: one line: $(cat "$d/ck.err")"
    else
        crs_fail "full: cr_checkpoint's message is not one line naming the full disk:"
        crs_show "$d/ck.err"
    fi
    left=$(find "$mnt" -mindepth 1 -maxdepth 1 ! -name lost+found)
    [ -z "$left" ] && crs_pass "full: no file left on the full file system" ||
        crs_fail "full: left on the full file system: $left"
    crs_finish "$d" orig && crs_pass "full: the process ran on to its end" ||
        crs_fail "full: the process did not run on to its end ($(crs_status_text "$FINISH_STATUS"))"
}
full_case
crs_summary crs_direct
