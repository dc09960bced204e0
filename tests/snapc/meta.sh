#!/bin/bash
# snapshot.meta damaged or truncated, images damaged or missing, directories that are not
# private: ckpt-info (and restart-mpi) refuse with one clear message and a non-zero status;
# --verify checks every image; --json is JSON. ckpt-info's exit statuses (its --help): 0 a
# committed snapshot, 1 damaged or not private, 3 nothing committed (missing, an uncommitted
# sequence, a directory whose sequences are all uncommitted).
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-meta

start_job a 3 --iters 1000000 --sleep-us 300
expect_rc 0 "snapshot 0" "$CKPT" $JOB
expect_rc 0 "snapshot 1" "$CKPT" $JOB
kill -TERM $JOB; wait $JOB
jd=$W/revive_global_snapshot_$JOB.ckpt

expect_rc 0 "ckpt-info of the directory" "$INFO" "$jd"
grep -q "2 sequences" "$W/cmd.out" || fail "ckpt-info lists $(head -1 "$W/cmd.out")"
expect_rc 0 "ckpt-info --verify" "$INFO" --verify "$jd/1"
grep -c "rank [0-2]: ok" "$W/cmd.out" | grep -qx 3 || fail "--verify: $(cat "$W/cmd.out")"
expect_rc 0 "ckpt-info --json" "$INFO" --json --verify "$jd"
if command -v python3 >/dev/null; then
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["committed"]==2, d' "$W/cmd.out" ||
        fail "--json is not the expected JSON"
fi
# the time of each phase (ckpt-info(1); review newuser7 M2: only the commit's was shown): text,
# one line of ms from the request; --json, "times" and "ms_from_request", as snapshot.meta has them
expect_rc 0 "ckpt-info of a sequence" "$INFO" "$jd/1"
grep -Eq "^  requested [0-9-]+ [0-9:]+\.[0-9]{3}; ms from the request: pending [0-9]+, running [0-9]+, quiesced [0-9]+, drained [0-9]+, captured [0-9]+, committed [0-9]+$" \
    "$W/cmd.out" || fail "no line of the phases' times: $(cat "$W/cmd.out")"
expect_rc 0 "ckpt-info --json of a sequence" "$INFO" --json "$jd/1"
if command -v python3 >/dev/null; then
    python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
meta = dict(l.split(" ", 1) for l in open(sys.argv[2]).read().splitlines() if l.startswith("time."))
ph = ["requested", "pending", "running", "quiesced", "drained", "captured", "established"]
assert list(d["times"]) == ph, d["times"]
for p in ph:
    assert "%.3f" % d["times"][p] == meta["time." + p], (p, d["times"][p], meta["time." + p])
    if p != "requested":
        want = round(float(meta["time." + p]) * 1000) - round(float(meta["time.requested"]) * 1000)
        assert d["ms_from_request"][p] == want, (p, d["ms_from_request"], want)
' "$W/cmd.out" "$jd/1/snapshot.meta" || fail "--json times: $(cat "$W/cmd.out")"
fi
pass "the time of each phase, text and JSON"

# damaged and truncated copies of sequence 1
cp -a "$jd/1" "$jd/7"
cp -a "$jd/1" "$jd/8"
printf 'X' | dd of="$jd/7/snapshot.meta" bs=1 seek=100 conv=notrunc status=none
truncate -s -20 "$jd/8/snapshot.meta"
expect_rc 1 "a damaged snapshot.meta" "$INFO" "$jd/7" && err_has "$jd/7/snapshot.meta is damaged (checksum"
[ "$(grep -c . "$W/cmd.err")" = 1 ] || fail "more than one line: $(cat "$W/cmd.err")"
expect_rc 1 "a truncated snapshot.meta" "$INFO" "$jd/8" && err_has "$jd/8/snapshot.meta is truncated"
err_has "this snapshot cannot be used: sequence 1 beside it is committed (restart-mpi --seq 1 $jd)"
expect_rc 1 "listing with damaged sequences" "$INFO" "$jd"
grep -q "DAMAGED" "$W/cmd.out" || fail "the listing does not say DAMAGED"
if [ -x "$RESTART" ] && "$RESTART" --help >/dev/null 2>&1; then
    expect_rc 1 "restart-mpi of a damaged snapshot" "$RESTART" --showme "$jd/7" && err_has "snapshot.meta is damaged"
    expect_rc 1 "restart-mpi of a truncated snapshot" "$RESTART" --showme "$jd/8" && err_has "is truncated"
