#!/bin/bash
# State test (issue 10): a System V semaphore set and a message queue that
# the members of a tree both use (crt_treeipc: a keyed set both made
# SEM_UNDO operations on, a keyed queue both sent to, the child waiting on
# the set across the checkpoint), checkpointed with --tree: the restart
# makes (or takes back) each once for the whole tree, with its values and
# messages, and gives each member its own adjustments; every flavour but
# nopid (a tree comes back only under its pids) and busy (the original holds
# the keys), plus mutate (the sets and queues the killed original left are
# removed before the restart, which makes them anew). Compared with the
# uninterrupted run. Before, the checkpoint was refused ("process N operated
# on its semaphore 0 last"). A process outside the tree that used the set
# last, or waits on it, is still refused, naming it.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_tree_sysvipc

# ipc_rm_of PID: removes crt_treeipc's set and queue (keys 0x5258 and 0x5259 with PID)
ipc_rm_of() {
    ipcrm -S "$(printf '0x5258%04x' $(($1 & 0xffff)))" 2>/dev/null
    ipcrm -Q "$(printf '0x5259%04x' $(($1 & 0xffff)))" 2>/dev/null
    return 0
}
export -f ipc_rm_of
# what failed runs and killed programs of this user left
ipc_leftovers() {
    local id
    for id in $(awk -v u="$(id -u)" 'NR > 1 && $5 == u && int($1 / 65536) == 21080 { print $2 }' /proc/sysvipc/sem); do
        ipcrm -s "$id" 2>/dev/null
    done
    for id in $(awk -v u="$(id -u)" 'NR > 1 && $8 == u && int($1 / 65536) == 21081 { print $2 }' /proc/sysvipc/msg); do
        ipcrm -q "$id" 2>/dev/null
    done
}
crs_at_exit ipc_leftovers

if CRS_CKPT_SCOPE=--tree CRS_FLAVOURS="run kill twice rr cont fork stop term compress stdoutfile tty sigdeath mutate" \
    CRS_MUTATE='ipc_rm_of $PID' bash "$(dirname "$0")/../cr_cycle.sh" crt_treeipc; then
    crs_pass "a set and a queue two members of a tree use: every flavour"
else
    crs_fail "a set and a queue two members of a tree use: the flavours above"
fi

# a process outside the tree that used the set last, or waits on it: refused
# with --tree in one line naming the set, no file; the program runs on
crs_need_tools cr_run cr_checkpoint
prog=$CRS_BIN/crt_treeipc
for how in last waits; do
    d=$WORK/outsider-$how
    crs_start_or_end "outsider $how: the program never got ready" "$d" "$CRS_TOOLS/cr_run" "$prog"
    key=$(printf '0x5258%04x' $((PID & 0xffff)))
    id=$(awk -v k="$((key))" 'NR > 1 && $1 == k { print $2 }' /proc/sysvipc/sem)
    if [ $how = last ]; then
        code='l.semop(i, (ctypes.c_short * 6)(1, 1, 0, 1, -1, 0), 2)'   # semaphore 1 up and down again
        want="System V semaphore set $id (key $key): process "
        tail="operated on its semaphore 1 last"
    else
        code='0'   # then waits below for semaphore 0 (2) to be zero
        want="System V semaphore set $id (key $key): 1 process outside the checkpoint waits on its semaphore 0"
        tail="waits on its semaphore 0"
    fi
    python3 -c "import ctypes, sys, time
l = ctypes.CDLL(None, use_errno=True); i = int(sys.argv[1])
sys.exit(1) if $code != 0 else None
print('done', flush=True)
if sys.argv[2] == 'waits': l.semop(i, (ctypes.c_short * 3)(0, 0, 0), 1)
time.sleep(120)" "$id" "$how" >"$WORK/outsider.out" 2>&1 &
    holder=$!
    for _ in $(seq 100); do grep -q done "$WORK/outsider.out" && break; kill -0 "$holder" 2>/dev/null || break; sleep 0.1; done
    [ $how = waits ] && for _ in $(seq 50); do
        [ "$(python3 -c 'import ctypes, sys; l = ctypes.CDLL(None); print(l.semctl(int(sys.argv[1]), 0, 15))' "$id")" = 1 ] && break
        sleep 0.1
    done   # GETZCNT (15): the python process waits
    if grep -q done "$WORK/outsider.out"; then
        crs_tool "$WORK/oc" cr_checkpoint --tree -f "$WORK/outsider.img" "$PID"
        crs_expect_refusal "--tree: a set a process outside the tree $how" "$WORK/oc.err" $? "$want"
        grep -q "$tail: .*outside the checkpoint uses it too" "$WORK/oc.err" ||
            crs_fail "outsider $how: the refusal does not say why"
        [ -e "$WORK/outsider.img" ] && crs_fail "outsider $how: the refused checkpoint left a file"
    else
        crs_fail "outsider $how: python3 could not use $id: $(head -n 2 "$WORK/outsider.out")"
    fi
    kill "$holder" 2>/dev/null
    wait "$holder" 2>/dev/null
    rm -f "$WORK/outsider.img"
    crs_finish "$d" orig ||
        crs_fail "outsider $how: the program after the refusal: $(crs_status_text "$FINISH_STATUS")"
done
crs_summary crs_tree_sysvipc
