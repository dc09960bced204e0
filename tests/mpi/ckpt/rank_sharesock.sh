#!/bin/bash
# rank_sharesock.sh FLAVOR: a rank whose forked child keeps a socket it inherited (rank_sharesock.c:
# a UDP socket, the child never closing it) cannot be in a snapshot yet; ckpt-mpirun's refusal
# says the MPI user's remedy: which process closes which descriptor (the child its copy, right
# after fork(), or the rank before it forks), never cr_checkpoint's options. Before (newuser7d
# F1) it ended "not supported under --tree yet; close it before the checkpoint, or checkpoint
# with --ignore-fds ...": ckpt-mpirun has neither option. The job runs on to the uninterrupted
# run's results.
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog rank_sharesock
steps=40 ms=50
ck_workdir sharesock
run_native 2 "$prog" $steps "$d/nopace" 0 >native.out 2>native.err ||
    { failed "the native run: status $?"; tail -n 3 native.err; exit 1; }
touch pace
clean timeout -k 5 900 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" -n 2 "$prog" $steps "$d/pace" $ms \
    >out.s 2>err.s &
job=$!; pids+=($job)
if ! wait_steps out.s 2 $job; then
    failed "the job did not reach step 2: $(tail -n 2 err.s)"
elif ref=$(checkpoint $job a); then
    failed "ckpt-mpirun took a snapshot of ranks whose children share their sockets: $ref"
else
    msg=$(cat ckpt.a.err)
    echo "ckpt-mpirun said: $msg"
    case $msg in
    *--ignore-fds* | *--tree*)
        failed "the refusal names cr_checkpoint's options, which ckpt-mpirun does not have: $msg" ;;
    *"hold the same socket"*"have the child close its copy (its descriptor "[0-9]*") right after fork()"*)
        pass "the refusal names the shared socket and the MPI user's remedy (the child closes its copy after fork), no --tree, no --ignore-fds" ;;
    *)
        failed "the refusal does not say which process closes which descriptor: $msg" ;;
    esac
fi
rm -f pace
ran_on $job s "the job refused a snapshot and ran on"
grep -q '^done: children ok$' out.s && pass "every child ended as told (done: children ok)" ||
    failed "the job's last line is not 'done: children ok': $(tail -n 1 out.s)"
exit $fail
