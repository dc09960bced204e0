#!/bin/bash
# rst_iochg.sh FLAVOR: crash recovery of a job holding MPI-IO files (issue 8, point 4), through
# ckpt-mpirun and restart-mpi on 2 ranks. rst_io (a view and explicit offsets on FILE, the
# shared file pointer on FILE.log) runs under "mpirun -am ft-enable-cr", held at chosen steps
# (RST_IO_HOLD): snapshot 0 after step 2, snapshot 1 after step 4, then it writes steps 5 to 7
# on to both files and is killed (SIGKILL, every process). Then, on that snapshot directory:
#   - FILE shorter than at the snapshot, FILE gone, another file at its path, FILE no longer
#     writable (not as root, who may write it), and FILE as the crash left it with
#     --strict-files: each restart refused in one
#     line naming the file and what differs, status non-zero, no process left, the index
#     unchanged (a refusal is not the snapshot's failure);
#   - FILE and FILE.log seen through an overlay of their folder (another st_dev, the same inodes
#     and birth times, as from another node's mount of a shared file system): restarted as
#     uninterrupted (diffrev45 R-M1: refused as "another file");
#   - after those refusals the default restart takes sequence 1 still, and with the files
#     as the crash left them (grown) it finishes with an uninterrupted native run's results
#     (rank 0's lines from step 5 on, both file pointers at every step, the files' sizes and
#     checksum), one note per file on stderr;
#   - a corrupted rank image of sequence 1 (--no-verify) still marks it failed in the index
#     with the rank's reason, and the next default restart takes sequence 0.
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog rst_io
export REVIVE_RESTART_RANK=$restarter
n=2 steps=10
case $flavor in
ompi) opt=(--oversubscribe) ;;
*) opt=(-launcher fork) ;;
esac
ck_workdir iochg
f=$d/job.dat
run_native $n "$prog" "$d/native.dat" $steps >native.out 2>native.err ||
    { failed "the native run: status $?"; tail -n 3 native.err; exit 1; }
# the job: held after steps 2, 4 and 7 while hold.2, hold.4, hold.7 exist
touch hold.2 hold.4 hold.7
RST_IO_HOLD=$d/hold clean timeout -k 5 600 "$wrapper" -am ft-enable-cr "${opt[@]}" --ckpt-dir "$d" \
    -n $n "$prog" "$f" $steps >out.0 2>err.0 &
job=$!; pids+=($job)
wait_steps out.0 3 $job && ref0=$(checkpoint $job s0) && rm -f hold.2 &&
    wait_steps out.0 5 $job && ref=$(checkpoint $job s1) && rm -f hold.4 &&
    wait_steps out.0 8 $job ||
    { failed "no snapshots of the job: $(nsteps out.0) steps"; tail -n 4 ckpt.*.err err.0; exit 1; }
# killed at step 7, the files written on after snapshot 1
sleep 0.5
tree=$(descendants $job)
exec 3>&2 2>/dev/null    # without bash's "Killed" line
kill -KILL $tree
wait $job
exec 2>&3 3>&-
rm -f hold.7             # the restarted ranks keep RST_IO_HOLD
jd=$(dirname "$ref")
[ "$(dirname "$ref0")" = "$jd" ] && [ "${ref0##*/}" = 0 ] && [ "${ref##*/}" = 1 ] ||
    { failed "the snapshots are $ref0 and $ref, expected sequences 0 and 1 of one directory"; exit 1; }
[ -f "$f" ] && [ -f "$f.log" ] || { failed "the job wrote no files"; exit 1; }
if [ "$(results out.0 | tail -n 1)" != "$(results native.out | sed -n 8p)" ]; then
    failed "the job did not run on to step 7 as natively before it was killed"; results out.0 | tail -n 2
fi
ln "$f" "$f.orig"        # the job's own file (its inode) kept for the cases below
cp -p "$f" "$f.crash"    # its contents as the crash left them
cp -p "$jd/index" index.keep
# refused WHAT PATTERN [OPTIONS]: restart-mpi OPTIONS of the snapshot directory refused: status
# non-zero, one line matching PATTERN (the coordinator's, which names the sequence), nothing of
# the job's results, the index unchanged, no process left
refused() {
    local what=$1 pat=$2 rc k
    shift 2
    clean timeout -k 5 300 "$RESTART" "$@" "$jd" >bad.out 2>bad.err; rc=$?
    k=$(grep -c -- "$pat" bad.err)
    if [ $rc = 0 ] || [ $rc = 124 ] || [ "$k" != 1 ] || results bad.out | grep -q .; then
        failed "$what: status $rc, $k lines matching '$pat' (want 1)"; show_err bad.err
    elif ! grep -q -- "$jd/1 was refused: .*not marked as failed" bad.err; then
        failed "$what: the refusal does not say the snapshot is not marked as failed"; show_err bad.err
    elif ! cmp -s index.keep "$jd/index"; then
        failed "$what: the index changed: $(grep failed "$jd/index")"
    else
        pass "$what: status $rc: $(grep -m1 -- "$pat" bad.err | sed 's/.*was refused: //' | cut -c1-260)"
    fi
    strays_after "$what"
}
truncate -s 100 "$f"
refused "a shortened file" "the MPI file $f is shorter than at the snapshot (100 bytes now"
cp "$f.crash" "$f"       # in place: the same inode
rm "$f"
refused "a removed file" "the MPI file $f, open at the snapshot, is gone"
cp -p "$f.crash" "$f"    # a copy: another inode
refused "a file put back as a copy" "the MPI file $f is another file than the one open at the snapshot"
ln -f "$f.orig" "$f"
if [ "$(id -u)" != 0 ]; then
    chmod 400 "$f"
    refused "a file no longer writable" "the MPI file $f cannot be opened for reading and writing any more"
    chmod 600 "$f"