fi
# the snapshot directory as REF: the newest committed sequence is taken, and each newer one
# passed over is named on stderr with why (review LOW-5: a damaged newest sequence was skipped
# without a word); an unfinished one too (the job has ended: its checkpoint did not finish)
mkdir -m 700 "$jd/9"
if [ -x "$RESTART" ]; then
    expect_rc 0 "restart-mpi --showme of the directory, newer sequences damaged" "$RESTART" --showme "$jd" &&
        err_has "restart-mpi: skipping sequence 7 of $jd: its snapshot.meta is damaged (checksum " &&
        err_has "(ckpt-info --verify $jd/7 says more); taking sequence 1" &&
        err_has "restart-mpi: skipping sequence 8 of $jd: its snapshot.meta is truncated" &&
        err_has "restart-mpi: skipping sequence 9 of $jd: it is not committed (its checkpoint did not finish); taking sequence 1"
    [ "$(grep -c . "$W/cmd.err")" = 3 ] || fail "not one line per skipped sequence: $(cat "$W/cmd.err")"
    grep -q "$jd/1" "$W/cmd.out" || fail "restart-mpi would not take sequence 1: $(cat "$W/cmd.out")"
fi
rm -rf "$jd/7" "$jd/8" "$jd/9"
pass "damaged and truncated snapshot.meta refused, and named when passed over"

# an uncommitted sequence
mkdir -m 700 "$jd/5"
expect_rc 3 "an uncommitted sequence" "$INFO" "$jd/5" && err_has "is not committed (no snapshot.meta)"
[ "$(grep -c . "$W/cmd.err")" = 1 ] || fail "more than one line: $(cat "$W/cmd.err")"
# restart-mpi of it names the committed sequence beside it, as for a damaged one (review
# newuser7 L1: no hint which one to use)
expect_rc 1 "restart-mpi of an uncommitted sequence" "$RESTART" --showme "$jd/5" &&
    err_has "$jd/5 is not committed (no snapshot.meta): it was never finished or it failed; sequence 1 beside it is committed (restart-mpi --seq 1 $jd)"
