#!/bin/bash
# mpix_park.sh FLAVOR: one MPIX_Checkpoint reached while another epoch waits (diffrev35 R-M1).
# Rank 1 is stopped, ckpt-mpirun asks for a snapshot (its epoch waits for rank 1), rank 0 reaches
# its MPIX_Checkpoint meanwhile and parks at the call's entry, then rank 1 goes on: the tool's
# epoch cuts the job before the call (sequence 0), the call takes its own (sequence 1), and
# nothing else. A rank that had asked for the call's snapshot before it counted the call made
# the tool's commit start another epoch at once, at the same cut, whenever its thread woke only
# after that epoch had begun: the job's threads are made to wake late from the gate for sure
# (REVIVE_FAULT=gate-wake-late: 100 ms), where this took a third snapshot at the tool's cut and
# kept taking more while the thread kept waking late. Without node-local copies
# (REVIVE_LOCAL_DIR=none) the commit comes straight after the capture, as in the reviewer's
# reproduction. A restart from the call's snapshot must come back in the call and print what the
# uninterrupted native run printed. Part 2 adds REVIVE_FAULT=mpix-ask-late: the last rank to
# reach its call records its request and then loses the CPU (300 ms) before its agent thread is
# woken to send it; the call's epoch captures the rank and commits meanwhile, and the request,
# sent after the commit, started another epoch at the same cut (mpix_park-ompi, 1 of 21 runs in
# session 36: sequences 0 1 2, the third 26 ms after the second's commit). Each rank lingers 1 s
# after its call, so that such an epoch is taken, not refused as the job ends. Part held: a thread
# parked holding the agent's lock by a capture that holds the ranks (below).
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog mpix_park
ms0=1500 ms1=4500 linger=1000
# part NAME FAULTS: the stop, the tool's request, the call, its restart
part() {
    local name=$1 faults=$2 job c ck ckrc rc i p0 p1 j seqs call got left
    ck_workdir "np2-$name"
    run_native 2 "$prog" $ms0 $ms1 $linger >native.out 2>native.err ||
        { failed "$name: the native run: status $?"; show_err native.err; return; }
    REVIVE_FAULT=$faults REVIVE_LOCAL_DIR=none clean timeout -k 5 120 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" \
        --ckpt-keep 10 -n 2 "$prog" $ms0 $ms1 $linger >out.0 2>err.0 &
    job=$!
    pids+=($job)
    for i in $(seq 300); do
        [ "$(grep -c '^mpix_park: rank [01] pid' err.0)" = 2 ] && break
        sleep 0.05
    done
    p0=$(sed -n 's/^mpix_park: rank 0 pid \([0-9]*\)$/\1/p' err.0)
    p1=$(sed -n 's/^mpix_park: rank 1 pid \([0-9]*\)$/\1/p' err.0)
    [ -n "$p0" ] && [ -n "$p1" ] || { failed "$name: the ranks did not say their pids"; show_err err.0; return; }
    kill -STOP "$p1"
    c=$(coord "$job") || { kill -CONT "$p1"; failed "$name: no coordinator for job $job"; show_err err.0; return; }
    clean timeout -k 5 60 "$CKPT" "$c" >ck.out 2>ck.err &
    ck=$!
    sleep $(((ms0 + 1000) / 1000)) # rank 0 reaches its call at ms0 and parks at its entry
    kill -CONT "$p1"
    wait $ck; ckrc=$?
    # the job ends after rank 1's call (ms1) and the linger; one that keeps taking snapshots at
    # the tool's cut is ended after 20 s more
    for i in $(seq 200); do kill -0 $job 2>/dev/null || break; sleep 0.1; done
    kill -0 $job 2>/dev/null && { descendants $job | xargs -r kill -KILL 2>/dev/null; kill -KILL $job 2>/dev/null; }
    wait $job; rc=$?
    j=$(ls -d "$d"/revive_global_snapshot_*.ckpt 2>/dev/null)
    seqs=$(ls "$j" 2>/dev/null | grep -x '[0-9]*' | sort -n | tr '\n' ' ')
    call=$(grep '^mpix_park: call' err.0)
    if [ $ckrc != 0 ] || [ $rc != 0 ] || ! cmp -s native.out out.0; then
        failed "$name: ckpt-mpirun status $ckrc, job status $rc, sequences ${seqs:-none}, $call$(cmp -s native.out out.0 || echo ', output differs from native')"
        show_err ck.err err.0
    elif [ "$seqs" != "0 1 " ] || [ "$call" != "mpix_park: call rc 0 restarted 0" ]; then
        failed "$name: one MPIX_Checkpoint and one ckpt-mpirun took sequences ${seqs:-none} (want 0 1: the tool's, the call's); $call"
        grep -E 'checkpoint [0-9]+ .*(committed|Quiesced)' err.0 | head -8 | sed 's/^/  /'
    else
        clean timeout -k 5 120 "$RESTART" "$j/1" >out.r 2>err.r; rc=$?
        got=$(grep '^mpix_park: call' err.r)
        if [ $rc != 0 ] || [ "$got" != "mpix_park: call rc 0 restarted 1" ] || ! cmp -s native.out out.r; then
            failed "$name: the restart from the call's snapshot: status $rc, ${got:-no call line}$(cmp -s native.out out.r || echo ', output differs from native')"
            show_err err.r
        else
            pass "$name: the tool's snapshot and the call's: sequences $seqs; the restart from the call's came back in it, output as native: $(cat out.r)"
        fi
    fi
    left=$(no_strays "$d/") || failed "$name: processes left: $left"
}
part wake-late gate-wake-late
part ask-late gate-wake-late,mpix-ask-late

