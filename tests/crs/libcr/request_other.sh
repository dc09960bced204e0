#!/bin/bash
# cr_request_checkpoint of another process (request_other, linked with -lcr):
# the target (crt_ids under cr_run, waiting at checkpoint point 1) is
# checkpointed into the requester's descriptor, then gets cr_signal (SIGKILL)
# once the image is complete; requests for a process that does not exist
# (ESRCH), into a read-only descriptor (EINVAL) and for a process not under
# Revive (ENOSYS) fail. The image restarts and runs to the end like an
# uninterrupted run. First, a request without cr_signal while the target is
# stopped fails (EAGAIN) and libcr says why on the requester's stderr
# (before, the reason, and the caveat of an image a restart here would
# refuse, were dropped in the path for another process).
. "$(dirname "$0")/../crs_lib.sh"
crs_setup request_other
crs_need_tools cr_run cr_restart cr_info
P=$CRS_LIBCR_BIN/request_other
IDS=$CRS_BIN/crt_ids
[ -x "$P" ] || crs_skip "$P is not built (libcr.la missing?)"

# the uninterrupted run: what a restart from point 1 must print
r=$WORK/ref
crs_uninterrupted "$r" ref "$IDS" >/dev/null
crs_after_point 1 "$r/ref.out" >"$WORK/ref.after1"

d=$WORK/target
if ! crs_start "$d" orig "$CRS_TOOLS/cr_run" "$IDS"; then
    crs_fail "setup: crt_ids under cr_run never got ready"
    crs_show "$d/orig.err"
    crs_summary request_other
fi
vpid=$PID
o=$WORK/other
mkdir -p "$o"
sleep 30 &
plain=$!
(cd "$o" && LD_PRELOAD= crs_run "$o/req" "$P" "$o/other.img" "$vpid" "$plain" >/dev/null)
kill "$plain" 2>/dev/null
wait "$plain" 2>/dev/null
expect="stopped: -3 EAGAIN
request: 0
poll: 1
no such process: -1 ESRCH
descriptor not writable: -1 EINVAL
not under Revive: -1 ENOSYS"
if [ "$(cat "$o/req.out")" = "$expect" ]; then
    crs_pass "cr_request_checkpoint of another process and its errors"
else
    crs_fail "request for another process: $(crs_status_text "$(cat "$o/req.status")")"
    diff <(echo "$expect") "$o/req.out" | sed 's/^/   | /'
    crs_show "$o/req.err"
fi
if grep -q "cr_request_checkpoint: the checkpoint of process $vpid failed: process $vpid is stopped" "$o/req.err"; then
    crs_pass "the stopped target: the requester's stderr says why its checkpoint failed"
else
    crs_fail "the stopped target: the requester's stderr does not say why its checkpoint failed"
    crs_show "$o/req.err"
fi
st=$(crs_wait_status "$d/orig" 30)
if [ "$st" = 137 ] && crs_tool "$o/verify" cr_info --verify "$o/other.img"; then
    crs_pass "the target got cr_signal (SIGKILL) after a complete image"
else
    crs_fail "the target: $(crs_status_text "$st"), image: $(head -n 1 "$o/verify.err" 2>/dev/null)"
fi
touch "$d/go.1" "$d/go.2"
st=$(crs_run "$o/r" "$CRS_TOOLS/cr_restart" "$o/other.img")
crs_expect_run "the target restarts from that image and runs to the end" "$WORK/ref.after1" "$o/r" "$st"
crs_summary request_other
