#!/bin/bash
# --save-files PATH named through a symbolic link (fake ranks; diffrev37 R-M3's rest): the job's
# outdir is a link to a scratch directory. The snapshot records the PATH as named and what it led
# to; restart-mpi puts the files back through the link as it is at the restart, naming both.
# 1. the link re-pointed to a fresh scratch directory: the files go there (said: "outdir, through
#    its link into NEW (OLD at the snapshot)"), the old target left alone. Before (session 37):
#    put back into the old target, which the job no longer reads through its outdir.
# 2. the scratch directory purged (the link left dangling, the directory it leads into there):
#    put back where the link leads.
# 3. the link leads into a directory that is gone, and then the link itself gone: refused before
#    the launch, naming the link, what it leads to and what the snapshot saved. Before: put back
#    into the old target, or "its directory ... does not exist" naming only the old target.
# 4-6. a link followed only when the snapshot saw one there and it is the user's (diffrev38 R-H1):
#    another user's link, or the user's own, where a directory was saved, and another user's link
#    where a link was saved: refused, the directory it leads to intact.
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-saved-link
export REVIVE_RESTART_RANK=$FRANK REVIVE_COORD_BIN=$COORD
opts="--iters 3000 --sleep-us 300 --seed 3"
mkdir -p "$W/job" "$W/scr1/out" "$W/scr2"
echo step1 >"$W/scr1/out/md"
ln -s ../scr1/out "$W/job/outdir"
cd "$W/job"
start_job a 2 $opts
cd "$W"
expect_rc 0 "--term --save-files outdir" "$CKPT" --term --save-files outdir $JOB
ref=$(tail -n1 "$W/cmd.out")
wait $JOB
echo step2 >"$W/scr1/out/md"

# 1. re-pointed
mkdir "$W/scr2/out"
rm "$W/job/outdir" && ln -s ../scr2/out "$W/job/outdir"
"$RESTART" "$ref" >"$W/r1.out" 2>"$W/r1.err"
rc=$?
said="restart-mpi: put back the files the snapshot saved (--save-files): $W/job/outdir, through its link into $W/scr2/out ($W/scr1/out at the snapshot)"
if [ $rc != 0 ]; then
    fail "restart, the link re-pointed: status $rc: $(cat "$W/r1.err")"
else
    [ "$(cat "$W/scr2/out/md" 2>&1)" = step1 ] || fail "the link's new target holds $(cat "$W/scr2/out/md" 2>&1), not the snapshot's step1"
    [ "$(cat "$W/scr1/out/md")" = step2 ] || fail "the old target was written: $(cat "$W/scr1/out/md")"
    grep -qxF "$said" "$W/r1.err" || fail "restart-mpi does not name the link and both targets: $(grep save-files "$W/r1.err")"
    pass "the link re-pointed: put back through it into its new target, both named"
fi

# 2. the scratch directory purged
rm -rf "$W/scr2/out"
"$RESTART" "$ref" >"$W/r2.out" 2>"$W/r2.err"
rc=$?
[ $rc = 0 ] && [ "$(cat "$W/job/outdir/md" 2>&1)" = step1 ] &&
    pass "the link's target purged, its directory there: put back where the link leads" ||
    fail "the link's target purged: status $rc, outdir/md: $(cat "$W/job/outdir/md" 2>&1): $(tail -n 2 "$W/r2.err")"

# 3. refused: the directory the link leads into gone; the link gone
rm -rf "$W/scr2"
expect_rc 1 "the link into a directory that is gone" "$RESTART" "$ref" &&
    err_has "cannot put $W/job/outdir back: $W/job/outdir is a link to ../scr2/out, and the directory $W/job/../scr2 it leads into does not exist" &&
    err_has "the snapshot saved $W/scr1/out): create it, point the link at a directory that exists, or restart with --no-restore-files"
rm "$W/job/outdir"
expect_rc 1 "the link gone" "$RESTART" "$ref" &&
    err_has "cannot put $W/job/outdir back: it was a link (to ../scr1/out, the snapshot saved $W/scr1/out) and is gone: make it again (ln -s ../scr1/out $W/job/outdir)"
[ "$(cat "$W/scr1/out/md")" = step2 ] || fail "a refused restart wrote the old target: $(cat "$W/scr1/out/md")"
pass "a link into a directory that is gone, a link gone: refused before the launch, naming the link and its targets"

# 4. diffrev38 R-H1 (the reviewer's script): a PATH that was a plain directory in a shared sticky
#    directory (pub stands for /tmp), gone since and replaced by another user's link to a directory
#    of the user's: refused, naming the link, its target and owner; the victim intact. On d1f1464:
#    status 0, "through its link into .../victim", the victim's files gone.
mkdir -p "$W/pub/run42" "$W/victim/sub"
chmod 1777 "$W/pub"
echo step1 >"$W/pub/run42/md"
echo precious >"$W/victim/precious"; echo keep >"$W/victim/sub/keep"
cd "$W/job"
start_job b 2 $opts
cd "$W"
expect_rc 0 "--term --save-files pub/run42" "$CKPT" --term --save-files "$W/pub/run42" $JOB
ref2=$(tail -n1 "$W/cmd.out")
wait $JOB
rm -rf "$W/pub/run42"
ln -s "$W/victim" "$W/pub/run42"
owner=$(id -u)
[ "$owner" = 0 ] && chown -h nobody "$W/pub/run42" 2>/dev/null && owner=$(stat -c %u "$W/pub/run42")
expect_rc 1 "another user's link where a directory was saved" "$RESTART" "$ref2" &&
    err_has "cannot put $W/pub/run42 back: " &&
    if [ "$owner" = "$(id -u)" ]; then
        err_has "it was no link at the snapshot (the snapshot saved $W/pub/run42 there) and is now a link to $W/victim"
    else
        err_has "$W/pub/run42 is a link to $W/victim owned by user $owner, not by you"
    fi
[ "$(cat "$W/victim/precious" 2>&1)" = precious ] && [ "$(cat "$W/victim/sub/keep" 2>&1)" = keep ] &&
    [ ! -e "$W/victim/md" ] || fail "the victim directory changed: $(ls -A "$W/victim")"
pass "a link put where a directory was saved (owner $owner): refused, named, the directory it leads to intact"
# 5. the user's own link there (no link at the snapshot): refused too
rm "$W/pub/run42" && ln -s "$W/victim" "$W/pub/run42"
expect_rc 1 "the user's own link where a directory was saved" "$RESTART" "$ref2" &&
    err_has "it was no link at the snapshot (the snapshot saved $W/pub/run42 there) and is now a link to $W/victim"
[ "$(cat "$W/victim/precious" 2>&1)" = precious ] || fail "the victim directory changed: $(ls -A "$W/victim")"
# 6. a PATH that was a link at the snapshot, now another user's link: refused (root only can make one)
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
    mkdir -p "$W/scr3/out" && ln -s ../scr3/out "$W/job/outdir" && chown -h nobody "$W/job/outdir"
    expect_rc 1 "a saved link now another user's" "$RESTART" "$ref" &&
        err_has "$W/job/outdir is a link to ../scr3/out owned by user $(id -u nobody), not by you"
    [ -z "$(ls -A "$W/scr3/out")" ] || fail "another user's link was followed: $(ls -A "$W/scr3/out")"
else
    echo "SKIP-PART: a saved link now another user's (needs root to make a link of another user)"
fi
pass "the user's own link where a directory was saved, another user's link where a link was saved: refused"
finish
