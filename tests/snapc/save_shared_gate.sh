#!/bin/bash
# restart-mpi's --save-shared writer pass (restart_saved.h: every rank image's header and
# metadata opened once more, serially, to pick each shared file's writer) runs only for a
# snapshot that saved shared files (diffrev36 R-L6): snapshot.meta's ckpt.save_shared 0 skips it;
# a snapshot without the key (session 37 and before) still gets it. Fake ranks; restart-mpi's own
# opens of the images counted with strace (without --verify, whose reads are not this pass's).
# Before (session 37): the pass ran whatever the snapshot, as many opens with the key 0 as without.
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-save-shared-gate
export REVIVE_RESTART_RANK=$FRANK REVIVE_COORD_BIN=$COORD
command -v strace >/dev/null || { echo "SKIP: no strace (the test counts restart-mpi's opens)"; exit 77; }
strace -o /dev/null true 2>/dev/null || { echo "SKIP: strace cannot trace here (ptrace refused)"; exit 77; }
np=3
start_job a $np --iters 3000 --sleep-us 300 --seed 9
expect_rc 0 "--term" "$CKPT" --term $JOB
ref=$(tail -n1 "$W/cmd.out")
wait $JOB
grep -qx "ckpt.save_shared 0" "$ref/snapshot.meta" || fail "no ckpt.save_shared 0 in $ref/snapshot.meta"
# opens N WHAT: restart-mpi --no-verify of the snapshot under strace (in a session of its own:
# a traced process stops at each system call); N its opens of rank images
opens() {
    setsid -w strace -o "$W/st.$1" -e trace=openat,open "$RESTART" --no-verify "$ref" \
        >"$W/r.$1.out" 2>"$W/r.$1.err" </dev/null
    local rc=$?
    [ $rc = 0 ] || fail "restart ($2): status $rc: $(tail -n 3 "$W/r.$1.err")"
    grep -c '/rank_[0-9]*\.img"' "$W/st.$1"
}
with0=$(opens 0 "ckpt.save_shared 0")
"$B/tests/snapc/meta_key" "$ref" ckpt.save_shared || fail "meta_key could not drop the key"
grep -q "^ckpt.save_shared " "$ref/snapshot.meta" && fail "the key is still in $ref/snapshot.meta"
without=$(opens 1 "no ckpt.save_shared")
"$B/tests/snapc/meta_key" "$ref" ckpt.save_shared 1 || fail "meta_key could not set the key"
with1=$(opens 2 "ckpt.save_shared 1")
echo "restart-mpi's opens of the $np images: key 0: $with0, no key: $without, key 1: $with1"
[ "$without" = $((with0 + np)) ] && [ "$with1" = "$without" ] &&
    pass "the writer pass: skipped for ckpt.save_shared 0 ($with0 opens), run without the key and for 1 ($without: one more per image)" ||
    fail "the writer pass: key 0 $with0 opens, no key $without, key 1 $with1 (wanted no key = 1 = key 0 + $np)"
finish
