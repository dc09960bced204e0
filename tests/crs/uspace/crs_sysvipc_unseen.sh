#!/bin/bash
# State test (issue 10): System V sets and queues used through calls libcr
# does not see (crt_ipcraw). CRT_IPCRAW=msg, a queue made and used only
# through syscall(2): saved and restored as the queues libc's calls name,
# every flavour but busy (the two copies would share its key), plus mutate
# (the queue the killed original left removed before the restart). Before,
# it was not saved: the restart used the killed original's queue while it
# was there (twice: "Q's message 0 after point 1: got -1 bytes ... Invalid
# argument", the first restart had removed it). CRT_IPCRAW=sem, a set used
# only through syscall(2): refused at checkpoint in one line naming the set
# (its SEM_UNDO adjustments cannot be known), the program runs on to its
# end; before, it was not saved and a restart after --kill found the
# killed original's adjustment given back (value 5, expected 3).
# CRT_IPCRAW=exec, a set with a SEM_UNDO adjustment and a queue used
# through libc, then execve: libcr's notes go with the process into the new
# program (the kernel keeps its adjustments), every flavour but busy, plus
# mutate. Before, the new program's libcr knew nothing of them: not saved,
# and after a --kill the adjustment was given back by the original's end.
# Before its execve, a child that used the set runs ls without libcr (no
# LD_PRELOAD): it must not hold libcr's notes (before, it kept the memfd).
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_sysvipc_unseen

# what failed runs and killed programs of this user left: crt_ipcraw's keys 0x525d..., 0x525e...
ipc_leftovers() {
    local id
    for id in $(awk -v u="$(id -u)" 'NR > 1 && $5 == u && int($1 / 65536) == 21086 { print $2 }' /proc/sysvipc/sem); do
        ipcrm -s "$id" 2>/dev/null
    done
    for id in $(awk -v u="$(id -u)" 'NR > 1 && $8 == u && int($1 / 65536) == 21085 { print $2 }' /proc/sysvipc/msg); do
        ipcrm -q "$id" 2>/dev/null
    done
}
crs_at_exit ipc_leftovers
ipc_rm_of() {
    ipcrm -Q "$(printf '0x525d%04x' $(($1 & 0xffff)))" 2>/dev/null
    ipcrm -S "$(printf '0x525e%04x' $(($1 & 0xffff)))" 2>/dev/null
    return 0
}
export -f ipc_rm_of

if CRT_IPCRAW=msg CRS_FLAVOURS="run kill twice nopid rr cont fork stop term compress stdoutfile tty sigdeath mutate" \
    CRS_MUTATE='ipc_rm_of $PID' bash "$(dirname "$0")/../cr_cycle.sh" crt_ipcraw; then
    crs_pass "a queue used through syscall(2) only: every flavour"
else
    crs_fail "a queue used through syscall(2) only: the flavours above"
fi

if CRT_IPCRAW=exec CRS_FLAVOURS="run kill twice nopid rr cont fork stop term compress stdoutfile tty sigdeath mutate" \
    CRS_MUTATE='ipc_rm_of $PID' bash "$(dirname "$0")/../cr_cycle.sh" crt_ipcraw; then
    crs_pass "a set with a SEM_UNDO adjustment and a queue, then execve: every flavour"
else
    crs_fail "a set with a SEM_UNDO adjustment and a queue, then execve: the flavours above"
fi

crs_need_tools cr_run cr_checkpoint
d=$WORK/sem
export CRT_IPCRAW=sem
crs_start_or_end "sem: the program never got ready" "$d" "$CRS_TOOLS/cr_run" "$CRS_BIN/crt_ipcraw"
key=$(printf '0x525e%04x' $((PID & 0xffff)))
id=$(awk -v k="$((key))" 'NR > 1 && $1 == k { print $2 }' /proc/sysvipc/sem)
crs_tool "$WORK/sc" cr_checkpoint --kill -f "$WORK/sem.img" "$PID"
crs_expect_refusal "a set used through syscall(2) only" "$WORK/sc.err" $? "System V semaphore set $id (key $key)"
grep -q "through a call libcr does not see.*SEM_UNDO" "$WORK/sc.err" || crs_fail "sem: the refusal does not say why"
[ -e "$WORK/sem.img" ] && crs_fail "sem: the refused checkpoint left an image"
crs_finish "$d" orig || crs_fail "sem: the program after the refusal: $(crs_status_text "$FINISH_STATUS")"
crs_summary crs_sysvipc_unseen
