#!/bin/bash
# mpi_cache_room.sh FLAVOR: a node-local cache with room for about one snapshot (newuser10 F4:
# "mpirun --ckpt-local SMALL" took exactly one snapshot, then every checkpoint failed "No space
# left on device" on the cache's own copies: the committed sequence, already in the snapshot
# directory, and a failed sequence's images). A job of tests/snapc/mpi_loop.c held halfway, its
# cache on a tmpfs, its snapshot directory on the work folder's disk:
#   1. the first snapshot commits; the tmpfs is then made 1.5 of that snapshot big;
#   2. three more snapshots all commit (each drops the previous cached copy before it writes);
#      the cache holds one sequence at most besides the one written; nothing says "straight";
#   3. with the only cached copy locked by a reader (a restart reading it keeps it) and the rest
#      of the tmpfs filled, a fifth commits with every image written straight into the snapshot
#      directory, said once by ckpt-mpirun; the locked copy is still there;
#   4. the cache still full, a second job whose snapshot directory (a 256 KiB tmpfs) has no room
#      for an image: its snapshot fails saying the cache had no room first and naming both
#      options; that job goes on to the native result;
# the job ends with the native result, and restart-mpi of the last two snapshots gives it too.
# Also: a --ckpt-local directory every user writes in (mode 1777) is refused by mpirun at once,
# in one line, nothing started. Needs to mount a tmpfs (root).
flavor=$1
. "$(dirname "$0")/lib.sh"
snapc_mpi_setup croom restart
mnt=$W/small
mkdir -m 700 "$mnt"
if ! mount -t tmpfs -o size=256m,mode=0700 tmpfs "$mnt" 2>/dev/null; then
    echo "SKIP: cannot mount a tmpfs here (not root?): the small cache is not made"; exit 77
fi
cleanup='exec 9<&- 2>/dev/null; umount -l "$mnt" 2>/dev/null; '"$cleanup"
# 2000 steps: the snapshots are taken at the hold (step 1000), the steps after it only run the
# jobs on to the result (20000 until session 50)
iters=${SNAPC_MPI_ITERS:-2000}
native_run

# a 1777 --ckpt-local: refused at the launch (before, taken, and every checkpoint failed "not
# private")
mkdir -m 1777 "$W/shared"
( PATH=$(dirname "$launcher"):$PATH clean_exec timeout -k 5 120 "$wrapper" -am ft-enable-cr \
    --ckpt-dir "$W/snaps" --ckpt-local "$W/shared" -n $np "$bin" 10 ) >"$W/s.out" 2>"$W/s.err"
st=$?
if [ $st = 0 ] || [ -s "$W/s.out" ] || [ "$(grep -c . "$W/s.err")" != 1 ] ||
    ! grep -q "$W/shared is shared by every user (mode 1777).*mkdir -m 700 $W/shared/\$USER" "$W/s.err"; then
    fail "a 1777 --ckpt-local: status $st, not one line refusing it:"; sed 's/^/    /' "$W/s.err" "$W/s.out"
else
    pass "$flavor: a 1777 --ckpt-local is refused by mpirun in one line: $(cut -c1-120 "$W/s.err")..."
fi

mkdir -m 700 "$W/snaps"
( PATH=$(dirname "$launcher"):$PATH clean_exec "$wrapper" -am ft-enable-cr --ckpt-dir "$W/snaps" \
    --ckpt-local "$mnt" -n $np "$bin" $iters hold "$W/go" ) >"$W/a.out" 2>"$W/a.err" &
JOB=$!; jobs_started="$jobs_started $JOB"
jd=$W/snaps/revive_global_snapshot_$JOB.ckpt
cache=$mnt/revive_global_snapshot_$JOB.ckpt
wait_for 240 '[ -e "$W/go.held" ]' || fail "the job did not reach its hold in 240 s: $(tail -3 "$W/a.err")"
used() { df -B1 --output=used "$mnt" | tail -1; }
# ckpt N: ckpt-mpirun --wait; REF, and the ranks' "straight" line counted in STRAIGHT
refs=
ckpt() {
    if expect_rc 0 "snapshot $1" timeout 300 "$CKPT" --wait $JOB; then
        refs="$refs $(tail -n1 "$W/cmd.out")"
    fi
    cp "$W/cmd.err" "$W/ckpt$1.err"
}
ckpt 1
u=$(du -sB1 "$cache" | cut -f1)
[ "$u" -gt 0 ] || fail "the first snapshot left nothing in the cache"
# room for the cached copy and half a snapshot more
mount -o remount,size=$(( $(used) + u / 2 )) "$mnt" || fail "cannot resize the tmpfs"
for i in 2 3 4; do
    ckpt $i
    n=$(ls "$cache" | grep -c '^[0-9]*$')
    [ "$n" -le 1 ] || fail "snapshot $i: $n sequences in the cache: $(ls "$cache")"
