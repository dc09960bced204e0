#!/bin/bash
# mpirun --ckpt-save-files OUTDIR where OUTDIR does not exist at the launch: a code that makes its
# output directory itself and refuses one that exists (the Ray assembler: "out/ already exists")
# (newuser15 F3). The job starts (one warning: judged at each snapshot); a snapshot taken before
# OUTDIR exists records it missing (said by ckpt-mpirun); one taken after saves it. A restart
# from the later one puts OUTDIR back as it was (a file made since removed); a restart from the
# earlier one removes OUTDIR, which the job made after that snapshot (what a process holds open
# in it kept and named, the rest removed and named; with nothing held, OUTDIR goes whole).
# Each restart ends with the uninterrupted answer. Before: the launch was refused ("No such file
# or directory (--save-files names files that exist when the snapshot is taken; ...)").
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-save-later
export REVIVE_RESTART_RANK=$FRANK REVIVE_COORD_BIN=$COORD
opts="--iters 20000 --sleep-us 300 --seed 6"
"$COORD" --flavor fake -- "$FLAUNCH" -np 2 "$FRANK" $opts >"$W/native.out" 2>"$W/native.err" ||
    { fail "the uninterrupted run failed"; cat "$W/native.err"; }
sort "$W/native.out" >"$W/native.sorted"
mkdir -p "$W/work" "$W/ck"
cd "$W/work"
REVIVE_SAVE_FILES=out start_job a 2 --coord --dir "$W/ck" -- $opts
cd "$W"
grep -qF "revive: warning: --ckpt-save-files: $W/work/out does not exist yet: judged at each snapshot" "$W/a.err" ||
    fail "no warning at the launch that out does not exist yet: $(head -c 600 "$W/a.err")"
kill -0 $JOB 2>/dev/null || { fail "the job did not start: $(cat "$W/a.err")"; finish; }

# snapshot 0: out does not exist yet
expect_rc 0 "snapshot 0, out missing" "$CKPT" $JOB && {
    ref0=$(tail -n1 "$W/cmd.out")
    err_has "--ckpt-save-files: $W/work/out did not exist at the snapshot: recorded missing; restart-mpi moves what is there then aside"
    grep -q "^files.absent.*$W/work/out" "$ref0/snapshot.meta" || fail "snapshot.meta does not record out missing"
}
# the job makes out; snapshot 1 saves it; the job ends (--term)
mkdir "$W/work/out"
echo step1 >"$W/work/out/state"
expect_rc 0 "snapshot 1 (--term), out made" "$CKPT" --term $JOB && ref1=$(tail -n1 "$W/cmd.out")
err_has "the snapshot keeps $W/work/out"
wait $JOB
pass "a --ckpt-save-files PATH missing at the launch: the job runs, snapshots before (recorded missing) and after (saved) it exists"

# the job went on writing after snapshot 1
echo step2 >"$W/work/out/state"
echo later >"$W/work/out/made-since"
# restart-mpi RUN NAME REF: restarts REF from the work directory, output to NAME.out/.err, and
# checks the restarted job's answer is the uninterrupted one
restart() {
    ( cd "$W/work" && "$RESTART" "$2" >"$W/$1.out" 2>"$W/$1.err"; echo "rc $?" >"$W/$1.rc" )
    [ "$(cat "$W/$1.rc")" = "rc 0" ] || fail "$1: restart-mpi $(cat "$W/$1.rc"): $(tail -n 3 "$W/$1.err")"
    sort "$W/$1.out" | grep done >"$W/$1.sorted"
    cmp -s "$W/native.sorted" "$W/$1.sorted" ||
        { fail "$1: the restarted job's output is not the uninterrupted answer"; diff "$W/native.sorted" "$W/$1.sorted" | head -5; }
}
restart r1 "$ref1"
[ "$(cat "$W/work/out/state" 2>&1)" = step1 ] || fail "r1: out/state: $(cat "$W/work/out/state" 2>&1), not step1"
[ -e "$W/work/out/made-since" ] && fail "r1: out/made-since, made after snapshot 1, is still there"
pass "a restart from the snapshot that saved out: out as at the snapshot"

