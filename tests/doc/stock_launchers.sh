#!/bin/bash
# What a job started with a stock launcher gets from Revive, as README.md, docs/mpi.md and
# man/revive-mpirun.1 say: with "mpirun.openmpi --tune .../ft-enable-cr" (Open MPI) and
# "mpiexec.mpich ... revive-exec PROGRAM" (MPICH) every rank runs on Revive's MPI layer (each
# reports its lower half at MPI_Finalize) and prints what a native run prints, but the job has
# no coordinator: MPIX_Checkpoint and MPIX_Checkpoint_request return MPI_ERR_OTHER (saying
# "the job has no Revive coordinator"), ckpt-mpirun refuses the launcher and a rank with
# "not started with 'mpirun -am ft-enable-cr'" (status 1, the job goes on), and
# REVIVE_CKPT_INTERVAL=1 takes no snapshot in the 3 s the job holds. (stock runs the launcher
# with exec, so that $! is the launcher itself.)
: "${REVIVE_BUILDDIR:?run through make check}"
B=$REVIVE_BUILDDIR
fails=0 ran=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
pass() { echo "PASS: $*"; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export REVIVE_MPI_LIBDIR=$B/.libs
tmp=$(mktemp -d "${TMPDIR:-/tmp}/revive-stock.XXXXXX")
export TMPDIR=$tmp
job=
cleanup() {
    [ -n "$job" ] && kill -KILL "$job" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
# wait_for SECONDS CONDITION (no fixed sleeps: the machine may be loaded)
wait_for() {
    local end=$((SECONDS + $1))
    until eval "$2"; do
        [ $SECONDS -lt $end ] || return 1
        sleep 0.2
    done
}

# the build tree's tune file, pointed at the build tree's revive-exec
sed "s|[^ ]*/revive-exec\$|$B/tools/mpi/revive-exec|" "$B/tools/mpi/ft-enable-cr" >"$tmp/ft-enable-cr"
grep -q -- "^-mca orte_fork_agent $B/tools/mpi/revive-exec\$" "$tmp/ft-enable-cr" ||
    { echo "FAIL: unexpected tune file $B/tools/mpi/ft-enable-cr: $(cat "$B/tools/mpi/ft-enable-cr")"; exit 1; }

for flavor in ompi mpich; do
    prog=$B/tests/doc/stock_job-$flavor
    case $flavor in
    ompi) launcher=$(sed -n 's/^MPIEXEC_OMPI = //p' "$B/Makefile")
          stock() { exec "$launcher" --tune "$tmp/ft-enable-cr" -x REVIVE_MPI_REPORT -x REVIVE_CKPT_INTERVAL \
                        -x REVIVE_SNAPSHOT_DIR -np 2 "$prog" "$@"; } ;;
    mpich) launcher=$(sed -n 's/^MPIEXEC_MPICH = //p' "$B/Makefile")
           stock() { exec "$launcher" -n 2 "$B/tools/mpi/revive-exec" "$prog" "$@"; } ;;
    esac
    if [ -z "$launcher" ] || [ ! -x "$launcher" ] || [ ! -x "$prog" ]; then
        echo "no $flavor launcher or program: $flavor not checked"
        continue
    fi
    ran=$((ran + 1))
    d=$tmp/$flavor
    mkdir -p "$d/run" "$d/snap"
    cd "$d/run" || exit 1
    touch "$d/go"
    timeout -k 5 120 "$launcher" -n 2 "$prog" "$d/go" 0 </dev/null >"$d/native.out" 2>"$d/native.err" ||
        { fail "$flavor: the native run failed: $(tail -n 3 "$d/native.err")"; continue; }
    rm -f "$d/go"

    REVIVE_MPI_REPORT=$d/report REVIVE_CKPT_INTERVAL=1 REVIVE_SNAPSHOT_DIR=$d/snap \
        stock "$d/go" 3 </dev/null >"$d/stock.out" 2>"$d/stock.err" &
    job=$!
    if ! wait_for 120 'grep -q "^ready" "$d/stock.err" || ! kill -0 $job 2>/dev/null'; then
        fail "$flavor: the job did not start in 120 s"; kill -KILL $job; job=; continue
    fi
    rank1=$(sed -n 's/^pids [0-9]* \([0-9]*\)$/\1/p' "$d/stock.err")
    [ -n "$rank1" ] || fail "$flavor: no pid of rank 1 in the job's stderr: $(head -n 5 "$d/stock.err")"
    for pid in $job $rank1; do
        out=$(timeout 60 "$B/tools/snapc/ckpt-mpirun" "$pid" 2>&1 >"$d/ck.out"); rc=$?
        what="$flavor: ckpt-mpirun of the $([ $pid = $job ] && echo launcher || echo rank 1) ($pid)"
        if [ $rc = 1 ] && [ ! -s "$d/ck.out" ] &&
           printf '%s' "$out" | grep -q "not started with 'mpirun -am ft-enable-cr'"; then
            pass "$what is refused: $out"
        else
            fail "$what: status $rc, '$out', stdout '$(cat "$d/ck.out")'"
        fi
    done
    kill -0 $job 2>/dev/null && pass "$flavor: the job runs on after the refusals" ||
        fail "$flavor: the job ended after ckpt-mpirun's refusals"
    touch "$d/go"
    if ! wait_for 120 '! kill -0 $job 2>/dev/null'; then
        fail "$flavor: the job did not end within 120 s of its release"
        kill -KILL $job
    fi
    wait $job; rc=$?
    job=
    [ $rc = 0 ] || fail "$flavor: the job exited $rc: $(tail -n 3 "$d/stock.err")"
    if cmp -s "$d/native.out" "$d/stock.out"; then
        pass "$flavor: output as natively: $(tr '\n' '|' <"$d/stock.out")"
    else
        fail "$flavor: output differs from the native run: $(diff "$d/native.out" "$d/stock.out" | tr '\n' '|')"
    fi
    grep -q "^MPIX_Checkpoint: MPI_ERR_OTHER, flag 0; MPIX_Checkpoint_request: MPI_ERR_OTHER" "$d/stock.out" ||
        fail "$flavor: MPIX_Checkpoint did not return MPI_ERR_OTHER with flag 0: $(head -n 1 "$d/stock.out")"
    n=$(grep -c "the job has no Revive coordinator" "$d/stock.err")
    [ "$n" -ge 2 ] && pass "$flavor: MPIX_* said: $(grep -m1 "no Revive coordinator" "$d/stock.err")" ||
        fail "$flavor: MPIX_* did not say there is no coordinator ($n lines): $(head -n 5 "$d/stock.err")"
    n=$(grep -c "lower half" "$d/report" 2>/dev/null)
    [ "$n" = 2 ] && pass "$flavor: both ranks ran on Revive's lower half" ||
        fail "$flavor: $n of 2 ranks reported a lower half: $(cat "$d/report" 2>/dev/null)"
    snaps=$(find "$d/run" "$d/snap" "$tmp" -maxdepth 1 -name 'revive_global_snapshot_*' 2>/dev/null)
    [ -z "$snaps" ] && pass "$flavor: no periodic snapshot with REVIVE_CKPT_INTERVAL=1 over 3 s" ||
        fail "$flavor: snapshots appeared: $snaps"
    cd "$tmp" || exit 1
done
[ $ran -gt 0 ] || { echo "SKIP: neither Open MPI nor MPICH built"; exit 77; }
[ $fails = 0 ] || { echo "$fails failures"; exit 1; }
echo "stock launchers: OK ($ran MPI libraries)"
