#!/bin/bash
# stalecache.sh FLAVOR: node-local caches on hosts where no rank of a later job runs (issue 9,
# point 5). Job a on h1,h2 ends with --term (each host keeps its cache for a restart); it is
# restarted on h1,h3 and the restarted job commits: a's job directory says it is superseded and
# that its cache may remain on h2 (ckpt-info shows it; h2 still holds it: no rank of the chain
# runs there to prune it). A later, unrelated job on h2,h3 commits: its agents on h2 remove a's
# cache there. A cache on h2 of a job that was not superseded stays.
flavor=$1
. "$(dirname "$0")/lib.sh"
hosts_workdir stalecache-$flavor
hostbed_up 3
[ -x "$B/tools/revive-restart-rank" ] || { echo "SKIP: revive-restart-rank not built"; exit 77; }
export REVIVE_RESTART_RANK=$B/tools/revive-restart-rank
uid=$(id -u)
cache() { echo "$HB/node/$1/revive-local-$uid/$2"; }   # HOST JOBDIRNAME

launch_opts h1:2,h2:2
native_job 4
revive_job a --ckpt-dir "$SHARED"
if ! expect_rc 0 "a: checkpoint --term" on h1 timeout 300 "$CKPT" --wait --term $JOB; then
    touch "$W/a.go"; tail -20 "$W/a.err"; finish
fi
ref=$(tail -n1 "$W/cmd.out")
jda=$(basename "$(dirname "$ref")")
wait $JOB
[ -f "$(cache h2 "$jda")/0/rank_2.img" ] || fail "h2 holds no cache of job a: $(ls -R "$HB/node/h2" 2>&1 | head)"

# a control: the cache on h2 of a job that nobody superseded (its snapshot directory is there)
ctl=revive_global_snapshot_999999.ckpt
mkdir -m 0700 -p "$SHARED/$ctl/0" "$(cache h2 $ctl)/0"
echo x >"$(cache h2 $ctl)/0/rank_0.img"; chmod 600 "$(cache h2 $ctl)/0/rank_0.img"

# the restart on h1,h3 commits a checkpoint
hostfile "$W/hosts13" h1:2 h3:2
( on h1 env REVIVE_VERBOSE=2 timeout -k 5 600 "$RESTART" --hostfile "$W/hosts13" "$ref" \
    >"$W/r.out" 2>"$W/r.err" ) &
R=$!; jobs_started="$jobs_started $R"
wait_for 300 'grep -qs "every rank of the restarted job is back" "$W/r.err" || ! kill -0 $R 2>/dev/null'
rpid=
for p in $(host_pids h1); do
    case $(cat /proc/$p/comm 2>/dev/null) in restart-mpi|revive-coord) rpid=$p ;; esac
done
if [ -n "$rpid" ] && expect_rc 0 "a checkpoint of the restarted job" on h1 timeout 300 "$CKPT" --wait $rpid; then
    mark=$SHARED/$jda/superseded
    if [ -f "$mark" ]; then
        grep -q "^stale.caches h2$" "$mark" || { fail "the mark does not name h2's cache"; cat "$mark"; }
        grep -qF "superseded.by $(dirname "$(tail -n1 "$W/cmd.out")")" "$mark" ||
            { fail "the mark does not name the restarted job"; cat "$mark"; }
    else
        fail "job a's directory is not marked superseded"
    fi
    expect_rc 0 "ckpt-info of job a" "$INFO" "$SHARED/$jda"
    grep -q "superseded by .*caches may remain on h2" "$W/cmd.out" ||
        { fail "ckpt-info does not say job a is superseded, its cache on h2"; cat "$W/cmd.out"; }
else
    fail "no checkpoint of the restarted job (restart-mpi pid '$rpid')"; tail -20 "$W/r.err"
fi
touch "$W/a.go"
wait $R; st=$?
[ $st = 0 ] || { fail "restart of job a on h1,h3: status $st"; tail -20 "$W/r.err"; }
cmp -s "$W/native.out" "$W/r.out" || { fail "restarted result differs"; cat "$W/native.out" "$W/r.out"; }
[ -d "$(cache h2 "$jda")" ] || fail "h2's cache of job a went although nothing ran on h2"
pass "$flavor: a restarted job that commits marks its origin superseded, naming h2 where its cache remains"

# a later job on h2,h3 commits: its agents on h2 remove job a's cache there, not the control's
launch_opts h2:2,h3:2
revive_job c --ckpt-dir "$SHARED"
if expect_rc 0 "c: checkpoint" on h1 timeout 300 "$CKPT" --wait $JOB; then
    wait_for 60 '[ ! -e "$(cache h2 "$jda")" ]' ||
        { fail "job c's commit left job a's cache on h2: $(ls -R "$(cache h2 "$jda")" 2>&1 | head -5)"; grep -i "superseded\|retention" "$W/c.err"; }
    # the rank says so after the removal, and its line reaches c.err through the launcher's
    # output forwarding from h2: under load it came after the cache was gone (CI, make -j2)
    wait_for 60 'grep -q "removed this node.s caches of 1 superseded job" "$W/c.err"' ||
        fail "no rank of job c said it removed the cache (60 s after it was gone)"
    [ -f "$(cache h2 $ctl)/0/rank_0.img" ] || fail "the cache of a job not superseded was removed"
else
    tail -20 "$W/c.err"
fi
touch "$W/c.go"
wait $JOB || fail "job c: status $?"
pass "$flavor: a later job committing on h2 removes the superseded job's cache there, and nothing else"
finish
