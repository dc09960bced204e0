#!/bin/bash
# State test (issue 10): System V semaphore sets and message queues
# (crt_sysvipc: a private set with SEM_UNDO adjustments, a keyed set a
# thread waits on across the checkpoint, a keyed queue holding messages of
# several types, a private queue with msg_qbytes lowered, a set removed
# before the checkpoint) come back with their values, the kernel's
# adjustments, messages in order, modes, keys and qbytes; as root under
# their ids. Every flavour but busy (the two copies would share the keyed
# ones), plus mutate: the original's sets and queues, which a --kill leaves
# behind, are removed before the restart, which makes them anew. cr_info
# lists them. A key held by another set at restart: private, with a
# warning, and only the program's lookup of the key fails. A set or queue
# another live process uses too is refused at checkpoint, naming it.
# Before, they were neither saved nor refused: the restart after a --kill
# found the killed process's sets with its adjustments applied by its end,
# and none at all once removed.
. "$(dirname "$0")/../crs_lib.sh"
crs_own_ipc "$@"
crs_setup crs_sysvipc

# ipc_rm_of PID: removes the sets and queues crt_sysvipc with pid PID made. A private set names
# no process: those of this test's user only, since crs_restart_fail and crs_user_ids run
# crt_sysvipc at the same time as a throwaway user (a concurrent run of this test once removed
# another's set: "S: its values after point 1: Invalid argument")
ipc_rm_of() {
    local id k
    for k in $(printf '0x5253%04x 0x5251%04x' $(($1 & 0xffff)) $(($1 & 0xffff))); do
        ipcrm -S "$k" 2>/dev/null; ipcrm -Q "$k" 2>/dev/null
    done
    for id in $(awk -v u="$(id -u)" 'NR > 1 && $1 == 0 && $4 == 13 && $5 == u { print $2 }' /proc/sysvipc/sem); do ipcrm -s "$id"; done
    for id in $(awk -v p="$1" 'NR > 1 && ($6 == p || $7 == p) { print $2 }' /proc/sysvipc/msg); do ipcrm -q "$id"; done
}
export -f ipc_rm_of
# what failed runs and killed programs of this user left: crt_sysvipc's private set of 13, keys
# 0x5253..., 0x5251...
ipc_leftovers() {
    local id
    for id in $(awk -v u="$(id -u)" 'NR > 1 && $5 == u && (($1 == 0 && $4 == 13) || int($1 / 65536) == 21075) { print $2 }' /proc/sysvipc/sem); do
        ipcrm -s "$id" 2>/dev/null
    done
    for id in $(awk -v u="$(id -u)" 'NR > 1 && int($1 / 65536) == 21073 && $8 == u { print $2 }' /proc/sysvipc/msg); do ipcrm -q "$id" 2>/dev/null; done
    # its private queue P (mode 640, empty), whose last user (the program) is gone
    for id in $(awk -v u="$(id -u)" 'NR > 1 && $1 == 0 && $3 == 640 && $5 == 0 && $6 == $7 && $8 == u { print $2 " " $6 }' /proc/sysvipc/msg |
        while read -r id pid; do kill -0 "$pid" 2>/dev/null || echo "$id"; done); do
        ipcrm -q "$id" 2>/dev/null
    done
}
crs_at_exit ipc_leftovers

if CRS_FLAVOURS="run kill twice nopid rr cont fork stop term compress stdoutfile tty sigdeath mutate" \
    CRS_MUTATE='ipc_rm_of $PID' bash "$(dirname "$0")/../cr_cycle.sh" crt_sysvipc; then
    crs_pass "System V semaphores and message queues: every flavour"
else
    crs_fail "System V semaphores and message queues: the flavours above"
fi

crs_need_tools cr_run cr_checkpoint cr_restart cr_info
prog=$CRS_BIN/crt_sysvipc
d=$WORK/taken
crs_start_or_end "taken: the program never got ready" "$d" "$CRS_TOOLS/cr_run" "$prog"
kkey=$(printf '0x5253%04x' $((PID & 0xffff)))
qkey=$(printf '0x5251%04x' $((PID & 0xffff)))
crs_tool "$WORK/ck" cr_checkpoint --kill -f "$WORK/ipc.img" "$PID" ||
    crs_fail "taken: cr_checkpoint --kill: $(head -n 1 "$WORK/ck.err")"
