#!/bin/bash
# The check of a sequence opens each rank image once (src/filem/verify.c check_rank): the image
# reader, the file checksum, the members of a tree file and restart-mpi's look at the files an
# image maps all read the one descriptor. Before, each opened the image by its path again
# (3 opens per image, 4 in restart-mpi's default check): each a moment where another file put
# in its place was read by the next check, and per-rank cost on the restart's critical path.
# A job of 4 fake ranks, checkpointed with --term; each command traced (strace -f: the check's
# threads), the opens of each rank_R.img counted:
#  a. restart-mpi --showme REF (every chunk verified, the mapped files looked at): 1 per image;
#  b. restart-mpi --showme --no-verify REF: 1 per image;
#  c. ckpt-info --verify REF: 1 per image (the window check of tools/restart_wincheck.c opened
#     each image a second time until it became part of the rule, session 40);
#  d. restart-mpi REF restarts the job to the uninterrupted answer.
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-verify-opens
export REVIVE_RESTART_RANK=$FRANK REVIVE_COORD_BIN=$COORD
command -v strace >/dev/null || { echo "SKIP: strace is missing: the opens cannot be counted"; exit 77; }
strace -qq -o /dev/null -e trace=openat true 2>/dev/null || { echo "SKIP: strace cannot trace here (ptrace refused)"; exit 77; }
np=4

opts="--iters 20000 --sleep-us 300 --seed 7"
"$COORD" --flavor fake -- "$FLAUNCH" -np $np "$FRANK" $opts >"$W/native.out" 2>"$W/native.err" ||
    { fail "the uninterrupted run failed"; cat "$W/native.err"; finish; }
sort "$W/native.out" | grep done >"$W/native.sorted"
[ "$(grep -c done "$W/native.sorted")" = $np ] || { fail "uninterrupted: $(cat "$W/native.out")"; finish; }

start_job a $np $opts
expect_rc 0 "checkpoint --term" "$CKPT" --term $JOB || finish
ref=$(tail -n1 "$W/cmd.out")
wait $JOB

# opens NAME CMD...: CMD traced (its status in ST); OPENS: "R:N ..." the opens of each rank_R.img
# (open, openat, openat2; a failed one counts too); BAD: the ranks opened other than once
opens() {
    local name=$1 r n
    shift
    strace -f -qq -o "$W/$name.trace" -e trace=open,openat,openat2 "$@" >"$W/$name.out" 2>"$W/$name.err"
    ST=$?
    OPENS= BAD=
    for r in $(seq 0 $((np - 1))); do
        n=$(grep -c "\"$ref/rank_$r\\.img\"" "$W/$name.trace")
        OPENS="$OPENS $r:$n"
        [ "$n" = 1 ] || BAD="$BAD $r:$n"
    done
}

# a. restart-mpi's default check
opens a "$RESTART" --showme "$ref"
[ $ST = 0 ] || fail "a: restart-mpi --showme: status $ST: $(tail -n 2 "$W/a.err")"
[ -z "$BAD" ] && pass "a: restart-mpi --showme (every chunk verified): each image opened once (rank:opens$OPENS)" ||
    fail "a: restart-mpi --showme opened an image other than once (rank:opens$OPENS)"

# b. --no-verify
opens b "$RESTART" --showme --no-verify "$ref"
[ $ST = 0 ] || fail "b: restart-mpi --showme --no-verify: status $ST: $(tail -n 2 "$W/b.err")"
[ -z "$BAD" ] && pass "b: restart-mpi --showme --no-verify: each image opened once (rank:opens$OPENS)" ||
    fail "b: restart-mpi --showme --no-verify opened an image other than once (rank:opens$OPENS)"

# c. ckpt-info --verify (the window check is the rule's, on the image the check opened)
opens i "$INFO" --verify "$ref"
[ $ST = 0 ] || fail "c: ckpt-info --verify: status $ST: $(tail -n 2 "$W/i.err")"
grep -q "verified: every image matches the metadata and every checksum" "$W/i.out" ||
    fail "c: ckpt-info --verify did not say every image verified: $(tail -n 3 "$W/i.out")"
[ -z "$BAD" ] && pass "c: ckpt-info --verify: each image opened once (rank:opens$OPENS)" ||
    fail "c: ckpt-info --verify opened an image other than once (rank:opens$OPENS)"

# d. the restart itself
"$RESTART" "$ref" >"$W/r.out" 2>"$W/r.err"; rc=$?
[ $rc = 0 ] || { fail "d: restart-mpi: status $rc"; tail -n 5 "$W/r.err"; }
sort "$W/r.out" | grep done >"$W/r.sorted"
cmp -s "$W/native.sorted" "$W/r.sorted" && pass "d: restart-mpi REF: the uninterrupted answer" ||
    { fail "d: the restarted answer differs"; diff "$W/native.sorted" "$W/r.sorted"; }
finish
