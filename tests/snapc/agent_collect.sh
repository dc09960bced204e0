#!/bin/bash
# The rank agents' collection of the node-local cache at a job's first commit takes what no
# restart can need from the caches of the jobs that ran on this node since the last collection
# (LOCAL/.uncollected, filem/local_gc.h), and walks every cache of the node only once a day (the
# stamp .uncollected/.walked), by one agent at a time. Before, every rank of every job walked the
# whole cache at its first commit (snapc48: 200 ended jobs' caches whose snapshot directories are
# gone, 2200 paths read by one 2-rank job on one node). 200 such caches (young: kept), listed as
# the ranks that made them list them, their jobs ended and their start's sweep done:
#   1. job a (2 ranks): its commit collects the listed caches once (one agent: at most 20 paths a
#      cache): an ended job's cache whose every image its snapshot directory holds committed
#      goes; the 200 are unlisted (kept);
#   2. job b: its commit reads no path under the 200 caches (at most 10; the old code: every
#      rank walked them all);
#   3. the last walk 2 days ago: job c's commit walks every cache once (one agent: ~14 paths a
#      cache, at most 20; the old code: each rank, 28): a 10-day-old cache of before (no note,
#      never listed) goes, the 200 stay, the stamp is renewed.
. "$(dirname "$0")/lib.sh"
snapc_cache_workdir snapc-agentcollect
(umask 077; mkdir -p "$cache/.unswept" "$cache/.uncollected" "$W/shared"
 : >"$cache/.unswept/.begun"      # the caches were listed whole once (filem/local_gc.h)
 : >"$cache/.uncollected/.walked"  # and walked just now
 for i in $(seq 1000 $((1000 + N - 1))); do
     j=revive_global_snapshot_$i.ckpt
     mkdir -p "$cache/$j/0"
     echo "$W/gone/$j" >"$cache/$j/.jobdir"
     printf 'image' >"$cache/$j/0/rank_0.img"
     ln -s "$j" "$cache/.uncollected/$j"
 done
 # an ended job's cache whose snapshot directory holds its sequence committed, every image
 j=revive_global_snapshot_3000.ckpt
 mkdir -p "$cache/$j/0" "$W/shared/$j/0"
 echo "$W/shared/$j" >"$cache/$j/.jobdir"
 printf 'image' >"$cache/$j/0/rank_0.img"
 printf 'image' >"$W/shared/$j/0/rank_0.img"
 : >"$W/shared/$j/0/snapshot.meta"
 ln -s "$j" "$cache/.uncollected/$j"
 # a cache of before: no note, never listed, 10 days old
 j=revive_global_snapshot_3001.ckpt
 mkdir -p "$cache/$j/0"
 printf 'image' >"$cache/$j/0/rank_0.img"
 touch -d '10 days ago' "$cache/$j/0/rank_0.img" "$cache/$j/0" "$cache/$j")
redundant=$cache/revive_global_snapshot_3000.ckpt
before=$cache/revive_global_snapshot_3001.ckpt

# job NAME: a 2-rank job of fake ranks, traced, checkpointed once (--term: it ends then); the
# paths under the 200 caches it named in NAME.paths
job() {
    local jn=$1 r
    mkdir -p "$W/$jn.ready"
    ( clean_exec REVIVE_VERBOSE=2 strace -f -qq -o "$W/$jn.trace" -e trace=%file,getdents64 \
        "$COORD" --flavor fake -- "$FLAUNCH" -np 2 "$FRANK" --iters $UNTIL_KILLED --sleep-us 500 \
        --ready "$W/$jn.ready" ) >"$W/$jn.out" 2>"$W/$jn.err" &
    local j=$!
    jobs_started="$jobs_started $j"
    wait_for 60 'r=("$W/$jn.ready"/ready.*); [ ${#r[@]} -ge 2 ] && [ -e "${r[0]}" ]' ||
        { fail "$jn: the ranks did not start"; cat "$W/$jn.err"; return; }
    local coord; coord=$(pgrep -P $j) # the coordinator (strace's child): the job's mpirun
    jobs_started="$jobs_started $coord"
    "$CKPT" --wait --term $coord >"$W/ck.$jn.out" 2>"$W/ck.$jn.err" || { fail "$jn: the checkpoint failed"; cat "$W/ck.$jn.err"; }
    wait $j
    grep -c "$cache/revive_global_snapshot_1[0-9][0-9][0-9]\.ckpt" "$W/$jn.trace" >"$W/$jn.paths"
}
listed() { ls -A "$cache/.uncollected" | grep -c '^revive_global_snapshot_1[0-9][0-9][0-9]\.ckpt$'; }
kept() { ls -d "$cache"/revive_global_snapshot_1[0-9][0-9][0-9].ckpt 2>/dev/null | wc -l; }

job a
[ ! -e "$redundant" ] || fail "1: the ended job's cache whose images its snapshot directory holds committed stays: $(ls -R "$redundant" | head -5)"
[ "$(kept)" = $N ] || fail "1: $((N - $(kept))) of the $N young caches went"
[ "$(listed)" = 0 ] || fail "1: $(listed) of the $N ended jobs' caches are still listed once collected"
n=$(cat "$W/a.paths")
[ "$n" -le $((20 * N)) ] || fail "1: job a's commit read $n paths under the $N caches (collected once, by one agent: about 14 a cache; at most $((20 * N)))"
pass "1: job a's commit collected the listed caches ($(cat "$W/a.paths") paths under the $N), the redundant one went, the young ones stay unlisted"

job b
n=$(cat "$W/b.paths")
[ "$n" -le 10 ] || fail "2: job b's commit read $n paths under the $N ended jobs' caches (at most 10: nothing is listed, the last walk is new)"
[ -e "$before" ] || fail "2: the cache of before went without a walk (the stamp is new)"
# job a's own cache (ended by --term: committed, every image in its snapshot directory) went, and
# its entry: only job b's is listed besides the 200's none
jobs_listed=$(ls -A "$cache/.uncollected" | grep -v '^revive_global_snapshot_1[0-9]\{3\}\.ckpt$' | grep -vx .walked)
[ "$(wc -w <<<"$jobs_listed")" = 1 ] || fail "2: listed after job b's commit (only job b's own): $jobs_listed"
[ "$(ls -d "$cache"/revive_global_snapshot_*.ckpt | grep -vc 'snapshot_1[0-9]\{3\}\.ckpt$\|snapshot_3001\.ckpt$')" = 1 ] ||
    fail "2: job a's cache stays after job b's commit: $(ls "$cache")"
pass "2: job b's commit read $n paths under the $N caches"

touch -d '2 days ago' "$cache/.uncollected/.walked"
job c
n=$(cat "$W/c.paths")
[ ! -e "$before" ] || fail "3: the walk left the 10-day-old cache of before"
[ "$(kept)" = $N ] || fail "3: $((N - $(kept))) of the $N young caches went"
[ "$n" -le $((20 * N)) ] || fail "3: job c's commit read $n paths under the $N caches (one walk, by one agent: about 14 a cache; at most $((20 * N)))"
[ -n "$(find "$cache/.uncollected/.walked" -mmin -5)" ] || fail "3: the walk did not renew the stamp: $(ls -l --time-style=full-iso "$cache/.uncollected/.walked")"
pass "3: the walk due once a day: the cache of before went, $n paths under the $N caches"
finish
