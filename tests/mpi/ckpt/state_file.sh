#!/bin/bash
# state_file.sh FLAVOR (newuser7e F2): a job keeping its state in files it rewrites whole at each
# step (state_file.c, as QE's pw.x keeps its MD state in outdir/PREFIX.md), and the remedy
# docs/snapshots.md ("Files the job writes after a snapshot") and restart-mpi(1) give for it.
# 1. --term: the first restart is right; a second restart from the one snapshot finds the files
#    as the first left them and its results differ from the uninterrupted run's (the wrong
#    restart the docs describe: this test sees it); with the files copied beside the snapshot
#    after the --term and put back before each restart, two more restarts are each right.
# 2. a snapshot the job runs on from (ckpt-mpirun --status, no --term): the job runs on to its end
#    (== uninterrupted); a restart of the snapshot differs from the uninterrupted run's last steps
#    (the crash-recovery case of the docs).
# 3. ckpt-mpirun --save-files (the remedy built in). Refused at the request, the job running on,
#    no sequence left: a missing PATH, a FIFO, a device, an unreadable file (not as root: root
#    reads any file; tests/snapc/test_files covers it as another user), the copy failing with
#    ENOSPC (fault point snapc-files-copy: the job's first copy), the job's directory holding its
#    snapshot directory (diffrev37 R-H1). Then --term --save-files
#    st.0,st.1: ckpt-info lists the files and --verify checks them, the copies are private; two
#    restarts of the one snapshot are each as uninterrupted (part 1's second restart without the
#    files put back differs), a third with --no-restore-files differs; a copy damaged in the
#    snapshot is refused by restart-mpi before any launch and named by ckpt-info --verify.
#    A --save-files snapshot the job runs on from (--status): every rank held from its capture
#    until the copy is made, two restarts of it give the uninterrupted run's last steps (part 2,
#    without --save-files, differs; without the hold Open MPI 2 runs of 2 had both restarts wrong).
#    When the ranks may choose a pid, each rank has a child rewriting its own file too
#    (STATE_FILE_CHILD), saved as well, rank 0's image 2 s late: no restarted child finds its
#    file past its image (diffrev37 R-M2: the children ran on through the copy).
# 4. mpirun --ckpt-save-files state (a directory, the job's working directory's): a PATH missing at
#    the launch runs (one warning); the directory holding the snapshot directory is refused
#    before the launch; a --term snapshot without ckpt-mpirun's option saves it, two
#    restarts of it are each as uninterrupted.
# 5. ckpt-mpirun --stop (hold37): when it returns every rank is stopped at its capture, so the
#    state files copied then are those of the images: the job continued (SIGCONT) runs to its end
#    as uninterrupted, and a restart of the snapshot with the copy put back gives the uninterrupted
#    run's last steps, no rank finding a file of another step than its memory's (state_file.c
#    says so on its standard error). Paced 200 ms a step: the ranks sleep outside MPI most of the
#    time and are mostly captured there; rank 0 finishes its image 2 s after its pages
#    (mpi-image-late), so that the stop comes long after rank 1's capture. Before the hold, a rank
#    captured outside MPI ran on to its next MPI call, rewriting its file, before it stopped
#    (files36: 1 of 1 on Open MPI; with 20 ms steps and no late image 1 of 6 Open MPI runs failed;
#    as here, old code 4 of 4 failed, 2 each MPI). With a child per rank as in part 3: its file
#    copied at the stop is its image's (the children were stopped at the capture only with
#    --term; rank 1's ran on for the 2 s of rank 0's late image: diffrev37 R-M2).
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_workdir state
ck_build_src state_file
np=2 steps=30 ms=100
# native N: the uninterrupted run of N steps (native.N.out), and $nat its output
native() {
    nat=$d/native.$1.out
    run_native $np "$prog" $1 "$d/nopace" 0 "$d/native.$1.st" >"$nat" 2>"$d/native.$1.err" ||
        { failed "the native run: status $?"; show_err "$d/native.$1.err"; exit 1; }
    grep -q "^done: $1 " "$nat" || { failed "natively: $(tail -n 1 "$nat")"; exit 1; }
}
native $steps

