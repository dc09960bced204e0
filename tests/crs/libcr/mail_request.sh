#!/bin/bash
# The reference mail's first pattern (crt_mail_request, linked with -lcr):
# cr_request_file at place 1, cr_request at place 3, each followed by an
# empty critical section; the original runs through and finds each image
# complete (mode 0600) after its critical section; restarting context.PID and
# ctx.place1 each gives the original's lines after the place's marker, status 42.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup mail_request
crs_need_tools cr_restart
P=$CRS_LIBCR_BIN/crt_mail_request
[ -x "$P" ] || crs_skip "$P is not built (libcr.la missing?)"
unset REVIVE_TEST_READY REVIVE_TEST_GO

# after MARKER FILE: the lines of FILE after the line MARKER
after() { sed -n "/^$1\$/,\$p" "$2" | tail -n +2; }

d=$WORK/request
mkdir -p "$d"
cd "$d" || exit 99
st=$(crs_run orig "$P")
if [ "$st" = 42 ] && tail -n 1 orig.out | grep -q ' RESULT ok$'; then
    crs_pass "the original ran through both requests, each image complete after its critical section"
else
    crs_fail "the original: $(crs_status_text "$st")"
    crs_show orig.out 20
    crs_show orig.err
fi
ctx=$(ls context.* 2>/dev/null | head -n 1)
if [ -n "$ctx" ] && [ -f ctx.place1 ]; then
    after '-- place3 --' orig.out >exp3
    after '-- place1 --' orig.out >exp1
    st=$(crs_run r3 "$CRS_TOOLS/cr_restart" "$d/$ctx")
    crs_expect_run "restart of the place-3 image ($ctx, cr_request)" exp3 r3 "$st"
    st=$(crs_run r1 "$CRS_TOOLS/cr_restart" "$d/ctx.place1")
    crs_expect_run "restart of the place-1 image (ctx.place1, cr_request_file)" exp1 r1 "$st"
else
    crs_fail "images missing: $(ls -A | tr '\n' ' ')"
fi
crs_summary mail_request
