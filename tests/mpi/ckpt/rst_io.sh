#!/bin/bash
# rst_io.sh FLAVOR: MPI-IO across a restart. rst_io writes a file in steps (a view whose filetype
# it freed, explicit offsets) and a second one through the shared file pointer, checkpoints itself
# at step 2 (no coordinator: pml_restart_capture, as restart.sh) and ends as if killed; the same
# number of ranks started as revive-restart-rank SNAPSHOT carry on with the files Revive opened
# again (the same views, both file pointers where they were). At 1, 2 and 4 ranks on both MPIs:
# the step lines (both file pointers) and the final files' sizes and checksum equal an
# uninterrupted native run's. Then a file is changed after the snapshot, then removed: the
# restart fails on every rank, naming it.
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog rst_io
steps=5
for n in 1 2 4; do
    d=$tmp/np$n
    mkdir -p "$d"
    run_native "$n" "$prog" "$d/native.dat" $steps >"$d/native.out" 2>"$d/native.err"
    clean timeout -k 5 "$TMO" "$wrapper" -am ft-enable-cr -n "$n" "$prog" "$d/job.dat" $steps "$d" 2 --exit \
        >"$d/orig.out" 2>"$d/orig.err"
    nimg=$(rank_images "$d/s2")
    if [ "$nimg" != "$n" ]; then
        failed "np=$n: $nimg of $n rank images written"; sed 's/^/  /' "$d/orig.err" | tail -5; continue
    fi
    cp -p "$d/job.dat" "$d/job.dat.keep"
    cp -p "$d/job.dat.log" "$d/job.dat.log.keep"
    restart_job "$n" "$d/s2" >"$d/r.out" 2>"$d/r.err"; rc=$?
    want=$(grep -hE '^(step [0-9]+: |done: )' "$d/native.out" | sed 's/checksum.*//')
    got=$(grep -hE '^(step [0-9]+: |done: )' "$d/orig.out" "$d/r.out" | sed 's/checksum.*//')
    sumn=$(sed -n 's/.*checksum //p' "$d/native.out")
    sumr=$(sed -n 's/.*checksum //p' "$d/r.out")
    if [ $rc != 0 ]; then
        failed "np=$n restart: status $rc"; show_err "$d/r.err"
    elif [ "$want" != "$got" ] || [ -z "$sumn" ] || [ "$sumn" != "$sumr" ]; then
        failed "np=$n restart: file pointers or the file differ from the uninterrupted run"
        diff <(echo "$want"; echo "$sumn") <(echo "$got"; echo "$sumr") | head -8
    else
        pass "np=$n: $(echo "$want" | wc -l) lines (both file pointers at every step) and the files ($sumn) as uninterrupted"
    fi
done
# a file changed after the snapshot: the restart stops, naming it (checked before any collective)
d=$tmp/np2
if [ ! -d "$d/s2" ]; then
    mkdir -p "$d"
    clean timeout -k 5 "$TMO" "$wrapper" -am ft-enable-cr -n 2 "$prog" "$d/job.dat" $steps "$d" 2 --exit \
        >"$d/orig.out" 2>"$d/orig.err"
    cp -p "$d/job.dat" "$d/job.dat.keep" 2>/dev/null
    cp -p "$d/job.dat.log" "$d/job.dat.log.keep" 2>/dev/null
fi
if [ -d "$d/s2" ]; then
    cp -p "$d/job.dat.keep" "$d/job.dat"
    cp -p "$d/job.dat.log.keep" "$d/job.dat.log"
    printf 'changed' >>"$d/job.dat"
    restart_job 2 "$d/s2" >"$tmp/bad.out" 2>"$tmp/bad.err"; rc=$?
    if [ $rc != 0 ] && grep -q "the MPI file $d/job.dat changed since the snapshot" "$tmp/bad.err" &&
        ! grep -q '^done' "$tmp/bad.out"; then
        pass "a changed file: $(grep -m1 'changed since the snapshot' "$tmp/bad.err" | cut -c1-200)"
    else
        failed "a changed file: status $rc"; show_err "$tmp/bad.err"
    fi
    rm -f "$d/job.dat"
    restart_job 2 "$d/s2" >"$tmp/bad.out" 2>"$tmp/bad.err"; rc=$?
    if [ $rc != 0 ] && grep -q "the MPI file $d/job.dat, open at the snapshot, cannot be found" "$tmp/bad.err"; then
        pass "a vanished file: $(grep -m1 'cannot be found' "$tmp/bad.err" | cut -c1-200)"
    else
        failed "a vanished file: status $rc"; show_err "$tmp/bad.err"
    fi
fi
exit $fail
