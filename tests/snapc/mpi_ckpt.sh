#!/bin/bash
# mpi_ckpt.sh FLAVOR: global snapshots of a real MPI job (tests/snapc/mpi_loop.c) through
# "mpirun -am ft-enable-cr": snapshots while the job runs (it finishes with the native result),
# --term (the job and every rank end), ckpt-info --verify of every snapshot, MPIX_Checkpoint in
# the program (and its error without Revive), and, when revive-restart-rank is built, restart-mpi
# of a --term snapshot finishing with the native result.
flavor=$1
. "$(dirname "$0")/lib.sh"
snapc_mpi_setup mpi
nm -D "$REVIVE_MPI_LIBDIR/revive-mpi-$flavor.so" 2>/dev/null | grep -q " T revive_mpix_checkpoint" ||
    { echo "SKIP: the MPI layer runs no rank agent yet"; exit 77; }
# the jobs hold halfway for their snapshots (hold FILE below), so the count only sets how long
# they run free; their result depends on every step either way. (Open MPI's had 150000 to last
# long enough for three snapshots before the hold existed: 43-151 s of make check; 40000 ran
# until session 50: 4000 hold at step 2000 as well.)
iters=${SNAPC_MPI_ITERS:-4000}

native_run

# run_job NAME ARGS...: the job under Revive in the background; JOB = mpirun's pid (Revive's
# wrapper, a script until it execs the coordinator with the same pid)
run_job() {
    local name=$1; shift
    ( PATH=$(dirname "$launcher"):$PATH clean_exec "$wrapper" -am ft-enable-cr -n $np "$bin" "$@" ) \
        >"$W/$name.out" 2>"$W/$name.err" &
    JOB=$!; jobs_started="$jobs_started $JOB"
    wait_for 120 'case "$(cat /proc/$JOB/comm 2>/dev/null)" in mpirun|revive-coord) true ;; *) false ;; esac' ||
        fail "the job $name did not start Revive's mpirun"
}
# ckpt NAME ARGS...: ckpt-mpirun --wait (the job may still be starting)
ckpt() { expect_rc 0 "$1" timeout 300 "$CKPT" --wait "${@:2}"; }
# the jobs hold halfway until the test lets them finish (mpi_loop's "hold FILE"): the snapshots
# are taken while they surely run, whatever the load

run_job a $iters hold "$W/a.go"
for i in 0 1 2; do
    pid=$JOB
    if [ $i = 1 ]; then
        # the real launcher under Revive's mpirun (mpirun.openmpi, Hydra's mpiexec) finds the job too
        wait_for 120 'launcher_of $JOB >/dev/null' || fail "no launcher under the coordinator"
        pid=$(launcher_of $JOB)
    fi
    if ckpt "snapshot $i (pid $pid: $(cat /proc/$pid/comm 2>/dev/null))" $pid; then
        ref=$(tail -n1 "$W/cmd.out")
        expect_rc 0 "ckpt-info --verify $i" "$INFO" --verify "$ref"
    elif grep -q "not available yet" "$W/cmd.err"; then
        echo "SKIP: the MPI layer cannot capture a rank yet"; kill -TERM $JOB; wait $JOB; exit 77
    else
        tail -3 "$W/a.err"
    fi
done
touch "$W/a.go"
wait $JOB; st=$?
[ $st = 0 ] || fail "the job's status $st after the snapshots"
cmp -s "$W/native.out" "$W/a.out" || { fail "result after snapshots differs"; cat "$W/native.out" "$W/a.out"; }
pass "$flavor: 3 snapshots while running (by mpirun's pid and by the real launcher's), the native result"

run_job b $iters hold "$W/b.go"
if ckpt "--term" --term $JOB; then
    tref=$(tail -n1 "$W/cmd.out")
    job_gone $JOB 60 || fail "--term: mpirun still runs 60 s after ckpt-mpirun returned"
    wait $JOB
    wait_for 60 '! pgrep -f -- "$bin .*$W/b.go" >/dev/null' || fail "--term: ranks left: $(pgrep -f -- "$bin .*$W/b.go")"
    expect_rc 0 "ckpt-info --verify of the --term snapshot" "$INFO" --verify "$tref"
    pass "$flavor: --term"
fi
touch "$W/b.go"   # a restart from the --term snapshot finishes

