#!/bin/bash
# restart-mpi --relocate OLD=NEW and the files a snapshot saved (--save-files; fake ranks):
# the job directory (with its state directory and the snapshot directory in it) moved to NEW.
# 1. the old place gone: the saved state is put back at NEW (said: "OLD/state -> NEW/state
#    (--relocate)"), the job's result as uninterrupted. Before (session 37): refused, "its
#    directory OLD does not exist", though the user gave the move.
# 2. something at the old place again: the copy still goes to NEW only, the old place's files
#    untouched. Before: put back at OLD (the files the restarted ranks use, at NEW, not).
# 3. the job's --ckpt-save-files (REVIVE_SAVE_FILES, kept in snapshot.meta for the restarted
#    job) moved too: the restarted job's snapshot saves NEW/state. Before: OLD/state (or, OLD
#    gone, the restarted coordinator refused to start).
# 4. a --relocate of a part of the saved directory: refused before anything is put back.
# 5. OLD/=NEW/ (trailing slashes) moves as OLD=NEW, as the ranks move it (crs_relocated):
#    "NEW/state". Before (session 38): restart-mpi's own copy of the rule said and used
#    "NEW//state", and would have cut a moved path too long where the ranks keep it unmoved.
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-relocate-files
export REVIVE_RESTART_RANK=$FRANK REVIVE_COORD_BIN=$COORD
opts="--iters 4000 --sleep-us 300 --seed 7"
"$COORD" --flavor fake -- "$FLAUNCH" -np 2 "$FRANK" $opts >"$W/native.out" 2>"$W/native.err" ||
    { fail "the uninterrupted run failed"; cat "$W/native.err"; }
sort "$W/native.out" >"$W/native.sorted"

# the job runs in $W/run (its snapshot directory there too), keeping its state in run/state
mkdir -p "$W/run/state/sub"
echo step1 >"$W/run/state/md"
echo part >"$W/run/state/sub/x"
cd "$W/run"
REVIVE_SAVE_FILES=state start_job a 2 $opts
cd "$W"
expect_rc 0 "--term --save-files" "$CKPT" --term $JOB
ref=$(tail -n1 "$W/cmd.out")
wait $JOB
grep -qx "ckpt.save_files $W/run/state" "$ref/snapshot.meta" ||
    fail "no ckpt.save_files $W/run/state in $ref/snapshot.meta"
