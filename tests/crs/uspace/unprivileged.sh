#!/bin/bash
# Restart without privilege: an ordinary user runs crt_ids under cr_run,
# checkpoints and restarts it (cr_cycle.sh's kill and rr flavours, run as that
# user): inside a new user+pid namespace it gets its original PID back
# (CRS_EXPECT_PID=1, for both restarts of rr too), runs on to the same result
# as an uninterrupted run, and can be checkpointed and restarted again; the
# same for crt_procself, whose /proc must be its own namespace's, and for
# crt_tree's process trees (cr_checkpoint --tree), and for System V shared
# memory (crt_sysv, crt_tree sysv).
# Needs root to create the throwaway user.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup unprivileged
crs_throwaway_user crsu "running cr_cycle.sh as a throwaway user"
# the user reads the harness from the source tree (which may sit in a private folder)
src=$(cd "$(dirname "$0")/../../.." && pwd)
crs_let_others_read_harness "$src"
for f in "$src/tests/crs/cr_cycle.sh" "$CRS_BIN/crt_ids" "$CRS_BIN/crt_procself" "$CRS_BIN/crt_tree" "$CRS_BIN/crt_sysv" "$CRS_TOOLS/cr_restart"; do
    asuser test -r "$f" || crs_skip "$user cannot read $f (directory permissions)"
done
mkdir -p "$WORK/user"
chown "$uid:$gid" "$WORK/user"
# as_user_cycle PROG WHAT [VAR=VALUE...]: cr_cycle.sh PROG as the user (kill and rr, the original
# pid expected: 1 in the user+pid namespace), the variables added; passes with "as USER: WHAT"
as_user_cycle() {
    local prog=$1 what=$2 st
    shift 2
    asuser env TMPDIR="$WORK/user" "$@" CRS_FLAVOURS="kill rr" CRS_EXPECT_PID=1 CRS_KEEP=0 \
        timeout -k 10 600 bash "$src/tests/crs/cr_cycle.sh" "$prog" 2>&1 | sed 's/^/   | /'
    st=${PIPESTATUS[0]}
    if [ "$st" = 0 ]; then
        crs_pass "as $user: $what"
    else
        crs_fail "as $user: cr_cycle.sh $prog${*:+ ($*)}: $(crs_status_text "$st")"
    fi
}
as_user_cycle crt_ids "kill and rr, the original PID back each time, the output of an uninterrupted run"
# its own /proc in that namespace (issue 10, point 5)
as_user_cycle crt_procself "/proc/self, /proc/<pid> and a held /proc/self/status are the process's own after kill and rr"
# a process tree (issue 10, points 1 and 2): every member back under its
# pid in the user+pid namespace, zombies with their status, a daemon's session
# System V shared memory: a user's restart cannot choose the ids (kernel.shm_next_id), so it
# takes the segments the killed original left (kill, under their ids) or makes new ones (rr)
as_user_cycle crt_sysv "System V shared memory, kill and rr"
for mode in children zombie daemon sysv; do
    as_user_cycle crt_tree "a process tree ($mode), cr_checkpoint --tree, kill and rr" CRT_TREE=$mode CRS_CKPT_SCOPE=--tree
done
crs_summary unprivileged
