#!/bin/bash
# rst_refs.sh FLAVOR: more than 65536 persistent requests on one datatype at once (rst_refs.c:
# 66000, half MPI_Send_init, half MPI_Recv_init, the program keeping the datatype), two ranks: a
# job under "mpirun -am ft-enable-cr" ended by "ckpt-mpirun --term" after its second step (its
# status must be 0) and run to its end by "restart-mpi", which frees every request and uses the
# datatype once more. Its lines must be an uninterrupted native run's. Before session 41 the MPI
# layer counted a handle's references in 16 bits: the count wrapped at 65536, the restart freed
# the datatype the program still held, and the handle went with the 464th MPI_Request_free, so
# the program's last MPI_Sendrecv failed with an invalid datatype.
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog rst_refs
export REVIVE_RESTART_RANK=$restarter
n=2 steps=8 ms=100 nreq=66000
ck_workdir np$n
what="np=$n, $nreq persistent requests on one datatype"
if ! run_native "$n" "$prog" $steps "$d/nopace" $ms $nreq >native.out 2>native.err; then
    failed "$what: the native run: status $?"; tail -n 3 native.err
else
    touch pace
    clean timeout -k 5 900 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" -n "$n" "$prog" $steps \
        "$d/pace" $ms $nreq >out.0 2>err.0 &
    job=$!; pids+=($job)
    if ! wait_steps out.0 2 $job; then
        rm -f pace; wait $job
        failed "$what: generation 0 (no checkpoint yet): status $?, $(nsteps out.0) steps"
        show_err err.0
    elif ! term_restart $job; then
        failed "$what: ckpt-mpirun --term: $(tail -n 2 ckpt.term.err)"
    elif [ "$termst" != 0 ]; then
        failed "$what: the job ended with --term: status $termst"; show_err err.0
    else
        restart_verdict "$what"
    fi
fi
left=$(no_strays "$d/") || failed "$what: processes left: $left"
exit $fail