# Part held (diffrev37 R-L11): the call's snapshot holds the ranks (the job saves a file with every
# snapshot, --ckpt-save-files), and REVIVE_FAULT=mpix-wait-held has each rank's thread waiting in
# its MPIX_Checkpoint woken just before the capture and keep the agent's lock for 1 s: the capture
# parked it holding that lock, the agent needed it at the RESUME before it let the held threads
# go, and the job hung for ever. The capture is tried again once the threads ran: the job ends as
# natively, with the call's snapshot (sequence 0).
held() {
    local job rc i j seqs call left
    ck_workdir np2-held
    run_native 2 "$prog" $ms0 $ms0 0 >native.out 2>native.err ||
        { failed "held: the native run: status $?"; show_err native.err; return; }
    echo kept >"$d/kept.txt"
    REVIVE_FAULT=mpix-wait-held REVIVE_LOCAL_DIR=none clean timeout -k 5 120 "$wrapper" -am ft-enable-cr \
        --ckpt-dir "$d" --ckpt-save-files "$d/kept.txt" -n 2 "$prog" $ms0 $ms0 0 >out.0 2>err.0 &
    job=$!
    pids+=($job)
    # the call's snapshot is taken at ms0; a job that hangs in it is ended 30 s later
    for i in $(seq 300); do kill -0 $job 2>/dev/null || break; sleep 0.1; done
    kill -0 $job 2>/dev/null && { descendants $job | xargs -r kill -KILL 2>/dev/null; kill -KILL $job 2>/dev/null; }
    wait $job; rc=$?
    j=$(ls -d "$d"/revive_global_snapshot_*.ckpt 2>/dev/null)
    seqs=$(ls "$j" 2>/dev/null | grep -x '[0-9]*' | sort -n | tr '\n' ' ')
    call=$(grep '^mpix_park: call' err.0)
    if ! grep -q "fault point mpix-wait-held: a thread in MPIX_Checkpoint keeps the agent's lock" err.0; then
        failed "held: the fault point was not reached (job status $rc)"; show_err err.0
    elif [ $rc != 0 ] || ! cmp -s native.out out.0 || [ "$call" != "mpix_park: call rc 0 restarted 0" ]; then
        failed "held: the job (status $rc, sequences ${seqs:-none}, ${call:-no call line}$(cmp -s native.out out.0 || echo ', output differs from native')): hung in its snapshot's hold?"
        show_err err.0
    elif [ "$seqs" != "0 " ] || ! grep -q '^ckpt.save_files ' "$j/0/snapshot.meta"; then
        failed "held: sequences ${seqs:-none} (want the call's, 0, with the saved file)"
    else
        pass "held: a thread parked holding the agent's lock at a holding capture: tried again, the job ended as natively with the call's snapshot"
    fi
    left=$(no_strays "$d/") || failed "held: processes left: $left"
}
held
exit $fail
