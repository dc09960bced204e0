#!/bin/bash
# A tree's file whose members' images cannot be read back (diffrev45 LOW): cr_checkpoint --tree sums
# the saved files of every member's image within one limit for the whole file, reading each image's
# section table back from the file once its member wrote it (through the caller's descriptor when
# it reads, else reopened through /proc/self/fd: cr_checkpoint's own file and libcr's may be
# write-only). Where that read failed (no /proc, a file the caller may not read) the member counted
# as 0 without a word and the limit lapsed for its files. crt_tree children:
#  - checkpoints that read back: -f FILE (a write-only file, reopened) and --fd N of a file open
#    read and write (read through it): each succeeds and verifies;
#  - REVIVE_FAULT=tree-fdata-unread (the reopen refused, EACCES) with the default limit: refused in
#    one line saying the image cannot be read back and what to do, status 1, no image and no
#    temporary file left (before: the checkpoint succeeded, its members' files uncounted);
#  - the same with --file-data-max=0 (no limit: nothing to count, nothing read): succeeds, verifies;
#  - the program runs on to its normal end.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup tree_fdata_unread
crs_need_tools cr_run cr_checkpoint cr_info
export CRT_TREE=children
d=$WORK/p
crs_start_or_end "crt_tree never got ready" "$d" "$CRS_TOOLS/cr_run" "$CRS_BIN/crt_tree"

# verified NAME IMG: the image IMG exists and cr_info --verify accepts it
verified() {
    if [ -s "$2" ] && crs_tool "$WORK/v.$1" cr_info --verify "$2"; then
        crs_pass "$1: written and verified"
    else
        crs_fail "$1: no image, or it does not verify: $(head -n 1 "$WORK/v.$1.err" 2>/dev/null)"
    fi
}

crs_tool "$WORK/wo" cr_checkpoint --tree --cont -f "$WORK/wo.img" "$PID" ||
    crs_fail "-f (write-only, reopened): $(head -n 1 "$WORK/wo.err")"
verified "-f FILE (a write-only descriptor, reopened to read back)" "$WORK/wo.img"

(crs_clean_exec sh -c 'exec 3<>"$1" && exec timeout -k 5 "$2" "$3" --tree --cont --fd 3 "$4"' sh \
    "$WORK/rw.img" "$CRS_CKPT_TIMEOUT" "$CRS_TOOLS/cr_checkpoint" "$PID" </dev/null >"$WORK/rw.out" 2>"$WORK/rw.err") ||
    crs_fail "--fd 3 (read and write): $(head -n 1 "$WORK/rw.err")"
verified "--fd N open read and write (read back through it)" "$WORK/rw.img"

(REVIVE_FAULT=tree-fdata-unread crs_clean_exec timeout -k 5 "$CRS_CKPT_TIMEOUT" "$CRS_TOOLS/cr_checkpoint" \
    --tree --cont -f "$WORK/un.img" "$PID" </dev/null >"$WORK/un.out" 2>"$WORK/un.err")
st=$?
crs_expect_refusal "images that cannot be read back, the default limit" "$WORK/un.err" "$st" "cannot read back" &&
    { grep -q -- "--file-data-max 0" "$WORK/un.err" || crs_fail "the refusal does not name --file-data-max 0"; }
[ "$st" = 1 ] || crs_fail "the refusal's status: $st (1 expected)"
[ -e "$WORK/un.img" ] && crs_fail "the refused checkpoint left an image"

(REVIVE_FAULT=tree-fdata-unread crs_clean_exec timeout -k 5 "$CRS_CKPT_TIMEOUT" "$CRS_TOOLS/cr_checkpoint" \
    --tree --cont --file-data-max=0 -f "$WORK/nolim.img" "$PID" </dev/null >"$WORK/nolim.out" 2>"$WORK/nolim.err") ||
    crs_fail "--file-data-max=0 with the images unreadable: $(head -n 1 "$WORK/nolim.err")"
verified "no limit (--file-data-max=0), nothing to count" "$WORK/nolim.img"

left=$(ls -A "$WORK" | grep '\.tmp\.' || true)
[ -z "$left" ] && crs_pass "no temporary file left" || crs_fail "temporary files left: $left"
crs_finish "$d" orig && crs_pass "the program ran on to its end" ||
    crs_fail "the program after the checkpoints: $(crs_status_text "$FINISH_STATUS")"
crs_summary tree_fdata_unread