done
grep -h "straight" "$W"/ckpt[234].err && fail "snapshots 2-4: an image went straight to the snapshot directory"
[ "$(echo $refs | wc -w)" = 4 ] && pass "$flavor: a cache with room for one snapshot: 4 snapshots commit ($(df -h --output=size "$mnt" | tail -1 | tr -d ' ') tmpfs, $((u >> 20)) MB a snapshot)"

# the cached copy locked as a restart reading it holds it, the rest of the tmpfs filled
held=$(ls "$cache" | grep '^[0-9]*$' | tail -1)
exec 9<"$cache/$held" && flock -s 9
dd if=/dev/zero of="$mnt/filler" bs=64k 2>/dev/null
ckpt 5
exec 9<&-
[ -f "$cache/$held/rank_0.img" ] || fail "the locked cached copy $held was removed"
[ "$(grep -c "straight into the snapshot directory" "$W/ckpt5.err")" = 1 ] &&
    grep -q "had no room for the image of ranks 0,1," "$W/ckpt5.err" ||
    { fail "snapshot 5: not said once that ranks 0,1 wrote straight into the snapshot directory:"; sed 's/^/    /' "$W/ckpt5.err"; }
[ "$(echo $refs | wc -w)" = 5 ] && pass "$flavor: a full cache (its copy locked by a reader): the images go straight into the snapshot directory, said once; it commits"

# 4. the cache still full and a second job's snapshot directory too small for an image: the
# direct write fails, and its message says the cache had no room first (cache41: only the
# --ckpt-dir advice was given, as if the cache had not been tried)
mkdir -m 700 "$W/snapsmall"
if mount -t tmpfs -o size=256k,mode=0700 tmpfs "$W/snapsmall"; then
    cleanup='umount -l "$W/snapsmall" 2>/dev/null; '"$cleanup"
    ( PATH=$(dirname "$launcher"):$PATH clean_exec "$wrapper" -am ft-enable-cr --ckpt-dir "$W/snapsmall" \
        --ckpt-local "$mnt" -n $np "$bin" $iters hold "$W/go2" ) >"$W/c.out" 2>"$W/c.err" &
    JOBC=$!; jobs_started="$jobs_started $JOBC"
    wait_for 240 '[ -e "$W/go2.held" ]' || fail "the second job did not reach its hold in 240 s: $(tail -3 "$W/c.err")"
    expect_rc 1 "a snapshot with the cache full and the snapshot directory too small" \
        timeout 300 "$CKPT" --wait $JOBC
    if grep -q "because this node's cache $mnt had no room for it" "$W/cmd.err" &&
        grep -q "free space on either file system, or give another --ckpt-dir DIR (REVIVE_SNAPSHOT_DIR) or --ckpt-local DIR" "$W/cmd.err"; then
        pass "$flavor: the cache full, the direct write failing: its message names the full cache and both options: $(grep -m1 "had no room" "$W/cmd.err" | cut -c1-200)..."
    else
        fail "the cache full, the direct write failing: the message does not say the cache had no room:"
        sed 's/^/    /' "$W/cmd.err"
    fi
    touch "$W/go2"
    wait $JOBC || fail "the second job's status $?"
    grep "^result" "$W/native.out" | cmp -s - <(grep "^result" "$W/c.out") || { fail "the second job's result differs"; cat "$W/c.out"; }
else
    fail "cannot mount the small snapshot directory"
fi
rm -f "$mnt/filler"

touch "$W/go"
wait $JOB || fail "the job's status $?"
grep "^result" "$W/native.out" | cmp -s - <(grep "^result" "$W/a.out") || { fail "result differs"; cat "$W/a.out"; }
for ref in $(echo $refs | tr ' ' '\n' | tail -2); do
    expect_rc 0 "ckpt-info --verify $ref" "$INFO" --verify "$ref"
    timeout -k 5 200 "$RESTART" --ckpt-local "$mnt" "$ref" >"$W/r.out" 2>"$W/r.err" ||
        { fail "restart-mpi $ref: status $?"; tail -5 "$W/r.err"; }
    grep "^result" "$W/native.out" | cmp -s - <(grep "^result" "$W/r.out") ||
        { fail "restart of $ref: result differs"; cat "$W/r.out" "$W/r.err"; }
done
pass "$flavor: the job's result and the restarts of the last two snapshots are native"
wait_no_strays
finish
