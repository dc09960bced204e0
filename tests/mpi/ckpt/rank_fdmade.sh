#!/bin/bash
# rank_fdmade.sh FLAVOR MODE: descriptors of a rank that no MPI call made, across a snapshot
# (rank_fdmade.c, 2 ranks, paced): the job is ended by ckpt-mpirun --term after its second step
# and restarted by restart-mpi; both generations' lines must equal an uninterrupted run's.
#   raw  a socketpair and an eventfd made by raw system calls, with a number in flight in the
#        pair and a count in the eventfd at the snapshot (review 13 HIGH-2: they were taken for
#        the MPI library's by their type and left out silently; the restarted ranks died on
#        EBADF). They must come back.
#   svc  clients of a stand-in system daemon in /run (rank_fdmade_svc.py: a datagram service like
#        syslog's /dev/log, a stream one like SSSD's NSS pipe), as libc makes for the program
#        (review 13 M4: every snapshot was refused, "connected to a socket of process N"). The
#        snapshot must be taken, every rank must reconnect to both after the restart (its
#        "reconnected" lines), and the daemon must have seen every rank's every step once.
#        A test daemon's sockets are not among those Revive knows (syslog, journald, SSSD,
#        nscd): the job names them in REVIVE_SERVICE_SOCKETS, as a site would its own daemons'
#        (here as a folder, "DIR/", beside a path that does not exist). The snapshot is asked
#        for while every rank holds the stream service's answer of step 2 unread (HOLD) until
#        the test sees it parked (its main thread in futex): the park finds a request in
#        progress, which a park at any moment can (issue 7: CI once refused the snapshot at
#        once, "connected to ... another process"); the rank must be let go on to read the
#        answer and the snapshot taken.
#   svcrefuse  the same clients of a stand-in "dbus" in /run (a D-Bus system bus, a database's
#        or docker's socket keep state per connection that a silent reset loses), whose
#        datagram socket alone REVIVE_SERVICE_SOCKETS names (diffrev19 MEDIUM-1: every client
#        of a socket under /run was reset): ckpt-mpirun must fail naming the stream socket
#        DIR/stream, and the job goes on to the uninterrupted run's lines, never reconnecting.
#   refuse  a POSIX message queue (even ranks) and a descriptor in flight in a socketpair (odd
#        ranks): ckpt-mpirun must fail naming one, without offering --ignore-fds (which it does
#        not have: review 13 L6), and the job goes on to the uninterrupted run's lines.
flavor=$1 mode=$2
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog rank_fdmade
n=2 steps=30 ms=200
ck_workdir "$mode"
extra=()
pmode=$mode
[ "$mode" = svcrefuse ] && pmode=svc
if [ "$pmode" = svc ]; then
    # where system daemons put their sockets (the rule of capture_sockets.c's service_client)
    svc=$(mktemp -d /run/revive-fdmade.XXXXXX 2>/dev/null) ||
        { echo "SKIP: cannot make a folder in /run (the rule covers daemons' sockets there)"; exit 77; }
    trap 'rm -rf "$svc"; ck_exit' EXIT
    start_svc() { # start_svc DIR: the stand-in daemon serving in DIR
        mkdir -p "$1"
        python3 "$(dirname "$0")/rank_fdmade_svc.py" "$1" >"$1/svc.err" 2>&1 &
        pids+=($!)
        for _ in $(seq 100); do [ -e "$1/ready" ] && return 0; sleep 0.1; done
        failed "the stand-in daemon did not start: $(cat "$1/svc.err")"; exit 1
    }
    start_svc "$svc/native"
    if [ "$mode" = svc ]; then
        job_svc=$svc/job
        export REVIVE_SERVICE_SOCKETS="/run/revive-fdmade-none/x:$job_svc/"
    else
        job_svc=$svc/dbus
        export REVIVE_SERVICE_SOCKETS="$job_svc/dgram"
    fi
    start_svc "$job_svc"
fi
[ "$pmode" = svc ] && extra=("$svc/native")
run_native "$n" "$prog" $steps "$d/nopace" 0 "$pmode" "${extra[@]}" >native.out 2>native.err ||
    { failed "the native run: status $?"; show_err native.err; exit 1; }
[ "$pmode" = svc ] && extra=("$job_svc")
[ "$mode" = svc ] && extra+=(2)   # the ranks hold their answer of step 2 unread (HOLD)
touch pace
clean timeout -k 5 600 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" -n "$n" "$prog" $steps "$d/pace" \
    $ms "$pmode" "${extra[@]}" >out.0 2>err.0 &
