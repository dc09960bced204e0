#!/bin/bash
# State test (issue 10): FIFOs (named pipes) a process and its child share,
# checkpointed with --tree (crt_treefifo.c): one the program reads and the
# child writes (opened by each), one opened read-write before the fork, one
# read by both that no writer has opened yet. The tree's restart makes each
# FIFO once at its path, with its bytes once, and gives every member its
# descriptors of it; the waiting reader sees no hang-up (review diffrev22
# HIGH: before, it saw hang-up for ever, and a polling server spun). Before
# the tree FIFO groups, the checkpoint was refused, naming the child as a
# process outside the tree. Flavours kill, rr and cont (crs_tree.sh runs the
# others for trees). cr_info lists them. Then:
# - jobserver (review diffrev22 M1): both members inherited descriptor 5 on
#   their launcher's FIFO (make's job server), which this shell holds too:
#   no tree group; --kill, and the restart (its launcher holding the FIFO at
#   5) ends as the uninterrupted run, each member taking a token from the
#   launcher's FIFO (before: the restart was refused, the FIFO being open in
#   this shell);
# - many (review diffrev22 L1): both members hold 1030 more descriptors on
#   the read-write FIFO, more than the 1020 a member can be told about: the
#   checkpoint is refused naming the limit (before: taken, the FIFO's bytes
#   in each member's image too);
# - outside, make44 (review diffrev23 M1): a FIFO the members opened by path
#   themselves, held by a process outside the tree too, is refused naming
#   that process (see there).
# ~30-60 s.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_tree_fifo

if CRS_CKPT_SCOPE=--tree CRS_FLAVOURS="kill rr cont" \
    bash "$(dirname "$0")/../cr_cycle.sh" crt_treefifo; then
    crs_pass "two FIFOs two members of a tree share: kill, rr, cont"
else
    crs_fail "two FIFOs two members of a tree share: kill, rr, cont"
fi
# cr_info lists each FIFO's open files as shared, the bytes once
crs_need_tools cr_run cr_checkpoint cr_info
d=$WORK/info
crs_start_or_end "info: the program never got ready" "$d" "$CRS_TOOLS/cr_run" "$CRS_BIN/crt_treefifo"
crs_tool "$WORK/ck" cr_checkpoint --tree -f "$WORK/tree.img" "$PID"
if [ $? = 0 ] && crs_tool "$WORK/info" cr_info "$WORK/tree.img"; then
    grep -q "FIFO $d/tree.rw (inode [0-9]*, opened read-write), holding 500 bytes: pid $PID fd [0-9]* pid [0-9]* fd " \
        "$WORK/info.out" && grep -q "FIFO $d/tree.fifo (inode [0-9]*, opened to read), holding 1000 bytes: pid $PID " \
        "$WORK/info.out" && grep -q "FIFO $d/tree.fifo (inode [0-9]*, opened to write): pid " "$WORK/info.out" &&
        grep -q "FIFO $d/tree.wait (inode [0-9]*, opened to read, no writer yet): pid $PID fd [0-9]* pid [0-9]* fd " \
            "$WORK/info.out" &&
        crs_pass "cr_info lists the FIFOs' open files, each FIFO's bytes once" ||
        crs_fail "cr_info does not list the FIFOs: $(grep FIFO "$WORK/info.out" | head -n 4)"
else
    crs_fail "cr_checkpoint --tree or cr_info: $(head -n 2 "$WORK/ck.err" "$WORK/info.err")"
fi
crs_finish "$d" orig || crs_fail "info: the program after the checkpoint: $(crs_status_text "$FINISH_STATUS")"

# jobserver: the launcher's FIFO (two tokens), held by this shell throughout
crs_need_tools cr_restart
mkfifo "$WORK/jobserver" || crs_fail "jobserver: mkfifo"
exec 7<>"$WORK/jobserver"
printf ab >&7
launcher=(bash -c 'exec 5<>"$1" && exec "${@:2}"' launcher "$WORK/jobserver")
r=$WORK/jref
crs_uninterrupted "$r" ref "${launcher[@]}" "$CRS_BIN/crt_treefifo" jobserver >/dev/null
crs_after_point 1 "$r/ref.out" >"$WORK/jref.after1"
d=$WORK/jobs
crs_start_or_end "jobserver: the program never got ready" "$d" "${launcher[@]}" "$CRS_TOOLS/cr_run" \
    "$CRS_BIN/crt_treefifo" jobserver
crs_tool "$WORK/jck" cr_checkpoint --tree --kill -f "$WORK/jobs.img" "$PID"
st=$?
if [ "$st" = 0 ]; then
    crs_wait_status "$d/orig" 30 >/dev/null
    touch "$d/go.1" "$d/go.2"
    rm -f "$d"/ready.*
    st=$(cd "$d" && crs_run "$WORK/jr" "${launcher[@]}" "$CRS_TOOLS/cr_restart" "$WORK/jobs.img")
    crs_expect_run "jobserver: the members' inherited FIFO is their launcher's again after the restart" \
        "$WORK/jref.after1" "$WORK/jr" "$st"