# MPIX_Checkpoint at step 100: every rank gets ok/CONTINUE; natively an error, the job goes on
run_job c 3000 mpix 100
wait $JOB || fail "MPIX job status $?"
[ "$(grep -c "MPIX_Checkpoint ok flag 0" "$W/c.out")" = $np ] || { fail "MPIX_Checkpoint under Revive"; cat "$W/c.out" "$W/c.err"; }
mref=$W/revive_global_snapshot_$JOB.ckpt/0
ls "$mref/snapshot.meta" >/dev/null 2>&1 || fail "no snapshot from MPIX_Checkpoint"
timeout -k 5 300 "$launcher" -n $np "$bin" 3000 mpix 100 >"$W/cn.out" 2>&1 || fail "MPIX natively: status $?"
[ "$(grep -c "MPIX_Checkpoint error flag 0" "$W/cn.out")" = $np ] || { fail "MPIX_Checkpoint natively"; cat "$W/cn.out"; }
grep -q "^result" "$W/cn.out" || fail "the native MPIX job did not finish"
pass "$flavor: MPIX_Checkpoint"

# restart (needs revive-restart-rank)
if [ -n "${tref:-}" ] && [ -x "$B/tools/revive-restart-rank" ]; then
    REVIVE_RESTART_RANK=$B/tools/revive-restart-rank timeout -k 5 200 "$RESTART" "$tref" >"$W/r.out" 2>"$W/r.err"
    st=$?
    [ $st = 0 ] || { fail "restart-mpi: status $st"; tail -5 "$W/r.err"; }
    cmp -s "$W/native.out" "$W/r.out" || { fail "restarted result differs"; cat "$W/native.out" "$W/r.out"; }
    pass "$flavor: restart-mpi, the native result"
    # a damaged chunk in a rank image, past restart-mpi's check (--no-verify: it opens the images
    # and reads no chunk; no cache, whose copy is intact): the rank's restore finds it, and what
    # to do is said in restart-mpi's terms (another sequence), not cr_restart's ("use an earlier
    # checkpoint", the image reader's own words). In a job directory of a deep path (12 x 250
    # characters, ~3 KB of PATH_MAX's 4 KB): the image reader's words after the path ("chunk
    # N"), the rank's message (~13 KB: the path 4 times) and the coordinator's line around it
    # (~22 KB) arrive whole (before: the reader's message was cut at 512 bytes, the restore's
    # at 768, the rank's at 4 KiB, the coordinator's at 4 KiB and 8 KiB: the advice's end was
    # lost; a 2 x 165 path passed)
    jd=$W; for c in a b c d e f g h i j k l; do jd=$jd/$(printf "$c%.0s" $(seq 250)); done
    ( umask 077; mkdir -p "$jd" ) && cp -a "$tref" "$jd/9"; sz=$(stat -c %s "$jd/9/rank_1.img")
    printf '\377\377\377\377\377\377\377\377' | dd of="$jd/9/rank_1.img" bs=1 seek=$((sz / 2)) conv=notrunc status=none
    advice="the file is corrupt; restart from an earlier sequence: restart-mpi $jd takes the newest one whose restart has not failed, restart-mpi --seq N $jd a given one (ckpt-info --verify $jd/N checks its images first)"
    REVIVE_RESTART_RANK=$B/tools/revive-restart-rank expect_rc 1 "restart-mpi --no-verify of a damaged chunk" \
        timeout -k 5 200 "$RESTART" --no-verify --ckpt-local none "$jd/9" &&
        err_has "revive-restart-rank: rank 1: $jd/9/rank_1.img: chunk " &&
        err_has "$advice" &&
        err_has "the restart from $jd/9 failed: rank 1: " &&
        err_has "$advice; recorded in its index (a restart-mpi of $jd takes an earlier sequence by default)"
    grep "use an earlier checkpoint" "$W/cmd.err" && fail "a damaged rank image: cr_restart's advice reached restart-mpi's user"
    rm -rf "$W/aaa"*
    pass "$flavor: a damaged rank image: what to do in restart-mpi's terms, whole (a long path)"
    # restarted from MPIX_Checkpoint's snapshot: the call returns again, with RESTARTED
    REVIVE_RESTART_RANK=$B/tools/revive-restart-rank timeout -k 5 200 "$RESTART" "$mref" >"$W/rm.out" 2>"$W/rm.err"
    st=$?
    [ $st = 0 ] || { fail "restart-mpi of the MPIX snapshot: status $st"; tail -5 "$W/rm.err"; }
    [ "$(grep -c "MPIX_Checkpoint ok flag 1" "$W/rm.out")" = $np ] || { fail "MPIX_Checkpoint after the restart"; cat "$W/rm.out"; }
    grep "^result" "$W/c.out" | cmp -s - <(grep "^result" "$W/rm.out") || fail "MPIX restart: result differs"
    pass "$flavor: restarted from MPIX_Checkpoint's snapshot (flag RESTARTED)"
else
    echo "note: revive-restart-rank not built: restart not tried"
fi
finish
