#!/bin/bash
# wtime_restart.sh FLAVOR: what MPI_Wtime says across a restart (newuser50 M4; restart-mpi(1)
# REVIVE_WTIME). A job of rst_prog (rank 0 prints MPI_Wtime at each step: RST_PROG_WTIME=1) is
# checkpointed with --term; after a downtime of $down s it is restarted twice from that snapshot:
#   by default (REVIVE_WTIME unset, i.e. wall) the step across the restart takes at least the
#   downtime (MPI_Wtime is elapsed wall-clock time);
#   with REVIVE_WTIME=continuous it takes less than half of it (MPI_Wtime goes on from the
#   checkpoint);
#   both never go back, and both restarted jobs' results are the uninterrupted native run's.
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
export REVIVE_RESTART_RANK=$restarter
n=2 steps=60 ms=150 down=8
d=$tmp/wtime
mkdir -p "$d"
cd "$d" || exit 1
run_native "$n" "$prog" $steps >native.out 2>native.err ||
    { failed "the native run: status $?"; tail -n 3 native.err; exit 1; }
touch pace
RST_PROG_WTIME=1 clean timeout -k 5 600 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" -n "$n" "$prog" \
    $steps --pace "$d/pace" $ms >out.0 2>err.0 &
job=$!
pids+=($job)
wait_steps out.0 3 $job && ref=$(checkpoint $job term --term) ||
    { failed "no snapshot of the job"; tail -n 4 ckpt.*.err err.0; exit 1; }
wait $job
t_down=$SECONDS
rm -f pace
# the last MPI_Wtime before the checkpoint: that of the last step the job printed
last=$(grep -c '^step [0-9]*: ' out.0)
w0=$(sed -n "s/^wtime $((last - 1)): //p" err.0)
[ -n "$w0" ] || { failed "no MPI_Wtime line for step $((last - 1)): $(tail -n 3 err.0)"; exit 1; }
nap $((down - (SECONDS - t_down)))
for how in wall continuous; do
    if [ $how = wall ]; then
        clean timeout -k 5 600 "$RESTART" "$ref" >out.$how 2>err.$how; rc=$?
    else
        REVIVE_WTIME=$how clean timeout -k 5 600 "$RESTART" "$ref" >out.$how 2>err.$how; rc=$?
    fi
    # the first MPI_Wtime after the restart: the first step it printed
    first=$(grep -m1 '^step [0-9]*: ' out.$how | sed 's/^step \([0-9]*\):.*/\1/')
    w1=$(sed -n "s/^wtime ${first:-x}: //p" err.$how)
    back=$(grep '^wtime ' err.0 err.$how | awk '{ t = $NF + 0; if (n++ && t < p) b = 1; p = t } END { print b + 0 }')
    gap=$(awk -v a="$w0" -v b="${w1:-0}" 'BEGIN { printf "%.3f", b - a }')
    case $how in
    wall) ok=$(awk -v g="$gap" -v d=$down 'BEGIN { print (g >= d) }') ;;
    continuous) ok=$(awk -v g="$gap" -v d=$down 'BEGIN { print (g >= 0 && g < d / 2) }') ;;
    esac
    if [ $rc = 0 ] && [ -n "$w1" ] && [ "$ok" = 1 ] && [ "$back" = 0 ] &&
        cmp -s <(results native.out) <(results out.0 out.$how); then
        pass "REVIVE_WTIME=$how: MPI_Wtime from step $((last - 1)) to step $first across a ${down} s downtime: +$gap s, never back; results as uninterrupted"
    else
        failed "REVIVE_WTIME=$how: status $rc, MPI_Wtime +$gap s across a ${down} s downtime (went back: $back)"
        tail -n 4 err.$how
    fi
    strays_after "the restart with REVIVE_WTIME=$how"
done
exit $fail
