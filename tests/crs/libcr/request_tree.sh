#!/bin/bash
# cr_request_checkpoint with CR_SCOPE_TREE of the caller's own tree, then
# CR_SCOPE_PGRP of the group it leads and CR_SCOPE_SESS of the session it leads
# (request_tree, linked with -lcr, with a child; each scope in turn): the file holds both
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
for scope in tree pgrp sess; do
    st=$(cd "$WORK" && LD_PRELOAD= crs_run "$WORK/orig.$scope" "$P" "$WORK/$scope.img" $([ $scope = tree ] || echo $scope))
    expect="group that does not exist: -1 ESRCH
descriptor not writable: -1 EINVAL
$scope request: 0
poll: 1 (written, the original runs on)
child: waited for, status 9"
    crs_expect_said "$scope: the original: requests, poll 1, its child's status 9" "$scope: the original" "$st" \
        "$WORK/orig.$scope" 0 "$expect"
    crs_expect_members "$WORK/$scope.img" 2
    st=$(cd "$WORK" && crs_run "$WORK/r1.$scope" "$CRS_TOOLS/cr_restart" "$WORK/$scope.img")
    crs_expect_said "$scope: cr_restart: CR_ERESTARTED, the restored child's status 9" "$scope: cr_restart" "$st" \
        "$WORK/r1.$scope" 0 "poll: restarted
child: waited for, status 9"
done
crs_summary request_tree
