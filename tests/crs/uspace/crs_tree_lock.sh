#!/bin/sh
# State test (newuser10 F2): fcntl (POSIX) locks of a process tree's members on
# an open file they share (inherited at fork), and a member blocked in F_SETLKW
# on the locked range at the checkpoint (crt_treelock), checkpointed with
# --tree: after the restart the program's lock and its child's are held again,
# under their pids; the blocked child still waits until the program lets go.
# Before, the restart took the program's lock and then closed the tree's copy
# of the shared open file in that process (closing any descriptor of a file
# releases the process's fcntl locks on it): no lock held after the restart,
# the waiter got the lock at once. Flavours: every one where a tree applies
# but busy (its copy cannot take the locks the original holds: locks_busy.sh)
# and nopid (a tree comes back only under its pids).
CRS_CKPT_SCOPE=--tree CRS_FLAVOURS="kill twice rr cont fork stop term" \
    exec bash "$(dirname "$0")/../cr_cycle.sh" crt_treelock
