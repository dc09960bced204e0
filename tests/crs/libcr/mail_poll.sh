#!/bin/bash
# The reference mail's second pattern (crt_mail_poll, linked with -lcr):
# cr_request_checkpoint on a descriptor over an older, longer (16 MiB) file
# while another thread holds a critical section (a 200 ms poll times out,
# cr_tryenter_cs says EAGAIN), then the mail's cr_poll_checkpoint loop. The
# original sees the image done; the image is cut to its own size and
# cr_info --verify accepts it; the restart sees EINVAL ("restarting -- not an
# error") and prints the original's lines after the marker, with "restarted"
# for "original"; polling the reaped handle fails in both.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup mail_poll
crs_need_tools cr_restart cr_info
P=$CRS_LIBCR_BIN/crt_mail_poll
[ -x "$P" ] || crs_skip "$P is not built (libcr.la missing?)"
unset REVIVE_TEST_READY REVIVE_TEST_GO

d=$WORK/poll
mkdir -p "$d"
cd "$d" || exit 99
st=$(crs_run orig "$P" "$d/ctx.poll")
if [ "$st" = 42 ] && grep -q ' place2: original$' orig.out && tail -n 1 orig.out | grep -q ' RESULT ok$'; then
    crs_pass "the original: poll timeout and EAGAIN while held, then its checkpoint complete"
else
    crs_fail "the original: $(crs_status_text "$st")"
    crs_show orig.out 20
    crs_show orig.err
fi
size=$(stat -c %s ctx.poll 2>/dev/null || echo 0)
if [ "$size" -gt 0 ] && [ "$size" -lt $((16 << 20)) ]; then
    crs_pass "the image over an older 16 MiB file is cut to its own size ($size bytes)"
else
    crs_fail "the image file has $size bytes: the older 16 MiB were not cut"
fi
if crs_tool verify cr_info --verify "$d/ctx.poll"; then
    crs_pass "cr_info --verify accepts it"
else
    crs_fail "cr_info --verify: $(head -n 1 verify.err)"
fi
sed -n '/^-- place1 --$/,$p' orig.out | tail -n +2 | sed 's/ place2: original$/ place2: restarted/' >exp
st=$(crs_run r "$CRS_TOOLS/cr_restart" "$d/ctx.poll")
crs_expect_run "the restart: the poll loop sees EINVAL, the rest as the original" exp r "$st"
crs_summary mail_poll
