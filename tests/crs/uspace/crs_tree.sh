#!/bin/bash
# State test: process trees (issue 10, points 1 and 2), checkpointed with
# cr_checkpoint --tree and restarted whole: crt_tree's kinds (running children
# answering over pipes, with bytes left in a pipe between members; zombies
# and the statuses waitpid gives for them; one open file and its offset
# shared by parent and child, also of a file deleted while open (one file
# made again with its bytes); a file deleted while open that the program
# maps and holds, a child holds and another maps, each child writing to it
# after the checkpoint; a POSIX named semaphore the program and its child
# share (sem_open, unlinked, as Python's multiprocessing), posted by the
# child after the checkpoint; System V shared memory they share (a segment
# attached before the fork and removed, a keyed one each attaches); memory
# parent and child share, mapped
# MAP_SHARED|MAP_ANONYMOUS before the fork, or a /dev/shm object (busy: the
# restart beside the running original gives the tree a /dev/shm of its own,
# newuser10 M5: refused before; mutate: the object removed before the restart, which brings it
# back), and a memfd both hold open and
# map in parts (its bytes no one maps, its seals, the offset they share),
# each writing after the checkpoint what the other must see; a setsid daemon with a child in its session;
# process groups led by members; descriptors on members' /proc entries,
# one on a sibling made after the holder at a restart; pipes whose other end
# is closed everywhere, the popen pattern once the child has ended: the
# bytes, then end of file, to the two members sharing the read end; a
# session leader whose session and group id an orphan that left the tree
# still holds: as root the restart takes a pid namespace) through the
# flavours of cr_cycle.sh that can show something of that kind, each
# compared with an uninterrupted run. Which flavours: every one for
# children, the plain tree. The kinds that share a resource between members
# (sharedfd deleted deletedmap sem shm devshm memfd sysv sysvipc procfd) are about
# what the image holds and what the original keeps: kill, twice, rr, cont,
# fork and busy; run (no checkpoint), stop and term (which signal the
# original gets), compress (the image's bytes), stdoutfile, tty (the
# standard streams) and sigdeath (cr_restart's status) do the same for
# them as for children (they ran 7 of the 13 flavours for 9 kinds: a third
# of the test's 5 1/2 minutes in CI). The kinds that are a shape of the tree
# (zombie daemon pgrp widow sidheld, and the group and session scopes) keep
# every flavour that signals or waits for members (stop, term, sigdeath,
# busy) and tty (sessions and a terminal), and leave out run, compress and
# stdoutfile. Left out besides: nopid (a tree comes back only
# under its pids: refused, checked below), busy for sharedfd, sysv and
# sysvipc (both copies would write one file, find one keyed segment; the
# original holds the ids of the sets and queues its copy needs), tty for pgrp (under script(1) the program leads the
# terminal's session and cannot make a group of its own). The same children
# in a process group and in a session the program leads, checkpointed with
# --pgid and --sid.
. "$(dirname "$0")/../crs_lib.sh"
crs_own_ipc "$@"
crs_setup crs_tree
all="run kill twice rr cont fork stop term compress stdoutfile tty sigdeath busy"
shape="kill twice rr cont fork stop term tty sigdeath busy"
shared="kill twice rr cont fork busy"
for mode in children zombie sharedfd deleted deletedmap sem shm devshm memfd sysv sysvipc daemon pgrp procfd widow sidheld; do
    case $mode in
        children) fl=$all ;;
        zombie | daemon | pgrp | widow | sidheld) fl=$shape ;;
        *) fl=$shared ;;
    esac
    [ "$mode" = sharedfd ] && fl=${fl% busy}
    [ "$mode" = sysv ] && fl=${fl% busy}   # both copies would find one keyed segment
    [ "$mode" = sysvipc ] && fl=${fl% busy}   # the original holds the ids its copy needs
    # /dev/shm emptied before the restart (issue 10, point 7); busy: a /dev/shm of the tree's own,
    # in a mount namespace (as a user in its user namespace: tree_devshm_user.sh)
    [ "$mode" = devshm ] && fl="$fl mutate"
    [ "$mode" = pgrp ] && fl=${fl/ tty/}
    if CRT_TREE=$mode CRS_CKPT_SCOPE=--tree CRS_FLAVOURS=$fl CRS_MUTATE='rm -f /dev/shm/crt_tree.$PID' bash "$(dirname "$0")/../cr_cycle.sh" crt_tree; then
        crs_pass "$mode: its flavours"
    else
        crs_fail "$mode: the flavours above"
    fi
done

