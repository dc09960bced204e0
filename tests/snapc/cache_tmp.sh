#!/bin/bash
# A job ended during a checkpoint leaves no partial image in this host's node-local cache
# (review11 #4: SIGTERM or kill -9 of mpirun while the ranks wrote left .rank_N.img.tmp.PID,
# 370-430 MB each, in /tmp/revive-local-UID until another job's commit collected them). Rank 1
# of 2 fake ranks holds half way through writing its image (fake_rank --hold 1:writing:FILE:
# 1 MiB of its temporary file on disk).
#   a: a first snapshot commits; the second is held; SIGTERM to mpirun: when mpirun has exited,
#      the job's cache holds no temporary file and no uncommitted sequence, and still the
#      committed one (a restart's copy); mpirun said what it removed.
#   b: the held snapshot, then kill -9 of mpirun (nobody of the job can clean up): the partial
#      image stays until the next job on this host starts (c), whose mpirun removes it and the
#      uncommitted sequence, and says so. ckpt-mpirun of a says the job was sent SIGTERM; after
#      b's kill -9 its snapshot directory keeps no .alive nor .staging.reserve.
# Never touched, in another job's cache: a temporary file whose writer runs (a sleep of this
# test's); one whose writer is gone goes at c's start, also one named .NAME.tmp.PID.N (the name
# crs_durable_open takes when .NAME.tmp.PID is there: never swept before, diffrev L4).
# A writer holds a lock on its temporary file (checked on rank 1's while it writes), so that one
# in another pid namespace sharing the cache (root: unshare; a process there holds the lock of a
# file named by a PID that is nobody here) keeps its file (kill(2) alone took it for gone).
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-cachetmp
cache=$W/revive-local-$(id -u)
(umask 077; mkdir -p "$cache/revive_global_snapshot_1/0")
sleep 600 & live=$!
cleanup='kill $live 2>/dev/null'
printf 'partial' >"$cache/revive_global_snapshot_1/0/.rank_0.img.tmp.$live"
# tmps DIR: the temporary images under DIR
tmps() { find "$1" -name '.*.tmp.*' 2>/dev/null; }

start_job a 2 --iters $UNTIL_KILLED --sleep-us 500 --hold 1:writing:$W/hold
expect_rc 0 "a first snapshot" "$CKPT" --wait $JOB
touch "$W/hold"
"$CKPT" --wait $JOB >"$W/ck.a.out" 2>"$W/ck.a.err" & ck=$!
wait_for 60 '[ -e "$W/hold.in" ]' || fail "a: rank 1 did not begin writing its image within 60 s"
[ -n "$(tmps "$cache/revive_global_snapshot_$JOB.ckpt/1")" ] || fail "a: no partial image in the cache while rank 1 writes"
f=$(tmps "$cache/revive_global_snapshot_$JOB.ckpt/1" | grep rank_1 | head -1)
if [ -z "$f" ]; then fail "a: no partial image of rank 1"
elif flock -n -x "$f" true; then fail "a: rank 1's partial image $f is not locked by its writer"; fi
kill -TERM $JOB
job_gone $JOB 60 || fail "a: the job did not end within 60 s of SIGTERM"
wait $JOB; wait $ck
rm -f "$W/hold" "$W/hold.in"
left=$(tmps "$cache/revive_global_snapshot_$JOB.ckpt")
[ -z "$left" ] || fail "a: partial images left after SIGTERM to mpirun: $left"
[ ! -d "$cache/revive_global_snapshot_$JOB.ckpt/1" ] || fail "a: the uncommitted sequence 1 is still in the cache"
[ -f "$cache/revive_global_snapshot_$JOB.ckpt/0/rank_1.img" ] || fail "a: the committed sequence 0 went from the cache"
# (rank 0 may have been writing its own image too)
grep -Eq "node-local cache: removed [12] partial images? and 1 uncommitted sequence of this job" "$W/a.err" ||
    { fail "a: mpirun did not say what it removed"; tail -n 3 "$W/a.err"; }
# ckpt-mpirun says the job was sent SIGTERM (review newuser7 L4: only "rank N ended during the
# checkpoint", as if the rank had failed)
grep -q "no checkpoint: the job was sent SIGTERM during the checkpoint and is ending: " "$W/ck.a.err" ||
    fail "a: ckpt-mpirun does not say the job was sent SIGTERM: $(cat "$W/ck.a.err")"
pass "a: SIGTERM to mpirun while rank 1 wrote its image: the partial image and the uncommitted sequence removed, the committed one kept"

