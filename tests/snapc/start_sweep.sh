#!/bin/bash
# A job's start sweeps the caches of this host's ended jobs that may hold something no restart
# can use, not the whole node-local cache (start47: with 170 ended jobs' caches every start
# read them all, 38-53 ms of CPU against 14-18 with an empty cache: O(cache) a job). The caches
# to sweep are listed in LOCAL/.unswept by the rank that makes a job's cache (filem/local_gc.h);
# a sweep that found the job ended unlists it.
#   1. 200 caches of ended jobs (each a committed-looking sequence with an image), one of them
#      also holding a partial image whose writer is gone; not listed yet: the first start lists
#      and sweeps them all once (the caches made before the list), the partial image goes, also
#      when a rank agent made the list's folder first for its own job (a node where the first
#      job since the list ran ranks but not its coordinator; diffrev48 R-L5: the caches made
#      before were then never listed);
#   2. a job (fake ranks) killed -9 while rank 1 writes its image: its cache is listed, and
#      the next start removes its partial image and uncommitted sequence, and reads none of the
#      200 other caches (strace: at most 10 paths under them; the old code: every one, each
#      start).
. "$(dirname "$0")/lib.sh"
snapc_cache_workdir snapc-startsweep
(umask 077; mkdir -p "$cache" "$W/shared"
 for i in $(seq 1000 $((1000 + N - 1))); do
     j=revive_global_snapshot_$i.ckpt
     mkdir -p "$cache/$j/0" "$W/shared/$j/0"
     echo "$W/shared/$j" >"$cache/$j/.jobdir"
     printf 'image' >"$cache/$j/0/rank_0.img"
     printf 'image' >"$W/shared/$j/0/rank_0.img"
     : >"$W/shared/$j/0/snapshot.meta"
 done)
( exit 0 ) & gone=$!; wait $gone
old=$cache/revive_global_snapshot_1000.ckpt/0/.rank_1.img.tmp.$gone
printf 'partial' >"$old"

# start NAME: a coordinator whose launcher starts no rank, traced; the paths under the 200
# caches it named, in NAME.paths
start() {
    ( clean_exec REVIVE_VERBOSE=2 strace -f -qq -o "$W/$1.trace" \
        -e trace=%file,getdents64 "$COORD" --flavor fake -- true ) >"$W/$1.out" 2>"$W/$1.err"
    grep -c "revive_global_snapshot_1[0-9][0-9][0-9]\.ckpt" "$W/$1.trace" >"$W/$1.paths"
}

# what a rank agent's filem_local_unswept_add leaves for its job (2000, its coordinator elsewhere)
mkdir -m 0700 "$cache/.unswept" && ln -s revive_global_snapshot_2000.ckpt "$cache/.unswept/revive_global_snapshot_2000.ckpt"
start first
[ ! -e "$old" ] || fail "1: the first start left the partial image of an ended job's cache made before the list: $old"
[ -d "$cache/.unswept" ] || fail "1: no list of the caches to sweep after the first start"
[ -z "$(ls -A "$cache/.unswept" 2>/dev/null | grep -vx .begun)" ] ||
    fail "1: caches still listed after the first start swept them: $(ls -A "$cache/.unswept" | head -3 | tr '\n' ' ')"
[ -f "$cache/.unswept/.begun" ] || fail "1: no stamp that the caches were listed whole"
[ "$(ls -d "$cache"/revive_global_snapshot_1*.ckpt | wc -l)" = $N ] || fail "1: committed caches went"
pass "1: a list of a rank's own job only: the first start listed and swept the $N caches there ($(cat "$W/first.paths") paths read), the partial image went"

start_job b 2 --iters $UNTIL_KILLED --sleep-us 500 --hold 1:writing:$W/hold
B=$JOB
touch "$W/hold"
"$CKPT" --wait $B >"$W/ck.b.out" 2>"$W/ck.b.err" & ck=$!
wait_for 60 '[ -e "$W/hold.in" ]' || fail "2: rank 1 did not begin writing its image within 60 s"
{ kill -KILL $B; wait $B; } 2>/dev/null
wait $ck
wait_no_strays 30
rm -f "$W/hold" "$W/hold.in"
bc=$cache/revive_global_snapshot_$B.ckpt
[ -n "$(find "$bc" -name '.*.tmp.*')" ] || fail "2: no partial image after kill -9 of mpirun (nothing to collect)"
[ -L "$cache/.unswept/revive_global_snapshot_$B.ckpt" ] || fail "2: the killed job's cache is not listed"

start second
[ -z "$(find "$bc" -name '.*.tmp.*' 2>/dev/null)" ] || fail "2: the next start left the killed job's partial image: $(find "$bc" -name '.*.tmp.*')"
[ ! -d "$bc/0" ] || fail "2: the next start left the killed job's uncommitted sequence 0"
[ ! -e "$cache/.unswept/revive_global_snapshot_$B.ckpt" ] || fail "2: the killed job's cache is still listed once swept"
n=$(cat "$W/second.paths")
[ "$n" -le 10 ] || fail "2: the start read $n paths under the $N other caches (at most 10: it sweeps the listed ones only)"
start third
n3=$(cat "$W/third.paths")
[ "$n3" -le 10 ] || fail "2: a start with nothing listed read $n3 paths under the $N caches"
[ "$(ls -d "$cache"/revive_global_snapshot_1*.ckpt | wc -l)" = $N ] || fail "2: committed caches went"
pass "2: a job killed -9 while writing: the next start swept its cache ($n paths under the $N others, $n3 at the start after)"
finish