# the job ran on after the snapshot (its state a step ahead), then the directory moved
echo step2 >"$W/run/state/md"
echo later >"$W/run/state/added"
mv "$W/run" "$W/moved"
mref=$W/moved/${ref#"$W/run/"}

# 1. the old place gone
expect_rc 0 "--showme --relocate" "$RESTART" --showme --relocate "$W/run=$W/moved" "$mref"
grep -qF "# restart-mpi would put back the files the snapshot saved (--save-files): $W/run/state -> $W/moved/state (--relocate)" \
    "$W/cmd.out" || fail "--showme does not say where the saved state goes: $(grep save-files "$W/cmd.out")"
"$RESTART" --relocate "$W/run=$W/moved" "$mref" >"$W/r1.out" 2>"$W/r1.err"
rc=$?
if [ $rc != 0 ]; then
    fail "restart --relocate, the old place gone: status $rc: $(cat "$W/r1.err")"
else
    grep -qF "restart-mpi: put back the files the snapshot saved (--save-files): $W/run/state -> $W/moved/state (--relocate)" \
        "$W/r1.err" || fail "the summary does not say where the saved state went: $(cat "$W/r1.err")"
    [ "$(cat "$W/moved/state/md" 2>&1)" = step1 ] || fail "moved/state/md: $(cat "$W/moved/state/md" 2>&1), not the snapshot's step1"
    [ -e "$W/moved/state/added" ] && fail "moved/state/added, made after the snapshot, is still there"
    [ -e "$W/run" ] && fail "$W/run made again by the restart"
    sort "$W/r1.out" | grep done >"$W/r1.sorted"
    cmp -s "$W/native.sorted" "$W/r1.sorted" || { fail "restarted answer differs"; diff "$W/native.sorted" "$W/r1.sorted"; }
    pass "--relocate, the old place gone: the saved state put back at the new place (said), the uninterrupted answer"
fi

# 2. something at the old place again (another job's directory of that name)
mkdir -p "$W/run/state"
echo other >"$W/run/state/md"
echo step3 >"$W/moved/state/md"
"$RESTART" --seq 0 --relocate "$W/run=$W/moved" "${mref%/*}" >"$W/r2.out" 2>"$W/r2.err"
rc=$?
if [ $rc != 0 ]; then
    fail "restart --relocate, the old place there: status $rc: $(cat "$W/r2.err")"
else
    [ "$(cat "$W/moved/state/md")" = step1 ] || fail "moved/state/md: $(cat "$W/moved/state/md"), not the snapshot's step1"
    [ "$(cat "$W/run/state/md")" = other ] || fail "the old place's run/state/md was overwritten: $(cat "$W/run/state/md")"
    sort "$W/r2.out" | grep done >"$W/r2.sorted"
    cmp -s "$W/native.sorted" "$W/r2.sorted" || { fail "restarted answer differs"; diff "$W/native.sorted" "$W/r2.sorted"; }
    pass "--relocate, something at the old place: the saved state put back at the new place only"
fi

# 3. the restarted job's own snapshots save the moved state (its --ckpt-save-files relocated)
rm -rf "$W/run"
"$RESTART" --seq 0 --relocate "$W/run=$W/moved" "${mref%/*}" >"$W/r3.out" 2>"$W/r3.err" &
R=$!
jobs_started="$jobs_started $R"
expect_rc 0 "a snapshot of the restarted job" "$CKPT" --wait --term $R
ref3=$(tail -n1 "$W/cmd.out")
wait $R
grep -qx "ckpt.save_files $W/moved/state" "$ref3/snapshot.meta" &&
    grep -qx "files.0.path $W/moved/state" "$ref3/snapshot.meta" &&
    pass "the restarted job's snapshot saves the state at its new place ($W/moved/state)" ||
    fail "the restarted job's snapshot: $(grep -E '^(ckpt.save_files|files.0.path) ' "$ref3/snapshot.meta" 2>&1) $(tail -n 3 "$W/r3.err")"

# 4. a part of the saved directory relocated elsewhere: refused, nothing put back
mkdir -p "$W/elsewhere"
echo step4 >"$W/moved/state/md"
expect_rc 1 "--relocate inside the saved directory" "$RESTART" --seq 0 --relocate "$W/run=$W/moved" \
    --relocate "$W/run/state/sub=$W/elsewhere" "${mref%/*}"
err_has "--relocate moves $W/run/state/sub, inside it, to $W/elsewhere" &&
    err_has "relocate $W/run/state itself (--relocate $W/run/state=NEWDIR), or restart with --no-restore-files"
[ "$(cat "$W/moved/state/md")" = step4 ] || fail "a refused restart put files back: $(cat "$W/moved/state/md")"
pass "a --relocate of a part of the saved directory: refused, named, nothing put back"

# 5. trailing slashes: the ranks' rule
expect_rc 0 "--showme --relocate OLD/=NEW/" "$RESTART" --showme --seq 0 --relocate "$W/run/=$W/moved/" "${mref%/*}"
grep -qF "# restart-mpi would put back the files the snapshot saved (--save-files): $W/run/state -> $W/moved/state (--relocate)" \
    "$W/cmd.out" && pass "--relocate OLD/=NEW/ moves $W/run/state to $W/moved/state, as the ranks move it" ||
    fail "--relocate OLD/=NEW/: $(grep save-files "$W/cmd.out")"
finish