start_job b 2 --iters $UNTIL_KILLED --sleep-us 500 --hold 1:writing:$W/hold
B=$JOB
touch "$W/hold"
"$CKPT" --wait $B >"$W/ck.b.out" 2>"$W/ck.b.err" & ck=$!
wait_for 60 '[ -e "$W/hold.in" ]' || fail "b: rank 1 did not begin writing its image within 60 s"
{ kill -KILL $B; wait $B; } 2>/dev/null # (bash's "Killed" line)
wait $ck
wait_no_strays 30
rm -f "$W/hold" "$W/hold.in"
[ -n "$(tmps "$cache/revive_global_snapshot_$B.ckpt/0")" ] || fail "b: no partial image after kill -9 of mpirun (nothing to collect)"
# what mpirun removes at its end from its snapshot directory, its witness removes after a kill -9
# (review newuser7 L2: .alive and .staging.reserve stayed)
bjd=$W/revive_global_snapshot_$B.ckpt
wait_for 30 '[ ! -e "$bjd/.alive" ] && [ ! -e "$bjd/.staging.reserve" ]' ||
    fail "b: left in the snapshot directory after kill -9 of mpirun: $(ls -a "$bjd")"
( exit 0 ) & gone=$!; wait $gone
printf 'partial' >"$cache/revive_global_snapshot_1/0/.rank_1.img.tmp.$gone"
printf 'partial' >"$cache/revive_global_snapshot_1/0/.rank_2.img.tmp.$gone.1"
ns=
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null && unshare --pid --fork true 2>/dev/null; then
    # a writer in another pid namespace: its file named by a PID that is nobody here
    ( exit 0 ) & other=$!; wait $other
    nsf=$cache/revive_global_snapshot_1/0/.rank_3.img.tmp.$other
    printf 'partial' >"$nsf"
    # (--kill-child: the holder goes with unshare, which this test kills)
    unshare --pid --fork --kill-child flock -x "$nsf" sleep 600 & ns=$!
    jobs_started="$jobs_started $ns"
    wait_for 30 '! flock -n -x "$nsf" true' || fail "d: the namespaced holder did not lock $nsf"
else
    echo "skip: a writer in another pid namespace (needs root and unshare --pid)"
fi
# (that cache made by hand is listed for the sweep of a job's start, as the rank that makes a
# job's cache lists it: filem/local_gc.h; job a's start swept it once, its live writer's file kept)
[ -d "$cache/.unswept" ] || fail "no list of the caches to sweep in $cache after jobs a and b"
ln -sfn revive_global_snapshot_1 "$cache/.unswept/revive_global_snapshot_1"
[ -L "$cache/.unswept/revive_global_snapshot_$B.ckpt" ] || fail "b: its cache is not listed for the sweep after kill -9 of mpirun"
start_job c 2 --iters 20 --sleep-us 500
wait $JOB; st=$?
[ $st = 0 ] || { fail "c: status $st"; tail -n 3 "$W/c.err"; }
left=$(tmps "$cache/revive_global_snapshot_$B.ckpt")
[ -z "$left" ] || fail "b: partial images left after the next job's start: $left"
[ ! -d "$cache/revive_global_snapshot_$B.ckpt/0" ] || fail "b: the uncommitted sequence 0 is still in the cache"
grep -Eq "node-local cache: removed [34] partial images and 1 uncommitted sequence of jobs that ended during a checkpoint" "$W/c.err" ||
    { fail "c: mpirun did not say what it removed"; grep "node-local" "$W/c.err"; }
[ ! -e "$cache/.unswept/revive_global_snapshot_$B.ckpt" ] || fail "b: its cache is still listed for the sweep after the next job's start swept it"
pass "b: kill -9 of mpirun while rank 1 wrote its image: the next job's start removed its partial image and the uncommitted sequence"

[ -f "$cache/revive_global_snapshot_1/0/.rank_0.img.tmp.$live" ] || fail "a partial image whose writer runs was removed"
[ ! -e "$cache/revive_global_snapshot_1/0/.rank_1.img.tmp.$gone" ] || fail "a partial image whose writer is gone was kept"
[ ! -e "$cache/revive_global_snapshot_1/0/.rank_2.img.tmp.$gone.1" ] || fail "a partial image .NAME.tmp.PID.N whose writer is gone was kept"
if [ -n "$ns" ]; then
    [ -f "$nsf" ] || fail "d: a partial image locked by a writer in another pid namespace was removed"
    { kill -KILL $ns; wait $ns; } 2>/dev/null
    wait_for 30 'flock -n -x "$nsf" true' || fail "d: the holder in the other pid namespace outlived unshare"
fi
pass "another job's partial image whose writer runs is kept (also one in another pid namespace); one whose writer is gone went (.tmp.PID and .tmp.PID.N)"
finish