crs_wait_status "$d/orig" 30 >/dev/null
touch "$d/go.1" "$d/go.2"
crs_tool "$WORK/ci" cr_info "$WORK/ipc.img"
if grep -q "semaphore set id [0-9]*, key 0x00000000 (IPC_PRIVATE), mode 640, owner [0-9]*:[0-9]*, 13 semaphores: values 8 17 16 19 22 28 28 .*, adjustments (SEM_UNDO) 2 0 0 0 0 -3 0" "$WORK/ci.out" &&
    grep -q "semaphore set id [0-9]*, key $kkey, mode 600, .*2 semaphores: values 0 7$" "$WORK/ci.out" &&
    grep -q "message queue id [0-9]*, key $qkey, mode 600, .*4 messages, 309 bytes" "$WORK/ci.out" &&
    grep -q "message queue id [0-9]*, key 0x00000000 (IPC_PRIVATE), mode 640, .*0 messages, 0 bytes, msg_qbytes 4000" "$WORK/ci.out" &&
    [ "$(grep -c 'semaphore set id\|message queue id' "$WORK/ci.out")" = 4 ]; then
    crs_pass "cr_info lists the sets and queues: values, adjustments, messages, not the removed one"
else
    crs_fail "cr_info does not list the sets and queues: $(grep -i 'semaphore\|queue' "$WORK/ci.out" | head -n 8)"
fi
crs_tool "$WORK/cj" cr_info --json "$WORK/ipc.img"
grep -q '"undo": true' "$WORK/cj.out" && grep -q '"qbytes": 4000' "$WORK/cj.out" &&
    crs_pass "cr_info --json has them" || crs_fail "cr_info --json lacks them"
# the sets and queues the original left behind removed, and K's key taken
# by a stranger's set
ipc_rm_of "$PID"
stranger=$(perl -e 'my $id = semget(hex($ARGV[0]), 1, 01600); print defined $id ? $id : ""' "$kkey")
if [ -z "$stranger" ]; then
    crs_fail "taken: cannot make a set under the key $kkey"
else
    st=$(cd "$d" && crs_run "$WORK/r1" "$CRS_TOOLS/cr_restart" "$WORK/ipc.img")
    fails=$(grep '^[0-9]* FAIL ' "$WORK/r1.out" | grep -v ' FAIL K: found by its key')
    if [ "$st" = 1 ] && grep -q "key $kkey .*held by another.*private" "$WORK/r1.err" &&
        grep -q '^[0-9]* FAIL K: found by its key' "$WORK/r1.out" && [ -z "$fails" ]; then
        crs_pass "a key held by another set: private, with a warning; only the lookup of the key fails"
    else
        crs_fail "a key held by another set: status $st, $(head -n 2 "$WORK/r1.err") $fails"
    fi
    ipcrm -s "$stranger"
fi