# one line, but for the refusal said first while sequence 1 is read through (diffrev37 R-L14)
[ "$(grep -vc "; checking sequence 1 of $jd (reading every image of it through" "$W/cmd.err")" = 1 ] &&
    tail -n 1 "$W/cmd.err" | grep -qF "sequence 1 beside it is committed" ||
    fail "more than one line (but the notice of the check): $(cat "$W/cmd.err")"
rmdir "$jd/5"
# a directory whose sequences are all uncommitted
cp -a "$jd" "$W/uncommitted.ckpt"
rm "$W"/uncommitted.ckpt/*/snapshot.meta
expect_rc 1 "restart-mpi of an uncommitted sequence with none committed beside it" "$RESTART" --showme "$W/uncommitted.ckpt/1" &&
    err_has "$W/uncommitted.ckpt/1 is not committed (no snapshot.meta): it was never finished or it failed; $W/uncommitted.ckpt holds no other committed sequence to restart from"
for o in "" --json --verify; do
    expect_rc 3 "a directory without a committed sequence ${o:-(text)}" "$INFO" $o "$W/uncommitted.ckpt" &&
        err_has "holds no committed snapshot (2 sequences, none finished)"
    [ "$(grep -c . "$W/cmd.err")" = 1 ] || fail "more than one line: $(cat "$W/cmd.err")"
done
rm -rf "$W/uncommitted.ckpt"
# a sequence copied under another name without its snapshot.meta is still a sequence, not
# committed (status 3, review E2: it was status 1 "not a snapshot reference"); a directory
# named like one that holds no trace of a sequence is no snapshot (status 1)
mkdir -m 700 "$W/renamed"
cp -a "$jd/1" "$W/renamed/3"
rm "$W/renamed/3/snapshot.meta"
expect_rc 3 "a renamed uncommitted sequence" "$INFO" "$W/renamed/3" && err_has "is not committed (no snapshot.meta)"
[ "$(grep -c . "$W/cmd.err")" = 1 ] || fail "more than one line: $(cat "$W/cmd.err")"
expect_rc 3 "the folder of a renamed uncommitted sequence" "$INFO" "$W/renamed" && err_has "holds no committed snapshot"
if [ -x "$RESTART" ]; then
    expect_rc 1 "restart-mpi of a renamed uncommitted sequence" "$RESTART" --showme "$W/renamed/3" &&
        err_has "is not committed"
fi
mkdir -m 700 "$W/other" "$W/other/4"
echo data >"$W/other/4/notes.txt"
expect_rc 1 "a directory that is no snapshot" "$INFO" "$W/other/4" && err_has "is not a snapshot reference"
expect_rc 1 "its folder" "$INFO" "$W/other" && err_has "is not a snapshot reference"
rm -rf "$W/renamed" "$W/other"
pass "ckpt-info: nothing committed is status 3 in one line"

# damaged, truncated, missing image
img=$jd/1/rank_1.img
cp -a "$img" "$W/keep.img"
printf 'X' | dd of="$img" bs=1 seek=5000 conv=notrunc status=none
expect_rc 1 "a damaged image" "$INFO" --verify "$jd/1" && err_has "rank 1:"
cp -a "$W/keep.img" "$img"; truncate -s -100 "$img"
expect_rc 1 "a truncated image" "$INFO" --verify "$jd/1" && err_has "truncated or replaced"
rm "$img"
expect_rc 1 "a missing image" "$INFO" --verify "$jd/1" && err_has "rank 1: rank_1.img is missing"
cp -a "$W/keep.img" "$img"
expect_rc 0 "the image back" "$INFO" --verify "$jd/1"
pass "damaged, truncated, missing images found by --verify"

# directories and files that are not private
chmod 755 "$jd"
expect_rc 1 "a directory that is not private" "$INFO" "$jd" && err_has "is not private (mode 0755)"
chmod 700 "$jd"; chmod 644 "$jd/1/snapshot.meta"
expect_rc 1 "a metadata file that is not private" "$INFO" "$jd/1" && err_has "is not private"
chmod 600 "$jd/1/snapshot.meta"
# a reference through a symbolic link names what it points to
ln -s "$jd/1" "$W/latest"
expect_rc 0 "a reference through a symbolic link" "$INFO" "$W/latest"
grep -q "^$jd/1$" "$W/cmd.out" || fail "the link was not followed: $(head -1 "$W/cmd.out")"
# the folder that holds the snapshot directories (mpirun's --ckpt-dir, review12 LOW-2): one is
# taken, said in one line; several: the only one with a committed sequence that no restart
# superseded (a restart chain run in that folder, newuser14 F1), else refused in one line naming
# the newest commits first
expect_rc 0 "the folder of one snapshot directory" "$INFO" "$W" &&
    err_has "$W holds one snapshot directory: using $jd"
[ "$(grep -c . "$W/cmd.err")" = 1 ] || fail "more than one line: $(cat "$W/cmd.err")"
grep -q "^$jd: 2 sequences" "$W/cmd.out" || fail "ckpt-info of the folder: $(head -1 "$W/cmd.out")"
expect_rc 0 "restart-mpi --showme of the folder" "$RESTART" --showme "$W" &&
    err_has "$W holds one snapshot directory: using $jd"
grep -q "$jd/1" "$W/cmd.out" || fail "restart-mpi of the folder would not take $jd/1: $(cat "$W/cmd.out")"
# ... and both say so in their --help (newuser8 F7: accepted, but undocumented before session 39)
for t in "$INFO" "$RESTART"; do
    $t --help 2>&1 | tr -s ' \n' '  ' | grep -qF "folder holding snapshot directories" ||
        fail "$t --help does not say that a folder holding snapshot directories stands for one"
done
# four that hold no committed sequence (jobs that never committed): the one that does is taken
for p in 11 12 13 14; do mkdir -m 700 "$W/revive_global_snapshot_$p.ckpt"; done
touch -d "1 hour ago" "$W"/revive_global_snapshot_1[1-4].ckpt
touch -d "10 minutes ago" "$W/revive_global_snapshot_13.ckpt"
for t in "$INFO" "$RESTART --showme"; do
    expect_rc 0 "$t of a folder of 5 snapshot directories, one committed" $t "$W/" &&
        err_has "$W/ holds 5 snapshot directories: using $W/revive_global_snapshot_$JOB.ckpt, the only one with a committed snapshot that no restart superseded (4 with no committed snapshot)"
    [ "$(grep -c . "$W/cmd.err")" = 1 ] || fail "more than one line: $(cat "$W/cmd.err")"
done
# a second committed one (a copy, older): refused, the committed ones first, the empty ones marked
cp -a "$jd" "$W/revive_global_snapshot_15.ckpt"
touch -d "2 hours ago" "$W/revive_global_snapshot_15.ckpt"
for t in "$INFO" "$RESTART --showme"; do
    expect_rc 1 "$t of a folder of 6 snapshot directories" $t "$W/" &&
        err_has "$W/ holds 6 snapshot directories (newest commit first: $W/revive_global_snapshot_$JOB.ckpt, $W/revive_global_snapshot_15.ckpt, $W/revive_global_snapshot_13.ckpt (no committed snapshot) and 3 more): give one of them as the reference"
    [ "$(grep -c . "$W/cmd.err")" = 1 ] || fail "more than one line: $(cat "$W/cmd.err")"
done
# the copy restarted and committed (its mark in the parent, as a restart's commit writes it):
# the folder stands for the chain's head, whatever the directories' times (the parent is
# touched last when its restart ends); the parent given by name is restarted, with a note
printf 'superseded.by %s\nstale.caches \n' "$W/revive_global_snapshot_15.ckpt" > "$jd/superseded"
chmod 600 "$jd/superseded"
expect_rc 0 "restart-mpi --showme of a folder holding a restart chain" "$RESTART" --showme "$W" &&
    err_has "$W holds 6 snapshot directories: using $W/revive_global_snapshot_15.ckpt, the only one with a committed snapshot that no restart superseded (1 superseded by a restart of them, 4 with no committed snapshot)"
grep -q "revive_global_snapshot_15.ckpt/1" "$W/cmd.out" ||
    fail "restart-mpi of the chain's folder would not take its head: $(cat "$W/cmd.out")"
expect_rc 0 "restart-mpi --showme of a superseded directory" "$RESTART" --showme "$jd" &&
    err_has "note: $jd was superseded by $W/revive_global_snapshot_15.ckpt (a restart of this job committed snapshots there): this restart goes back"
grep -q "$jd/1" "$W/cmd.out" || fail "restart-mpi of the superseded directory would not take it: $(cat "$W/cmd.out")"
rm -rf "$W/revive_global_snapshot_15.ckpt" "$jd/superseded"
rmdir "$W"/revive_global_snapshot_1[1-4].ckpt
mkdir -m 700 "$W/none"
expect_rc 1 "not a snapshot" "$INFO" "$W/none" && err_has "is not a snapshot reference"
expect_rc 3 "missing" "$INFO" "$W/nothing" && err_has "does not exist"
[ "$(grep -c . "$W/cmd.err")" = 1 ] || fail "more than one line: $(cat "$W/cmd.err")"
# a snapshot directory that is gone (newuser7b F4): ckpt-info names a restart from the node-local
# caches only when this host's cache holds something of that job; for a job that kept none
# (--ckpt-local none, or its cache gone too) the plain answer, and that this host's cache holds no
# copy (restart-mpi looks in the cache itself and says what it found there)
gone=$W/revive_global_snapshot_4194301.ckpt
expect_rc 3 "ckpt-info of a gone directory, no cache" env -u REVIVE_LOCAL_DIR "$INFO" "$gone"
err_has "there is no revive_global_snapshot_4194301.ckpt in $W" &&
    err_has "this host's node-local cache holds no copy of it either"
grep -q "node-local caches where" "$W/cmd.err" && fail "ckpt-info names the caches of a job that kept none: $(cat "$W/cmd.err")"
expect_rc 1 "restart-mpi of a gone directory, no cache" env -u REVIVE_LOCAL_DIR "$RESTART" "$gone"
grep -q "restarts from the node-local caches where" "$W/cmd.err" &&
    fail "restart-mpi sends a job that kept no cache to the caches: $(cat "$W/cmd.err")"
[ -d "$W/revive-local-$(id -u)" ] || mkdir -m 700 "$W/revive-local-$(id -u)"
mkdir -m 700 "$W/revive-local-$(id -u)/revive_global_snapshot_4194301.ckpt"
expect_rc 3 "ckpt-info of a gone directory whose job this host's cache holds" env -u REVIVE_LOCAL_DIR "$INFO" "$gone"
err_has "it restarts from the node-local caches where they hold the images"
rm -rf "$W/revive-local-$(id -u)/revive_global_snapshot_4194301.ckpt"
# an image missing from a job that kept no node-local copies (--ckpt-local none): restart-mpi
# says so plainly, naming no cache it could have been in (newuser7b F4: "not in the cache of vm, no
# partner copy (the job kept no node-local copies (ckpt.local none))")
REVIVE_LOCAL_DIR=none start_job nolocal 2 --iters 1000000 --sleep-us 300
expect_rc 0 "snapshot of a job without node-local copies" "$CKPT" $JOB
# whether the snapshot saved the ranks' shared file mappings (diffrev36 R-L6: restart-mpi opens
# every image once more to find their writers only when it did): 0 without --save-shared, 1 with
expect_rc 0 "a --save-shared snapshot" "$CKPT" --save-shared $JOB
kill -TERM $JOB; wait $JOB
nl=$W/revive_global_snapshot_$JOB.ckpt/0
grep -qx "ckpt.save_shared 0" "$nl/snapshot.meta" ||
    fail "no ckpt.save_shared 0 in the snapshot.meta of a snapshot without --save-shared"
grep -qx "ckpt.save_shared 1" "$W/revive_global_snapshot_$JOB.ckpt/1/snapshot.meta" ||
    fail "no ckpt.save_shared 1 in the snapshot.meta of a --save-shared snapshot"
rm -f "$nl/rank_0.img"
expect_rc 1 "restart-mpi of it without rank_0.img" "$RESTART" "$nl"
# (the words of ckpt-info --verify, one rule for both: newuser8 F4; before, the fetch said it)
err_has "$nl is damaged: rank 0: rank_0.img is missing, and the job kept no node-local copies (ckpt.local none)" &&
    ! grep -q "not in the cache of" "$W/cmd.err" || fail "restart-mpi names a cache: $(cat "$W/cmd.err")"
expect_rc 0 "ckpt-info --help" "$INFO" --help && grep -q "^Exit status: 0" "$W/cmd.out" ||
    fail "ckpt-info --help does not give the exit statuses"
pass "private directories and files, bad references"
finish
