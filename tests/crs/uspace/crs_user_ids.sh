#!/bin/bash
# A user's restart and System V ids (issue 10): a user may not choose the
# id of a segment, semaphore set or message queue it makes
# (kernel.shm_next_id, sem_next_id and msg_next_id need root or
# CAP_CHECKPOINT_RESTORE). When the original's objects are gone, the
# restart makes them under other ids and says so in one warning line
# naming each old and new id (before: nothing for segments), and libcr takes
# the ids the program kept of its semaphore sets, message queues and
# segments to the new ones (crt_sysv reads each segment's state, attaches
# B again and removes them by the ids it kept: before, segments were not
# followed, and IPC_STAT by a kept id failed, "A: attached, its size...:
# id 9, size 0"); when they are still there (a
# --kill leaves them) it takes them back under their ids and names only what
# it had to make (crt_sysv's segment marked removed, gone with the kill).
# Every restart ends as the user's uninterrupted run.
# Run by a throwaway user on crt_sysvipc and crt_sysv, which both use the
# ids they kept. Needs root.
. "$(dirname "$0")/../crs_lib.sh"
crs_own_ipc "$@"
crs_setup crs_user_ids
crs_need_tools cr_run cr_checkpoint cr_restart
crs_throwaway_user crsi "making a throwaway user"
asuser test -x "$CRS_BIN/crt_sysvipc" || crs_skip "$user cannot run $CRS_BIN/crt_sysvipc (directory permissions)"
chmod o+x "$WORK"
rm_user_ipc() {
    local id
    for id in $(awk -v u="$uid" 'NR > 1 && $8 == u { print $2 }' /proc/sysvipc/shm); do ipcrm -m "$id"; done
    for id in $(awk -v u="$uid" 'NR > 1 && $5 == u { print $2 }' /proc/sysvipc/sem); do ipcrm -s "$id"; done
    for id in $(awk -v u="$uid" 'NR > 1 && $8 == u { print $2 }' /proc/sysvipc/msg); do ipcrm -q "$id"; done
}
crs_at_exit rm_user_ipc

# run PROG N: the user's PROG checkpointed with --kill at point 1; restarted
# with the original's objects there ($WORK/PROG.kept.*), then with them gone
# ($WORK/PROG.gone.*); KEPT and GONE: how many objects the warning must name
# then (0: no warning). Each restart must end as the user's uninterrupted
# run of PROG did (status 42, the same lines after point 1): libcr takes the
# ids crt_sysvipc kept to the new ones (before, with them gone, its thread
# blocked across the checkpoint went on under the new id of its set while
# the main thread posted the old one: it hung until the 120 s timeout, and
# this test did not look at the status).
run() {
    local prog=$1 nkept=$2 ngone=$3 d=$WORK/$1 r=$WORK/$1.ref st P n want
    mkdir -p "$d" "$r"
    chown "$uid:$gid" "$d" "$r"
    asuser touch "$r/go.1" "$r/go.2"
    (cd "$r" && asuser env REVIVE_TEST_READY="$r/ready" REVIVE_TEST_GO="$r/go" \
        timeout -k 5 60 "$CRS_BIN/$prog" >"$WORK/$prog.ref.out" 2>&1 </dev/null)
    st=$?
    [ "$st" = 42 ] || { crs_fail "$prog as $user, uninterrupted: $(crs_status_text "$st")"; return; }
    crs_after_point 1 "$WORK/$prog.ref.out" >"$WORK/$prog.after1"
    asuser touch "$d/orig.out"
    # the subshell becomes the program (exec): no shell of the test waits for it inside the
    # redirection, so none writes "Killed" into orig.out after the restart emptied it for its
    # own output (seen in CI: the line came after the ':' below)
    (cd "$d" && exec setpriv --reuid="$uid" --regid="$gid" --clear-groups env REVIVE_TEST_READY="$d/ready" \
        REVIVE_TEST_GO="$d/go" "$CRS_TOOLS/cr_run" "$CRS_BIN/$prog") >>"$d/orig.out" 2>&1 </dev/null &
    local sub=$!
    for _ in $(seq 300); do [ -s "$d/ready.1" ] && break; sleep 0.1; done
    P=$(cat "$d/ready.1" 2>/dev/null)
    [ -n "$P" ] || { crs_fail "$prog: never got ready"; return; }
    asuser "$CRS_TOOLS/cr_checkpoint" --kill -f "$d/img" "$P" 2>"$WORK/$prog.ck.err" ||
        { crs_fail "$prog: cr_checkpoint: $(head -n 1 "$WORK/$prog.ck.err")"; return; }
    for _ in $(seq 100); do kill -0 "$P" 2>/dev/null || break; sleep 0.1; done
    wait "$sub" 2>/dev/null
    asuser touch "$d/go.1" "$d/go.2"
    for how in kept gone; do
        [ $how = gone ] && rm_user_ipc
        : >"$d/orig.out"
        (cd "$d" && asuser timeout -k 5 120 "$CRS_TOOLS/cr_restart" "$d/img" 2>"$WORK/$prog.$how.err" </dev/null)
        st=$?
        cp "$d/orig.out" "$WORK/$prog.$how.out"
        lines=$(grep -c 'another id' "$WORK/$prog.$how.err")
        n=$nkept want=1
        [ $how = gone ] && n=$ngone
        [ "$n" = 0 ] && want=0
        if [ "$lines" = "$want" ] && { [ "$n" = 0 ] || grep -q "^revive: crs: $n System V objects\? of the image comes\? back under another id (.* is now [0-9]*.*): this restart may not choose ids" "$WORK/$prog.$how.err"; }; then
            crs_pass "$prog as $user, the original's objects $how: $want warning line naming $n new ids"
        else
            crs_fail "$prog as $user, the original's objects $how: $lines warning lines: $(head -n 2 "$WORK/$prog.$how.err")"
        fi
        if [ "$st" = 42 ] && cmp -s "$WORK/$prog.after1" "$WORK/$prog.$how.out"; then
            crs_pass "$prog as $user, the original's objects $how: ends as the uninterrupted run"
        else
            crs_fail "$prog as $user, the original's objects $how: $(crs_status_text "$st")$(cmp -s "$WORK/$prog.after1" "$WORK/$prog.$how.out" || echo ", output differs")"
            diff -u --label uninterrupted --label restarted "$WORK/$prog.after1" "$WORK/$prog.$how.out" | head -n 20 | sed 's/^/   | /'
        fi
    done
    rm_user_ipc
}
run crt_sysvipc 0 4   # its removed set is gone for good: nothing to make
run crt_sysv 1 3      # its segment C, marked removed, went with the kill: made again
crs_summary crs_user_ids
