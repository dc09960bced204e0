#!/bin/bash
# The rank agents' sweep of superseded jobs' node-local caches at each commit (filem_local_retain,
# src/filem/local_retain.h) looks at the jobs its snapshot directory lists as superseded
# (BASE/.superseded, made with each mark: localdir.sh checks the restart's), not at every cache
# of the node. Before, every rank looked up BASE/<cache>/superseded for every job cache of the
# node at every commit (snapc49: 200 ended jobs' caches, 200 lookups on shared storage per rank
# per commit, none of them superseded). Here 200 such caches and one of a superseded job (its
# snapshot directory beside the job's, marked and listed as filem_mark_superseded makes them): a
# 2-rank job of fake ranks commits 3 times; at most 10 lookups of the 200's marks (the old code:
# one per cache, rank and commit), and the superseded job's cache goes, a rank saying so.
. "$(dirname "$0")/lib.sh"
snapc_cache_workdir snapc-superseded
(umask 077; mkdir -p "$cache"
 for i in $(seq 1000 $((1000 + N - 1))); do
     j=revive_global_snapshot_$i.ckpt
     mkdir -p "$cache/$j/0"
     echo "$W/gone/$j" >"$cache/$j/.jobdir"
     printf 'image' >"$cache/$j/0/rank_0.img"
 done
 # a job restarted elsewhere whose restart committed: its snapshot directory (beside the job's,
 # in $W) marked and listed, its cache on this node
 s=revive_global_snapshot_5000.ckpt
 mkdir -p "$W/$s/0" "$cache/$s/0" "$W/.superseded-$(id -u)"
 : >"$W/$s/0/snapshot.meta"
 printf 'superseded.by %s\nstale.caches %s\n' "$W/elsewhere" "$(hostname)" >"$W/$s/superseded"
 : >"$W/.superseded-$(id -u)/$s"
 echo "$W/$s" >"$cache/$s/.jobdir"
 printf 'image' >"$cache/$s/0/rank_0.img")
mkdir -p "$W/r"
( clean_exec REVIVE_VERBOSE=2 strace -f -qq -o "$W/t" -e trace=%file "$COORD" --flavor fake -- "$FLAUNCH" -np 2 \
    "$FRANK" --iters $UNTIL_KILLED --sleep-us 500 --ready "$W/r" ) >"$W/job.out" 2>"$W/job.err" &
j=$!; jobs_started="$jobs_started $j"
wait_for 60 'r=("$W/r"/ready.*); [ ${#r[@]} -ge 2 ] && [ -e "${r[0]}" ]' ||
    { fail "the ranks did not start"; cat "$W/job.err"; finish; }
c=$(pgrep -P $j); jobs_started="$jobs_started $c"
for k in 1 2 3; do
    "$CKPT" --wait $c >"$W/ck.$k.out" 2>"$W/ck.$k.err" || { fail "checkpoint $k failed"; cat "$W/ck.$k.err"; }
done
wait_for 30 '[ ! -e "$cache/revive_global_snapshot_5000.ckpt" ]' ||
    fail "the superseded job's cache stays after 3 commits: $(ls -R "$cache/revive_global_snapshot_5000.ckpt" | head -5)"
wait_for 30 'grep -q "removed this node.s caches of 1 superseded job" "$W/job.err"' ||
    fail "no rank said it removed the superseded job's cache"
kill -TERM $c; wait $j
n=$(grep -c "\"$W/revive_global_snapshot_1[0-9]*\.ckpt/superseded\"" "$W/t")
[ "$n" -le 10 ] || fail "3 commits of 2 ranks looked up the marks of the $N caches of jobs not superseded $n times (at most 10)"
[ "$(ls -d "$cache"/revive_global_snapshot_1[0-9][0-9][0-9].ckpt | wc -l)" = $N ] ||
    fail "caches of jobs not superseded went"
[ $fails = 0 ] && pass "3 commits, 2 ranks: $n lookups of the $N other caches' marks; the superseded job's cache went"
finish
