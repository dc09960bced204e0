#!/bin/bash
# System V ids of a tree restored many times (issue 10): crt_treeids, the
# program and three children each with four semaphore sets, four message
# queues and two segments of its own, made after the fork, checkpointed
# with --tree --kill at point 1 and restarted from that image again and
# again, each restart compared with the uninterrupted run. The first
# restart takes the killed tree's objects back; each run removes them at
# its end, so every later restart makes them all again, under their old ids
# (as root: kernel.shm_next_id, sem_next_id, msg_next_id). The members
# restore side by side: without the restart's lock on the IPC namespace
# one member's write of an id came between another's write and its semget,
# and their sets swapped ids (CI: crs_tree sysvipc, twice and stop, "semaphore
# set 4 is now 5, set 5 is now 8"). Then the same with every chosen id
# written 20 ms before its object is made (REVIVE_FAULT=restore-next-id-slow:
# without the lock, a swap every time), and with each first id lost to
# another object made in between (restore-next-id-lost: the restart makes
# it again). Then with an outside set holding one old id (the tree's other
# objects keep theirs). Root only (a user's restart may not choose ids), in an IPC
# namespace of its own (crs_own_ipc).
. "$(dirname "$0")/../crs_lib.sh"
crs_own_ipc "$@"
crs_setup crs_tree_ids
crs_need_tools cr_run cr_checkpoint cr_restart
crs_need_root "choosing System V ids (kernel.sem_next_id)"
[ "${CRS_OWN_IPC:-}" = 1 ] || crs_skip "no IPC namespace of its own (unshare --ipc): another's objects could hold the ids"
prog=$CRS_BIN/crt_treeids
restarts=${CRS_TREE_IDS_RESTARTS:-16}
# 8 processes with 18 objects each: without the lock, about 1 restart in 8 swapped ids (measured)
export CRT_TREEIDS_KIDS=${CRT_TREEIDS_KIDS:-7} CRT_TREEIDS_EACH=${CRT_TREEIDS_EACH:-8}

st=$(crs_uninterrupted "$WORK/ref" ref "$prog")
[ "$st" = 42 ] || { crs_fail "the uninterrupted run: $(crs_status_text "$st")"; crs_show "$WORK/ref/ref.err"; crs_summary crs_tree_ids; }
crs_after_point 1 "$WORK/ref/ref.out" >"$WORK/ref.after1"

d=$WORK/prog
crs_start_or_end "the program never got ready" "$d" "$CRS_TOOLS/cr_run" "$prog"
crs_tool "$WORK/ck" cr_checkpoint --tree --kill -f "$WORK/img" "$PID" || {
    crs_fail "cr_checkpoint --tree --kill: $(head -n 1 "$WORK/ck.err")"
    crs_summary crs_tree_ids
}
crs_wait_status "$d/orig" 30 >/dev/null
touch "$d/go.1" "$d/go.2"
cd "$d" || exit 99

# restarts FAULT N: N restarts of the image (REVIVE_FAULT=FAULT for cr_restart when given); each must
# end as the uninterrupted run did and name no System V object as come back under another id
restarts() {
    local fault=$1 n=$2 k st r good=0 what=${1:-no fault point}
    for k in $(seq "$n"); do
        rm -f ready.*
        r=$WORK/r${fault:+-$fault}-$k
        if [ -n "$fault" ]; then
            st=$(crs_run "$r" env REVIVE_FAULT="$fault" "$CRS_TOOLS/cr_restart" "$WORK/img")
        else
            st=$(crs_run "$r" "$CRS_TOOLS/cr_restart" "$WORK/img")
        fi
        if [ "$st" = 42 ] && cmp -s "$WORK/ref.after1" "$r.out" && ! grep -q 'another id' "$r.err"; then
            good=$((good + 1))
            rm -f "$r".*
            continue
        fi
        crs_fail "$what: restart $k of $n: $(crs_status_text "$st")$(cmp -s "$WORK/ref.after1" "$r.out" ||
            echo ", output differs")"
        diff -u --label expected --label got "$WORK/ref.after1" "$r.out" | head -n 20 | sed 's/^/   | /'
        grep -v -e 'names no fault point' -e 'fault: known: ' "$r.err" | head -n 4 | sed 's/^/   | /'
        # what a failed run left (the kernel removes the rest when the namespace ends)
        ipcrm --all 2>/dev/null
    done
    [ "$good" = "$n" ] && crs_pass "$what: $n restarts of a tree of $((CRT_TREEIDS_KIDS + 1)) processes with $(((CRT_TREEIDS_KIDS + 1) * (2 * CRT_TREEIDS_EACH + 2))) System V objects, as the uninterrupted run, under their ids"
}
restarts "" "$restarts"
restarts restore-next-id-slow 2
restarts restore-next-id-lost 2

# An object outside the tree holds the lowest old id of the tree's sets (made under it before the
# restart): that set alone comes back under another id, one warning line naming it, the program
# ends as the uninterrupted run (libcr takes the id it kept to the new one). Before, the kernel
# gave that set the next free index, the old id of the next set made (the same member's or
# another's), which then lost its own, and so on.
ids=$("$CRS_TOOLS/cr_info" "$WORK/img" 2>/dev/null | sed -n 's/^ *semaphore set id \([0-9]*\),.*/\1/p' | sort -n)
first=$(echo "$ids" | head -n 1)
held=
if [ -n "$first" ] && echo "$first" >/proc/sys/kernel/sem_next_id; then
    held=$(ipcmk -S 1 2>/dev/null | grep -o '[0-9]*$')
fi
if [ -z "$first" ] || [ "$held" != "$first" ]; then
    crs_fail "an outside set under the tree's first set id: cannot make it (first ${first:-none}, made ${held:-none})"
else
    rm -f ready.*
    r=$WORK/r-held
    st=$(crs_run "$r" "$CRS_TOOLS/cr_restart" "$WORK/img")
    if [ "$st" = 42 ] && cmp -s "$WORK/ref.after1" "$r.out" && [ "$(grep -c 'another id' "$r.err")" = 1 ] &&
        grep -q "^revive: crs: 1 System V object of the image comes back under another id (semaphore set $first is now [0-9]*): another object" "$r.err"; then
        crs_pass "an outside set holds the tree's set $first: that set alone comes back under another id, the run as the uninterrupted one"
    else
        crs_fail "an outside set holds the tree's set $first: $(crs_status_text "$st")$(cmp -s "$WORK/ref.after1" "$r.out" ||
            echo ", output differs"); $(grep 'another id' "$r.err" | head -n 3)"
    fi
    ipcrm -s "$first" 2>/dev/null
fi
crs_summary crs_tree_ids
