#!/bin/bash
# term_quiet.sh FLAVOR: "ckpt-mpirun --term" ends a job as if it had finished (Open MPI's
# ompi-checkpoint --term did the same): after the snapshot commits the ranks leave on their
# own, so the launcher reports nothing. For 1, 2 and 4 ranks: a job under "mpirun -am
# ft-enable-cr" is checkpointed with --term once it has printed a few steps; then
#   - ckpt-mpirun exits 0 and names the snapshot,
#   - the job's status (mpirun's, i.e. the launcher's passed on) is 0,
#   - its stdout holds nothing but the application's own lines: the first lines of an
#     uninterrupted run (MPICH's Hydra printed "BAD TERMINATION ... EXIT CODE: 15" there when
#     the job was ended by SIGTERM: campaign-failures.md #3),
#   - its stderr has no launcher complaint (Open MPI's "exited on signal", "exiting improperly"),
#   - no rank is left.
# No timing assumption: the job (rst_prog --pace) sleeps between steps while a file exists, so
# it cannot finish before its checkpoint however loaded the machine.
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
# the job would run 400 steps (80 s at least); its output is compared with the first lines of a
# native run of 150 (the step lines do not depend on the number of steps)
steps=400 ms=200 nsteps_native=150
ck_workdir term
touch pace
for n in ${TERM_QUIET_NPS:-1 2 4}; do
    TMO=600 run_native "$n" "$prog" $nsteps_native >native.$n.out 2>native.$n.err ||
        { failed "np=$n: the native run: status $?"; tail -n 3 native.$n.err; continue; }
    clean timeout -k 5 600 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" -n "$n" "$prog" $steps \
        --pace "$d/pace" $ms >out.$n 2>err.$n &
    job=$!; pids+=($job)
    # $job is timeout's pid; mpirun (the coordinator, same pid as Revive's wrapper) is its child
    if ! wait_steps out.$n 2 $job || ! c=$(coord $job); then
        failed "np=$n: the job printed no step"; tail -n 3 err.$n; kill -TERM $job; wait $job; continue
    fi
    timeout -k 5 300 "$CKPT" --wait --term $c >ckpt.$n.out 2>ckpt.$n.err; crc=$?
    [ $crc = 0 ] || kill -TERM $c
    wait $job; st=$?
    k=$(wc -l <out.$n)
    bad=
    [ $crc = 0 ] || bad="$bad; ckpt-mpirun --term: status $crc ($(tail -n1 ckpt.$n.err))"
    [ $st = 0 ] || bad="$bad; the job's status $st"
    [ "$k" -ge 2 ] && cmp -s out.$n <(head -n "$k" native.$n.out) ||
        bad="$bad; its stdout is not the first $k lines of the uninterrupted run's"
    ! grep -qE 'BAD TERMINATION|exited on signal|exiting improperly|EXIT CODE|Terminated' \
        out.$n err.$n || bad="$bad; the launcher complained"
    wait_for_gone=0
    for i in $(seq 600); do
        pgrep -f -- "$d/pace" >/dev/null || { wait_for_gone=1; break; }
        sleep 0.1
    done
    [ $wait_for_gone = 1 ] || bad="$bad; processes left: $(pgrep -f -- "$d/pace" | tr '\n' ' ')"
    if [ -z "$bad" ]; then
        pass "$flavor np=$n: --term after $(nsteps out.$n) steps: status 0, nothing on stdout" \
            "but the application's $k lines, no launcher message ($(tail -n1 ckpt.$n.out))"
    else
        failed "$flavor np=$n${bad}"
        echo "--- stdout past the application's lines:"
        diff <(head -n "$k" native.$n.out) out.$n | head -n 15
        echo "--- stderr:"; tail -n 8 err.$n
    fi
done
exit $fail
