#!/bin/bash
# rst_fileeh.sh FLAVOR: a file's error handler the program freed once set (rst_fileeh.c), 2 ranks,
# REVIVE_VERBOSE=3 from the start (a rank's log level is its image's): a native run; the job ended
# by "ckpt-mpirun --term" after its second step and run to its end by "restart-mpi": the lines of
# both generations are the native run's, and every restarted rank's layer says once that it gave
# back the replay's reference of that error handler (lib47: nothing freed it, the fresh library
# kept the object for good; neither MPI reports a leaked error handler, so the layer's own line is
# what is counted). No process left.
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog rst_fileeh
export REVIVE_RESTART_RANK=$restarter
steps=6 ms=300
ck_workdir np2
what="np=2, a file's error handler the program freed"
export REVIVE_VERBOSE=3
if paced_term_cycle "$what" 2; then
    n=$(grep -c "error handler .*: the replay's reference freed (only the layer holds it)" err.1)
    if [ "$n" = 2 ]; then
        pass "$what: the replay's reference given back on 2 of 2 restarted ranks"
    else
        failed "$what: the replay's reference given back on $n of 2 restarted ranks"
    fi
fi
left=$(no_strays "$d/") || failed "$what: processes left: $left"
exit $fail
