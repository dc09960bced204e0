#!/bin/bash
# The exit status of a job ended by a signal to its mpirun: never 0 unless every rank had reached
# MPI_Finalize. Hydra's mpiexec, signalled, exits 0 or the signal's number by timing (natively
# too: 5 of 10 SIGTERMs and 3 of 10 SIGINTs to a running job gave 0, and 5 of 10 SIGTERMs to a
# stopped and continued one), so a batch script took a job ended at step 2 of 60 as done
# (review11 #2). Here the ranks end with status 0 on SIGTERM (fake_rank --term-exit0) and the
# launcher's status is theirs
# (FAKE_LAUNCH_RANKS_STATUS=1), so it always says 0:
#   - stopped with --stop, then SIGTERM to mpirun: status 143 (128 + SIGTERM), not 0;
#   - running, SIGTERM to mpirun, no rank in MPI_Finalize yet: 143, not 0 (the old code: 0);
#   - running, every rank past MPI_Finalize (in its own clean-up, fake_rank --linger) when
#     SIGTERM comes: the launcher's 0 stands (the job did its work). Each rank's word that it
#     reached MPI_Finalize is sent before MPI_Finalize returns (agent_fin_check).
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-stopstatus
export FAKE_LAUNCH_RANKS_STATUS=1

start_job a 2 --iters $UNTIL_KILLED --sleep-us 500 --term-exit0
expect_rc 0 "--stop" "$CKPT" --stop "$JOB"
kill -TERM $JOB
job_gone $JOB 60 || fail "the stopped job did not end within 60 s of SIGTERM to mpirun"
wait $JOB; st=$?
[ $st = 143 ] && pass "a job stopped by --stop, ended by SIGTERM to mpirun: status 143, though the launcher said 0" ||
    { fail "a job stopped by --stop, ended by SIGTERM to mpirun: status $st, expected 143"; tail -n 5 "$W/a.err"; }

for k in 1 2 3; do
    start_job b$k 2 --iters $UNTIL_KILLED --sleep-us 500 --term-exit0
    kill -TERM $JOB
    job_gone $JOB 60 || fail "the running job did not end within 60 s of SIGTERM to mpirun"
    wait $JOB; st=$?
    [ $st = 143 ] && pass "run $k: a running job ended by SIGTERM before MPI_Finalize, its launcher saying 0: status 143" ||
        { fail "run $k: a running job ended by SIGTERM before MPI_Finalize, its launcher saying 0: status $st, expected 143"; tail -n 5 "$W/b$k.err"; }
    grep -q "the launcher exited 0 after SIGTERM, but rank [01] never reached MPI_Finalize: status 143" "$W/b$k.err" ||
        { fail "run $k: no line saying why the status is 143"; tail -n 3 "$W/b$k.err"; }
done

start_job c 2 --iters 20 --sleep-us 500 --term-exit0 --linger 600
wait_for 60 '[ "$(grep -c "^rank [01] finalized" "$W/c.out")" = 2 ]' ||
    fail "the ranks did not get past MPI_Finalize within 60 s"
kill -TERM $JOB
job_gone $JOB 60 || fail "the job did not end within 60 s of SIGTERM to mpirun"
wait $JOB; st=$?
[ $st = 0 ] && pass "every rank past MPI_Finalize when SIGTERM came, the launcher saying 0: status 0" ||
    { fail "every rank past MPI_Finalize when SIGTERM came, the launcher saying 0: status $st, expected 0"; tail -n 5 "$W/c.err"; }
wait_no_strays
finish
