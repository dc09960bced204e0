#!/bin/bash
# State test (issue 10 review MEDIUM-4): socket pairs (stream, datagram,
# seqpacket) whose ends a process and its child hold (socketpair then fork,
# as Python's multiprocessing.Pipe: crt_treesock), each end holding unread
# data (the datagram and seqpacket ends an empty message between two
# others: issue 10, the checkpoint lost what followed it), checkpointed with --tree. The restart makes each pair once, gives
# each end back what it had to read (messages with their bounds), and puts
# the ends at their holders' numbers. Before, the checkpoint was refused ("a
# socket between two members is not supported under --tree yet").
# Flavours kill, rr (a restarted tree checkpointed again) and cont (the
# original's queues untouched); the others test nothing of the pairs that
# these do not, so they are left out to keep CI short. Compared with the
# uninterrupted run. cr_info lists the pairs' ends as shared, with what
# they hold.
# Part outside (issue 10): the child's end of the stream pair held too by a
# process outside the tree ('sleep', its grandparent's forked copy that left
# the tree): refused, naming that process and its descriptor (before: taken,
# the pair made again at restart for the members only, that process cut off
# from them with no word). ~2 s.
# Part shared (issue 10): one socket (an unnamed Unix datagram socket) that
# the program and its child hold, held too by such an outside process:
# refused naming that process and its descriptor besides the members (before:
# the members only, the user left to find the third holder). ~2 s.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_tree_sock

if CRS_CKPT_SCOPE=--tree CRS_FLAVOURS="kill rr cont" \
    bash "$(dirname "$0")/../cr_cycle.sh" crt_treesock; then
    crs_pass "socket pairs between two members of a tree: kill, rr, cont"
else
    crs_fail "socket pairs between two members of a tree: kill, rr, cont"
fi

crs_need_tools cr_run cr_checkpoint cr_info
d=$WORK/info
crs_start_or_end "info: the program never got ready" "$d" "$CRS_TOOLS/cr_run" "$CRS_BIN/crt_treesock"
crs_tool "$WORK/ck" cr_checkpoint --tree -f "$WORK/tree.img" "$PID"
if [ $? = 0 ]; then
    crs_tool "$WORK/info" cr_info "$WORK/tree.img"
    grep -q "socket pair end stream of pair [0-9]* (end [01]), holding 3000 bytes: pid [0-9]* fd " "$WORK/info.out" &&
        crs_pass "cr_info lists the stream pair's end holding 3000 bytes" ||
        crs_fail "cr_info does not list the stream pair's end holding 3000 bytes: $(grep 'socket' "$WORK/info.out")"
    crs_tool "$WORK/json" cr_info --json "$WORK/tree.img" &&
        python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))
k=[g for g in t["shared"] if g["kind"] == "socket pair end"]
assert len(k) == 6 and sorted(g["type"] for g in k) == ["datagram"] * 2 + ["seqpacket"] * 2 + ["stream"] * 2, k' \
            "$WORK/json.out" &&
        crs_pass "cr_info --json: 6 socket pair ends, two of each type" ||
        crs_fail "cr_info --json does not list the 6 socket pair ends"
else
    crs_fail "cr_checkpoint --tree: $(head -n 2 "$WORK/ck.err")"
fi
crs_finish "$d" orig || crs_fail "info: the program after the checkpoint: $(crs_status_text "$FINISH_STATUS")"

# a socket the members hold, held by a process outside the tree too (crt_treesock MODE: outside, shared):
# refused, the message naming that process and its descriptor (want: the text after them)
outside_part() {
    local mode=$1 what=$2 want=$3 d=$WORK/$1 spid sfd f
    crs_start_or_end "$mode: the program never got ready" "$d" "$CRS_TOOLS/cr_run" "$CRS_BIN/crt_treesock" "$mode"
    spid=$(cat "$d/crt_treesock.outside" 2>/dev/null)
    if [ -n "$spid" ]; then
        crs_at_exit "kill $spid 2>/dev/null"
        # until it holds the socket as sleep (before its exec its name is the program's)
        for _ in $(seq 200); do
            [ "$(cat /proc/$spid/comm 2>/dev/null)" = sleep ] && ls -l /proc/$spid/fd 2>/dev/null | grep -q 'socket:' &&
                break
            crs_nap 0.05
        done
        sfd=
        for f in /proc/$spid/fd/*; do [[ "$(readlink "$f" 2>/dev/null)" = socket:* ]] && sfd=${f##*/}; done
        crs_tool "$WORK/${mode}ck" cr_checkpoint --tree -f "$WORK/$mode.img" "$PID"
        crs_expect_refusal "$mode: $what, held outside the tree too, refused naming it" \
            "$WORK/${mode}ck.err" $? "held too by process $spid 'sleep' (its descriptor $sfd), $want"
        kill "$spid" 2>/dev/null
        # gone, or a zombie its reaper has not reaped yet: its descriptors are closed either way
        for _ in $(seq 200); do ls -l "/proc/$spid/fd" 2>/dev/null | grep -q 'socket:' || break; crs_nap 0.05; done
    else
        crs_fail "$mode: the program did not say which process holds the socket outside the tree"
    fi
    crs_finish "$d" orig || crs_fail "$mode: the program after the refusal: $(crs_status_text "$FINISH_STATUS")"
}
outside_part outside "a socket pair's end the members share" "which is not among the"
outside_part shared "a socket two members hold" \
    "which is not among the processes being checkpointed: a socket shared by members is not supported"

crs_summary crs_tree_sock
