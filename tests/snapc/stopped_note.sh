#!/bin/bash
# stopped_note.sh FLAVOR: a checkpoint that waits on a rank whose process is stopped (kill -STOP)
# says so while it waits (newuser49 L1: ckpt-mpirun was silent for its whole --timeout, 120 s,
# though the rank's state T was visible from the first second; src/snapc/coord_waitnote.c):
#  a. ckpt-mpirun's stderr names the stopped rank's process, "stopped" and kill -CONT PID within
#     20 s of the request (the first note comes 10 s after it), while the request still waits;
#  b. continued (kill -CONT), the same request commits its snapshot (status 0);
#  c. the job, let go, ends with the native result, and so does the snapshot's restart.
flavor=$1
. "$(dirname "$0")/lib.sh"
snapc_mpi_setup stopped-note restart
iters=${SNAPC_MPI_ITERS:-3000}

native_run
held_mpi_job
wait_for 120 '[ -e "$W/go.held" ]' || { fail "the job did not reach its hold: $(tail -3 "$W/job.err")"; touch "$W/go"; finish; }
pid=$(rank_pids | tail -n1)
[ -n "$pid" ] || { fail "no rank process found"; touch "$W/go"; finish; }
kill -STOP "$pid"
cleanup="kill -CONT $pid 2>/dev/null; $cleanup"
wait_for 30 '[ "$(cut -d" " -f3 "/proc/$pid/stat")" = T ]' || fail "the rank (pid $pid) did not stop"

# a. the note while the request waits
( clean_exec timeout -k 5 300 "$CKPT" $JOB ) >"$W/ck.out" 2>"$W/ck.err" &
CK=$!
t0=$SECONDS
want="'s process (pid $pid) is stopped (state T: SIGSTOP or a debugger): continue it with kill -CONT $pid"
wait_for 20 'grep -qF "$want" "$W/ck.err"' ||
    { fail "no note naming the stopped rank within 20 s (old: silent until the 120 s timeout):"; sed 's/^/    /' "$W/ck.err"; }
kill -0 $CK 2>/dev/null || fail "ckpt-mpirun ended before the rank was continued: $(tail -2 "$W/ck.err")"
grep -F "$want" "$W/ck.err" | grep -q "waited [0-9]* s for rank [0-9] to answer the checkpoint request (step targets)" ||
    fail "the note does not say which rank in which step: $(grep -F "$want" "$W/ck.err" | head -1)"
pass "$flavor: a request waiting on a stopped rank says so after $((SECONDS - t0)) s: $(grep -F "$want" "$W/ck.err" | head -1 | cut -c1-160)..."

# b. continued: the same request commits
kill -CONT "$pid"
wait $CK; st=$?
[ $st = 0 ] || { fail "ckpt-mpirun after kill -CONT: status $st"; tail -3 "$W/ck.err"; }
REF=$(tail -n1 "$W/ck.out")
[ -f "$REF/snapshot.meta" ] || fail "no committed snapshot: '$REF'"
pass "$flavor: continued, the request committed its snapshot"

# c. the job and the restart end with the native result
touch "$W/go"
job_gone $JOB 120 || fail "the job did not end after its hold"
wait $JOB || fail "the job's status: $?"
cmp -s "$W/native.out" "$W/job.out" || { fail "the job's result differs from the native run"; tail -3 "$W/job.out"; }
( clean_exec timeout -k 5 300 "$RESTART" "$REF" ) >"$W/r.out" 2>"$W/r.err"
st=$?
[ $st = 0 ] || { fail "restart-mpi: status $st"; tail -5 "$W/r.err"; }
cmp -s "$W/native.out" "$W/r.out" || { fail "the restarted result differs from the native run"; tail -3 "$W/r.out"; }
pass "$flavor: the job and the snapshot's restart end with the native result"
finish
