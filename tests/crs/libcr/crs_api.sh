#!/bin/bash
# The BLCR API (issue 2, point 5), with programs linked with -lcr:
#   mail-request  the mail's first pattern (crt_mail_request): cr_request_file
#                 at place 1, cr_request at place 3, each followed by an empty
#                 critical section; the original runs through; restarting
#                 context.PID and ctx.place1 each gives the original's lines
#                 after the place's marker, status 42
#   mail-poll     the mail's second pattern (crt_mail_poll):
#                 cr_request_checkpoint on a descriptor over an older, longer
#                 file, cr_poll_checkpoint loop; the original sees the image
#                 done, the restart sees EINVAL ("restarting -- not an error")
#   callbacks     crt_callbacks, checkpointed from outside (cr_checkpoint
#                 --cont) while a thread is in a critical section: callback
#                 order, cr_checkpoint's return value (0 / > 0), the wait for
#                 the critical section; then a restart of the image
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_api
crs_need_tools cr_checkpoint cr_restart
for p in crt_mail_request crt_mail_poll crt_callbacks; do
    [ -x "$CRS_LIBCR_BIN/$p" ] || crs_skip "$CRS_LIBCR_BIN/$p is not built (libcr.la missing?)"
done
unset REVIVE_TEST_READY REVIVE_TEST_GO

# after MARKER FILE: the lines of FILE after the line MARKER
after() { sed -n "/^$1\$/,\$p" "$2" | tail -n +2; }

# expect_run NAME EXPECTED_FILE OUT STATUS
expect_run() {
    local name=$1 exp=$2 out=$3 st=$4
    if [ "$st" = 42 ] && cmp -s "$exp" "$out.out"; then
        crs_pass "$name"
        return 0
    fi
    crs_fail "$name: $(crs_status_text "$st")$(cmp -s "$exp" "$out.out" || echo ", output differs")"
    diff -u --label expected --label got "$exp" "$out.out" | head -n 30 | sed 's/^/   | /'
    crs_show "$out.err"
    return 1
}

# ---- mail pattern 1
d=$WORK/request
mkdir -p "$d"
cd "$d" || exit 99
st=$(crs_run orig "$CRS_LIBCR_BIN/crt_mail_request")
if [ "$st" = 42 ] && tail -n 1 orig.out | grep -q ' RESULT ok$'; then
    crs_pass "mail-request: the original ran through both requests"
else
    crs_fail "mail-request: the original: $(crs_status_text "$st")"
    crs_show orig.out 20
    crs_show orig.err
fi
ctx=$(ls context.* 2>/dev/null | head -n 1)
if [ -n "$ctx" ] && [ -f ctx.place1 ]; then
    after '-- place3 --' orig.out >exp3
    after '-- place1 --' orig.out >exp1
    st=$(crs_run r3 "$CRS_TOOLS/cr_restart" "$d/$ctx")
    expect_run "mail-request: restart of the place-3 image ($ctx)" exp3 r3 "$st"
    st=$(crs_run r1 "$CRS_TOOLS/cr_restart" "$d/ctx.place1")
    expect_run "mail-request: restart of the place-1 image (ctx.place1)" exp1 r1 "$st"
else
    crs_fail "mail-request: images missing: $(ls -A | tr '\n' ' ')"
fi

# ---- mail pattern 2
d=$WORK/poll
mkdir -p "$d"
cd "$d" || exit 99
st=$(crs_run orig "$CRS_LIBCR_BIN/crt_mail_poll" "$d/ctx.poll")
if [ "$st" = 42 ] && grep -q ' place2: original$' orig.out; then
    crs_pass "mail-poll: the original saw its checkpoint complete"
else
    crs_fail "mail-poll: the original: $(crs_status_text "$st")"
    crs_show orig.out 20
    crs_show orig.err
fi
size=$(stat -c %s ctx.poll 2>/dev/null || echo 0)
[ "$size" -ge $((8 << 20)) ] ||
    crs_note "mail-poll: the image file is $size bytes (the older 8 MiB were truncated)"
after '-- place1 --' orig.out | sed 's/ place2: original$/ place2: restarted/' >exp
st=$(crs_run r "$CRS_TOOLS/cr_restart" "$d/ctx.poll")
expect_run "mail-poll: restart from the image written over an older, longer file" exp r "$st"

# ---- callbacks and critical sections
d=$WORK/callbacks
mkdir -p "$d/ref"
touch "$d/ref/go.1" "$d/ref/go.2"
(cd "$d/ref" && REVIVE_TEST_READY=$d/ref/ready REVIVE_TEST_GO=$d/ref/go \
    crs_run "$d/ref/ref" "$CRS_LIBCR_BIN/crt_callbacks" >/dev/null)
if [ "$(cat "$d/ref/ref.status")" = 42 ] && grep -q 'no callback ran' "$d/ref/ref.out"; then
    crs_pass "callbacks: without a checkpoint no callback runs"
else
    crs_fail "callbacks: the run without a checkpoint: $(crs_status_text "$(cat "$d/ref/ref.status")")"
    crs_show "$d/ref/ref.out" 20
fi
if crs_start "$d" orig "$CRS_LIBCR_BIN/crt_callbacks"; then
    t0=$(date +%s%N)
    crs_tool "$d/ck" cr_checkpoint --cont -f "$d/img" "$PID"
    st=$?
    t1=$(date +%s%N)
    if [ "$st" != 0 ]; then
        crs_fail "callbacks: cr_checkpoint of a -lcr program: $(crs_status_text "$st")"
        crs_show "$d/ck.err"
    else
        crs_note "callbacks: the checkpoint took $(((t1 - t0) / 1000000)) ms (a thread held a" \
            "critical section for ~1 s)"
    fi
    if crs_finish "$d" orig && grep -q 'this is the original process' "$d/orig.out"; then
        crs_pass "callbacks: the original went on: callbacks, order and critical section right"
    else
        crs_fail "callbacks: the original: $(crs_status_text "$FINISH_STATUS")"
        crs_show "$d/orig.out" 30
        crs_show "$d/orig.err"
    fi
    if [ -f "$d/img" ]; then
        cd "$d" || exit 99
        after '-- checkpoint 1 --' orig.out | sed 's/this is the original process$/this is the restarted process/' >exp
        rm -f ready.*
        st=$(crs_run r "$CRS_TOOLS/cr_restart" "$d/img")
        expect_run "callbacks: the restart (cr_checkpoint > 0 in every callback)" exp r "$st"
    fi
else
    crs_fail "callbacks: crt_callbacks never got ready"
    crs_show "$d/orig.err"
fi
crs_summary crs_api
