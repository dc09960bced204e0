#!/bin/bash
# A restart that fails leaves no System V objects behind (issue 10): the
# segments, semaphore sets and message queues it made are removed again; the
# original's, which a --kill leaves and a restart takes back, stay. Made to
# fail by REVIVE_FAULT=restore-late (every object made, just before the
# process says it is ready): crt_sysv and crt_sysvipc alone, and crt_tree
# sysv under --tree, whose segments the tree's restart makes for its
# members, and crt_treesets under --tree, 300 semaphore sets the tree's
# restart makes (each shared by two members). After each failure a plain restart still finishes as an
# uninterrupted run. The programs run as a throwaway user (root checkpoints
# and restarts them): the objects of that uid are theirs alone, whatever
# other tests make meanwhile. Before, every failed restart left what it had made
# (a retry took keyed segments back, not the private ones made for
# segments marked removed; nothing removed the rest). Last, the tree's restart
# by its user (in a user and pid namespace) failing while a SIGTERM to
# cr_restart waits: status 1, one message, nothing left (diffrev29 K-L1:
# cr_restart died of the SIGTERM before it cleaned up).
. "$(dirname "$0")/../crs_lib.sh"
crs_own_ipc "$@"
crs_setup crs_restart_fail
crs_need_tools cr_run cr_checkpoint cr_restart
crs_throwaway_user crsf "running the programs as a throwaway user"
chmod o+x "$WORK"

# the ids of the System V objects the user owns, one "kind id" a line
ipc_ids() {
    {
        awk -v u="$uid" 'NR > 1 && $8 == u { print FILENAME, $2 }' /proc/sysvipc/shm /proc/sysvipc/msg
        awk -v u="$uid" 'NR > 1 && $5 == u { print FILENAME, $2 }' /proc/sysvipc/sem
    } | sort
}
# what the user's programs made, removed
rm_user_ipc() {
    local kind id
    ipc_ids | while read -r kind id; do
        case $kind in */shm) ipcrm -m "$id" ;; */sem) ipcrm -s "$id" ;; */msg) ipcrm -q "$id" ;; esac
    done
}
crs_at_exit rm_user_ipc

# failed_restart RUN PASS FAIL (in case_of): a restart of $name's image made to
# fail (restore-late) must change none of the user's objects
failed_restart() {
    local before after st
    before=$(ipc_ids)
    st=$(cd "$d" && REVIVE_FAULT=restore-late crs_run "$WORK/$name.$1" "$CRS_TOOLS/cr_restart" "$WORK/$name.img")
    after=$(ipc_ids)
    if [ "$st" != 0 ] && [ "$st" != 42 ] && grep -q 'restore-late' "$WORK/$name.$1.err" && [ "$before" = "$after" ]; then
        crs_pass "$name: $2"
    else
        crs_fail "$name: $3: status $st, objects before/after: $(diff <(echo "$before") <(echo "$after") | grep '^[<>]' | tr '\n' ' ')$(head -n 1 "$WORK/$name.$1.err")"
    fi
}

# case NAME PROGRAM SCOPE...: checkpoint --kill; a failing restart with the
# original's objects there (they must stay), then without them (nothing new
# may stay); then a plain restart to the end
case_of() {
    local name=$1 prog=$2 d=$WORK/$1 st
    shift 2
    mkdir -p "$d"
    chown "$uid:$gid" "$d"
    # asuser's command line: crs_launch runs it under timeout, which cannot run a shell function
    crs_start_or_end "$name: the program never got ready" "$d" \
        setpriv --reuid="$uid" --regid="$gid" --clear-groups "$CRS_TOOLS/cr_run" "$prog"
    crs_tool "$WORK/$name.ck" cr_checkpoint "$@" --kill -f "$WORK/$name.img" "$PID" ||
        { crs_fail "$name: cr_checkpoint: $(head -n 1 "$WORK/$name.ck.err")"; return; }
    crs_wait_status "$d/orig" 30 >/dev/null
    touch "$d/go.1" "$d/go.2"
    failed_restart f1 "a failed restart leaves the original's objects, which it took back, as they were" \
        "a failed restart with the original's objects there"
    rm_user_ipc
    failed_restart f2 "a failed restart that made its objects leaves none behind" \
        "a failed restart that made its objects"
    st=$(cd "$d" && crs_run "$WORK/$name.r" "$CRS_TOOLS/cr_restart" "$WORK/$name.img")
    if [ "$st" = 42 ] && tail -n 1 "$WORK/$name.r.out" | grep -q ' RESULT ok$'; then
        crs_pass "$name: then a restart finishes as the uninterrupted run"
    else
        crs_fail "$name: the restart after the failures: status $st, $(grep FAIL "$WORK/$name.r.out" | head -n 3)"
    fi
}

