#!/bin/bash
# crs_save_shared.sh (newuser7b F1): crt_sharedcount, a file mapped shared and writable that the
# program changes through its mapping after each checkpoint point.
# 1. Without --save-shared the file holds its pages (BLCR's default): cr_checkpoint --kill says so,
#    one warning line naming the process, the file and the mapping's length (before: nothing);
#    the image's region is file-shared, not saved; as documented, a second restart from the image
#    starts from the file's later bytes (its counts differ from an uninterrupted run's).
# 2. With --save-shared (cr_cycle.sh, flavours kill twice rr cont fork stop): no warning, cr_info
#    marks the region saved, and every restart prints what an uninterrupted run does: a second
#    restart from one image and a restart after the original went on start from the file's bytes
#    of the checkpoint (its page of zeros and its partial last page written back too).
. "$(dirname "$0")/../crs_lib.sh"
crs_need_tools cr_run cr_checkpoint cr_restart cr_info
PROG=$CRS_BIN/crt_sharedcount
crs_setup crs_save_shared
ref=$WORK/ref
crs_uninterrupted "$ref" ref "$PROG" >/dev/null
crs_after_point 1 "$ref/ref.out" >"$WORK/ref.after1"
d=$WORK/plain
crs_start_or_end "without --save-shared: the program never got ready" "$d" "$CRS_TOOLS/cr_run" "$PROG"
img=$WORK/plain.img
if crs_tool "$WORK/ck" cr_checkpoint --kill -f "$img" "$PID"; then
    want="^cr_checkpoint: warning: process $PID maps /.*/count\.dat shared and writable \(20480 bytes\): its pages are not in the image"
    n=$(grep -c "shared and writable" "$WORK/ck.err")
    if [ "$n" = 1 ] && grep -qE "$want" "$WORK/ck.err"; then
        crs_pass "without --save-shared: one warning line: $(cat "$WORK/ck.err")"
    else
        crs_fail "without --save-shared: cr_checkpoint's stderr should hold one line starting '$want', found $n:"
        crs_show "$WORK/ck.err"
    fi
    crs_tool "$WORK/info" cr_info "$img"
    line=$(grep "file-shared" "$WORK/info.out" | grep "count.dat")
    case $line in
    *saved*|"") crs_fail "without --save-shared: cr_info's region of count.dat: '$line' (expected file-shared, not saved)" ;;
    *) crs_pass "without --save-shared: cr_info lists count.dat's region as file-shared, not saved" ;;
    esac
    crs_wait_status "$d/orig" 30 >/dev/null
    touch "$d/go.1" "$d/go.2"
    cd "$d" || exit 99
    st1=$(crs_run "$WORK/r1" "$CRS_TOOLS/cr_restart" "$img")
    st2=$(crs_run "$WORK/r2" "$CRS_TOOLS/cr_restart" "$img")
    cd "$WORK" || exit 99
    if [ "$st1" = 42 ] && cmp -s "$WORK/ref.after1" "$WORK/r1.out" && [ "$st2" != 42 ] &&
        ! cmp -s "$WORK/ref.after1" "$WORK/r2.out"; then
        crs_pass "without --save-shared, as documented: the first restart as uninterrupted, the second from the file's later bytes ($(grep -m1 'after point 1' "$WORK/r2.out"))"
    else
        crs_fail "without --save-shared: restarts ended $st1 and $st2 (expected 42, then a failed count)"
        crs_show "$WORK/r1.out" 10
        crs_show "$WORK/r2.out" 10
    fi
else
    crs_fail "without --save-shared: cr_checkpoint --kill: $(head -n 1 "$WORK/ck.err")"
fi
# 1b. a tree's checkpoint (--tree: its members' replies): the same warning, naming the member
d=$WORK/tree
crs_start_or_end "--tree: the program never got ready" "$d" "$CRS_TOOLS/cr_run" "$PROG"
if crs_tool "$WORK/ckt" cr_checkpoint --tree -f "$WORK/tree.img" "$PID"; then
    want="^cr_checkpoint: warning: process $PID maps /.*/count\\.dat shared and writable \\(20480 bytes\\): its pages are not in the image"
    n=$(grep -c "shared and writable" "$WORK/ckt.err")
    if [ "$n" = 1 ] && grep -qE "$want" "$WORK/ckt.err"; then
        crs_pass "--tree without --save-shared: one warning line naming the member"
    else
        crs_fail "--tree without --save-shared: cr_checkpoint's stderr should hold one line matching '$want', found $n:"
        crs_show "$WORK/ckt.err"
    fi
