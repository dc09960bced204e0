#!/bin/sh
# cr_restart's last step needs memory of its own (the switch plan, the vdso's spare room) that
# no region moves onto. When the kernel keeps offering room inside one large destination, each
# refused offer moves the next one down by a little only, and the tries ran out (fresh-clone
# CI at da6ba11, e2e_chain-mpich: "cannot allocate the restore plan"); the room is then taken
# right after or right before a destination. Forced here: every region goes aside
# (restore-aside, so that its destination is free to be offered) and every offer is a place
# inside a destination (restore-plan-inside): the restart can only complete through that
# fallback, and crt_ids must run on to the uninterrupted result, restarted twice.
CRS_FLAVOURS="kill rr" CRS_RESTART_ENV=REVIVE_FAULT=restore-aside,restore-plan-inside \
    exec bash "$(dirname "$0")/../cr_cycle.sh" crt_ids