case_of sysv "$CRS_BIN/crt_sysv"
case_of sysvipc "$CRS_BIN/crt_sysvipc"
export CRT_TREE=sysv
case_of tree "$CRS_BIN/crt_tree" --tree
# 300 sets the tree's restart makes for pairs of members: all removed after a failure (only the
# first 256 were, before)
case_of treesets "$CRS_BIN/crt_treesets" --tree

# A SIGTERM to cr_restart while the tree's restore fails, in a pid namespace (diffrev29 K-L1):
# there cr_restart holds the signals it passes on blocked until it knows the first member's pid
# out here. The code before unblocked them on a failure before it killed the namespace's init
# and removed what it made for the members: the waiting SIGTERM killed cr_restart there (status
# 143), the segments it made for the tree stayed. Now: status 1, the member's message (one: two
# members' reports read at once were printed run together), nothing left. The tree's user restarts it (a user and pid namespace); REVIVE_FAULT=tree-fail-hold holds
# the failed restore until the signal is there, so the moment is sure.
name=tree d=$WORK/tree
chown "$uid:$gid" "$WORK/$name.img"
touch "$d/go.1" "$d/go.2"
rm_user_ipc
(cd "$d" && export REVIVE_FAULT=restore-late,tree-fail-hold &&
    crs_clean_exec setpriv --reuid="$uid" --regid="$gid" --clear-groups "$CRS_TOOLS/cr_restart" \
        "$WORK/$name.img" </dev/null >"$WORK/$name.ns.out" 2>"$WORK/$name.ns.err") &
rp=$!
end=$((SECONDS + 120))
while [ $SECONDS -lt $end ] && kill -0 "$rp" 2>/dev/null && ! grep -q "holding the failed restore" "$WORK/$name.ns.err"; do
    sleep 0.1
done
held=$(grep -c "holding the failed restore" "$WORK/$name.ns.err")
kill -TERM "$rp" 2>/dev/null
wait "$rp"
st=$?
left=
end=$((SECONDS + 30))
while [ $SECONDS -lt $end ]; do
    left=$(pgrep -u "$uid")
    [ -z "$left" ] && break
    sleep 0.2
done
objs=$(ipc_ids)
said=$(grep -o 'REVIVE_FAULT=restore-late' "$WORK/$name.ns.err" | wc -l)
if [ "$held" = 1 ] && [ "$st" = 1 ] && [ "$said" = 1 ] && [ -z "$left$objs" ]; then
    crs_pass "$name: a SIGTERM while the tree's restore fails in a pid namespace: status 1, the member's message, no process or object left"
else
    crs_fail "$name: a SIGTERM while the tree's restore fails in a pid namespace: $([ "$held" = 1 ] || echo "never held; ")$(crs_status_text "$st"), $said member reports printed, processes left: ${left:-none}, objects left: ${objs:-none}; $(grep -v holding "$WORK/$name.ns.err" | head -n 2 | tr '\n' ' ')"
    [ -n "$left" ] && kill -KILL $left 2>/dev/null   # the throwaway user's: this test's
fi
crs_summary crs_restart_fail
