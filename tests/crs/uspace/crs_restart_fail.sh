#!/bin/bash
# A restart that fails leaves no System V objects behind (issue 10): the
# segments, semaphore sets and message queues it made are removed again; the
# original's, which a --kill leaves and a restart takes back, stay. Made to
# fail by REVIVE_FAULT=restore-late (every object made, just before the
# process says it is ready): crt_sysv and crt_sysvipc alone, and crt_tree
# sysv under --tree, whose segments the tree's restart makes for its
# members. After each failure a plain restart still finishes as an
# uninterrupted run. Before, every failed restart left what it had made
# (a retry took keyed segments back, not the private ones made for
# segments marked removed; nothing removed the rest).
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_restart_fail
crs_need_tools cr_run cr_checkpoint cr_restart

# the ids of every System V object there is, one "kind id" a line
ipc_ids() {
    awk 'NR > 1 { print FILENAME, $2 }' /proc/sysvipc/shm /proc/sysvipc/sem /proc/sysvipc/msg | sort
}
# what crt_sysv, crt_sysvipc and crt_tree sysv of pid $1 made, removed
rm_of() {
    local id k p=$(($1 & 0xffff))
    for id in $(awk -v p="$1" 'NR > 1 && $5 == p { print $2 }' /proc/sysvipc/shm); do ipcrm -m "$id"; done
    for k in $(printf '0x5253%04x 0x5251%04x 0x5256%04x 0x5257%04x' $p $p $p $p); do
        ipcrm -S "$k" 2>/dev/null; ipcrm -Q "$k" 2>/dev/null; ipcrm -M "$k" 2>/dev/null
    done
    for id in $(awk 'NR > 1 && $1 == 0 && $4 == 13 { print $2 }' /proc/sysvipc/sem); do ipcrm -s "$id"; done
    for id in $(awk -v p="$1" 'NR > 1 && ($6 == p || $7 == p) { print $2 }' /proc/sysvipc/msg); do ipcrm -q "$id"; done
}
crs_at_exit 'for p in $PIDS; do rm_of $p 2>/dev/null; done'
PIDS=

# case NAME PROGRAM SCOPE...: checkpoint --kill; a failing restart with the
# original's objects there (they must stay), then without them (nothing new
# may stay); then a plain restart to the end
case_of() {
    local name=$1 prog=$2 d=$WORK/$1 st before after
    shift 2
    crs_start_or_end "$name: the program never got ready" "$d" "$CRS_TOOLS/cr_run" "$prog"
    PIDS="$PIDS $PID"
    crs_tool "$WORK/$name.ck" cr_checkpoint "$@" --kill -f "$WORK/$name.img" "$PID" ||
        { crs_fail "$name: cr_checkpoint: $(head -n 1 "$WORK/$name.ck.err")"; return; }
    crs_wait_status "$d/orig" 30 >/dev/null
    touch "$d/go.1" "$d/go.2"
    before=$(ipc_ids)
    st=$(cd "$d" && REVIVE_FAULT=restore-late crs_run "$WORK/$name.f1" "$CRS_TOOLS/cr_restart" "$WORK/$name.img")
    after=$(ipc_ids)
    if [ "$st" != 0 ] && [ "$st" != 42 ] && grep -q 'restore-late' "$WORK/$name.f1.err" && [ "$before" = "$after" ]; then
        crs_pass "$name: a failed restart leaves the original's objects, which it took back, as they were"
    else
        crs_fail "$name: a failed restart with the original's objects there: status $st, objects before/after: $(diff <(echo "$before") <(echo "$after") | grep '^[<>]' | tr '\n' ' ') $(head -n 1 "$WORK/$name.f1.err")"
    fi
    rm_of "$PID"
    before=$(ipc_ids)
    st=$(cd "$d" && REVIVE_FAULT=restore-late crs_run "$WORK/$name.f2" "$CRS_TOOLS/cr_restart" "$WORK/$name.img")
    after=$(ipc_ids)
    if [ "$st" != 0 ] && [ "$st" != 42 ] && grep -q 'restore-late' "$WORK/$name.f2.err" && [ "$before" = "$after" ]; then
        crs_pass "$name: a failed restart that made its objects leaves none behind"
    else
        crs_fail "$name: a failed restart that made its objects left: $(diff <(echo "$before") <(echo "$after") | grep '^>' | tr '\n' ' ')(status $st: $(head -n 1 "$WORK/$name.f2.err"))"
    fi
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
crs_summary crs_restart_fail
