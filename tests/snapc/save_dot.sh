#!/bin/bash
# --save-files . (the job's working directory; snapshots elsewhere) and restart-mpi run in that
# directory with its output redirected there (newuser8 F3, the user's script with fake ranks):
#   cd work; ckpt-mpirun --term --save-files . JOB; restart-mpi REF > r1.out 2> r1.err; cat r1.out
# The directory is put back in place (the same directory: the shell still in it), the state file
# as at the snapshot, a file made since gone, and restart-mpi's own output kept (said) and holding
# the restarted job's whole output. Before (session 37): the directory was exchanged and the old
# one removed, r1.out with it: "cat r1.out" found nothing (the shell sat in a deleted directory),
# the restart exit status 0.
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
pass "--save-files ., restart-mpi REF > r1.out in it: the directory put back in place, r1.out kept (said) with the restarted job's output"
finish
