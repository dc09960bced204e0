#!/bin/bash
# State test (issue 10): threads blocked in msgrcv, msgsnd, semop,
# semtimedop (an hour, and 3 s that run out), and semop with SEM_UNDO at
# the checkpoint (crt_ipcwait) end as in the uninterrupted run: with their
# message, their semaphore, EAGAIN for the timeout that runs out; none with
# EINTR, which Linux gives for these calls after any signal handler (the
# checkpoint's park signal is Revive's, not the program's), while a signal
# of the program's still interrupts one. Every flavour but busy (the
# original holds the keys and ids its copy needs). Before, every call but
# the SEM_UNDO semop returned EINTR after the checkpoint, and the SEM_UNDO
# one waited in 20 ms slices. Before point 1, semtimedop's timeout reaches the kernel as given
# (tv_nsec -1: EINVAL; 2^40 s: it waits; before, both an instant EAGAIN: diffrev35 D1).
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_sysvipc_wait

# what failed runs and killed programs of this user left: crt_ipcwait's keys 0x525a..., 0x525b..., 0x525c...
ipc_leftovers() {
    local id
    for id in $(awk -v u="$(id -u)" 'NR > 1 && $5 == u && int($1 / 65536) == 21082 { print $2 }' /proc/sysvipc/sem); do
        ipcrm -s "$id" 2>/dev/null
    done
    for id in $(awk -v u="$(id -u)" 'NR > 1 && $8 == u && (int($1 / 65536) == 21083 || int($1 / 65536) == 21084) { print $2 }' /proc/sysvipc/msg); do
        ipcrm -q "$id" 2>/dev/null
    done
}
crs_at_exit ipc_leftovers

if CRS_FLAVOURS="run kill twice nopid rr cont fork stop term compress stdoutfile tty sigdeath" \
    bash "$(dirname "$0")/../cr_cycle.sh" crt_ipcwait; then
    crs_pass "calls blocked in System V IPC at the checkpoint: every flavour"
else
    crs_fail "calls blocked in System V IPC at the checkpoint: the flavours above"
fi
crs_summary crs_sysvipc_wait