# as root the restart chooses the ids (kernel.sem_next_id, msg_next_id):
# - the id of the private set P held by another set at restart: P comes back
#   under another id, and the warning says why (before: "this restart may not
#   choose ids ... restart as root", to root)
# - the id it chose lost to another process's semget or msgget in between
#   (REVIVE_FAULT=restore-next-id-lost): made again under it (before: under
#   another id, and the program's calls with the one it kept failed)
# (in the test's own IPC namespace, crs_lib.sh's crs_own_ipc: every object there is its own)
if [ "$(id -u)" = 0 ] && [ "${CRS_OWN_IPC:-}" = 1 ]; then
    ipc_rm_of "$PID"
    pid_set=$(sed -n 's/.*semaphore set id \([0-9]*\), key 0x00000000 (IPC_PRIVATE), mode 640, .*13 semaphores.*/\1/p' "$WORK/ci.out")
    holder=
    [ -n "$pid_set" ] && echo "$pid_set" >/proc/sys/kernel/sem_next_id 2>/dev/null &&
        holder=$(perl -e 'my $id = semget(0, 1, 01600); print defined $id ? $id : ""')
    if [ -z "$pid_set" ] || [ "$holder" != "$pid_set" ]; then
        crs_fail "held: cannot make a set under the id '$pid_set' of the image's set P (got '$holder')"
    else
        # the program, whose calls with the ids it kept would reach other sets (one waits
        # for ever), waits for go.1 after the restart: ended there
        rm -f "$WORK/taken/go.1" "$WORK/taken/go.2"
        crs_launch "$WORK/h1" "$CRS_TOOLS/cr_restart" "$WORK/ipc.img"
        for _ in $(seq 300); do
            grep -q "come.* back under another id" "$WORK/h1.err" 2>/dev/null || [ -e "$WORK/h1.status" ] && break
            sleep 0.1
        done
        [ -e "$WORK/h1.status" ] || crs_kill_test_prog "$PID"
        st=$(crs_wait_status "$WORK/h1")
        if grep -q "semaphore set $pid_set is now [0-9]*.*: another object of this IPC namespace holds the old id" "$WORK/h1.err" &&
            ! grep -q "may not choose" "$WORK/h1.err"; then
            crs_pass "root: an id held by another set at restart: another id, and the warning says why"
        else
            crs_fail "held: $(crs_status_text "$st"), $(head -n 2 "$WORK/h1.err")"
        fi
        ipcrm -s "$holder" 2>/dev/null
        for id in $(awk 'NR > 1 { print $2 }' /proc/sysvipc/sem); do ipcrm -s "$id" 2>/dev/null; done
        for id in $(awk 'NR > 1 { print $2 }' /proc/sysvipc/msg); do ipcrm -q "$id" 2>/dev/null; done
    fi
    if CRS_FLAVOURS="kill twice" CRS_RESTART_ENV=REVIVE_FAULT=restore-next-id-lost \
        bash "$(dirname "$0")/../cr_cycle.sh" crt_sysvipc; then
        crs_pass "root: an id lost to another process between the restart's choice and its semget or msgget: made again under it"
    else
        crs_fail "next-id-lost: the flavours above"
    fi
fi

# a set and a queue another live process uses too: refused in one line
# naming it, no image; the program runs on to its end
for what in sem msg; do
    d=$WORK/outsider-$what
    crs_start_or_end "outsider $what: the program never got ready" "$d" "$CRS_TOOLS/cr_run" "$prog"
    if [ $what = sem ]; then
        key=$(printf '0x5253%04x' $((PID & 0xffff)))
        id=$(awk -v k="$((key))" 'NR > 1 && $1 == k { print $2 }' /proc/sysvipc/sem)
        want="System V semaphore set $id (key $key): process "
        tail="operated on its semaphore 0 last"
        code='l.semop(i, (ctypes.c_short * 3)(0, 0, 0), 1)'   # wait for semaphore 0 to be 0: it is
    else
        key=$(printf '0x5251%04x' $((PID & 0xffff)))
        id=$(awk -v k="$((key))" 'NR > 1 && $1 == k { print $2 }' /proc/sysvipc/msg)
        want="System V message queue $id (key $key): process "
        tail="sent to it last"
        code='(l.msgsnd(i, m, 1, 0) or l.msgrcv(i, m, 8, 6, 0) - 1)'   # one message in, and out again
    fi
    python3 -c "import ctypes, sys, time
l = ctypes.CDLL(None); i = int(sys.argv[1]); m = (ctypes.c_long * 2)(6, 0)
sys.exit(1) if $code != 0 else None
print('done', flush=True); time.sleep(120)" "$id" >"$WORK/outsider.out" 2>&1 &
    holder=$!
    for _ in $(seq 100); do grep -q done "$WORK/outsider.out" && break; kill -0 "$holder" 2>/dev/null || break; sleep 0.1; done
    if grep -q done "$WORK/outsider.out"; then
        crs_tool "$WORK/oc" cr_checkpoint -f "$WORK/outsider.img" "$PID"
        crs_expect_refusal "a $what another process uses too" "$WORK/oc.err" $? "$want"
        grep -q "$tail: .*uses it too" "$WORK/oc.err" || crs_fail "outsider $what: the refusal does not say why"
        [ -e "$WORK/outsider.img" ] && crs_fail "outsider $what: the refused checkpoint left an image"
    else
        crs_fail "outsider $what: python3 could not use $id: $(head -n 2 "$WORK/outsider.out")"
    fi
    kill "$holder" 2>/dev/null
    wait "$holder" 2>/dev/null
    rm -f "$WORK/outsider.img"
    crs_finish "$d" orig ||
        crs_fail "outsider $what: the program after the refusal: $(crs_status_text "$FINISH_STATUS")"
done
crs_summary crs_sysvipc