else
    crs_fail "jobserver: cr_checkpoint --tree --kill: $(crs_status_text "$st"): $(head -n 1 "$WORK/jck.err")"
    crs_finish "$d" orig || true
fi
exec 7<&-

# outside (review diffrev23 M1): tree.fifo, its reader the program's and its
# writer the child's (each opened by its path), held by a process outside
# the tree too: refused, naming that process (before: the refusal named the
# other member as "not among the processes being checkpointed")
d=$WORK/outside
crs_start_or_end "outside: the program never got ready" "$d" "$CRS_TOOLS/cr_run" "$CRS_BIN/crt_treefifo"
sleep 100 <>"$d/tree.fifo" &
spid=$!
crs_at_exit "kill $spid 2>/dev/null"
# the child opens the FIFO, then execs sleep: scanned before either, the
# checkpoint finds no outside holder or names 'bash' (diffrev24 T-M1)
crs_wait_holder() {   # PID COMM PATH
    local i
    for i in $(seq 200); do
        [ "$(cat /proc/$1/comm 2>/dev/null)" = "$2" ] && ls -l /proc/$1/fd 2>/dev/null | grep -qF "$3" && return 0
        crs_nap 0.05
    done
    crs_fail "process $1 never held $3 as $2"
}
crs_wait_holder "$spid" sleep "$d/tree.fifo"
crs_tool "$WORK/ock" cr_checkpoint --tree -f "$WORK/outside.img" "$PID"
crs_expect_refusal "outside: a FIFO the members opened by path, held outside the tree too, refused naming that process" \
    "$WORK/ock.err" $? "process $spid 'sleep', which is not among the processes being checkpointed"
kill "$spid" 2>/dev/null
wait "$spid" 2>/dev/null
crs_finish "$d" orig || crs_fail "outside: the program after the refusal: $(crs_status_text "$FINISH_STATUS")"

# make44 (review diffrev23 M1): GNU make >= 4.4's job server
# (--jobserver-auth=fifo:PATH): the members each open the FIFO read-write by
# its path; "make", outside the tree, holds it with two tokens. Refused,
# naming make (before: taken, each member's image holding the tokens, which
# a restart gave back once per member). The FIFO's path is over 256 bytes
# (before, the search for a holder outside the tree missed such a path, and
# the tree made the FIFO a group of its own at the restart).
long=$WORK/$(printf 'j%.0s' {1..150})/$(printf 'k%.0s' {1..150})
mkdir -p "$long" && mkfifo "$long/jobserver.fifo" && cp "$(command -v sleep)" "$WORK/make" ||
    crs_fail "make44: the job server's FIFO"
exec 8<>"$long/jobserver.fifo"
printf ab >&8
"$WORK/make" 100 <&8 8<&- &
mpid=$!
crs_at_exit "kill $mpid 2>/dev/null"
exec 8<&-
crs_wait_holder "$mpid" make "$long/jobserver.fifo"
d=$WORK/make44
crs_start_or_end "make44: the program never got ready" "$d" "$CRS_TOOLS/cr_run" "$CRS_BIN/crt_treefifo" make44 \
    "$long/jobserver.fifo"
crs_tool "$WORK/mkck" cr_checkpoint --tree -f "$WORK/make44.img" "$PID"
crs_expect_refusal "make44: make's fifo job server the members opened by path, refused naming make" \
    "$WORK/mkck.err" $? "process $mpid 'make', which is not among the processes being checkpointed"
crs_finish "$d" orig || crs_fail "make44: the program after the refusal: $(crs_status_text "$FINISH_STATUS")"
kill "$mpid" 2>/dev/null
wait "$mpid" 2>/dev/null

# many: past the descriptors a member can be told about
hard=$(ulimit -Hn)
if [ "$hard" = unlimited ] || [ "$hard" -ge 1100 ]; then
    d=$WORK/many
    crs_start_or_end "many: the program never got ready" "$d" bash -c 'ulimit -Sn 1100 && exec "$@"' many \
        "$CRS_TOOLS/cr_run" "$CRS_BIN/crt_treefifo" many
    crs_tool "$WORK/mck" cr_checkpoint --tree -f "$WORK/many.img" "$PID"
    crs_expect_refusal "many: 1030 shared descriptors with a FIFO among them, refused naming the limit" \
        "$WORK/mck.err" $? "1020"
    crs_finish "$d" orig || crs_fail "many: the program after the refusal: $(crs_status_text "$FINISH_STATUS")"
else
    crs_note "many: skipped (the hard limit of open files, $hard, is under 1100)"
fi
crs_summary crs_tree_fifo