# the other scopes: a process group, a session the program leads (the
# flavours of a shape but tty: under script(1) it already leads the terminal's session)
for scope in group:--pgid session:--sid; do
    mode=${scope%%:*}
    if CRT_TREE=$mode CRS_CKPT_SCOPE=${scope#*:} CRS_FLAVOURS="${shape/ tty/}" \
        bash "$(dirname "$0")/../cr_cycle.sh" crt_tree; then
        crs_pass "$mode, cr_checkpoint ${scope#*:}: its flavours"
    else
        crs_fail "$mode, cr_checkpoint ${scope#*:}: the flavours above"
    fi
done

# --no-restore-pid with a tree: refused in one line, nothing left running; its file cut short:
# the advice for a tree (below)
crs_need_tools cr_run cr_checkpoint cr_restart cr_info
d=$WORK/nopid
CRT_TREE=children crs_start_or_end "nopid: the program never got ready" "$d" "$CRS_TOOLS/cr_run" "$CRS_BIN/crt_tree"
crs_tool "$WORK/ck" cr_checkpoint --tree --kill -f "$WORK/ck.img" "$PID" ||
    crs_fail "nopid: cr_checkpoint --tree --kill: $(head -n 1 "$WORK/ck.err")"
crs_wait_status "$d/orig" 30 >/dev/null
crs_tool "$WORK/np" cr_restart --no-restore-pid "$WORK/ck.img"
crs_expect_refusal "cr_restart --no-restore-pid of a tree" "$WORK/np.err" $? "--no-restore-pid"
[ -e "/proc/$PID" ] && grep -q crt_tree "/proc/$PID/cmdline" 2>/dev/null &&
    crs_fail "the refused restart left process $PID running"
# the same tree's file damaged (8 bytes flipped in the middle: a member's chunk) and cut short
# (the table names more than is there): one line naming what is wrong and cr_restart's way on for
# a tree, not the image reader's "use an earlier checkpoint" (nor nothing, for the table)
# Bytes between member images are under no checksum: the flip must land where cr_info --verify
# sees it, or the restart would succeed and wait on its go files instead of being refused.
sz=$(stat -c %s "$WORK/ck.img")
flip=
for at in $((sz / 2)) $((sz / 3)) $((sz * 2 / 3)) $((sz / 5)) $((sz * 4 / 5)); do
    "$REVIVE_BUILDDIR/tests/crs/base/crt_imgtool" flipcopy "$WORK/ck.img" "$WORK/bad.img" "$at"
    "$CRS_TOOLS/cr_info" --verify "$WORK/bad.img" >/dev/null 2>&1 || { flip=$at; break; }
done
# also its table damaged (a byte of the first member's entry: checksum mismatch) and the file cut
# inside its header: cr_restart gives the advice by crs_tree_read's code (-EBADMSG), not by
# matching its words (review diffrev23 L8; the header cut was "not a process tree file" before)
cases="short:$((sz * 3 / 4)) table:100 header:40"
if [ -n "$flip" ]; then
    cases="flipped:$flip $cases"
else
    crs_fail "no flipped offset of the tree's file made cr_info --verify fail"
fi
for c in $cases; do
    if [ "${c%%:*}" = flipped ] || [ "${c%%:*}" = table ]; then
        "$REVIVE_BUILDDIR/tests/crs/base/crt_imgtool" flipcopy "$WORK/ck.img" "$WORK/bad.img" "${c#*:}"
    else
        head -c "${c#*:}" "$WORK/ck.img" >"$WORK/bad.img"
    fi
    crs_tool "$WORK/bad" cr_restart "$WORK/bad.img"
    crs_expect_refusal "cr_restart of a tree's file ${c%%:*}" "$WORK/bad.err" $? \
        "; restart an earlier checkpoint of the process tree instead (cr_info --verify FILE checks one first)"
    grep -q "use an earlier checkpoint" "$WORK/bad.err" &&
        crs_fail "cr_restart of a tree's file ${c%%:*}: the generic advice"
    case ${c%%:*} in
        table) grep -q "table is damaged" "$WORK/bad.err" || crs_fail "table: not named damaged: $(head -c 300 "$WORK/bad.err")" ;;
        header) grep -q "is cut short (40 bytes, less than its header)" "$WORK/bad.err" ||
            crs_fail "header: not named cut short: $(head -c 300 "$WORK/bad.err")" ;;
    esac
done
[ -e "/proc/$PID" ] && grep -q crt_tree "/proc/$PID/cmdline" 2>/dev/null &&
    crs_fail "the failed restarts left process $PID running"
crs_summary crs_tree
