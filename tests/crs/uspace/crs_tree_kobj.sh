#!/bin/bash
# State test (issue 10 review HIGH-E, HIGH-D): an eventfd, a timerfd, an
# epoll and an inotify that a process and its child hold as one open file
# each (made before the fork: crt_treekobj), checkpointed with --tree. The
# restart makes each once for the tree, from the image of the first member
# that holds it, and puts it at every holder's numbers: the child's write
# reaches the program's eventfd, the expiration, the edge and the inotify
# event the child takes are gone for the program too. Before, each member
# got a copy of its own (the program read the eventfd's old count, the
# timer's expiration, the epoll's events and the inotify's event a second
# time). The epoll's edge-triggered watch whose edge the program took
# before the fork stays consumed (a24b911's settle runs once, in the member
# whose image fills the epoll). Flavours kill (the restart), rr (a
# restarted tree checkpointed again: the objects found shared again) and
# cont (the original runs on untouched); the others test nothing of sharing
# that these do not (crs_tree.sh runs them), so they are left out to keep CI
# short. Compared with the uninterrupted run.
# cr_info lists them as shared kernel objects. A shared inotify holding
# unread events is refused, naming it and its holders, and the program runs
# on untouched (before, the child was handed libcr's IN_IGNORED and the
# program the child's events). A watch the child adds to the shared epoll
# (of its own pipe) is refused naming that case (issue 10; not restored yet).
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_tree_kobj

if CRS_CKPT_SCOPE=--tree CRS_FLAVOURS="kill rr cont" \
    bash "$(dirname "$0")/../cr_cycle.sh" crt_treekobj; then
    crs_pass "an eventfd, a timerfd and an epoll two members of a tree share: kill, rr, cont"
else
    crs_fail "an eventfd, a timerfd and an epoll two members of a tree share: kill, rr, cont"
fi

# cr_info lists them as shared, with their holders
crs_need_tools cr_run cr_checkpoint cr_info
d=$WORK/info
crs_start_or_end "info: the program never got ready" "$d" "$CRS_TOOLS/cr_run" "$CRS_BIN/crt_treekobj"
crs_tool "$WORK/ck" cr_checkpoint --tree -f "$WORK/tree.img" "$PID"
if [ $? = 0 ]; then
    crs_tool "$WORK/info" cr_info "$WORK/tree.img"
    for what in '[eventfd]' '[timerfd]' '[eventpoll]' 'inotify'; do
        if grep -qF "kernel object anon_inode:$what, recorded in the image of pid $PID " "$WORK/info.out" &&
            grep -q "kernel object anon_inode:${what//[/\\[}, recorded in the image of pid $PID .*: pid $PID fd [0-9]* pid [0-9]* fd " \
            "$WORK/info.out"; then
            crs_pass "cr_info lists the $what both hold as one shared kernel object"
        else
            crs_fail "cr_info does not list the $what as shared: $(grep -i 'shared\|kernel' "$WORK/info.out" | head -n 5)"
        fi
    done
    crs_tool "$WORK/json" cr_info --json "$WORK/tree.img" &&
        python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))
k=[g for g in t["shared"] if g["kind"] == "kernel object"]
assert len(k) == 4 and all(len(g["holders"]) == 2 for g in k), k' "$WORK/json.out" &&
        crs_pass "cr_info --json: 4 kernel objects, 2 holders each" ||
        crs_fail "cr_info --json does not list the 4 kernel objects with their 2 holders"
else
    crs_fail "cr_checkpoint --tree: $(head -n 2 "$WORK/ck.err")"
fi
crs_finish "$d" orig || crs_fail "info: the program after the checkpoint: $(crs_status_text "$FINISH_STATUS")"

# refused KIND WHAT TEXT: crt_treekobj with CRT_TREEKOBJ=KIND (in $WORK/KIND), whose
# "cr_checkpoint --tree" is refused in one line (WHAT) holding TEXT, with @PID@ in it the
# program's pid; the message is in $WORK/KIND.ck.err; no file is left. The program waits at
# point 1 until ran_on.
refused() {
    local kind=$1 d=$WORK/$1
    CRT_TREEKOBJ=$kind crs_start_or_end "$kind: the program never got ready" "$d" "$CRS_TOOLS/cr_run" \
        "$CRS_BIN/crt_treekobj"
    crs_tool "$WORK/$kind.ck" cr_checkpoint --tree -f "$WORK/$kind.img" "$PID"
    crs_expect_refusal "$2" "$WORK/$kind.ck.err" $? "${3//@PID@/$PID}"
    [ -e "$WORK/$kind.img" ] && crs_fail "$kind: the refused checkpoint left a file"
}
# ran_on KIND WHAT: the program of `refused KIND` runs on to its end (WHAT: what that shows)
ran_on() {
    crs_finish "$WORK/$1" orig && crs_pass "$1: $2" || crs_fail "$1: the program after the refusal:" \
        "$(crs_status_text "$FINISH_STATUS"): $(grep FAIL "$WORK/$1/orig.out")"
}

# a shared inotify with an unread event: refused in one line naming it and
# both holders, no file; the program and its child then read exactly their
# events (nothing of libcr's, none taken from the other)
refused unread "--tree: an inotify both members hold, with an unread event" \
    "an inotify shared by members of the tree (process @PID@ 'crt_treekobj' at descriptor "
grep -q "holds [0-9]* bytes of unread events" "$WORK/unread.ck.err" || crs_fail "unread: the refusal does not say why"
ran_on unread "the program and its child read their own events after the refusal"
# a watch the child added to the epoll shared across fork, of a pipe of its own (issue 10):
# not restorable yet; refused in one line that names that case (before, the message said the
# process had closed the descriptor), no file; the program runs on
refused childwatch "--tree: a watch the child added to the shared epoll" \
    "or another process's that shares the epoll (a child that added the watch after fork"
ran_on childwatch "the program and its child run on after the refusal"
crs_summary crs_tree_kobj