# job NAME MODE: the paced job in $d/NAME (its state files NAME/st.R, output out.0), a snapshot
# with ckpt-mpirun --wait MODE after its second step (ckpt.out/.err); sets ref, j (the job) and
# c (its coordinator) and leaves the shell in $d/NAME. 1 (a FAIL line) when no snapshot was taken.
# jenv (environment) and jopts (mpirun options) may add to the job; st: where its state files go
# (the program's FILE, relative to $d/NAME); MODE may be several ckpt-mpirun options.
jenv=() jopts=() st=st
job() {
    mkdir -p "$d/$1" && cd "$d/$1" || exit 1
    touch pace
    clean env "${jenv[@]}" timeout -k 5 900 "$wrapper" -am ft-enable-cr --ckpt-dir "$d/$1" "${jopts[@]}" \
        -n $np "$prog" $steps "$d/$1/pace" $ms "$d/$1/$st" >out.0 2>err.0 &
    j=$!; pids+=($j)
    if ! wait_steps out.0 2 $j || ! c=$(coord $j); then
        rm -f pace; wait $j
        failed "$1: no second step or no coordinator before the snapshot: $(nsteps out.0) steps"; show_err err.0; return 1
    fi
    if ! timeout -k 5 300 "$CKPT" --wait "${@:2}" "$c" >ckpt.out 2>ckpt.err; then
        rm -f pace; kill -CONT "$c" 2>/dev/null; wait $j
        failed "$1: ckpt-mpirun $2:"; show_err ckpt.err; return 1
    fi
    ref=$(tail -n 1 ckpt.out)
    return 0
}
# restart N: restart-mpi of $ref (out.N, err.N, rc)
restart() { clean timeout -k 5 600 "$RESTART" "$ref" >out.$1 2>err.$1; rc=$?; }
# put_back: the copy of the state files (saved/) back in place, as the docs say, before a restart
put_back() { cp -a saved/. ./ || failed "cp -a saved/. ./ failed"; }
# restart_opt N OPTION...: restart-mpi OPTION... of $ref
restart_opt() { local n=$1; shift; clean timeout -k 5 600 "$RESTART" "$@" "$ref" >out.$n 2>err.$n; rc=$?; }
# whole N: the original's steps and restart N's are the uninterrupted run's (0), else 1
whole() { cmp -s <(results "$nat") <(results out.0 out.$1); }
# tail_of N: restart N's result lines are the uninterrupted run's last ones (0), else 1
tail_of() {
    local n1; n1=$(results out.$1 | wc -l)
    [ "$n1" -gt 0 ] && cmp -s <(results "$nat" | tail -n "$n1") <(results out.$1)
}

# 1. --term
if job term --term; then
    wait $j; rm -f pace
    mkdir -p saved && cp -a st.0 st.1 saved/ || failed "term: cannot copy the state files"
    restart 1
    [ $rc = 0 ] && whole 1 && pass "--term, first restart: as uninterrupted ($(grep '^done:' out.1))" ||
        { failed "--term, first restart: status $rc, or results differ from the uninterrupted run"; show_err err.1; }
    restart 2
    if [ $rc != 0 ]; then
        pass "--term, second restart without the copy put back: status $rc (the files are the first restart's)"
    elif whole 2; then
        failed "--term, second restart without the copy put back gave the uninterrupted run's results: the test cannot see the wrong restart"
    else
        pass "--term, second restart without the copy put back: results differ from the uninterrupted run (as the docs say)"
    fi
    for n in 3 4; do
        put_back; restart $n
        [ $rc = 0 ] && whole $n && pass "--term, restart $n with the copy put back: as uninterrupted ($(grep '^done:' out.$n))" ||
            { failed "--term, restart $n with the copy put back: status $rc, or results differ"; show_err err.$n
              diff <(results "$nat") <(results out.0 out.$n) | head -n 6; }
    done
fi

