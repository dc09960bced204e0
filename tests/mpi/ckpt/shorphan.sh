#!/bin/bash
# shorphan.sh FLAVOR: the meeting places of shared windows (src/pml_hooks/win_ckpt.c) whose
# communicators the program freed: no member frees or adopts one on its own word, and they do not
# pile up. Programs: shstore's modes "order" and "grow" (shstore.c).
# 1. (order, 2 ranks) rank 0 frees a communicator before the next shared window on a new
#    duplicate, rank 1 after it; then rank 0 frees a window's communicator before the window,
#    rank 1 after it, then MPI_Barrier: under "mpirun -am ft-enable-cr" the job ends (bounded
#    wait) with the native run's line. MPI_Comm_free is local in both libraries: until session
#    41 rank 0 adopted the first place for the new duplicate while rank 1 made a new one (a
#    collective rank 0 never entered), and freed the second with its window (the library's
#    MPI_Win_free, a barrier) while rank 1 kept it: both hung under Revive only.
# 2. (grow, 4 ranks) 12 communicators of all ranks, each in another order (MPI_Comm_split), a
#    shared window made and freed on each, the communicator freed: the shared mappings the steps
#    leave under Revive are at most one more than natively. Until session 41 the place of every
#    member order was kept until MPI_Finalize (one shared mapping, and a window of the library,
#    per step).
flavor=$1
export REVIVE_MPI_TIMEOUT=${REVIVE_MPI_TIMEOUT:-60}
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog shstore

# 1.
ck_workdir order
run_native 2 "$prog" 0 - 0 order >native.out 2>native.err ||
    { failed "1: the native run: status $?"; show_err native.err; exit 1; }
clean timeout -k 5 "$TMO" "$wrapper" -am ft-enable-cr -n 2 "$prog" 0 - 0 order >revive.out \
    2>revive.err; st=$?
if [ $st = 124 ] || [ $st = 137 ]; then
    failed "1: the job did not end within $TMO s (a member waits in a collective of the layer's" \
        "that another never enters)"
elif [ $st != 0 ]; then
    failed "1: the job's status $st"; show_err revive.err
elif ! grep -q '^order: 3 windows, 0 bad$' native.out || ! cmp -s native.out revive.out; then
    failed "1: '$(tail -n1 revive.out)', natively '$(tail -n1 native.out)'"
else
    pass "$flavor: communicators freed before and after the next window by different ranks:" \
        "$(tail -n1 revive.out), as native"
fi

# 2.
ck_workdir grow
run_native 4 "$prog" 12 - 0 grow >native.out 2>native.err ||
    { failed "2: the native run: status $?"; show_err native.err; exit 1; }
clean timeout -k 5 "$TMO" "$wrapper" -am ft-enable-cr -n 4 "$prog" 12 - 0 grow >revive.out \
    2>revive.err || { failed "2: the job's status $?"; show_err revive.err; exit 1; }
re='^grow: 12 steps, \(-*[0-9]*\) shared mappings more, 0 bad$'
nm=$(sed -n "s/$re/\1/p" native.out) rm_=$(sed -n "s/$re/\1/p" revive.out)
if [ -z "$nm" ] || [ -z "$rm_" ]; then
    failed "2: no count: native '$(tail -n1 native.out)', Revive '$(tail -n1 revive.out)'"
elif [ "$rm_" -gt $((nm + 1)) ]; then
    failed "2: 12 communicators of other orders left $rm_ shared mappings more under Revive," \
        "$nm natively: the meeting places of freed communicators pile up"
else
    pass "$flavor: 12 communicators of other orders: $rm_ shared mappings more under Revive," \
        "$nm natively"
fi
exit $fail
