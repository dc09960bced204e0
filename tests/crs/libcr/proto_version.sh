#!/bin/bash
# The checkpoint request protocol between two Revive versions (proto_version.c; diffrev34 R-L21).
# 1. This Revive's requester against a process whose libcr is older (a fake one answering as
#    version 1's libcr: a reply that ends after its message): the failure names both protocol
#    versions and says to use the cr_checkpoint of the Revive the process was started with.
#    Before: the reply had grown without a version bump, and the older process's shorter reply
#    read as "ended the checkpoint without an answer (Protocol error); it may have died".
# 2. An older requester against this Revive's process (crt_ids under cr_run, at checkpoint point
#    1): refused, its message (read in the older reply's size) naming both versions and where this
#    Revive's cr_checkpoint is; the process runs on to its end as uninterrupted.
#    Before: "cr_checkpoint and the process use different Revive versions", no versions, no remedy.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup proto_version
crs_need_tools cr_run
P=$CRS_LIBCR_BIN/proto_version
IDS=$CRS_BIN/crt_ids
[ -x "$P" ] || crs_skip "$P is not built"

d=$WORK/older
mkdir -p "$d"
crs_run "$d/run" "$P" older "$d/img" >/dev/null
if grep -q "^return: -[0-9]* EPROTONOSUPPORT" "$d/run.out" &&
    grep -q "^message: process [0-9]* runs an older Revive: its libcr.so speaks checkpoint protocol version 1, this requester's version [2-9].*checkpoint it with the cr_checkpoint of the Revive it was started with" "$d/run.out"; then
    crs_pass "a process of an older Revive: both protocol versions and what to do"
else
    crs_fail "a process of an older Revive: $(crs_status_text "$(cat "$d/run.status")")"
    crs_show "$d/run.out"
    crs_show "$d/run.err"
fi

r=$WORK/ref
crs_uninterrupted "$r" ref "$IDS" >/dev/null
t=$WORK/target
crs_start_or_end "setup: crt_ids under cr_run never got ready" "$t" "$CRS_TOOLS/cr_run" "$IDS"
crs_run "$t/req" "$P" requester "$PID" "$t/req.img" >/dev/null
if grep -q "^status: -[1-9]" "$t/req.out" &&
    grep -q "^message: the requester speaks checkpoint protocol version [0-9]*, this process's libcr.so version [0-9]* .*checkpoint the process with /.*/cr_checkpoint, of the Revive it was started with" "$t/req.out"; then
    crs_pass "an older requester: refused, both protocol versions and this Revive's cr_checkpoint named"
else
    crs_fail "an older requester: $(crs_status_text "$(cat "$t/req.status")")"
    crs_show "$t/req.out"
fi
if crs_finish "$t" orig && [ ! -s "$t/req.img" ]; then
    crs_pass "the process refused the older request, wrote nothing and ran to its end"
else
    crs_fail "the process after the older request: $(crs_status_text "$FINISH_STATUS"), image $(stat -c %s "$t/req.img" 2>/dev/null) bytes"
    crs_show "$t/orig.err"
fi
crs_summary proto_version
