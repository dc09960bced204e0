#!/bin/bash
# --save-files . (the job's working directory; snapshots elsewhere) and restart-mpi run in that
# directory with its output redirected there (newuser8 F3, the user's script with fake ranks):
#   cd work; ckpt-mpirun --term --save-files . JOB; restart-mpi REF > r1.out 2> r1.err; cat r1.out
# The directory is put back in place (the same directory: the shell still in it), the state file
# as at the snapshot, a file made since gone, and restart-mpi's own output kept (said) and holding
# the restarted job's whole output. Before (session 37): the directory was exchanged and the old
# one removed, r1.out with it: "cat r1.out" found nothing (the shell sat in a deleted directory),
# the restart exit status 0.
# Part 2 (diffrev38 R-M2, newuser8 F5), a second restart from the same snapshot in the same directory,
# its output through a pipe and a file a wrapper shell holds:
#   ( exec 7>wrap.log; restart-mpi REF 7>&- 2>r2.err | tee r2.out )
# r2.out (held by tee, not by restart-mpi) and wrap.log (held by the shell) are kept, said with who
# holds them, r2.out holding the restarted job's whole output; the first restart's r1.out and r1.err
# and a directory made since are removed, and the removal is said in the summary line, naming them.
# Before (session 38): only restart-mpi's own descriptors were kept: tee's r2.out and the shell's
# wrap.log were removed (the output went into deleted files), and the removal said nothing.
# Part 3 (diffrev39 R-H1), a third restart while another process (a leftover of the old job) holds
# the SAVED state file open for writing: the snapshot's copy is put back all the same and the
# writer named; the restarted job's output is the uninterrupted one. Before (032864cb): any
# process's writing kept the later step's state file ("kept ..., not the snapshot's copy", exit 0):
# the job would have restarted from its image with another step's file.
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-save-dot
export REVIVE_RESTART_RANK=$FRANK REVIVE_COORD_BIN=$COORD
opts="--iters 3000 --sleep-us 300 --seed 4"
"$COORD" --flavor fake -- "$FLAUNCH" -np 2 "$FRANK" $opts >"$W/native.out" 2>"$W/native.err" ||
    { fail "the uninterrupted run failed"; cat "$W/native.err"; }
sort "$W/native.out" >"$W/native.sorted"
mkdir -p "$W/work/sub" "$W/ck"
echo step1 >"$W/work/state"
echo keep >"$W/work/sub/x"
cd "$W/work"
start_job a 2 --coord --dir "$W/ck" -- $opts
cd "$W"
expect_rc 0 "--term --save-files ." "$CKPT" --term --save-files . $JOB
ref=$(tail -n1 "$W/cmd.out")
wait $JOB
echo step2 >"$W/work/state"
echo later >"$W/work/made-since"
ino=$(stat -c %i "$W/work")
# the user's script: in the saved directory, the output redirected there
(
    cd "$W/work" || exit 1
    "$RESTART" "$ref" >r1.out 2>r1.err
    echo "rc $?" >"$W/rc"
    stat -c %i . >"$W/cwd.ino"
    ls -A >"$W/ls"
    sort r1.out | grep done >"$W/r1.sorted" 2>/dev/null
)
[ "$(cat "$W/rc")" = "rc 0" ] || fail "restart-mpi: $(cat "$W/rc"): $(cat "$W/work/r1.err" 2>&1)"
[ "$(cat "$W/cwd.ino")" = "$ino" ] && [ "$(stat -c %i "$W/work")" = "$ino" ] ||
    fail "the saved directory was replaced: inode $(cat "$W/cwd.ino") seen by the shell, $(stat -c %i "$W/work") now, $ino before"
grep -qx r1.out "$W/ls" || fail "the shell in the directory does not see r1.out: $(tr '\n' ' ' <"$W/ls")"
cmp -s "$W/native.sorted" "$W/r1.sorted" ||
    { fail "r1.out does not hold the restarted job's output (the uninterrupted answer)"; diff "$W/native.sorted" "$W/r1.sorted" | head -5; }
[ "$(cat "$W/work/state")" = step1 ] || fail "state: $(cat "$W/work/state"), not the snapshot's step1"
[ "$(cat "$W/work/sub/x")" = keep ] || fail "sub/x: $(cat "$W/work/sub/x" 2>&1)"
[ -e "$W/work/made-since" ] && fail "made-since, made after the snapshot, is still there"
grep -qF "kept $W/work/r1.out, made since the snapshot (restart-mpi's standard output)" "$W/work/r1.err" &&
    grep -qF "kept $W/work/r1.err, made since the snapshot (restart-mpi's standard error)" "$W/work/r1.err" ||
    fail "restart-mpi does not say it kept its own output: $(grep save-files "$W/work/r1.err")"