# 2. a snapshot the job runs on from (ckpt-mpirun without --term): the job runs to its end, and
#    a restart of the snapshot finds the files as the job left them (the crash-recovery case)
cd "$d" || exit 1
if job cont --status; then
    rm -f pace
    wait $j; jrc=$?
    [ $jrc = 0 ] && cmp -s <(results "$nat") <(results out.0) &&
        pass "the job ran on after its snapshot to its end as uninterrupted" ||
        { failed "the job that ran on: status $jrc, or its results differ"; show_err err.0; }
    restart 1
    if [ $rc != 0 ]; then
        pass "a snapshot of a job that ran on, restarted: status $rc (the files are the later run's)"
    elif tail_of 1; then
        failed "a snapshot of a job that ran on, restarted, gave the uninterrupted run's last steps: the test cannot see the wrong restart"
    else
        pass "a snapshot of a job that ran on, restarted: results differ from the uninterrupted run's (as the docs say)"
    fi
fi

# 3. ckpt-mpirun --save-files
# refused_req N WHAT PATHS: a request with --save-files PATHS on the running job $c fails (status
# 1, its message saying WHAT), no sequence is left for it, and the job runs on
refused_req() {
    local n=$1 what=$2 paths=$3 before after brc
    before=$(ls -d "$d/sf"/revive_global_snapshot_*.ckpt/[0-9]* 2>/dev/null | wc -l)
    timeout -k 5 120 "$CKPT" --save-files "$paths" "$c" >bad.$n.out 2>bad.$n.err; brc=$?
    after=$(ls -d "$d/sf"/revive_global_snapshot_*.ckpt/[0-9]* 2>/dev/null | wc -l)
    if [ $brc = 1 ] && grep -q -- "$what" bad.$n.err && [ "$before" = "$after" ] && [ -d /proc/$j ]; then
        pass "--save-files $paths: refused ($(head -c 160 bad.$n.err | tr '\n' ' ')), no sequence left, the job runs on"
    else
        failed "--save-files $paths: status $brc (want 1 naming '$what'), sequences $before -> $after, job alive: $([ -d /proc/$j ] && echo yes || echo no)"
        show_err bad.$n.err
    fi
}
cd "$d" || exit 1
# the fault point fails the job's first copy of files (ENOSPC), the later ones go through
jenv=(REVIVE_FAULT=snapc-files-copy)
if job sf --status; then
    jenv=()
    # bad input while the job runs
    refused_req 1 "No such file or directory" st.0,nope
    mkfifo fifo && refused_req 2 "is a FIFO" fifo
    refused_req 3 "is a character device" /dev/null
    # the job's directory, which holds its snapshot directory (--ckpt-dir): a restart would put
    # the old copy over the snapshots taken since (diffrev37 R-H1)
    refused_req 6 "holds the snapshot directory $d/sf/revive_global_snapshot_" .
    if [ "$(id -u)" = 0 ]; then
        echo "SKIP-PART: an unreadable file (running as root, which reads any file; tests/snapc/test_files refuses one as another user)"
    else
        # the check sees a file; the copy cannot read it: the epoch fails, no sequence left
        echo x >locked && chmod 000 locked && refused_req 4 "Permission denied" locked
        rm -f locked
    fi
    # the copy fails (ENOSPC by the fault point): not committed, the snapshot before intact
    refused_req 5 "No space left on device (fault point snapc-files-copy)" st.0
    "$INFO" --verify "$ref" >verify0.out 2>&1 && pass "after the failed copy the earlier snapshot verifies" ||
        { failed "after the failed copy: ckpt-info --verify $ref:"; head -5 verify0.out; }
    # --term with the files: the remedy built in
    ref0=$ref
    if timeout -k 5 300 "$CKPT" --term --save-files st.0,st.1 "$c" >ckpt2.out 2>ckpt2.err; then
        ref=$(tail -n 1 ckpt2.out)
        rm -f pace; wait $j
        grep -q "the snapshot keeps $d/sf/st.0,$d/sf/st.1 (2 entries, --save-files); restart-mpi puts them back" ckpt2.err &&
            pass "ckpt-mpirun says which files the snapshot keeps" || { failed "ckpt-mpirun does not say the files kept:"; show_err ckpt2.err; }
        "$INFO" "$ref" >info.out 2>info.err; irc=$?
        [ $irc = 0 ] && grep -q "saved files (--save-files; restart-mpi puts them back): $d/sf/st.0,$d/sf/st.1 (2 entries, 2 files" info.out &&
            pass "ckpt-info lists the saved files: $(grep 'saved files' info.out)" ||
            { failed "ckpt-info: status $irc, no saved files line"; cat info.out info.err | head -8; }
        "$INFO" --verify "$ref" >verify.out 2>&1 && grep -q "verified: the 2 saved files match their checksums" verify.out &&
            pass "ckpt-info --verify checks the saved files" || { failed "ckpt-info --verify:"; head -8 verify.out; }
        "$INFO" --json --verify "$ref" 2>/dev/null | grep -q "\"saved_files\":{\"paths\":\"$d/sf/st.0,$d/sf/st.1\",\"entries\":2,\"files\":2,\"bytes\":[0-9]*,\"verified\":true}" &&
            pass "ckpt-info --json --verify: saved_files with the paths, verified" ||
            { failed "ckpt-info --json --verify has no saved_files as expected:"; "$INFO" --json --verify "$ref" 2>&1 | head -c 600; echo; }
        "$RESTART" --showme "$ref" >showme.out 2>&1 && grep -q "^# restart-mpi would put back the files the snapshot saved (--save-files): $d/sf/st.0; $d/sf/st.1" showme.out &&
            pass "restart-mpi --showme says which files it would put back" ||
            { failed "restart-mpi --showme:"; head -5 showme.out; }
        files_mode=$(stat -c %a "$ref/files" "$ref/files/0" | tr '\n' ' ')
        [ "$files_mode" = "700 600 " ] && pass "the copies are private (files/ 700, files/0 600)" ||
            failed "the copies' modes: $files_mode (want 700 600)"
        # two restarts of the one snapshot, each with the files put back (part 1's second restart
        # without them differs)
        for n in 1 2; do
            restart $n
            [ $rc = 0 ] && whole $n && grep -q "put back the files the snapshot saved" err.$n &&
                pass "--term --save-files, restart $n: as uninterrupted ($(grep '^done:' out.$n))" ||
                { failed "--term --save-files, restart $n: status $rc, or results differ"; show_err err.$n
                  diff <(results "$nat") <(results out.0 out.$n) | head -n 6; }
        done
        restart_opt 3 --no-restore-files
        if [ $rc != 0 ]; then
            pass "--no-restore-files: status $rc (the files are the last restart's)"
        elif whole 3; then
            failed "--no-restore-files gave the uninterrupted run's results: the test cannot see the files not put back"
        else
            grep -q -- "--no-restore-files: the files the snapshot saved" err.3 &&
                pass "--no-restore-files: said, and the results differ (the files as the last restart left them)" ||
                { failed "--no-restore-files: not said"; show_err err.3; }
        fi
        # a copy damaged in the snapshot: refused before any launch, named; --verify names it
        cp -p "$ref/files/1" copy1 && printf X >>"$ref/files/1"
        echo 123 >st.1; restart 4
        if [ $rc = 1 ] && grep -q "the saved copy of $d/sf/st.1 ($ref/files/1) is damaged" err.4 &&
           [ "$(cat st.1)" = 123 ] && ! grep -q '^step' out.4; then
            pass "a damaged copy: restart-mpi refuses it before the launch, nothing put back"
        else
            failed "a damaged copy: status $rc (want 1), st.1 now '$(head -c 40 st.1)'"; show_err err.4
        fi
        "$INFO" --verify "$ref" >verify2.out 2>&1; vrc=$?
        [ $vrc = 1 ] && grep -q "is damaged" verify2.out && pass "ckpt-info --verify names the damaged copy (status 1)" ||
            { failed "ckpt-info --verify of a damaged copy: status $vrc"; head -5 verify2.out; }
        cp -p copy1 "$ref/files/1"
    else
        rm -f pace; kill -CONT "$c" 2>/dev/null; wait $j
        failed "ckpt-mpirun --term --save-files st.0,st.1:"; show_err ckpt2.err
    fi
