#!/bin/bash
# rst_io.sh FLAVOR: MPI-IO across a restart. rst_io writes a file in steps (a view whose filetype
# it freed, explicit offsets) and a second one through the shared file pointer, checkpoints itself
# at step 2 (no coordinator: pml_restart_capture, as restart.sh) and ends as if killed; the same
# number of ranks started as revive-restart-rank SNAPSHOT carry on with the files Revive opened
# again (the same views, both file pointers where they were). At 1, 2 and 4 ranks on both MPIs:
# the step lines (both file pointers) and the final files' sizes and checksum equal an
# uninterrupted native run's, and the restarted job's library reports no leaked object (MPICH
# said "yaksa: 2 leaked handle pool objects": the freed filetype, made again for the restart, was
# never freed). Then a file is written in place after the snapshot (the restart
# goes on, one note; one too for the file opened twice); a file grows after the snapshot (refused with
# REVIVE_RESTART_STRICT_FILES=1), is shortened, is removed: the restart fails, naming it; both
# files copied elsewhere and given with --relocate OLD=NEW: the job finishes there as
# uninterrupted.
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
    elif grep -q 'leaked' "$d/r.err"; then
        # the view's filetype the program freed, made again for the restart (review11 #3)
        failed "np=$n restart: the MPI library reports leaked objects: $(grep -m1 leaked "$d/r.err")"
    elif [ "$want" != "$got" ] || [ -z "$sumn" ] || [ "$sumn" != "$sumr" ]; then
        failed "np=$n restart: file pointers or the file differ from the uninterrupted run"
        diff <(echo "$want"; echo "$sumn") <(echo "$got"; echo "$sumr") | head -8
    else
        pass "np=$n: $(echo "$want" | wc -l) lines (both file pointers at every step) and the files ($sumn) as uninterrupted"
    fi
done
# the files as the snapshot left them, then changed: a grown file with REVIVE_RESTART_STRICT_FILES
# (restart-mpi --strict-files), a shortened one, a removed one: the restart stops on every
# rank, naming the file and what differs (checked before any collective); rst_iochg.sh has
# the crash-recovery cases through restart-mpi (a grown file restarts)
d=$tmp/np2
if [ ! -d "$d/s2" ]; then
    mkdir -p "$d"
    clean timeout -k 5 "$TMO" "$wrapper" -am ft-enable-cr -n 2 "$prog" "$d/job.dat" $steps "$d" 2 --exit \
        >"$d/orig.out" 2>"$d/orig.err"
    cp -p "$d/job.dat" "$d/job.dat.keep" 2>/dev/null
    cp -p "$d/job.dat.log" "$d/job.dat.log.keep" 2>/dev/null