job=$!; pids+=($job)
wait_steps out.0 2 $job || { failed "no steps before the checkpoint"; show_err err.0; exit 1; }
if [ "$mode" = svc ]; then
    wait_for_job 300 $job '[ "$(grep -c "^rank [01]: the reply of step 2 waits unread" err.0)" = 2 ]' ||
        { failed "the ranks did not hold the stream service's answer of step 2"; show_err err.0; exit 1; }
    for r in 0 1; do
        # go.R once rank R's main thread is seen parked (in futex: the rank waits in nanosleep)
        ( p=$(cat "$job_svc/hold.$r") && for _ in $(seq 6000); do
              read -r nr _ <"/proc/$p/syscall" 2>/dev/null || exit 1
              [ "$nr" = 202 ] && { touch "$job_svc/go.$r"; exit 0; }
              sleep 0.02
          done ) &
        pids+=($!)
    done
fi
if [ "$mode" = refuse ] || [ "$mode" = svcrefuse ]; then
    if ref=$(checkpoint $job refused); then
        if [ "$mode" = svcrefuse ]; then
            failed "a snapshot with clients of a stand-in D-Bus in /run (not in REVIVE_SERVICE_SOCKETS) was committed: $ref"
        else
            failed "a snapshot with a message queue and a descriptor in flight was committed: $ref"
        fi
    elif [ "$mode" = svcrefuse ]; then
        if grep -q "rank [01] .*connected to $job_svc/stream, a socket of process" ckpt.refused.err; then
            pass "refused, naming the socket: $(grep -h -m1 "$job_svc/stream" ckpt.refused.err | cut -c1-300)"
        else
            failed "ckpt-mpirun failed without naming the stand-in D-Bus's socket $job_svc/stream"
            show_err ckpt.refused.err
        fi
        grep -q "connected to $job_svc/dgram" ckpt.refused.err &&
            failed "the datagram socket REVIVE_SERVICE_SOCKETS names was refused: $(grep -h -m1 "$job_svc/dgram" ckpt.refused.err)"
        grep -q "reconnected" err.0 && failed "a rank reconnected, but no snapshot was taken: $(grep -m1 reconnected err.0)"
    else
        grep -q 'rank [02] .*POSIX message queue /revive-fdmade' ckpt.refused.err ||
            grep -q 'rank [13] .*descriptor in flight' ckpt.refused.err ||
            { failed "ckpt-mpirun failed without naming the queue or the descriptor in flight"; show_err ckpt.refused.err; }
        grep -q 'ignore-fds' ckpt.refused.err err.0 &&
            failed "a refusal offers --ignore-fds, which ckpt-mpirun does not have: $(grep -h -m1 ignore-fds ckpt.refused.err err.0)"
        [ $fail = 0 ] && pass "refused, naming it, without --ignore-fds: $(grep -h -m1 -e 'message queue' -e 'in flight' ckpt.refused.err | cut -c1-200)"
    fi
    rm -f pace
    wait $job; rc=$?
    if [ $rc != 0 ]; then failed "the job did not go on after the refusal: status $rc"; show_err err.0
    elif cmp -s <(results native.out) <(results out.0); then pass "the job went on to the uninterrupted run's lines"
    else failed "the job's lines differ from the uninterrupted run's"; diff <(results native.out) <(results out.0) | head; fi
    exit $fail
fi
if ! term_restart $job; then
    failed "ckpt-mpirun --term: $(tail -n 3 ckpt.term.err | tr '\n' ' ')"
else
    restart_verdict "$mode"
fi
if [ "$mode" = svc ] && [ "$rc" = 0 ]; then
    for r in 0 1; do
        [ -e "$job_svc/go.$r" ] && grep -q "^rank $r: reads the reply of step 2" err.0 ||
            failed "rank $r's held answer was not read after a park: $(grep "^rank $r: " err.0 | tail -n 1)"
    done
    for r in 0 1; do
        for s in dgram stream; do
            grep -q "^rank $r: reconnected to $s at step" err.1 ||
                failed "rank $r did not reconnect to the $s service after the restart"
            grep -q "^rank $r: reconnected" err.0 && failed "rank $r reconnected before the snapshot"
        done
    done
    want=$(for r in 0 1; do for s in $(seq 0 $((steps - 1))); do echo "rank $r step $s"; done; done | sort)
    for s in dgram stream; do
        if [ "$(sort "$svc/job/$s.log")" = "$want" ]; then
            pass "the $s service saw every rank's $steps steps once, across the restart"
        else
            failed "the $s service's requests differ from every rank's steps once"
            diff <(echo "$want") <(sort "$svc/job/$s.log") | head -n 6
        fi
    done
fi
left=$(no_strays "$d/") || { failed "processes left: $left"; kill -KILL $(awk '{print $1}' <<<"$left") 2>/dev/null; }
exit $fail