fi
# A snapshot the job runs on from, with --save-files: every rank is held from its capture until
# the copy is made (snapc_proto_holds), so the copy is the files of the images' step also for a
# rank captured outside MPI (without the hold it ran on and rewrote its file first: Open MPI 1 of
# 1, both restarts wrong). The job runs on to its end; two restarts of the snapshot each give the
# uninterrupted run's last steps (part 2, the same without --save-files, differs).
# With a child per rank rewriting a file of its own (STATE_FILE_CHILD, when the ranks may choose a
# pid: the snapshot takes the child along) saved too, and rank 0's image 2 s late
# (mpi-image-late): each child is stopped at its rank's capture and continued once the copy is
# made, so its copy is its image's; before (diffrev37 R-M2) only --term stopped them: rank 1's
# child rewrote its file for the 2 s before the copy, and the restarted child found it ahead.
cd "$d" || exit 1
kids=st.0,st.1
if [ "$(ranks_choose_pid)" = 1 ]; then
    jenv=(REVIVE_FAULT=mpi-image-late STATE_FILE_CHILD=1) kids=st.0,st.1,st.0.child,st.1.child
else
    echo "SKIP-PART: a rank's child held with --save-files (the ranks cannot choose a pid: not root, no CAP_CHECKPOINT_RESTORE)"