# a restart from snapshot 0 (out missing then): out is the job's since; a file a process holds
# open in it is kept, named with its holder; the rest removed, named
echo step3 >"$W/work/out/state"
sleep 300 >"$W/work/out/held.log" &
holder=$!
cleanup="$cleanup; kill $holder 2>/dev/null"
# the holder's shell opens held.log after its fork: under load restart-mpi looked before it did
# (out then held by nobody, moved aside whole: the lead's run of session 50, load 12)
for _ in $(seq 100); do
    [ "$(readlink /proc/$holder/fd/1 2>/dev/null)" = "$W/work/out/held.log" ] && break
    sleep 0.1
done
restart r0 "$ref0"
kill $holder 2>/dev/null; wait $holder 2>/dev/null
[ -e "$W/work/out/state" ] && fail "r0: out/state, made after snapshot 0, is still there"
[ -e "$W/work/out/held.log" ] || fail "r0: out/held.log, held open by a process, was removed"
grep -qE "kept $W/work/out/held.log, made since the snapshot \(open by sleep, pid [0-9]+\)" "$W/r0.err" ||
    fail "r0: not said that out/held.log was kept, and why: $(grep save-files "$W/r0.err")"
grep -F "removed, made since the snapshot and used by no process: " "$W/r0.err" | grep -qF "$W/work/out/state" ||
    fail "r0: out/state not named as removed: $(grep save-files "$W/r0.err")"
# again, nothing held: out goes whole, as the job found it missing, moved aside with all in it
# (a restart from the wrong snapshot, or one failing later, loses nothing; diffrev46 R-L5: before,
# removed for good)
restart r0b "$ref0"
[ -e "$W/work/out" ] && fail "r0b: out, made after snapshot 0 and held by nobody, is still there: $(ls -A "$W/work/out")"
[ -f "$W/work/out.revive-made-after-0/held.log" ] ||
    fail "r0b: out not moved aside whole to out.revive-made-after-0: $(ls -A "$W/work")"
grep -qF "moved aside, made since the snapshot and used by no process: $W/work/out/ -> $W/work/out.revive-made-after-0 (remove it once it is not needed)" "$W/r0b.err" ||
    fail "r0b: out not named as moved aside: $(grep save-files "$W/r0b.err")"
pass "restarts from the snapshot taken before out existed: out removed (what a process holds kept, said), then moved aside whole when nobody holds it"

# the PATH named through a link on the way (/scratch -> /lustre/..., the rule on clusters;
# diffrev46 R-M3: never rolled back, while restart-mpi said it was): rolled back through it; a
# link re-pointed since: left, said
ln -s "$W/work" "$W/lnk"
cd "$W/work"
REVIVE_SAVE_FILES=$W/lnk/out2 start_job b 2 --coord --dir "$W/ck" -- $opts
cd "$W"
expect_rc 0 "job b, snapshot 0, lnk/out2 missing" "$CKPT" --term $JOB && refb=$(tail -n1 "$W/cmd.out")
wait $JOB
mkdir -p "$W/work/out2/x"
restart rb "$refb"
[ -e "$W/work/out2" ] && fail "rb: out2 (named through a link), made after the snapshot, is still there"
[ -d "$W/work/out2.revive-made-after-0/x" ] || fail "rb: out2 not moved aside to out2.revive-made-after-0: $(ls -A "$W/work")"
grep -qF "moved aside, made since the snapshot and used by no process: $W/work/out2/ -> $W/work/out2.revive-made-after-0 (remove" "$W/rb.err" ||
    fail "rb: out2 not named as moved aside: $(grep save-files "$W/rb.err")"
# again from the same snapshot: the name taken, the next one (nothing overwritten)
mkdir -p "$W/work/out2/y"
restart rb1 "$refb"
[ -d "$W/work/out2.revive-made-after-0/x" ] && [ -d "$W/work/out2.revive-made-after-0.2/y" ] ||
    fail "rb1: out2 not moved aside beside the first: $(ls -A "$W/work")"
mkdir -p "$W/other/out2" && rm "$W/lnk" && ln -s "$W/other" "$W/lnk"
restart rb2 "$refb"
[ -d "$W/other/out2" ] || fail "rb2: other/out2, reached through a link re-pointed since the snapshot, was removed"
grep -qF "left $W/lnk/out2, missing at the snapshot: its directory leads to $W/other now, to $W/work then (a link changed)" "$W/rb2.err" ||
    fail "rb2: not said that lnk/out2 was left: $(grep save-files "$W/rb2.err")"
pass "a PATH named through a link: rolled back through it; left (said) once the link leads elsewhere"
finish
