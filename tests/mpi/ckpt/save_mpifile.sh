#!/bin/bash
# save_mpifile.sh FLAVOR: ckpt-mpirun --save-files naming a file the job has open through MPI-IO
# (newuser11 F1 HIGH: parallel NetCDF-4, h5py's parallel HDF5 and plain MPI-IO output, both
# MPIs). restart-mpi puts the snapshot's copy back under a new inode (a temporary name renamed
# over the path), and each rank, reopening the job's MPI files, refused the file as "another file
# than the one open at the snapshot ... made again since": every restart of such a snapshot was
# refused, the only way out --relocate to another path. restart-mpi now tells the ranks which
# paths it put back (REVIVE_RESTART_PUT_BACK_<i>), and a rank takes the file there as the job's.
# 3 ranks of save_mpifile.c (an MPI file open for the whole run, written and read back at each
# step): --term --save-files FILE after step 2, then restart-mpi of that snapshot twice: each
# restart ends as the uninterrupted run (its step lines) and leaves FILE as the uninterrupted run
# leaves its own. Part 2: a copy made by hand at that path, not put back by restart-mpi
# (--no-restore-files), is still refused.
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog save_mpifile
np=3 steps=8 ms=300
ck_workdir savempi
run_native $np "$prog" $steps "$d/nopace" 0 "$d/native.dat" >native.out 2>native.err ||
    { failed "the native run: status $?"; tail -n 3 native.err; exit 1; }
touch pace
clean timeout -k 5 900 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" -n $np "$prog" $steps "$d/pace" $ms \
    "$d/job.dat" >out.0 2>err.0 &
job=$!; pids+=($job)
if ! wait_steps out.0 2 $job; then
    rm -f pace; wait $job
    failed "the job did not reach step 2: $(tail -n 2 err.0)"; exit 1
fi
if ! ref=$(checkpoint $job term "--term --save-files $d/job.dat"); then
    rm -f pace; wait $job
    failed "ckpt-mpirun --term --save-files job.dat: $(tail -n 2 ckpt.term.err)"; exit 1
fi
wait $job
rm -f pace
for g in 1 2; do
    clean timeout -k 5 600 "$RESTART" "$ref" >out.$g 2>err.$g; rc=$?
    results out.0 out.$g >both.$g
    if [ $rc != 0 ]; then
        failed "restart $g of the --save-files snapshot: status $rc"; show_err err.$g
    elif ! cmp -s <(results native.out) both.$g; then
        failed "restart $g: the results differ from the uninterrupted run"; diff <(results native.out) both.$g | head -5
    elif ! cmp -s native.dat job.dat; then
        failed "restart $g: the MPI file differs from the uninterrupted run's"
    else
        pass "restart $g of the snapshot (--save-files, the job's MPI file put back): $(wc -l <both.$g) result lines and the MPI file as uninterrupted"
    fi
done
# 2. what restart-mpi did not put back is checked as before: the MPI file replaced by a copy made
# by hand (a new inode) and restart-mpi --no-restore-files: refused, naming the file.
cp job.dat job.dat.copy && mv job.dat.copy job.dat
clean timeout -k 5 600 "$RESTART" --no-restore-files "$ref" >out.3 2>err.3; rc=$?
if [ $rc != 0 ] && grep -q "is another file than the one open at the snapshot" err.3; then
    pass "a copy put at the MPI file's path by hand, not put back by restart-mpi (--no-restore-files): refused (status $rc), naming it"
else
    failed "a copy put at the MPI file's path by hand, with --no-restore-files: status $rc, not the refusal"; show_err err.3
fi
exit $fail