else
    crs_fail "--tree: cr_checkpoint: $(head -n 1 "$WORK/ckt.err")"
fi
crs_finish "$d" orig || crs_fail "--tree: the original did not finish after its checkpoint"
# 1c. libcr's cr_request_checkpoint of another process (request_other): the requester says it too
RQ=$CRS_LIBCR_BIN/request_other
if [ -x "$RQ" ]; then
    d=$WORK/req
    crs_start_or_end "cr_request_checkpoint: the program never got ready" "$d" "$CRS_TOOLS/cr_run" "$PROG"
    (cd "$d" && LD_PRELOAD= crs_run "$d/rq" "$RQ" "$d/req.img" "$PID" >/dev/null)
    want="cr_request_checkpoint: warning: process $PID maps /.*/count\\.dat shared and writable \\(20480 bytes\\): its pages are not in the image"
    if [ "$(grep -c "shared and writable" "$d/rq.err")" = 1 ] && grep -qE "$want" "$d/rq.err"; then
        crs_pass "cr_request_checkpoint of another process: one warning line on the requester's stderr"
    else
        crs_fail "cr_request_checkpoint of another process: the requester's stderr should hold one line matching '$want':"
        crs_show "$d/rq.err"
    fi
    crs_wait_status "$d/orig" 30 >/dev/null   # killed by the request's cr_signal
else
    echo "SKIP-PART: cr_request_checkpoint of another process ($RQ is not built)"
fi
# 2. --save-shared through every flavour that acts on the program's state; cr_info of the image
d=$WORK/saved
crs_start_or_end "with --save-shared: the program never got ready" "$d" "$CRS_TOOLS/cr_run" "$PROG"
if crs_tool "$WORK/cks" cr_checkpoint --save-shared -f "$WORK/saved.img" "$PID"; then
    crs_tool "$WORK/infos" cr_info "$WORK/saved.img"
    line=$(grep "file-shared" "$WORK/infos.out" | grep "count.dat")
    if [ -s "$WORK/cks.err" ]; then
        crs_fail "with --save-shared: cr_checkpoint said: $(head -n 2 "$WORK/cks.err")"
    elif [[ $line != *"[saved]"* ]] || [[ $line != *" 16384 stored"* ]]; then
        crs_fail "with --save-shared: cr_info's region of count.dat: '$line' (expected 16384 stored, [saved])"
    else
        crs_pass "with --save-shared: no warning; cr_info: the file's 4 pages stored, the region marked saved"
    fi
    # the same image with the flag cleared (checksums made again): its chunks lie in a file-shared
    # region that is not saved, which the reader refuses as corrupt (a restart would not know to
    # write them into the file)
    cp "$WORK/saved.img" "$WORK/cleared.img"
    if "$CRS_BASE_BIN/crt_imgtool" clear-saved "$WORK/cleared.img" 2>"$WORK/clear.err"; then
        crs_tool "$WORK/infoc" cr_info --verify "$WORK/cleared.img"
        st=$?
        if [ "$st" != 0 ] && grep -q "is outside every region" "$WORK/infoc.err"; then
            crs_pass "its chunks in a file-shared region without the flag: refused ($(head -n 1 "$WORK/infoc.err"))"
        else
            crs_fail "the flag cleared: cr_info --verify $(crs_status_text "$st"), expected a refusal naming a chunk outside every region"
            crs_show "$WORK/infoc.err"
        fi
    else
        crs_fail "crt_imgtool clear-saved: $(cat "$WORK/clear.err")"
    fi
else
    crs_fail "with --save-shared: cr_checkpoint: $(head -n 1 "$WORK/cks.err")"
fi
crs_finish "$d" orig || crs_fail "with --save-shared: the original did not finish after its checkpoint"
out=$(CRS_CKPT_OPTS=--save-shared CRS_FLAVOURS="kill twice rr cont fork stop" \
      bash "$(dirname "$0")/../cr_cycle.sh" crt_sharedcount 2>&1)
st=$?
printf '%s\n' "$out"
[ "$st" = 0 ] && crs_pass "with --save-shared: cr_cycle.sh (kill twice rr cont fork stop)" ||
    crs_fail "with --save-shared: cr_cycle.sh failed (above)"
crs_summary crs_save_shared
