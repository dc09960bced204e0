#!/bin/bash
# term_lines.sh FLAVOR: "ckpt-mpirun --term" ends the job at the snapshot's point, as
# Open MPI's ompi-checkpoint --term and BLCR's CR_CHECKPOINT_TERM did: no thread of the
# application runs past the capture. Each rank of term_lines writes lines into its own file from
# outside MPI (it sleeps there before each, so the snapshot finds it computing); the job is
# checkpointed with --term at a random line, restarted with restart-mpi, and for 1, 2 and 4 ranks
# each rank's file must then hold exactly the lines of an uninterrupted run: a rank that ran on
# after its capture wrote its next lines in the ended job and again after the restart (the
# session-4 failure rst_finalize met; Revive's fix: the capture keeps the application's threads
# parked until the process ends). Also: both jobs and ckpt-mpirun end
# with status 0 and no process is left. TERM_LINES_NPS overrides the rank counts.
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
CKPT=$REVIVE_BUILDDIR/tools/snapc/ckpt-mpirun
RESTART=$REVIVE_BUILDDIR/tools/snapc/restart-mpi
bin=$REVIVE_BUILDDIR/tests/mpi/ckpt/term_lines-$flavor
[ -x "$CKPT" ] && [ -x "$RESTART" ] && [ -x "$bin" ] || { echo "SKIP: ckpt-mpirun, restart-mpi or $bin not built"; exit 77; }
export REVIVE_RESTART_RANK=$restarter
steps=40 ms=300
d=$tmp/tl
mkdir -p "$d"
cd "$d" || exit 1
pids=()
lines0() { local k; k=$(grep -c "^rank 0 step " "$1" 2>/dev/null); echo "${k:-0}"; }
for n in ${TERM_LINES_NPS:-1 2 4}; do
    rm -rf "$d"/revive_global_snapshot_* "$d"/pace "$d"/native "$d"/job
    mkdir "$d"/native "$d"/job
    TMO=600 run_native "$n" "$bin" $steps "$d"/native >native.$n.out 2>native.$n.err ||
        { failed "np=$n: the native run: status $?"; tail -n 3 native.$n.err; continue; }
    touch pace
    clean timeout -k 5 900 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" -n "$n" "$bin" $steps \
        "$d"/job "$d/pace" $ms >out0.$n 2>err0.$n &
    job=$!; pids+=($job)
    at=$((10 + RANDOM % 70)) # a line of rank 0's: a random piece of steps 1 to 8
    if ! wait_for_job 300 $job '[ "$(lines0 job/rank_0.out)" -ge $at ]' || ! c=$(coord $job); then
        failed "np=$n: the job did not print $at lines: $(tail -n 3 err0.$n)"; kill -TERM $job; wait $job; continue
    fi
    timeout -k 5 600 "$CKPT" --wait --term --timeout 300 $c >ckpt.$n.out 2>ckpt.$n.err; crc=$?
    [ $crc = 0 ] || kill -TERM $c 2>/dev/null
    wait $job; st=$?
    if [ $crc != 0 ] || [ $st != 0 ]; then
        failed "np=$n: ckpt-mpirun --term after $at lines of rank 0: status $crc ($(grep -v '^\[' ckpt.$n.err | tail -n 1)), the job's $st"
        tail -n 3 err0.$n; continue
    fi
    ref=$(tail -n 1 ckpt.$n.out)
    before=$(cat job/rank_*.out | wc -l)
    rm -f pace # the restarted job runs at full speed
    clean timeout -k 5 600 "$RESTART" "$ref" >out1.$n 2>err1.$n; rc=$?
    if [ $rc != 0 ]; then
        failed "np=$n: restart-mpi $ref: status $rc"; grep -v '^-*$' err1.$n | tail -n 4; continue
    fi
    bad=
    for r in $(seq 0 $((n - 1))); do
        if ! cmp -s native/rank_$r.out job/rank_$r.out; then
            twice=$(sort job/rank_$r.out | uniq -d | head -n 2 | tr '\n' ' ')
            bad="$bad; rank $r: ${twice:+written twice: $twice}$(diff native/rank_$r.out job/rank_$r.out | grep '^[<>]' | head -n 3 | tr '\n' ' ')"
        fi
    done
    if [ -n "$bad" ]; then
        failed "np=$n, --term after $at lines of rank 0: the files differ from the uninterrupted run's${bad}"
    else
        pass "np=$n, --term after $at lines of rank 0: $before lines before, $(($(cat job/rank_*.out | wc -l) - before)) after the restart, each rank's file equal to the uninterrupted run's"
    fi
done
left=$(no_strays "$d") || failed "processes left: $left"
exit $fail