fi
if job sfr --status --save-files $kids; then
    jenv=()
    rm -f pace
    wait $j; jrc=$?
    [ $jrc = 0 ] && cmp -s <(results "$nat") <(results out.0) && ! grep -q "is not the one of its snapshot" err.0 ||
        { failed "--save-files, run on: the job: status $jrc, or its results differ"; show_err err.0; }
    for n in 1 2; do
        restart $n
        ahead=$(grep -h "is not the one of its snapshot" err.$n)
        [ -z "$ahead" ] || { failed "--save-files, restart $n of a snapshot the job ran on from: a saved file was not its image's: $ahead"
                             show_err err.$n; }
        [ $rc = 0 ] && tail_of $n && [ -z "$ahead" ] &&
            pass "--save-files, restart $n of a snapshot the job ran on from: the uninterrupted run's last steps ($(grep '^done:' out.$n)), every saved file its image's ($kids)" ||
            { failed "--save-files, restart $n of a snapshot the job ran on from: status $rc, or not the uninterrupted run's last steps"
              show_err err.$n; diff <(results "$nat" | tail -n "$(results out.$n | wc -l)") <(results out.$n) | head -n 4; }
    done
fi
jenv=()

# 4. mpirun --ckpt-save-files DIR (REVIVE_SAVE_FILES)
cd "$d" || exit 1
mkdir -p "$d/msf0" && cd "$d/msf0" || exit 1
# a PATH missing at the launch runs, judged at each snapshot (newuser15 F3: a code that makes its
# output directory itself; before, refused: tests/snapc/save_later.sh has the snapshots)
clean timeout -k 5 120 "$wrapper" -am ft-enable-cr --ckpt-dir "$d/msf0" --ckpt-save-files state \
    -n $np "$prog" 2 "$d/nopace" 0 "$d/msf0/st" >out.0 2>err.0; mrc=$?
[ $mrc = 0 ] && grep -q "^revive: warning: --ckpt-save-files: $d/msf0/state does not exist yet: judged at each snapshot" err.0 &&
    grep -q '^done:' out.0 &&
    pass "mpirun --ckpt-save-files with a PATH missing at the launch: runs, one warning ($(grep -m1 'does not exist yet' err.0 | head -c 160))" ||
    { failed "mpirun --ckpt-save-files missing at the launch: status $mrc"; show_err err.0; }
clean timeout -k 5 120 "$wrapper" -am ft-enable-cr --ckpt-dir "$d/msf0" --ckpt-save-files . \
    -n $np "$prog" 2 "$d/nopace" 0 "$d/msf0/st" >out.1 2>err.1; mrc=$?
[ $mrc = 1 ] && grep -q "REVIVE_SAVE_FILES): $d/msf0 holds the snapshot directory $d/msf0/revive_global_snapshot_" err.1 && ! grep -q '^step' out.1 &&
    pass "mpirun --ckpt-save-files . with --ckpt-dir .: refused before the launch ($(head -c 160 err.1))" ||
    { failed "mpirun --ckpt-save-files . (the snapshot directory's): status $mrc"; show_err err.1; }