fi
# changed WHAT PATTERN: the restart of s2 fails, a line matching PATTERN, no result
changed() {
    restart_job 2 "$d/s2" >"$tmp/bad.out" 2>"$tmp/bad.err"; rc=$?
    if [ $rc != 0 ] && grep -q -- "$2" "$tmp/bad.err" && ! grep -q '^done' "$tmp/bad.out"; then
        pass "$1: $(grep -m1 -- "$2" "$tmp/bad.err" | sed 's/.*\(the MPI file\)/\1/' | cut -c1-220)"
    else
        failed "$1: status $rc"; show_err "$tmp/bad.err"
    fi
}
if [ -d "$d/s2" ]; then
    cp "$d/job.dat.keep" "$d/job.dat"  # in place: the same file
    cp "$d/job.dat.log.keep" "$d/job.dat.log"
    # written in place after the snapshot (its modification time moved, its size the same):
    # the job goes on with it, one note per file, and ends as uninterrupted
    touch -d '+5 seconds' "$d/job.dat"
    restart_job 2 "$d/s2" >"$d/t.out" 2>"$d/t.err"; rc=$?
    k=$(grep -c "note: the MPI file $d/job.dat was written after the snapshot" "$d/t.err")
    if [ $rc = 0 ] && [ "$k" = 1 ] && [ "$(grep -h '^done' "$d/t.out")" = "$(grep -h '^done' "$d/native.out")" ]; then
        pass "a file written in place: restarted as uninterrupted, $(grep -m1 'note: the MPI file' "$d/t.err" | sed 's/.*\(note:\)/\1/' | cut -c1-200)"
    else
        failed "a file written in place: status $rc, $k notes on it (want 1)"; show_err "$d/t.err"
    fi
    # the same with FILE open twice (RST_IO_TWICE=1: a second, read-only handle): still one note
    # for it (review11 #5: one per handle)
    w=$tmp/twice
    mkdir -p "$w"
    tx=(); [ "$flavor" = ompi ] && tx=(-x RST_IO_TWICE)
    RST_IO_TWICE=1 clean timeout -k 5 "$TMO" "$wrapper" -am ft-enable-cr -n 2 "${tx[@]}" "$prog" \
        "$w/job.dat" $steps "$w" 2 --exit >"$w/orig.out" 2>"$w/orig.err"
    touch -d '+5 seconds' "$w/job.dat"
    restart_job 2 "$w/s2" >"$w/t.out" 2>"$w/t.err"; rc=$?
    k=$(grep -c "note: the MPI file $w/job.dat was written after the snapshot" "$w/t.err")
    if [ $rc = 0 ] && [ "$k" = 1 ] && [ "$(grep -h '^done' "$w/t.out")" = "$(grep -h '^done' "$d/native.out")" ]; then
        pass "a file open twice and written in place: restarted as uninterrupted, one note"
    else
        failed "a file open twice and written in place: status $rc, $k notes on it (want 1)"
        show_err "$w/orig.err"; show_err "$w/t.err"
    fi
    cp "$d/job.dat.keep" "$d/job.dat"
    cp "$d/job.dat.log.keep" "$d/job.dat.log"
    printf 'changed' >>"$d/job.dat"
    export REVIVE_RESTART_STRICT_FILES=1
    [ "$flavor" = ompi ] && xenv+=(-x REVIVE_RESTART_STRICT_FILES)
    changed "a grown file, REVIVE_RESTART_STRICT_FILES=1" \
        "the MPI file $d/job.dat changed since the snapshot ([0-9]* bytes now, [0-9]* at the snapshot; modified"
    unset REVIVE_RESTART_STRICT_FILES
    [ "$flavor" = ompi ] && xenv=(-x REVIVE_RESTART_REPORT)
    truncate -s 64 "$d/job.dat"
    changed "a shortened file" "the MPI file $d/job.dat is shorter than at the snapshot (64 bytes now"
    rm -f "$d/job.dat"
    changed "a removed file" "the MPI file $d/job.dat, open at the snapshot, is gone"
    # both files moved elsewhere (copies: other inodes) and the restart told with --relocate:
    # the job finishes on them there as uninterrupted; nothing is made at the old place
    m=$tmp/moved
    mkdir -p "$m"
    cp "$d/job.dat.keep" "$m/job.dat"
    cp "$d/job.dat.log.keep" "$m/job.dat.log"
    rm -f "$d/job.dat.log"
    restart_job 2 --relocate "$d/job.dat=$m/job.dat" --relocate "$d/job.dat.log=$m/job.dat.log" \
        "$d/s2" >"$d/mv.out" 2>"$d/mv.err"; rc=$?
    want=$(grep -hE '^(step [0-9]+: |done: )' "$d/native.out")
    got=$(grep -hE '^(step [0-9]+: |done: )' "$d/orig.out" "$d/mv.out")
    if [ $rc != 0 ]; then
        failed "files moved, --relocate: status $rc"; show_err "$d/mv.err"
    elif [ "$want" != "$got" ]; then
        failed "files moved, --relocate: the results differ from the uninterrupted run"
        diff <(echo "$want") <(echo "$got") | head -8
    elif [ -e "$d/job.dat" ] || [ -e "$d/job.dat.log" ]; then
        failed "files moved, --relocate: a file was made at the old place"
    else
        pass "files moved, --relocate: the job finished on them in their new place as uninterrupted ($(tail -n 1 "$d/mv.out" | sed 's/.*checksum/checksum/'))"
    fi
fi
exit $fail