grep -F "removed, made since the snapshot and used by no process: " "$W/work/r1.err" | grep -qF "$W/work/made-since" ||
    fail "the first restart does not name the file it removed (made-since): $(grep save-files "$W/work/r1.err")"
pass "--save-files ., restart-mpi REF > r1.out in it: the directory put back in place, r1.out kept (said) with the restarted job's output"

# part 2: a second restart of the snapshot, its output through tee, a file held by the shell around it
mkdir -p "$W/work/newdir/deep"
echo z >"$W/work/newdir/deep/z"
echo step3 >"$W/work/state"
(
    cd "$W/work" || exit 1
    exec 7>wrap.log
    echo "the wrapper's log" >&7
    # restart-mpi starts once tee holds r2.out (tee's open races restart-mpi's restore otherwise)
    ( while [ ! -e r2.out ]; do sleep 0.05; done; exec "$RESTART" "$ref" 7>&- 2>r2.err ) | tee r2.out 7>&- >/dev/null
    echo "rc ${PIPESTATUS[0]}" >"$W/rc2"
    echo "after" >&7
)
[ "$(cat "$W/rc2")" = "rc 0" ] || fail "the second restart-mpi: $(cat "$W/rc2"): $(cat "$W/work/r2.err" 2>&1)"
sort "$W/work/r2.out" 2>/dev/null | grep done >"$W/r2.sorted"
cmp -s "$W/native.sorted" "$W/r2.sorted" ||
    { fail "r2.out (tee's) does not hold the restarted job's output: $(ls -A "$W/work" | tr '\n' ' ')"; diff "$W/native.sorted" "$W/r2.sorted" | head -5; }
[ "$(cat "$W/work/wrap.log" 2>&1)" = "the wrapper's log
after" ] || fail "wrap.log, held by the shell around restart-mpi: $(cat "$W/work/wrap.log" 2>&1)"
grep -qE "kept $W/work/r2.out, made since the snapshot \(open by tee, pid [0-9]+\)" "$W/work/r2.err" &&
    grep -qE "kept $W/work/wrap.log, made since the snapshot \(open by (bash|save_dot.sh), pid [0-9]+\)" "$W/work/r2.err" ||
    fail "the second restart does not say it kept tee's r2.out and the shell's wrap.log: $(grep save-files "$W/work/r2.err")"
for f in r1.out r1.err newdir; do
    [ -e "$W/work/$f" ] && fail "$f, made since the snapshot and used by no process, is still there"
done
line=$(grep -F "removed, made since the snapshot and used by no process: " "$W/work/r2.err")
for f in "$W/work/r1.out" "$W/work/r1.err" "$W/work/newdir/ (with all in it)"; do
    case "$line" in *"$f"*) ;; *) fail "the second restart does not name $f as removed: ${line:-no such line}" ;; esac
done
case "$line" in *"$W/work/newdir/deep"*) fail "a directory removed whole is named with its members: $line" ;; esac
[ "$(cat "$W/work/state")" = step1 ] || fail "state: $(cat "$W/work/state"), not the snapshot's step1"
pass "a second restart through tee, with a file the shell holds: both kept and said (who holds them), the first restart's output removed and named"
# part 3: a process holds the saved state file open for writing (as a leftover of the old job would)
echo step4 >"$W/work/state"
sleep 300 >>"$W/work/state" &
stale=$!
cleanup="$cleanup; kill $stale 2>/dev/null"
( cd "$W/work" && "$RESTART" "$ref" >"$W/r3.out" 2>"$W/r3.err"; echo "rc $?" >"$W/rc3" )
kill $stale 2>/dev/null; wait $stale 2>/dev/null
[ "$(cat "$W/rc3")" = "rc 0" ] || fail "the third restart-mpi: $(cat "$W/rc3"): $(tail -n 3 "$W/r3.err")"
[ "$(cat "$W/work/state")" = step1 ] ||
    fail "state held for writing by another process: $(cat "$W/work/state"), not the snapshot's step1 (the job would restart with a later step's file)"
grep -qE "put back the snapshot's $W/work/state although it was open by sleep, pid [0-9]+ for writing" "$W/r3.err" ||
    fail "the third restart does not name the process writing the saved state file: $(grep save-files "$W/r3.err")"
grep -qF "kept $W/work/state" "$W/r3.err" && fail "the third restart says it kept the saved state file: $(grep save-files "$W/r3.err")"
sort "$W/r3.out" | grep done >"$W/r3.sorted"
cmp -s "$W/native.sorted" "$W/r3.sorted" ||
    { fail "the third restart's output is not the uninterrupted answer"; diff "$W/native.sorted" "$W/r3.sorted" | head -5; }
pass "a saved file another process writes at the restart is put back all the same (the writer named)"
finish