cd "$d" || exit 1
mkdir -p "$d/msf/state"
jopts=(--ckpt-save-files state) st=state/st
if job msf --term; then
    jopts=() st=st
    rm -f pace
    wait $j
    grep -q "^ckpt.save_files $d/msf/state\$" "$ref/snapshot.meta" &&
        pass "the job's --ckpt-save-files is in snapshot.meta (ckpt.save_files, absolute: a restart saves it too)" ||
        failed "no ckpt.save_files $d/msf/state in $ref/snapshot.meta"
    for n in 1 2; do
        restart $n
        [ $rc = 0 ] && whole $n &&
            pass "mpirun --ckpt-save-files state, --term, restart $n: as uninterrupted ($(grep '^done:' out.$n))" ||
            { failed "mpirun --ckpt-save-files, restart $n: status $rc, or results differ"; show_err err.$n; }
    done
fi
jopts=() st=st

# 5. --stop: the job stopped at its images (hold37)
cd "$d" || exit 1
steps=40 ms=200
native $steps
# with a child per rank rewriting a file of its own (when the ranks may choose a pid): stopped
# at its rank's capture too, its file copied at the stop is its image's (diffrev37 R-M2: only
# --term stopped it there; rank 1's ran on for the 2 s of rank 0's late image)
jenv=(REVIVE_FAULT=mpi-image-late) kids=
if [ "$(ranks_choose_pid)" = 1 ]; then
    # (REVIVE_VERBOSE=3: each rank's cover says when it holds the list of those it stopped)
    jenv+=(STATE_FILE_CHILD=1 REVIVE_VERBOSE=3) kids="st.0.child st.1.child"
else
    echo "SKIP-PART: a rank's child held with --stop (the ranks cannot choose a pid: not root, no CAP_CHECKPOINT_RESTORE)"
fi
if job stop --stop; then
    jenv=()
    mkdir -p saved && cp -a st.0 st.1 $kids saved/ || failed "stop: cannot copy the state files"
    # the job continued runs to its end as uninterrupted (the held ranks let go after the stop)
    rm -f pace; kill -CONT "$c"
    wait $j; jrc=$?
    # (counted once the job ended: the launcher, stopped too, forwards the ranks' lines only once
    # continued) the children the capture stopped keep the capture's cover through the job's stop: one cover
    # per rank; the job's stop took the cover (a child of the rank) for one of them, stopped it
    # and made another, leaving them without one meanwhile (diffrev38 R-L1)
    if [ -n "$kids" ]; then
        for r in 0 1; do
            n=$(grep -c "rank $r: cover [0-9]* holds the list" err.0)
            [ "$n" = 1 ] && pass "--stop: rank $r's children kept the capture's cover through the job's stop" ||
                failed "--stop: rank $r made $n covers for its children (want 1: the capture's, kept)"
        done
    fi
    [ $jrc = 0 ] && cmp -s <(results "$nat") <(results out.0) &&
        pass "--stop then SIGCONT: the job ran to its end as uninterrupted" ||
        { failed "--stop then SIGCONT: status $jrc, or its results differ"; show_err err.0; }
    put_back; restart 1
    ahead=$(grep -h "is not the one of its snapshot" err.0 err.1)
    [ -z "$ahead" ] && pass "--stop: every state file copied at the stop is its rank's image's (st.0 st.1 $kids)" ||
        { failed "--stop: a state file copied when ckpt-mpirun --stop returned was not its rank's image's: $ahead"
          show_err err.1; }
    [ $rc = 0 ] && tail_of 1 &&
        pass "--stop: the restart with the files as at the stop gave the uninterrupted run's last steps ($(grep '^done:' out.1), $(results out.1 | wc -l) lines)" ||
        { failed "--stop: the restart with the files as at the stop: status $rc, or its results differ"
          show_err err.1; diff <(results "$nat" | tail -n "$(results out.1 | wc -l)") <(results out.1) | head -n 6; }
fi
jenv=()
cd "$d" || exit 1
left=$(no_strays "$d/") || failed "processes left: $left"
exit $fail
