#!/bin/bash
# A tree's restart whose cr_restart is killed with SIGKILL (which it cannot
# pass on: a batch system's or a user's kill -9 of the top process) while the
# restored processes wait to be let go (newuser10 H1: each member held the
# write end of the pipe it waited on, so none ever saw that pipe end: restorer
# processes named like the members, every signal but SIGKILL blocked, hung for
# ever under init). crt_tree's children kind (running children on pipes) is
# checkpointed with --tree --kill; cr_restart runs under
# REVIVE_FAULT=tree-release-hold, which holds every restored member at the
# barrier and says so; then SIGKILL to cr_restart alone: every member must end
# within 20 s, nothing left working in the program's folder. Then the image
# restarts as the uninterrupted run. (As root the members have the original
# pids and no pid namespace: the case that hung; the program runs in a
# session of its own so that its pids, group and session are free. Without
# root, in a pid namespace, its init ends them all.) This first part passes on the code before
# 4973391 too. Then TRIALS signals (SIGTERM, SIGKILL) to cr_restart alone at random moments
# of the restart, each time nothing may be left: that part fails on the code before 2026-12-04
# 06:20 (main d0ed6a8: a SIGTERM while the members were made left cr_restart in its poll and the
# members hung at the barrier, for ever; see the trials' comment below).
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_tree_kill
crs_need_tools cr_run cr_checkpoint cr_restart
prog=$CRS_BIN/crt_tree
export CRT_TREE=children

r=$WORK/ref
st=$(crs_uninterrupted "$r" out "$prog")
[ "$st" = 42 ] || crs_fail "the uninterrupted run: $(crs_status_text "$st")"
crs_after_point 1 "$r/out.out" >"$WORK/ref.after1"

d=$WORK/orig
# in a session of its own (setsid): once the original has gone its pids, group and session are
# free, so that a restart as root takes no pid namespace (whose init would end the members)
crs_start_or_end "the program never got ready" "$d" setsid "$CRS_TOOLS/cr_run" "$prog"
crs_tool "$WORK/ck" cr_checkpoint --tree --kill -f "$WORK/img" "$PID" || {
    crs_fail "cr_checkpoint --tree --kill: $(head -n 1 "$WORK/ck.err")"
    crs_kill_test_prog "$PID"
    crs_summary crs_tree_kill
}
crs_wait_status "$d/orig" 30 >/dev/null

# processes working in the program's folder (the restored members, before and after their switch)
in_folder() {
    for c in /proc/[0-9]*/cwd; do [ "$(readlink "$c" 2>/dev/null)" = "$d" ] && echo "${c%/cwd}"; done |
        grep -v "^/proc/$$\$" | sed 's|/proc/||'
}
(cd "$d" && export REVIVE_FAULT=tree-release-hold && crs_clean_exec "$CRS_TOOLS/cr_restart" "$WORK/img" \
    </dev/null >"$WORK/k.out" 2>"$WORK/k.err") &
rp=$!
for _ in $(seq 600); do grep -q "holding the tree's processes" "$WORK/k.err" 2>/dev/null && break; sleep 0.1; done
if grep -q "holding the tree's processes" "$WORK/k.err"; then
    held=$(in_folder | grep -vx "$rp" | wc -l)
    kill -KILL "$rp"
    wait "$rp" 2>/dev/null
    left=
    for _ in $(seq 200); do
        left=$(in_folder)
        [ -z "$left" ] && break
        sleep 0.1
    done
    if [ -z "$left" ]; then
        crs_pass "SIGKILL of cr_restart with $held processes of the tree held at the barrier: every one ended"
    else
        crs_fail "SIGKILL of cr_restart: still there after 20 s: $(for p in $left; do
            echo "$p '$(cat /proc/$p/comm 2>/dev/null)' $(grep -h '^State' /proc/$p/status 2>/dev/null | tr -s '\t ' ' ')"
        done | head -n 6 | tr '\n' ';')"
        for p in $left; do kill -KILL "$p" 2>/dev/null; done   # ours: started by this cr_restart
    fi
