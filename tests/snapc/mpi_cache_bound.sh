#!/bin/bash
# mpi_cache_bound.sh FLAVOR: cache_bound.sh with a real MPI job (review MEDIUM-1: a periodic job
# whose snapshot directory is full kept every failed sequence's images in its node's cache).
# "mpirun -am ft-enable-cr --ckpt-interval 1 --ckpt-dir TMPFS" of tests/snapc/mpi_loop.c held
# halfway; after its first commit the tmpfs is filled: after 5 failed checkpoints the node's
# cache holds the committed sequence and, besides it, only the one being written (each failed
# sequence's images go at its failure); the coordinator says so once; with room again the next
# commit leaves only committed sequences cached; the job ends with the native result. Needs to
# mount a tmpfs (root).
flavor=$1
. "$(dirname "$0")/lib.sh"
snapc_mpi_setup cbound
mnt=$W/small
mkdir -m 700 "$mnt"
if ! mount -t tmpfs -o size=64m,mode=0700 tmpfs "$mnt" 2>/dev/null; then
    echo "SKIP: cannot mount a tmpfs here (not root?): the full snapshot directory is not made"; exit 77
fi
cleanup='umount -l "$mnt" 2>/dev/null; '"$cleanup"
# 2000 steps: the snapshots are taken at the hold (step 1000), the steps after it only run the
# jobs on to the result (20000 until session 50)
iters=${SNAPC_MPI_ITERS:-2000}
native_run
# (REVIVE_VERBOSE=2: the failures after the first, alike, are said at info: coord_failrep.c)
( PATH=$(dirname "$launcher"):$PATH clean_exec REVIVE_VERBOSE=2 "$wrapper" -am ft-enable-cr --ckpt-interval 1 \
    --ckpt-dir "$mnt" -n $np "$bin" $iters hold "$W/go" ) >"$W/a.out" 2>"$W/a.err" &
JOB=$!; jobs_started="$jobs_started $JOB"
wait_for 120 'case "$(cat /proc/$JOB/comm 2>/dev/null)" in mpirun|revive-coord) true ;; *) false ;; esac' ||
    fail "the job did not start Revive's mpirun"
jd=$mnt/revive_global_snapshot_$JOB.ckpt
cache=$W/revive-local-$(id -u)/revive_global_snapshot_$JOB.ckpt
wait_for 240 '[ "$(newest_committed "$jd")" -ge 0 ]' || fail "no first commit in 240 s: $(tail -3 "$W/a.err")"
dd if=/dev/zero of="$mnt/filler" bs=64k 2>/dev/null
base=$(grep -c "is not committed" "$W/a.err")
wait_for 300 '[ $(($(grep -c "is not committed" "$W/a.err") - base)) -ge 5 ]' ||
    fail "5 failed checkpoints not seen in 300 s: $(grep -c "is not committed" "$W/a.err")"
cache_bounded "$jd" "$cache" "$W/a.err" 5
pass "$flavor: a full snapshot directory: $kept sequences at most in the cache after 5+ failed checkpoints, none failed, said once"
c0=$(newest_committed "$jd")
rm -f "$mnt/filler"
wait_for 240 '[ "$(newest_committed "$jd")" -gt "$c0" ]' || fail "no commit once there is room"
cache_only_committed "$jd" "$cache"
touch "$W/go"
wait $JOB || fail "the job's status $?"
grep "^result" "$W/native.out" | cmp -s - <(grep "^result" "$W/a.out") || { fail "result differs"; cat "$W/a.out"; }
pass "$flavor: room again: no failed sequence cached after the next commit; the native result"
wait_no_strays
finish
