#!/bin/bash
# State test (issue 10): System V shared memory (crt_sysv: a private segment
# with a page mprotect'd read-only, a keyed one attached twice, once
# SHM_RDONLY, one marked removed while attached) comes back with its bytes,
# size, mode, key, attach addresses and count, SHM_RDONLY and removed mark;
# as root under its id. Every flavour but busy (the two copies would share
# the keyed segment), plus mutate: the original's segments, which a --kill
# leaves behind (a killed program removes nothing), are removed before the
# restart, which makes them anew (kill: the restart takes the ones left
# behind). cr_info lists them. A key held by another segment at restart:
# the segment comes back private, with a warning naming the key, and only
# the program's lookup of the key and its check of the key fail. A segment
# another process has attached too is refused at checkpoint, naming it.
# Before, cr_checkpoint refused every process attached to a segment.
. "$(dirname "$0")/../crs_lib.sh"
crs_own_ipc "$@"
crs_setup crs_sysv

# sysv_rm_of PID: removes the segments process PID made (cpid)
sysv_rm_of() {
    local id
    for id in $(awk -v p="$1" 'NR > 1 && $5 == p { print $2 }' /proc/sysvipc/shm); do ipcrm -m "$id"; done
}
export -f sysv_rm_of
# what failed runs and killed programs of this user left: crt_sysv's sizes, attached by no one
sysv_leftovers() {
    local id
    for id in $(awk -v u="$(id -u)" 'NR > 1 && $8 == u && $7 == 0 && ($4 == 12388 || $4 == 1048676 || $4 == 65636) { print $2 }' /proc/sysvipc/shm); do
        ipcrm -m "$id" 2>/dev/null
    done
}
crs_at_exit sysv_leftovers

if CRS_FLAVOURS="run kill twice nopid rr cont fork stop term compress stdoutfile tty sigdeath mutate" \
    CRS_MUTATE='sysv_rm_of $PID' bash "$(dirname "$0")/../cr_cycle.sh" crt_sysv; then
    crs_pass "System V shared memory: every flavour"
else
    crs_fail "System V shared memory: the flavours above"
fi

# as root the restart chooses the ids (kernel.shm_next_id): the id it chose
# lost to another process's shmget in between (REVIVE_FAULT=
# restore-next-id-lost): made again under it (before: under another id, and
# the program's calls with the one it kept failed)
if [ "$(id -u)" = 0 ] && [ "${CRS_OWN_IPC:-}" = 1 ]; then
    if CRS_FLAVOURS="kill twice" CRS_RESTART_ENV=REVIVE_FAULT=restore-next-id-lost \
        bash "$(dirname "$0")/../cr_cycle.sh" crt_sysv; then
        crs_pass "root: an id lost to another process between the restart's choice and its shmget: made again under it"
    else
        crs_fail "next-id-lost: the flavours above"
    fi
fi

crs_need_tools cr_run cr_checkpoint cr_restart cr_info
prog=$CRS_BIN/crt_sysv
d=$WORK/taken
crs_start_or_end "taken: the program never got ready" "$d" "$CRS_TOOLS/cr_run" "$prog"
key=$(printf '0x5256%04x' $((PID & 0xffff)))
crs_tool "$WORK/ck" cr_checkpoint --kill -f "$WORK/sysv.img" "$PID" ||
    crs_fail "taken: cr_checkpoint --kill: $(head -n 1 "$WORK/ck.err")"
crs_wait_status "$d/orig" 30 >/dev/null
touch "$d/go.1" "$d/go.2"
crs_tool "$WORK/ci" cr_info "$WORK/sysv.img"
if grep -q "System V shared memory: id [0-9]*, key $key, mode 600$" "$WORK/ci.out" &&
    grep -q "key 0x00000000 (IPC_PRIVATE), mode 640$" "$WORK/ci.out" &&
    grep -q "mode 600, marked removed (IPC_RMID) while attached" "$WORK/ci.out" &&
    grep -q "r--s .*/SYSV.*\[SHM_RDONLY\]" "$WORK/ci.out"; then
    crs_pass "cr_info lists the segments: key, mode, removed mark, the SHM_RDONLY attachment"
else
    crs_fail "cr_info does not list the segments: $(grep -i 'sysv\|System V' "$WORK/ci.out" | head -n 8)"
fi
crs_tool "$WORK/cj" cr_info --json "$WORK/sysv.img"
grep -q '"sysv_removed": true' "$WORK/cj.out" && grep -q '"shm_rdonly": true' "$WORK/cj.out" &&
    crs_pass "cr_info --json has the segments" || crs_fail "cr_info --json lacks the segments"
# the segments the original left behind removed, and its key taken by a
# stranger (IPC_CREAT 01000, mode 0600)
sysv_rm_of "$PID"
stranger=$(perl -e 'my $id = shmget(hex($ARGV[0]), 4096, 01600); print defined $id ? $id : ""' "$key")
if [ -z "$stranger" ]; then
    crs_fail "taken: cannot make a segment under the key $key"
else
    st=$(cd "$d" && crs_run "$WORK/r1" "$CRS_TOOLS/cr_restart" "$WORK/sysv.img")
    fails=$(grep '^[0-9]* FAIL ' "$WORK/r1.out" | grep -v ' FAIL B: found by its key\| FAIL B: attached, its size, mode, key and removed')
    if [ "$st" = 1 ] && grep -q "key $key .*held by another segment.*private" "$WORK/r1.err" &&
        grep -q '^[0-9]* FAIL B: found by its key' "$WORK/r1.out" && [ -z "$fails" ]; then
        crs_pass "a key held by another segment: private, with a warning; only the lookup of the key fails"
    else
        crs_fail "a key held by another segment: status $st, $(head -n 2 "$WORK/r1.err") $fails"
    fi
    ipcrm -m "$stranger"
fi

# a segment another process (outside the checkpoint) has attached too: refused
# in one line naming it, no image; the program runs on to its end
d=$WORK/outsider
crs_start_or_end "outsider: the program never got ready" "$d" "$CRS_TOOLS/cr_run" "$prog"
key=$(printf '0x5256%04x' $((PID & 0xffff)))
id=$(awk -v k="$((key))" 'NR > 1 && $1 == k { print $2 }' /proc/sysvipc/shm)
python3 -c 'import ctypes, sys, time
l = ctypes.CDLL(None); l.shmat.restype = ctypes.c_void_p
sys.exit(1) if l.shmat(int(sys.argv[1]), None, 0) in (None, 2**64 - 1) else None
print("attached", flush=True); time.sleep(120)' "$id" >"$WORK/outsider.out" 2>&1 &
holder=$!
for _ in $(seq 100); do grep -q attached "$WORK/outsider.out" && break; kill -0 "$holder" 2>/dev/null || break; sleep 0.1; done
if grep -q attached "$WORK/outsider.out"; then
    crs_tool "$WORK/oc" cr_checkpoint -f "$WORK/outsider.img" "$PID"
    crs_expect_refusal "a segment another process has attached too" "$WORK/oc.err" $? \
        "System V shared memory segment $id (key $key, at 0x"
    grep -q "attached by another process too" "$WORK/oc.err" || crs_fail "outsider: the refusal does not say why"
    [ -e "$WORK/outsider.img" ] && crs_fail "outsider: the refused checkpoint left an image"
else
    crs_fail "outsider: python3 could not attach segment $id: $(head -n 2 "$WORK/outsider.out")"
fi
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
crs_finish "$d" orig || crs_fail "outsider: the program after the refusal: $(crs_status_text "$FINISH_STATUS")"
crs_summary crs_sysv
