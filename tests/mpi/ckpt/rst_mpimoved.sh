#!/bin/bash
# rst_mpimoved.sh FLAVOR: the job ran on a private copy of its MPI library (LD_LIBRARY_PATH names
# its folder), and that folder moved after the snapshot (newuser7b M1). restart-mpi of the
# snapshot refuses before the launch and advises --relocate OLD=NEW; restart-mpi --relocate as
# advised must then restart the job to the uninterrupted run's results, and leave the sequence
# unmarked. Before, every rank failed ("the program uses OLD but the lower half loaded
# /lib/.../libmpich.so.12": the program's copy of the library is mapped from NEW while its link
# map names OLD, gone; the fresh MPI, searched through the job's LD_LIBRARY_PATH, was the system's
# copy of the same build), and the restart was recorded as a failed restart of the sequence.
flavor=$1
export REVIVE_MPI_TIMEOUT=${REVIVE_MPI_TIMEOUT:-240}
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
np=2 steps=30 ms=150
ck_workdir mpimoved
case $flavor in ompi) soname=libmpi.so.40 ;; *) soname=libmpich.so.12 ;; esac
sys=$(ldd "$prog" | awk -v s="$soname" '$1 == s {print $3; exit}')
[ -f "$sys" ] || { echo "SKIP: $prog does not link $soname ($(ldd "$prog" | grep -c mpi) MPI lines in ldd)"; exit 77; }
mkdir -m 700 mylib && cp "$sys" "mylib/$soname" || { failed "cannot copy $sys"; exit 1; }
old=$d/mylib/$soname new=$d/mylib2/$soname
run_native $np "$prog" $steps --pace "$d/nopace" $ms >native.out 2>native.err ||
    { failed "the native run: status $?"; tail -n 3 native.err; exit 1; }
touch pace
(export LD_LIBRARY_PATH=$d/mylib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
 exec timeout -k 5 600 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" -n $np "$prog" $steps \
     --pace "$d/pace" $ms </dev/null >out.0 2>err.0) &
job=$!; pids+=($job)
wait_steps out.0 2 $job || { rm -f pace; wait $job; failed "no steps before the checkpoint"; show_err err.0; exit 1; }
ref=$(checkpoint $job term --term) ||
    { rm -f pace; wait $job; failed "ckpt-mpirun --term: $(tail -n 2 ckpt.term.err | tr '\n' ' ')"; exit 1; }
wait $job
rm -f pace
jd=$(dirname "$ref")
grep -qx "mpi.path $old" "$ref/snapshot.meta" ||
    { failed "the job did not run on the private copy: $(grep '^mpi.path' "$ref/snapshot.meta")"; exit 1; }
cp -p "$jd/index" index.keep
mv mylib mylib2
# as restart-mpi's own message advises: --relocate OLD=NEW
clean timeout -k 5 300 "$RESTART" "$ref" >pre.out 2>pre.err; rc=$?
if [ $rc = 1 ] && grep -q -- "--relocate OLD=NEW" pre.err; then
    pass "the moved library, before the launch: status 1, advice: $(grep -o 'give its new place.*' pre.err | head -n1)"
else
    failed "the moved library without --relocate: status $rc, no --relocate advice"; show_err pre.err
fi
clean timeout -k 5 600 "$RESTART" --relocate "$old=$new" "$ref" >out.1 2>err.1; rc=$?
results out.0 out.1 >both.out
restart_verdict "restart-mpi --relocate $old=$new"
if grep -q "^seq\.${ref##*/}\.failed_restarts [1-9]" "$jd/index"; then
    failed "the sequence is marked failed: $(grep "^seq\.${ref##*/}\.failed" "$jd/index" | tr '\n' ' ' | cut -c1-300)"
else
    pass "the sequence is not marked failed"
fi
left=$(no_strays "$d/") || failed "processes left: $left"
exit $fail
