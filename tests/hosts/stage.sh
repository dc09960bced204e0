#!/bin/bash
# stage.sh FLAVOR: node-local first, background staging and the verified commit (issue 9,
# points 1-3) on a 4-rank job across h1,h2 (mpirun -am ft-enable-cr --ckpt-local, from h1).
# - ckpt-mpirun waits for the commit and says both times (recovered, established); each
#   node's cache holds exactly its own ranks' images; the shared sequence verifies;
# - --no-wait-stage returns at "recovered", the sequence commits afterwards, the caches then
#   keep only the newest committed sequence;
# - the shared directory full (a small tmpfs): the sequence is left uncommitted and marked
#   failed (ckpt-mpirun says why, exits 1; ckpt-info shows it), the job runs on, the previous
#   committed sequence verifies, a later checkpoint (space freed) commits;
# - each job finishes with the native result.
flavor=$1
. "$(dirname "$0")/lib.sh"
why=$(hostbed_skip_reason)
[ -z "$why" ] || { echo "SKIP: $why"; exit 77; }
hosts_workdir stage-$flavor
SMALL=$W/small
hostbed_tmpfs "$SMALL" 64m   # resized below once the images' size is known
hostbed_up 2
launch_opts h1:2,h2:2
LOCAL=$HB/local   # the same path on every host, each host's own directory

native_job 4

# run_job NAME DIR [MORE MPIRUN OPTIONS]: the job in the background, JOB = its coordinator
run_job() { # NAME DIR OPTION...
    local name=$1 dir=$2; shift 2
    revive_job "$name" --ckpt-dir "$dir" --ckpt-local "$LOCAL" "$@"
}
# node_images HOST JOBDIRNAME SEQ: the rank images in HOST's cache for that sequence
node_images() { ls "$HB/node/$1/$2/$3" 2>/dev/null | grep '^rank_' | tr '\n' ' '; }
node_seqs() { ls "$HB/node/$1/$2" 2>/dev/null | tr '\n' ' '; }
finish_job() { # NAME: let it finish, compare with the native run
    touch "$W/$1.go"
    wait $JOB; local st=$?
    [ $st = 0 ] || { fail "job $1: status $st"; tail -5 "$W/$1.err"; }
    cmp -s "$W/native.out" "$W/$1.out" || { fail "job $1: result differs from the native run"; cat "$W/native.out" "$W/$1.out"; }
}

# 1. waiting for the commit; the caches
run_job a "$SHARED"
jd=revive_global_snapshot_$JOB.ckpt
if expect_rc 0 "ckpt-mpirun (node-local first)" on h1 timeout 300 "$CKPT" --wait $JOB; then
    ref=$(tail -n1 "$W/cmd.out")
    grep -q "running again (recovered) [0-9]*, staged and committed (established) [0-9]*" "$W/cmd.err" ||
        { fail "ckpt-mpirun does not give both times"; cat "$W/cmd.err"; }
    expect_rc 0 "ckpt-info --verify $ref" "$INFO" --verify "$ref"
    [ "$(node_images h1 $jd 0)" = "rank_0.img rank_1.img " ] || fail "h1's cache: $(node_images h1 $jd 0)"
    [ "$(node_images h2 $jd 0)" = "rank_2.img rank_3.img " ] || fail "h2's cache: $(node_images h2 $jd 0)"
    [ "$(stat -c %a "$HB/node/h2/$jd/0/rank_2.img")" = 600 ] || fail "a cached image is not 0600"
    [ "$(stat -c %a "$HB/node/h2/$jd/0")" = 700 ] || fail "a cache directory is not 0700"
fi
pass "$flavor: ckpt-mpirun waits for the verified commit, both times said, each node caches its ranks"
# 2. --no-wait-stage
if expect_rc 0 "ckpt-mpirun --no-wait-stage" on h1 timeout 300 "$CKPT" --wait --no-wait-stage $JOB; then
    grep -q "not committed yet" "$W/cmd.err" || { fail "--no-wait-stage: no 'not committed yet'"; cat "$W/cmd.err"; }
    wait_for 300 '[ -f "$SHARED/$jd/1/snapshot.meta" ]' || fail "sequence 1 was never committed"
    expect_rc 0 "ckpt-info --verify of sequence 1" "$INFO" --verify "$SHARED/$jd/1"
    # the older cached sequence goes once the newer one is committed (the notice reaches the
    # ranks just after the commit)
    wait_for 60 '[ "$(node_seqs h1 $jd)" = "1 " ] && [ "$(node_seqs h2 $jd)" = "1 " ]' ||
        fail "caches after the commit of 1: h1 '$(node_seqs h1 $jd)', h2 '$(node_seqs h2 $jd)' (want only 1)"
fi
finish_job a
pass "$flavor: --no-wait-stage returns before the commit, which follows; caches keep the newest; native result"

# 3. the shared directory full
bytes=$(du -sb "$SHARED/$jd/1" | cut -f1)
run_job b "$SMALL"
jd=revive_global_snapshot_$JOB.ckpt
expect_rc 0 "ckpt-mpirun into the small directory" on h1 timeout 300 "$CKPT" --wait $JOB
# then room for a quarter of that sequence only: the next one cannot fit (sequences of one job
# differ in size by tens of percent, so the room comes from this one, not from job a's)
b0=$(du -sb "$SMALL/$jd/0" | cut -f1)
used=$(df -B1 --output=used "$SMALL" | tail -n1)
mount -o remount,size=$(( (used + b0 / 4 + 4095) / 4096 * 4096 )) "$SMALL" || fail "cannot resize the tmpfs"
expect_rc 1 "ckpt-mpirun with the shared directory full" on h1 timeout 300 "$CKPT" --wait $JOB &&
    err_has "No space left on device"
expect_rc 0 "ckpt-info" "$INFO" "$SMALL/$jd"
grep -q "/1$" "$W/cmd.out" && grep -q "failed: .*No space left" "$W/cmd.out" ||
    { fail "ckpt-info does not show sequence 1 failed"; cat "$W/cmd.out"; }
expect_rc 0 "ckpt-info --verify of the previous sequence" "$INFO" --verify "$SMALL/$jd/0"
[ ! -f "$SMALL/$jd/1/snapshot.meta" ] || fail "the failed sequence is committed"
mount -o remount,size=$((bytes * 6)) "$SMALL" || fail "cannot resize the tmpfs"
on h2 df -k "$SMALL" >"$W/df.h2"
if ! expect_rc 0 "a later checkpoint" on h1 timeout 300 "$CKPT" --wait $JOB; then
    echo "seq bytes $bytes; the small directory as h2 sees it:"; cat "$W/df.h2"; du -sb "$SMALL"/*/*
else
    ref=$(tail -n1 "$W/cmd.out")
    case $ref in */2) ;; *) fail "the later checkpoint is $ref, not sequence 2" ;; esac
    expect_rc 0 "ckpt-info --verify $ref" "$INFO" --verify "$ref"
fi
finish_job b
pass "$flavor: shared directory full: sequence left uncommitted and marked failed, previous intact, job runs on, a later checkpoint commits"
finish
