#!/bin/bash
# State test: pidfds (issue 10), crt_pidfd's kinds through the flavours of
# cr_cycle.sh, each compared with an uninterrupted run: a process's pidfds of
# itself (blocking and PIDFD_NONBLOCK) name the restarted process, under
# another pid too (nopid); every flavour for it. The other kinds take the
# flavours where what a pidfd names can differ: kill, twice, nopid (one
# process; a tree refuses it), rr, cont, fork and busy (another pid
# namespace); run (no checkpoint), stop and term (the original's end),
# compress (the image's bytes), stdoutfile and tty (fds 0-2) and sigdeath
# (cr_restart's status) are the same for a pidfd as in self (they were 35
# of the test's 87 flavour runs). In a tree (cr_checkpoint --tree) pidfds of a running child (pidfd_open,
# watched by an epoll), of one made by clone3 CLONE_PIDFD (non-blocking),
# of a zombie, and a child's of its parent and itself: poll, epoll, waitid
# (the zombie's status), pidfd_send_signal work on them after the restart.
# pidfds of processes that ended and were waited for (one process, and a
# tree whose parent reaps a zombie a sibling names, also with that sibling's
# pidfds opened late) say so after the restart as before it.
# A pidfd of a process outside the checkpoint is refused in one line naming
# that process, without a scope and with --tree; a pidfd of the program's
# own thread (PIDFD_THREAD) comes back naming that thread;
# one of another member's thread is refused naming it.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_pidfd
# cycle WHAT [VAR=VALUE...]: crt_pidfd through cr_cycle.sh's flavours with these settings (CRT_PIDFD
# its kind; CRS_FLAVOURS, CRS_CKPT_SCOPE...), each compared with an uninterrupted run: PASS "WHAT:
# its flavours", or FAIL naming WHAT after the flavours' own lines
cycle() {
    local what=$1
    shift
    if env "$@" bash "$(dirname "$0")/../cr_cycle.sh" crt_pidfd; then
        crs_pass "$what: its flavours"
    else
        crs_fail "$what: the flavours above"
    fi
}
cycle self CRT_PIDFD=self
one="kill twice nopid rr cont fork busy"
tree="kill twice rr cont fork busy"
cycle tree CRT_PIDFD=tree CRS_CKPT_SCOPE=--tree CRS_FLAVOURS="$tree"

# pidfds of processes that had ended and been waited for (ended: one
# process; reap: a tree whose parent reaps, right after the restart, a
# zombie a sibling holds a pidfd of); with restore-pidfd-late the member
# holding pidfds opens them 1 s late: its parent must not have run meanwhile
cycle ended CRT_PIDFD=ended CRS_FLAVOURS="$one"
cycle reap CRT_PIDFD=reap CRS_CKPT_SCOPE=--tree CRS_FLAVOURS="$tree"
cycle "reap, pidfds opened late, parent first (kill, rr, busy)" CRT_PIDFD=reap CRS_CKPT_SCOPE=--tree \
    CRS_FLAVOURS="kill rr busy" CRS_RESTART_ENV=REVIVE_FAULT=restore-pidfd-late

# a pidfd of the program's parent (the test's shell): refused, naming it
crs_need_tools cr_run cr_checkpoint cr_info
d=$WORK/out
CRT_PIDFD=out crs_start_or_end "out: the program never got ready" "$d" "$CRS_TOOLS/cr_run" "$CRS_BIN/crt_pidfd"
parent=$(awk '{print $4}' "/proc/$PID/stat")
crs_tool "$WORK/plain" cr_checkpoint -f "$WORK/plain.img" "$PID"
crs_expect_refusal "a pidfd of a process outside the checkpoint" "$WORK/plain.err" $? "pidfd of process $parent"
crs_tool "$WORK/tree" cr_checkpoint --tree -f "$WORK/tree.img" "$PID"
crs_expect_refusal "--tree: a pidfd of a process outside the tree" "$WORK/tree.err" $? "pidfd of process $parent"
[ -e "$WORK/plain.img" ] || [ -e "$WORK/tree.img" ] && crs_fail "a refused checkpoint left an image"
crs_finish "$d" orig || crs_fail "out: the program after the refusals: $(crs_status_text "$FINISH_STATUS")"

# a pidfd of the program's own thread (PIDFD_THREAD, Linux 6.9), a dup and
# an epoll watching it (nopid: the thread comes back under a new id, which
# the pidfd names), also as a tree's member
cycle ownthread CRT_PIDFD=ownthread CRS_FLAVOURS="$one"
cycle "ownthread --tree" CRT_PIDFD=ownthread CRS_CKPT_SCOPE=--tree CRS_FLAVOURS="$tree"

# a pidfd of another member's thread (the child's of its parent's second
# thread, --tree): refused naming the thread
for kind in threadtree; do
    d=$WORK/$kind
    CRT_PIDFD=$kind crs_start "$d" orig "$CRS_TOOLS/cr_run" "$CRS_BIN/crt_pidfd" || {
        crs_fail "$kind: the program never got ready"
        continue
    }
    if grep -q 'no PIDFD_THREAD' "$d/orig.out"; then
        crs_note "$kind: skipped, this kernel has no PIDFD_THREAD"
        crs_finish "$d" orig
        continue
    fi
    scope=
    [ $kind = threadtree ] && scope=--tree
    crs_tool "$WORK/$kind" cr_checkpoint $scope -f "$WORK/$kind.img" "$PID"
    crs_expect_refusal "$kind: a pidfd of a thread" "$WORK/$kind.err" $? "a pidfd of thread"
    [ -e "$WORK/$kind.img" ] && crs_fail "$kind: a refused checkpoint left an image"
    crs_finish "$d" orig || crs_fail "$kind: the program after the refusal: $(crs_status_text "$FINISH_STATUS")"
done

# cr_info names the process a pidfd names
d=$WORK/info
CRT_PIDFD=self crs_start_or_end "info: the program never got ready" "$d" "$CRS_TOOLS/cr_run" "$CRS_BIN/crt_pidfd"
crs_tool "$WORK/ck" cr_checkpoint --cont -f "$WORK/ck.img" "$PID" ||
    crs_fail "cr_checkpoint --cont: $(head -n 1 "$WORK/ck.err")"
crs_finish "$d" orig || crs_fail "info: the program after cr_checkpoint --cont: $(crs_status_text "$FINISH_STATUS")"
if crs_tool "$WORK/i" cr_info "$WORK/ck.img" && [ "$(grep -c "pidfd .* of process $PID " "$WORK/i.out")" = 2 ]; then
    crs_pass "cr_info lists both pidfds with the process they name"
else
    crs_fail "cr_info does not list the pidfds"
    grep -A8 '^fds' "$WORK/i.out" | sed 's/^/   | /'
fi
crs_summary crs_pidfd
