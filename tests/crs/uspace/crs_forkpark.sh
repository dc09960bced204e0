#!/bin/bash
# A checkpoint's park signal that reaches a thread while it forks (inside libcr's park-deferral
# section, from its prepare handler until the fork is done) is put off until the fork is done; the child is a
# copy of that thread made meanwhile, its park still due and its process's round still on in the
# copy. Before, libcr's child handler (leaving the guard's section) parked the child in its
# parent's round, before the child had a checkpoint thread of its own: nobody ever released it
# (every signal blocked, only SIGKILL ended it), its parent waited for it for ever, and the tree's
# checkpoint failed after 5 s ("does not run under Revive"). A bash loop under cr_run (bash forks
# for every command), each fork held 200 ms in that section by REVIVE_FAULT=fork-prepare-late: three
# cr_checkpoint --tree while it runs must each be taken, and the loop must run on after each. ~15 s.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_forkpark
crs_need_tools cr_run cr_checkpoint cr_info
d=$WORK/loop
mkdir -p "$d"
(cd "$d" && REVIVE_FAULT=fork-prepare-late crs_launch "$d/orig" "$CRS_TOOLS/cr_run" bash -c \
    'echo $$ >pid.tmp && mv pid.tmp pid; i=0; while [ ! -e stop ]; do /bin/true; i=$((i + 1)); echo $i >n.tmp; mv n.tmp n; done')
crs_wait_for "$d/n" 60 "$d/orig.status" || { crs_fail "the loop never ran"; crs_show "$d/orig.err"; crs_summary crs_forkpark; }
PID=$(cat "$d/pid")
# count N SECONDS: the loop's count has passed N within SECONDS
count() {
    local end=$((SECONDS + $2))
    while [ $SECONDS -lt $end ]; do
        [ "$(cat "$d/n" 2>/dev/null || echo 0)" -gt "$1" ] && return 0
        crs_nap 0.1
    done
    return 1
}
taken=0
for k in 1 2 3; do
    if crs_tool "$WORK/ck$k" cr_checkpoint --tree --time 20 -f "$WORK/img$k" "$PID"; then
        taken=$((taken + 1))
    else
        crs_fail "checkpoint $k of the forking loop: $(head -n 1 "$WORK/ck$k.err")"
    fi
    n=$(cat "$d/n")
    if ! count "$((n + 2))" 15; then
        crs_fail "the loop stopped after checkpoint $k (at $n): $(for c in $(pgrep -P "$PID"); do
            echo "child $c $(cat /proc/$c/comm) state $(awk '{print $3}' /proc/$c/stat) $(grep SigBlk /proc/$c/status)"; done)"
        break
    fi
done
[ $taken = 3 ] && crs_pass "3 of 3 checkpoints taken while the loop forked, and it ran on after each"
[ $taken -gt 0 ] && crs_tool "$WORK/v" cr_info --verify "$WORK/img1" && crs_pass "the first image verifies"
touch "$d/stop"
s=$(crs_wait_status "$d/orig" 30)
[ "$s" = 0 ] && crs_pass "the loop ended when told" || {
    crs_fail "the loop at its end: $(crs_status_text "$s")"
    for c in $(pgrep -P "$PID"); do kill -KILL "$c"; done
}
crs_summary crs_forkpark
