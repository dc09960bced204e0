#!/bin/bash
# cr_request_checkpoint of itself by a process that became another user (request_nodump,
# linked with -lcr, started as root, becomes nobody): the kernel made it not dumpable, and the
# request fails with EACCES (libcr.h), libcr saying on stderr that the process is not dumpable
# and naming prctl(PR_SET_DUMPABLE, 1); made dumpable again, the same request succeeds
# (poll 1). Before: EIO, "cannot open /proc/self/pagemap or /proc/self/mem" (issue 10).
. "$(dirname "$0")/../crs_lib.sh"
crs_setup request_nodump
P=$CRS_LIBCR_BIN/request_nodump
[ -x "$P" ] || crs_skip "$P is not built (libcr.la missing?)"
grep -Eq '^ *0 +0 +4294967295' /proc/self/uid_map || crs_skip "needs real root (it becomes another user)"
nb=$(id -u nobody 2>/dev/null) || crs_skip "no user nobody"
d=$WORK/d
mkdir -p "$d"
(cd "$d" && LD_PRELOAD= crs_run "$d/req" "$P" "$nb" "$d/img" >/dev/null)
expect="nodump: -3 EACCES
dumpable: 1"
if [ "$(cat "$d/req.status")" = 0 ] && [ "$(cat "$d/req.out")" = "$expect" ]; then
    crs_pass "not dumpable: EACCES; dumpable again: the checkpoint is taken"
else
    crs_fail "request_nodump: $(crs_status_text "$(cat "$d/req.status")")"
    diff <(echo "$expect") "$d/req.out" | sed 's/^/   | /'
    crs_show "$d/req.err"
fi
if grep -q "not dumpable" "$d/req.err" && grep -qF "prctl(PR_SET_DUMPABLE, 1)" "$d/req.err"; then
    crs_pass "libcr's stderr says the process is not dumpable and what to do"
else
    crs_fail "libcr's stderr does not say the process is not dumpable and what to do"
    crs_show "$d/req.err"
fi
crs_summary request_nodump