else
    crs_fail "cr_restart under REVIVE_FAULT=tree-release-hold never held the tree: $(head -n 2 "$WORK/k.err" | tr '\n' ' ')"
    kill -KILL "$rp" 2>/dev/null
fi

touch "$d/go.1" "$d/go.2"
rm -f "$d"/ready.*

# SIGTERM or SIGKILL to cr_restart alone at random moments of the restart (newuser10 H1's
# reproduction): whatever the moment, once cr_restart has ended every process of the tree must
# end too (the restored tree runs to its end by itself: its go files are there; a member a
# SIGTERM reached ends, its children see their pipes end). Before the fix a SIGTERM that came
# while cr_restart made the members ended the first one before its restore blocked signals, and
# cr_restart waited for its word for ever, the others hung at the barrier; the trials' moments
# spread over the restart (a delay from 0 to 0.4 s, plus one that follows the members' birth).
# TRIALS (default 8) trials, SIGTERM and SIGKILL in turn.
hung=0
ntrials=${TRIALS:-8}
for t in $(seq "$ntrials"); do
    sig=TERM
    [ $((t % 2)) = 0 ] && sig=KILL
    (cd "$d" && crs_clean_exec "$CRS_TOOLS/cr_restart" "$WORK/img" </dev/null >"$WORK/t$t.out" 2>"$WORK/t$t.err") &
    rp=$!
    if [ $((t % 3)) = 0 ]; then
        # right after the first member is born (a child of cr_restart)
        for _ in $(seq 2000); do [ -n "$(cat /proc/$rp/task/$rp/children 2>/dev/null)" ] && break; done   # no sleep: the moment
        delay=birth
    else
        delay=$(printf '0.%03d' $((RANDOM % 400)))
        sleep "$delay"
    fi
    kill -$sig "$rp" 2>/dev/null
    # (by the clock, not by a count of rounds: under load a round takes long)
    ended=
    end=$((SECONDS + 40))
    while [ $SECONDS -lt $end ]; do
        [ -d /proc/$rp ] && [ "$(awk '/^State/{print $2}' /proc/$rp/status 2>/dev/null)" != Z ] || { ended=1; break; }
        sleep 0.1
    done
    wait "$rp" 2>/dev/null
    left=
    end=$((SECONDS + 30))
    while [ $SECONDS -lt $end ]; do
        left=$(in_folder)
        [ -z "$left" ] && break
        sleep 0.2
    done
    if [ -z "$ended" ] || [ -n "$left" ]; then
        hung=$((hung + 1))
        crs_note "trial $t: SIG$sig at $delay s: $([ -z "$ended" ] && echo "cr_restart still runs after 40 s; ")left: $(
            for p in $left; do
                echo "$p '$(cat /proc/$p/comm 2>/dev/null)' $(awk '/^State/{print $2}' /proc/$p/status 2>/dev/null) $(cat /proc/$p/wchan 2>/dev/null)"
            done | head -n 6 | tr '\n' ';')"
        kill -KILL "$rp" 2>/dev/null
        for p in $left; do kill -KILL "$p" 2>/dev/null; done   # ours: started by this cr_restart
        wait "$rp" 2>/dev/null
    fi
done
if [ "$hung" = 0 ]; then
    crs_pass "$ntrials signals to cr_restart alone at random moments of the restart: nothing left each time"
else
    crs_fail "$hung of $ntrials signals to cr_restart alone left processes of the tree (or cr_restart) behind"
fi

st=$(cd "$d" && crs_run "$WORK/r2" "$CRS_TOOLS/cr_restart" "$WORK/img")
crs_expect_run "then the image restarts as the uninterrupted run" "$WORK/ref.after1" "$WORK/r2" "$st"
crs_summary crs_tree_kill
