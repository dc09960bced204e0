#!/bin/bash
# cr_info names a descriptor for every kernel object of an image (review LOW:
# a dup of an epoll, eventfd, timerfd... had a record of its own, which no
# descriptor named: cr_info listed it as "fd -1 epoll"). crt_kobjs, which
# keeps a dup of its epoll, is checkpointed with --kill at
# point 1: cr_info lists no object without a descriptor, and the image
# restarts as the uninterrupted run.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup kobjs_info
crs_need_tools cr_run cr_checkpoint cr_restart cr_info
crs_good_image kobjs_info "$CRS_BIN/crt_kobjs"
if ! "$CRS_TOOLS/cr_info" "$GOOD" >"$WORK/info" 2>"$WORK/info.err"; then
    crs_fail "cr_info: $(head -n 1 "$WORK/info.err")"
elif grep -Eq "^ +[0-9]+: fd -1 " "$WORK/info"; then
    crs_fail "cr_info lists kernel objects no descriptor names: $(grep -E "^ +[0-9]+: fd -1 " "$WORK/info" | head -n 3 | tr '\n' ';')"
else
    crs_pass "cr_info names a descriptor for each of the $(sed -n 's/^kernel objects: //p' "$WORK/info") kernel objects"
fi
rm -f ready.*
st=$(crs_run "$WORK/r2" "$CRS_TOOLS/cr_restart" "$GOOD")
crs_expect_run "the image restarts as the uninterrupted run" "$WORK/ref.after1" "$WORK/r2" "$st"
crs_summary kobjs_info
