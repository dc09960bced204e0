#!/bin/bash
# rst_pscw.sh FLAVOR: global snapshots of a job whose ranks are in post/start/complete/wait
# epochs nearly all the time (rst_pscw.c: every epoch exposes the window to both neighbours and
# accesses both, Put, Accumulate and Get, no collective between epochs; paced, each epoch
# sleeps inside both epochs). At 2 and 4 ranks: a native run; the job under
# "mpirun -am ft-enable-cr", with two snapshots taken by ckpt-mpirun at random moments (the job
# goes on: each must commit), then a --term snapshot at a random moment, and restart-mpi of it
# to the end: both generations' lines must equal the native run's, and no process may be left.
# Then each of the first two snapshots is restarted to the end: its lines must be the native
# run's last ones.
# The job ended by --term must end with status 0 (it finalizes as if it had finished).
# A snapshot that caught an epoch open (an exposure the restarted rank no longer has, a
# completion the fresh library never gets) makes the restarted job fail or differ.
# rst_pscw.sh FLAVOR rst_xlock: the same with rst_xlock.c (exclusive lock epochs on both
# neighbours, no collective between them, paced inside the epochs).
# rst_pscw.sh FLAVOR rst_slock: the same with rst_slock.c (a reader holds a shared lock on its
# neighbour while it takes an exclusive lock of another window; the neighbour waits for an
# exclusive lock of its own; before a shared lock held kept the reader from parking at that
# entry, snapshots failed after 120 s: "rank 1 is in MPI_Win_lock"; then, until the reader parked
# there again while nobody waits for its shared lock, MPICH snapshots were refused: "could not
# drain its messages: 1 ... exclusive lock(s) ... open (the rank was not at a safe point)").
# rst_pscw.sh FLAVOR rst_lockwait "2 3" 12: the same with rst_lockwait.c (a reader holds a shared
# lock or lock_all on the writer's window while it enters a collective the writer is not in and
# an exclusive lock of another window; the writer waits for an exclusive lock of its own; before
# the wait was made known to the holder, it parked there and snapshots failed after 120 s).
# rst_pscw.sh FLAVOR NAME NPS STEPS: the same cycle with NAME.c at the ranks NPS ("2 4" by default)
# and STEPS steps (40), for the kinds that need it once, shorter: rst_nbcnew (nonblocking
# collectives on communicators split and idup'ed every step), rst_dynwin (a dynamic window under
# lock_all, attach/detach every step), rst_casmutex (a Compare_and_swap mutex, Rget/Raccumulate,
# Fetch_and_op), rst_persist (persistent point to point made and freed every step).
# rst_pscw.sh FLAVOR rst_greqt "1 2" 16: generalized requests completed by a helper thread and the
# main thread, waited on with the ring's requests (rst_greqt.c).
flavor=$1 name=${2:-rst_pscw} nps=${3:-2 4} steps=${4:-40}
export REVIVE_MPI_TIMEOUT=${REVIVE_MPI_TIMEOUT:-240}
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog "$name"
export REVIVE_RESTART_RANK=$restarter
ms=150
# rand_sleep MAX: sleeps a random number of milliseconds in 0..MAX
rand_sleep() { local t; t=$(shuf -i 0-"$1" -n 1); sleep "$((t / 1000)).$(printf %03d $((t % 1000)))"; }
for n in $nps; do
    what="$name np=$n"
    ck_workdir np$n
    # the reference: for MPICH, Open MPI's build of the same program (ref_native, ckptenv.sh):
    # MPICH's native ranks spin in every lock and epoch wait (rst_xlock np=4: 136 s and 74 s of
    # CPU natively, Open MPI's 2.2 s), and each program's lines are the same under either
    # (compared at the ranks and steps of its tests). Not rst_dynwin's: Open MPI's dynamic
    # windows need the single-copy mechanism its -ompi test sets (MPI_ERR_WIN without), and
    # MPICH runs it natively in half a second. Nor rst_handout's: the types each library hands
    # out differ (MPICH's and Open MPI's lines are not the same)
    if [ "$name" = rst_dynwin ] || [ "$name" = rst_handout ]; then
        run_native "$n" "$prog" $steps "$d/nopace" $ms >native.out 2>native.err
    else
        ref_native native.out native.err "$n" "$prog" $steps "$d/nopace" $ms
    fi ||
        { failed "$what: the native run: status $?"; tail -n 3 native.err; continue; }
    touch pace
    clean timeout -k 5 900 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" -n "$n" "$prog" $steps \
        "$d/pace" $ms >out.0 2>err.0 &
    job=$!; pids+=($job)
    if ! wait_steps out.0 1 $job; then
        rm -f pace; wait $job
        failed "$what: generation 0 (no checkpoint yet): status $?, $(nsteps out.0) steps"; tail -n 4 err.0
        continue
    fi
    ok=1 refs=()
    for c in 1 2; do
        rand_sleep 600
        if ! refs[$c]=$(checkpoint $job c$c); then
            failed "$what: snapshot $c (the job goes on) after step $(nsteps out.0): $(tail -n 2 ckpt.c$c.err)"
            ok=0
            break
        fi
    done
    if [ $ok = 0 ]; then
        rm -f pace; wait $job; continue
    fi
    rand_sleep 600
    if ! term_restart $job; then
        failed "$what: ckpt-mpirun --term: $(tail -n 2 ckpt.term.err)"; continue
    fi
    # the job --term ended finalizes as if it had finished: status 0 (diffrev45 R-H1: a job
    # holding an f90 type aborted in MPI_Finalize, MPICH status 6, Open MPI 3)
    [ "$termst" = 0 ] || { failed "$what: the job ended by --term: status $termst"; show_err err.0; }
    restart_verdict "$what: two snapshots and a --term at random moments in its epochs"
    # the two snapshots the job went on from, each restarted to the end: its lines are the
    # native run's from some step on
    want=$(results native.out)
    for c in 1 2; do
        clean timeout -k 5 600 "$RESTART" "${refs[$c]}" >out.c$c 2>err.c$c; rc=$?
        got=$(results out.c$c)
        if [ $rc != 0 ]; then
            failed "$what: restart-mpi of snapshot $c (${refs[$c]}): status $rc"; show_err err.c$c
        elif [ -z "$got" ] || [ "$(tail -n "$(wc -l <<<"$got")" <<<"$want")" != "$got" ]; then
            failed "$what: restart of snapshot $c: the lines differ from the uninterrupted run's"
            diff <(echo "$want") <(echo "$got") | head -6
        else
            pass "$what: snapshot $c restarted: the last $(wc -l <<<"$got") lines as uninterrupted"
        fi
    done
    left=$(no_strays "$d/") || failed "$what: processes left: $left"
done
exit $fail
