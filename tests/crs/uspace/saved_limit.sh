#!/bin/bash
# The size limit on saved files (issue 10, point 7): crt_saved holds some
# 3.8 MiB of files deleted while open and in /dev/shm. cr_checkpoint
# --file-data-max=1M is refused with one line naming a file and the option,
# leaving no image; --file-data-max=0 (no limit) and =64M work; a size that
# is not one is a usage error. The program runs on unharmed.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup saved_limit
crs_need_tools cr_run cr_checkpoint cr_restart
d=$WORK/prog
crs_start_or_end "setup: crt_saved under cr_run never got ready" "$d" "$CRS_TOOLS/cr_run" "$CRS_BIN/crt_saved"
crs_tool "$WORK/small" cr_checkpoint --file-data-max=1M -f "$WORK/small.img" "$PID"
crs_expect_refusal "--file-data-max=1M" "$WORK/small.err" $? "--file-data-max"
[ -e "$WORK/small.img" ] && crs_fail "the refused checkpoint left an image"
crs_tool "$WORK/bad" cr_checkpoint --file-data-max=lots -f "$WORK/bad.img" "$PID"
st=$?
[ "$st" = 2 ] && crs_pass "--file-data-max=lots is a usage error" || crs_fail "--file-data-max=lots: exit $st"
# the limit travels in whole MiB: a smaller one is refused, not rounded up to 1M unsaid
crs_tool "$WORK/tiny" cr_checkpoint --file-data-max=512K -f "$WORK/tiny.img" "$PID"
st=$?
if [ "$st" = 2 ] && [ "$(grep -c . "$WORK/tiny.err")" = 1 ] && grep -q "1M" "$WORK/tiny.err"; then
    crs_pass "--file-data-max=512K is refused, naming the smallest limit ($(head -n 1 "$WORK/tiny.err"))"
else
    crs_fail "--file-data-max=512K: exit $st: $(head -n 1 "$WORK/tiny.err")"
fi
[ -e "$WORK/tiny.img" ] && crs_fail "--file-data-max=512K left an image"
for lim in 0 64M; do
    if crs_tool "$WORK/ok$lim" cr_checkpoint --file-data-max=$lim -f "$WORK/ok$lim.img" "$PID"; then
        crs_pass "--file-data-max=$lim"
    else
        crs_fail "--file-data-max=$lim: $(head -n 1 "$WORK/ok$lim.err")"
    fi
done
crs_finish "$d" orig && crs_pass "the program ran on" ||
    crs_fail "the program after the checkpoints: $FINISH_STATUS"
crs_summary saved_limit
