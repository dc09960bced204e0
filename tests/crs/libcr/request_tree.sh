#!/bin/bash
# cr_request_checkpoint with CR_SCOPE_TREE of the caller's own tree
# (request_tree, linked with -lcr, with a child): the file holds both
# processes (cr_info); the original's poll gives 1 and its child then exits
# 9 as waitpid says; cr_restart of the file brings both back: the poll says
# CR_ERESTARTED and the restored child exits 9 too. Requests for a group that
# does not exist (ESRCH) and into a read-only descriptor (EINVAL) fail at once.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup request_tree
crs_need_tools cr_restart cr_info cr_checkpoint
P=$CRS_LIBCR_BIN/request_tree
[ -x "$P" ] || crs_skip "$P is not built (libcr.la missing?)"
export REVIVE_CR_CHECKPOINT=$CRS_TOOLS/cr_checkpoint
st=$(cd "$WORK" && LD_PRELOAD= crs_run "$WORK/orig" "$P" "$WORK/tree.img")
expect="group that does not exist: -1 ESRCH
descriptor not writable: -1 EINVAL
tree request: 0
poll: 1 (written, the original runs on)
child: waited for, status 9"
if [ "$st" = 0 ] && [ "$(cat "$WORK/orig.out")" = "$expect" ]; then
    crs_pass "the original: requests, poll 1, its child's status 9"
else
    crs_fail "the original: $(crs_status_text "$st")"
    crs_show "$WORK/orig.out"
    crs_show "$WORK/orig.err"
fi
if crs_tool "$WORK/info" cr_info "$WORK/tree.img" && grep -q '^members (2):$' "$WORK/info.out"; then
    crs_pass "the file holds the process and its child (cr_info)"
else
    crs_fail "cr_info of the tree: $(head -n 3 "$WORK/info.err" "$WORK/info.out")"
fi
st=$(cd "$WORK" && crs_run "$WORK/r1" "$CRS_TOOLS/cr_restart" "$WORK/tree.img")
expect="poll: restarted
child: waited for, status 9"
if [ "$st" = 0 ] && [ "$(cat "$WORK/r1.out")" = "$expect" ]; then
    crs_pass "cr_restart: CR_ERESTARTED, the restored child's status 9"
else
    crs_fail "cr_restart: $(crs_status_text "$st")"
    crs_show "$WORK/r1.out"
    crs_show "$WORK/r1.err"
fi
crs_summary request_tree
