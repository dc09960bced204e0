#!/bin/bash
# restart-mpi carries the job's own checkpoint options (newuser50 M5: a job started with
# --ckpt-local DIR was restarted writing into the default caches), with fake ranks: a job with
# --ckpt-local DIR (REVIVE_LOCAL_DIR), --ckpt-save-shared (REVIVE_SAVE_SHARED=1),
# --ckpt-save-files F, --ckpt-interval 1 and --ckpt-keep 2 is ended by ckpt-mpirun --term; with
# none of them in the environment:
#   restart-mpi --showme gives each rank --local DIR;
#   the restarted job checkpoints every second into the same directory (beside the old one), its
#   images cached in DIR, at most 2 kept, and each of its snapshots records DIR, the job's
#   --ckpt-save-shared and the saved file;
#   restart-mpi's own options replace them: --ckpt-interval 0 --ckpt-keep 5 --ckpt-local none
#   with REVIVE_SAVE_SHARED=0 and --ckpt-save-files G: no periodic snapshot, the one taken
#   records keep 5, local none, save_shared 0 and G;
#   a bad --ckpt-interval and a bad REVIVE_WTIME are refused in one line, status 2.
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-restart-carry
export REVIVE_RESTART_RANK=$FRANK REVIVE_COORD_BIN=$COORD
C=$W/cache
mkdir -m 700 "$C"
echo one >"$W/f1"
echo two >"$W/f2"
export REVIVE_LOCAL_DIR=$C REVIVE_SAVE_SHARED=1 REVIVE_SAVE_FILES=$W/f1
start_job a 2 --coord --interval 1 --keep 2 -- --iters $UNTIL_KILLED --sleep-us 300
unset REVIVE_LOCAL_DIR REVIVE_SAVE_SHARED REVIVE_SAVE_FILES
jd=$W/revive_global_snapshot_$JOB.ckpt
expect_rc 0 "a snapshot with --term" "$CKPT" --term $JOB
ref=$(tail -n1 "$W/cmd.out")
wait $JOB
grep -qx "ckpt.save_shared.job 1" "$ref/snapshot.meta" ||
    fail "the job's --ckpt-save-shared is not recorded: $(grep save_shared "$ref/snapshot.meta")"

expect_rc 0 "restart-mpi --showme" "$RESTART" --showme "$ref"
grep -qF -- "--local $C $ref" "$W/cmd.out" && pass "--showme: each rank gets the job's --ckpt-local ($C)" ||
    fail "--showme does not give the ranks the job's --ckpt-local $C: $(cat "$W/cmd.out")"

# the restarted job: every second a snapshot, into the same directory, cached in C
"$RESTART" "$ref" >"$W/r1.out" 2>"$W/r1.err" &
jb=$!; jobs_started="$jobs_started $jb"
wait_exec $jb
jdb=$W/revive_global_snapshot_$jb.ckpt
wait_for 90 '[ "$(newest_committed "$jdb")" -ge 2 ]' ||
    fail "the restarted job took $(( $(newest_committed "$jdb") + 1 )) periodic snapshots in 90 s (the job's --ckpt-interval 1)"
last=$(newest_committed "$jdb")
m=$W/r1.meta
exec 9<"$jdb/$last" && flock -s 9
cp "$jdb/$last/snapshot.meta" "$m"
exec 9<&-
kill -TERM $jb; wait $jb 2>/dev/null
if grep -qx "ckpt.local $C" "$m" && grep -qx "ckpt.interval_s 1" "$m" && grep -qx "ckpt.keep 2" "$m" &&
    grep -qx "ckpt.save_shared 1" "$m" && grep -qx "ckpt.save_files $W/f1" "$m" &&
    [ -d "$C/revive_global_snapshot_$jb.ckpt" ]; then
    pass "the restarted job's snapshots: --ckpt-local $C (cached there), interval 1, keep 2, save-shared, save-files f1"
else
    fail "the restarted job's snapshot $last: $(grep -E '^ckpt\.' "$m" | tr '\n' ' '); cache: $(ls "$C")"
fi
[ "$(committed "$jdb")" -le 3 ] || fail "the job's --ckpt-keep 2: $(committed "$jdb") committed sequences"

# restart-mpi's options replace the job's
REVIVE_SAVE_SHARED=0 "$RESTART" --ckpt-interval 0 --ckpt-keep 5 --ckpt-local none \
    --ckpt-save-files "$W/f2" "$ref" >"$W/r2.out" 2>"$W/r2.err" &
jc=$!; jobs_started="$jobs_started $jc"
wait_exec $jc
jdc=$W/revive_global_snapshot_$jc.ckpt
nap 2.5
[ "$(newest_committed "$jdc")" = -1 ] || fail "--ckpt-interval 0: the restarted job took periodic snapshots"
expect_rc 0 "a snapshot of the second restart" "$CKPT" --term $jc
wait $jc 2>/dev/null
m=$(tail -n1 "$W/cmd.out")/snapshot.meta
if grep -qx "ckpt.local none" "$m" && grep -qx "ckpt.interval_s 0" "$m" && grep -qx "ckpt.keep 5" "$m" &&
    grep -qx "ckpt.save_shared 0" "$m" && grep -qx "ckpt.save_files $W/f2" "$m"; then
    pass "restart-mpi --ckpt-interval 0 --ckpt-keep 5 --ckpt-local none --ckpt-save-files, REVIVE_SAVE_SHARED=0: taken"
else
    fail "restart-mpi's own options: $(grep -E '^ckpt\.' "$m" | tr '\n' ' ')"
fi

expect_rc 2 "restart-mpi --ckpt-interval 1.5" "$RESTART" --ckpt-interval 1.5 "$ref" &&
    err_has "--ckpt-interval needs a whole number of seconds"
REVIVE_WTIME=paused expect_rc 2 "REVIVE_WTIME=paused" timeout -k 5 60 "$RESTART" "$ref" && err_has "REVIVE_WTIME must be"
finish
