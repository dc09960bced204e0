#!/bin/sh
# Regions that collide with cr_restart's own memory are mapped aside and moved
# into place at the last step. Collisions are rare by design, so the test
# sends every region that way (REVIVE_FAULT=restore-aside for cr_restart
# only) and checks that crt_ids runs on to the uninterrupted result after a
# restart and after a restart of a restart; crt_sysv too (System V segments
# attached aside and moved: an attachment cut in three by mprotect must stay
# one shmdt, the attach counts as in the uninterrupted run).
CRS_FLAVOURS="kill rr" CRS_RESTART_ENV=REVIVE_FAULT=restore-aside \
    bash "$(dirname "$0")/../cr_cycle.sh" crt_ids || exit 1
CRS_FLAVOURS="kill rr" CRS_RESTART_ENV=REVIVE_FAULT=restore-aside \
    exec bash "$(dirname "$0")/../cr_cycle.sh" crt_sysv