else
    echo "NOTE: a file no longer writable: not checked (root may write a 0400 file)"
fi
refused "--strict-files, a file written on after the snapshot" \
    "the MPI file $f changed since the snapshot (.* bytes now, .* at the snapshot; modified .*--strict-files" \
    --strict-files
# after the refusals the default restart takes the newest sequence still
"$RESTART" --showme "$jd" >show.out 2>show.err
grep -qF "$jd/1" show.out && ! grep -q skipping show.err && pass "after the refusals the default is sequence 1 still" ||
    failed "after the refusals the default is not sequence 1: $(cat show.out show.err)"
# the same files seen from another host: the job's folder seen through an overlay of itself in a
# mount namespace of the restart's own (another st_dev, the same inode numbers and birth times, as
# an NFS or Lustre client's mount on another node): the restart takes them as the job's and
# finishes as uninterrupted (diffrev45 R-M1: refused "another file than the one open at the
# snapshot (device/inode ...)"); what it writes stays in the overlay's upper folder, so the files,
# the index and the snapshots are as before for the parts below. Root only (mount).
ov=$tmp/iochg-ov
mkdir -p "$ov/probe" "$ov/up" "$ov/work" "$ov/pup" "$ov/pwork"
if [ "$(id -u)" = 0 ] && unshare -m sh -c 'mount -t overlay overlay -o "lowerdir=$1,upperdir=$2,workdir=$3" "$1"' \
        sh "$ov/probe" "$ov/pup" "$ov/pwork" 2>/dev/null; then
    clean timeout -k 5 600 unshare -m sh -c \
        'mount -t overlay overlay -o "lowerdir=$1,upperdir=$2,workdir=$3" "$1" && shift 3 && exec "$@"' \
        sh "$d" "$ov/up" "$ov/work" "$RESTART" "$jd" >out.ov 2>err.ov; rc=$?
    if [ $rc != 0 ]; then
        failed "the files seen through another mount (another st_dev): status $rc"; show_err err.ov
    elif ! cmp -s <(results native.out | tail -n 6) <(results out.ov); then
        failed "the files seen through another mount: the results differ from the uninterrupted run"
        diff <(results native.out | tail -n 6) <(results out.ov) | head -n 8
    else
        pass "the files seen through another mount (st_dev $(stat -c %d "$f") here): restarted, steps 5-9 as uninterrupted"
    fi
    strays_after "the restart through another mount"
    cmp -s index.keep "$jd/index" || failed "the restart through another mount changed the index"
else
    echo "NOTE: the files seen through another mount: not checked (needs root and overlayfs in a mount namespace)"
fi
# the crash's files, grown since snapshot 1: the job finishes as uninterrupted
clean timeout -k 5 600 "$RESTART" "$jd" >out.1 2>err.1; rc=$?
k=$(results out.1 | wc -l)
notes=$(grep -c "note: the MPI file $f\(.log\)\? was written after the snapshot" err.1)
if [ $rc != 0 ]; then
    failed "the restart with the files the crash left: status $rc"; show_err err.1
elif [ "$k" != 6 ] || ! cmp -s <(results native.out | tail -n 6) <(results out.1); then
    failed "the restart with the files the crash left: the results differ from the uninterrupted run"
    diff <(results native.out | tail -n 6) <(results out.1) | head -n 8
elif [ "$notes" != 2 ]; then
    failed "the restart with the files the crash left: $notes notes on the files, want one per file"; show_err err.1
else
    pass "the files written on after the snapshot and killed: restarted from sequence 1, steps 5-9 and the files as uninterrupted ($(results out.1 | tail -n 1 | sed 's/.*checksum/checksum/')); $(grep -m1 'note: the MPI file' err.1 | cut -c1-200)"
fi
strays_after "the restart with the files the crash left"
# a corrupted image is the snapshot's failure: marked, and the next default takes sequence 0
sz=$(stat -c %s "$jd/1/rank_1.img")
printf 'CORRUPTCORRUPT' | dd of="$jd/1/rank_1.img" bs=1 seek=$((sz / 2)) conv=notrunc 2>/dev/null
clean timeout -k 5 300 "$RESTART" --no-verify "$jd" >bad.out 2>bad.err; rc=$?
"$RESTART" --showme "$jd" >show.out 2>show.err
if [ $rc = 0 ] || ! grep -q "^seq.1.failed_reason rank 1: " "$jd/index"; then
    failed "a corrupted image: status $rc, index: $(grep failed "$jd/index")"; show_err bad.err
elif ! grep -qF "$jd/0" show.out || ! grep -q "skipping sequence 1" show.err; then
    failed "after a corrupted image the default is not sequence 0: $(cat show.out show.err)"
else
    pass "a corrupted image marks sequence 1 ($(grep '^seq.1.failed_reason' "$jd/index" | cut -c1-150)); the default takes 0"
fi
strays_after "a corrupted image"
exit $fail
