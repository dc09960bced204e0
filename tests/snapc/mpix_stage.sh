#!/bin/bash
# mpix_stage.sh FLAVOR: MPIX_Checkpoint and the copy of the images to the snapshot directory
# (node-local first, the default). By default the call returns once its snapshot is committed:
# with the commit held (fault point snapc-commit-hold) every rank waits in the call, and when it
# returns the snapshot is committed. A copy that fails (fault point filem-stage) makes the call
# return an error on every rank, rank 0 says so once, the job finishes with the native result and
# the earlier snapshot stays committed. With --ckpt-no-wait-stage the call returns before the
# commit (while it is held), and a failed copy is reported by the next call (and, for the last,
# at MPI_Finalize).
flavor=$1
. "$(dirname "$0")/lib.sh"
snapc_mpi_setup mpixst
iters=400

native_run
grep "^result" "$W/native.out" >"$W/native.res" || fail "no native result"

# run_job NAME [ENV=VALUE...] -- MPIRUN ARGS...: the job in the background, JOB = mpirun's pid
run_job() {
    local name=$1; shift
    local envs=()
    while [ "$1" != -- ]; do envs+=("$1"); shift; done
    shift
    mkdir -p "$W/$name.sn"
    ( PATH=$(dirname "$launcher"):$PATH clean_exec REVIVE_VERBOSE=2 "${envs[@]}" "$wrapper" \
        -am ft-enable-cr --ckpt-dir "$W/$name.sn" -n $np "$@" ) >"$W/$name.out" 2>"$W/$name.err" &
    JOB=$!; jobs_started="$jobs_started $JOB"
}
# end_job NAME: the job ends with status 0 and the native result
end_job() {
    wait $JOB; local st=$?
    [ $st = 0 ] || { fail "$1: the job's status $st"; tail -5 "$W/$1.err"; }
    grep "^result" "$W/$1.out" | cmp -s - "$W/native.res" || { fail "$1: result differs from the native run"; cat "$W/$1.out"; }
}
lines() { grep -c -- "$1" "$2"; }

# 1. the call returns after the commit: the coordinator holds the commit until a.go exists;
# every rank must then be waiting in the call (its "waits" line), none returned
run_job a REVIVE_FAULT=snapc-commit-hold REVIVE_COMMIT_HOLD="$W/a.go" -- "$bin" $iters mpix 100 seen "$W/a.sn"
wait_for 240 'grep -q "holds until" "$W/a.err" && [ "$(lines "MPIX_Checkpoint waits" "$W/a.err")" -ge $np ] ||
    grep -q "MPIX_Checkpoint" "$W/a.out" || ! kill -0 $JOB 2>/dev/null' || fail "1: neither the commit held with every rank waiting nor a return"
if grep -q "MPIX_Checkpoint" "$W/a.out"; then
    fail "1: MPIX_Checkpoint returned while the commit was held: $(grep MPIX_Checkpoint "$W/a.out")"
fi
ls "$W"/a.sn/revive_global_snapshot_*.ckpt/0/snapshot.meta >/dev/null 2>&1 &&
    fail "1: sequence 0 committed while the commit is held"
touch "$W/a.go"
end_job a
[ "$(lines "MPIX_Checkpoint ok flag 0 committed 1" "$W/a.out")" = $np ] ||
    { fail "1: not every rank returned ok after the commit"; cat "$W/a.out"; }
pass "$flavor: MPIX_Checkpoint returns once its snapshot is committed (every rank waited while the commit was held)"

# 2. the second call's copy fails: an error on every rank, said once, the job runs on, the
# first snapshot stays committed
run_job b REVIVE_FAULT=filem-stage REVIVE_FAULT_EPOCH=2 -- "$bin" $iters mpix 100 mpix 200 seen "$W/b.sn"
end_job b
[ "$(lines "MPIX_Checkpoint ok flag 0 committed 1" "$W/b.out")" = $np ] ||
    { fail "2: the first call did not return ok with its snapshot committed"; cat "$W/b.out"; }
[ "$(lines "MPIX_Checkpoint error flag 0 committed 1" "$W/b.out")" = $np ] ||
    { fail "2: the second call (its copy failed) did not return an error on every rank"; cat "$W/b.out"; }
[ "$(lines "MPIX_Checkpoint: snapshot sequence 1 was taken but not committed" "$W/b.err")" = 1 ] ||
    { fail "2: the failure is not said once"; cat "$W/b.err"; }
jd=$(echo "$W"/b.sn/revive_global_snapshot_*.ckpt)
expect_rc 0 "2: ckpt-info --verify of sequence 0" "$INFO" --verify "$jd/0"
[ -f "$jd/1/snapshot.meta" ] && fail "2: sequence 1 committed"
pass "$flavor: a failed copy makes MPIX_Checkpoint return an error, said once; the job finishes right, sequence 0 intact"

# 3. --ckpt-no-wait-stage: the call returns while the commit is held
run_job c REVIVE_FAULT=snapc-commit-hold REVIVE_COMMIT_HOLD="$W/c.go" -- --ckpt-no-wait-stage "$bin" $iters mpix 100 seen "$W/c.sn"
wait_for 240 '[ "$(lines "MPIX_Checkpoint" "$W/c.out")" = $np ] || ! kill -0 $JOB 2>/dev/null' ||
    fail "3: --ckpt-no-wait-stage: MPIX_Checkpoint did not return while the commit was held"
[ "$(lines "MPIX_Checkpoint ok flag 0 committed 0" "$W/c.out")" = $np ] ||
    { fail "3: not ok before the commit"; cat "$W/c.out"; }
touch "$W/c.go"
end_job c
ls "$W"/c.sn/revive_global_snapshot_*.ckpt/0/snapshot.meta >/dev/null 2>&1 || fail "3: sequence 0 not committed in the end"
pass "$flavor: --ckpt-no-wait-stage returns before the commit"

# 4. --ckpt-no-wait-stage and failing copies: the first call ok, the second reports the first's
# failure (an error), the second's own failure is said at MPI_Finalize
run_job d REVIVE_FAULT=filem-stage -- --ckpt-no-wait-stage "$bin" $iters mpix 100 mpix 200
end_job d
[ "$(lines "MPIX_Checkpoint ok flag 0" "$W/d.out")" = $np ] && [ "$(lines "MPIX_Checkpoint error flag 0" "$W/d.out")" = $np ] &&
    grep -m1 MPIX_Checkpoint "$W/d.out" | grep -q " ok " ||
    { fail "4: expected ok then error on every rank"; cat "$W/d.out"; }
[ "$(lines "MPIX_Checkpoint: snapshot sequence 0 was not committed" "$W/d.err")" = 1 ] ||
    { fail "4: the next call did not say once that sequence 0 failed"; cat "$W/d.err"; }
[ "$(lines "snapshot sequence 1 was not committed" "$W/d.err")" = 1 ] ||
    { fail "4: MPI_Finalize did not say once that sequence 1 failed"; cat "$W/d.err"; }
pass "$flavor: --ckpt-no-wait-stage: a failed copy is reported by the next MPIX_Checkpoint, the last at MPI_Finalize"
finish
