#!/bin/bash
# A damaged --save-files copy is judged by the one rule (tools/snapc/seq_pick.c) with the images:
# restart-mpi's refusal of it names what to do (--no-restore-files, or the sequence beside it
# that passes, with --seq), its advice and ckpt-info's index line never name a sequence whose
# copy is damaged, and ckpt-info --verify's verdict is restart-mpi's. Before (advice39's
# leftover): restart-mpi refused the damaged copy naming no other sequence, ckpt-info --verify's
# index line said "restart-mpi takes N" of that sequence, and a refusal of another sequence
# could send the user to it.
# A job of 2 fake ranks saving its state file (--save-files FILE), checkpointed twice (0, then
# 1 with --term); on copies of that snapshot directory:
#   A: 1's saved copy damaged (a byte complemented): restart-mpi DIR (takes 1) refuses it,
#      naming --no-restore-files and "--seq 0"; ckpt-info --verify DIR: status 1, its index line
#      "restart-mpi refuses 1" naming 0; restart-mpi --seq 0 restarts to the uninterrupted answer;
#      restart-mpi --no-restore-files DIR takes 1 (and puts no file back);
#   B: 0's image damaged too (truncated): restart-mpi --seq 0 refuses 0 and names no sequence
#      (1's saved copy is damaged), saying 1's defect.
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-advice-files
export REVIVE_RESTART_RANK=$FRANK REVIVE_COORD_BIN=$COORD
opts="--iters 20000 --sleep-us 300 --seed 9"
"$COORD" --flavor fake -- "$FLAUNCH" -np 2 "$FRANK" $opts >"$W/native.out" 2>"$W/native.err" ||
    { fail "the uninterrupted run failed"; cat "$W/native.err"; finish; }
sort "$W/native.out" | grep done >"$W/native.sorted"
mkdir -p "$W/work" "$W/ck"
echo step1 >"$W/work/state"
start_job a 2 --coord --dir "$W/ck" -- $opts
expect_rc 0 "checkpoint 0 (--save-files)" "$CKPT" --wait --save-files "$W/work/state" $JOB || finish
expect_rc 0 "checkpoint 1 (--term --save-files)" "$CKPT" --term --save-files "$W/work/state" $JOB || finish
ref=$(tail -n1 "$W/cmd.out")
wait $JOB
jd=${ref%/*}
[ "${ref##*/}" = 1 ] && [ -f "$jd/0/snapshot.meta" ] || { fail "two committed sequences expected: $(ls "$jd")"; finish; }
copy1=$(find "$jd/1/files" -type f | head -n 1)
[ -f "$copy1" ] || { fail "no saved copy of the state file in $jd/1/files: $(find "$jd/1" | head)"; finish; }
cp -a "$jd" "$W/pristine"
flip() {
    local off=$(($(stat -c %s "$1") / 2)) b
    b=$(od -An -tu1 -j $off -N1 "$1" | tr -d ' ')
    printf "\\$(printf %03o $((255 - b)))" | dd of="$1" bs=1 seek=$off conv=notrunc status=none
}
named() { grep -o -- "--seq [0-9]* $jd" "$W/cmd.err" | head -n 1 | awk '{ print $2 }'; }

# A
flip "$copy1"
expect_rc 1 "A: restart-mpi DIR (1's saved copy damaged)" "$RESTART" --showme "$jd"
grep -q "cannot be restarted: a file it saved (--save-files): .*--no-restore-files" "$W/cmd.err" ||
    fail "A: restart-mpi's refusal does not say the saved copy is damaged and --no-restore-files: $(tail -n 1 "$W/cmd.err")"
[ "$(named)" = 0 ] || fail "A: restart-mpi's refusal names '$(named)', not sequence 0: $(tail -n 1 "$W/cmd.err")"
pass "A: restart-mpi DIR refuses 1 (a damaged saved copy), naming --no-restore-files and --seq 0"
expect_rc 1 "A: ckpt-info --verify DIR" "$INFO" --verify "$jd"
grep -q "^index .*restart-mpi refuses 1 (damaged): sequence 0 beside it is committed" "$W/cmd.out" ||
    fail "A: ckpt-info --verify's index line: $(grep '^index' "$W/cmd.out")"
pass "A: ckpt-info --verify: status 1, its index line says restart-mpi refuses 1 and names 0"
"$RESTART" --seq 0 "$jd" >"$W/r0.out" 2>"$W/r0.err"; rc=$?
[ $rc = 0 ] || { fail "A: restart-mpi --seq 0: status $rc"; tail -n 3 "$W/r0.err"; }
sort "$W/r0.out" | grep done >"$W/r0.sorted"
cmp -s "$W/native.sorted" "$W/r0.sorted" && pass "A: restart-mpi --seq 0: the uninterrupted answer" ||
    { fail "A: restart-mpi --seq 0: the answer differs"; diff "$W/native.sorted" "$W/r0.sorted"; }
expect_rc 0 "A: restart-mpi --showme --no-restore-files DIR" "$RESTART" --showme --no-restore-files "$jd" &&
    pass "A: restart-mpi --no-restore-files DIR takes 1 (its damaged copy not put back)"

# B
rm -rf "$jd" && cp -a "$W/pristine" "$jd"
flip "$(find "$jd/1/files" -type f | head -n 1)"
truncate -s 100 "$jd/0/rank_0.img"
expect_rc 1 "B: restart-mpi --seq 0 (0's image damaged, 1's saved copy damaged)" "$RESTART" --showme --seq 0 "$jd"
[ -z "$(named)" ] || fail "B: restart-mpi names '$(named)' though no sequence can restart: $(tail -n 1 "$W/cmd.err")"
grep -q "holds no other intact committed sequence (sequence 1 is damaged too: .*a file it saved (--save-files)" "$W/cmd.err" ||
    fail "B: the refusal does not say 1's defect: $(tail -n 1 "$W/cmd.err")"
pass "B: with 0 damaged too, restart-mpi --seq 0 names no sequence, saying 1's damaged saved copy"
finish
