#!/bin/bash
# stagelost3.sh FLAVOR: a node lost while a sequence stages on THREE hosts does not lose the
# sequence when every image still has a verified copy in a live host's cache (issue 9, point 4;
# newuser9b N6). A 4-rank job on h1:2,h2:1,h3:1 with --ckpt-local and --ckpt-partner, staging
# held on every host (filem-stage-hold) until every rank's image and partner copy are verified
# in the caches; then one host is lost (link down, processes killed: silence, its cache wiped)
# and the holds on the others are released.
#  c. h3 lost: rank 3's partner copy is on another host, and rank 2 (on the live h2) holds its own
#     copy in h2's cache although its partner copy was on h3. MPICH's Hydra keeps h1's and h2's
#     ranks running: they stage their own images and rank 3's partner copy. Open MPI's mpirun
#     ends every rank some 2 s after h3 goes: the coordinator must stage rank 2's image from h2's
#     cache (it staged only from its own host h1's cache: "rank 2 ended during the checkpoint ...
#     the coordinator's host h1 has no good one", newuser9b N6).
#  d. The same layout on h1:2,h4:1,h5:1 (h3 is down after c), h4 (in h2's part) lost: rank 2's
#     partner copy is on h5, rank 3's own copy in h5's cache (Open MPI: the coordinator must fetch
#     both from h5's cache).
# Each: the sequence commits, verifies, and restarts on the two live hosts and a spare one with the native
# result. When it does not commit, the reason must name the lost host (not a rank on a live
# host that the launcher ended).
flavor=$1
. "$(dirname "$0")/lib.sh"
hosts_workdir stagelost3-$flavor
hostbed_up 5
[ -x "$B/tools/revive-restart-rank" ] || { echo "SKIP: revive-restart-rank not built"; exit 77; }
export REVIVE_RESTART_RANK=$B/tools/revive-restart-rank

# lose PART HA HB HOST SPARE: the scenario above on h1:2,HA:1,HB:1 losing HOST (HA or HB); the
# restart runs on h1, the other live host and SPARE
lose() {
    local part=$1 ha=$2 hb=$3 lost=$4 spare=$5 live1=h1 live2 r h ref jdn st
    live2=$ha; [ $lost = $ha ] && live2=$hb
    rm -f "$W/native.out"
    launch_opts h1:2,$ha:1,$hb:1
    native_job 4
    export REVIVE_FAULT=filem-stage-hold REVIVE_STAGE_HOLD=$HB/local/stage.hold REVIVE_CAPTURE_TIMEOUT=120
    export REVIVE_HOST_SILENT_S=10
    revive_job $part --ckpt-dir "$SHARED" --ckpt-local "$HB/local" --ckpt-partner
    unset REVIVE_FAULT REVIVE_STAGE_HOLD REVIVE_CAPTURE_TIMEOUT REVIVE_HOST_SILENT_S
    if ! expect_rc 0 "$part: checkpoint (--no-wait-stage)" on h1 timeout 300 "$CKPT" --wait --no-wait-stage $JOB; then
        touch "$W/$part.go" "$HB/node/h1/stage.hold" "$HB/node/$ha/stage.hold" "$HB/node/$hb/stage.hold"
        tail -20 "$W/$part.err"; finish
    fi
    ref=$(tail -n1 "$W/cmd.out")
    jdn=$(basename "$(dirname "$ref")")
    for r in 0 1 2 3; do
        wait_for 300 "grep -q 'rank $r: .*partner copy' '$W/$part.err'" ||
            fail "$part: rank $r's partner copy was not verified: $(grep -i partner "$W/$part.err" | tail -5)"
    done
    for h in h1 $ha $hb; do
        echo "note: $part: $h's cache before the loss: $(ls "$HB/node/$h/$jdn/0" 2>/dev/null | grep img | tr '\n' ' ')"
    done
    host_kill $lost
    host_wipe $lost
    touch "$HB/node/$live1/stage.hold" "$HB/node/$live2/stage.hold"
    wait_for 300 '[ -f "$ref/snapshot.meta" ] || [ -f "$ref/staging.failed" ]'
    if [ -f "$ref/snapshot.meta" ]; then
        pass "$flavor: $part: $lost lost while staging, every image still cached on a live host: committed"
        grep "staged.from" "$ref/snapshot.meta" | sed 's/^/    /'
    else
        fail "$part: $lost lost while staging: not committed although every image had a verified copy on $live1 or $live2: $(cat "$ref/staging.failed" 2>/dev/null)"
        grep -q "host $lost (rank[^)]*) was lost" "$ref/staging.failed" 2>/dev/null ||
            fail "$part: the failure's reason does not name the lost host $lost"
        grep -v "^step" "$W/$part.err" | tail -25
    fi
    touch "$W/$part.go"
    end_job
    [ -f "$ref/snapshot.meta" ] || return 0
    expect_rc 0 "$part: ckpt-info --verify" "$INFO" --verify "$ref"
    hostfile "$W/hosts-$part" $live1:2 $live2:1 $spare:1
    on h1 timeout -k 5 600 "$RESTART" --hostfile "$W/hosts-$part" "$ref" >"$W/r$part.out" 2>"$W/r$part.err"
    st=$?
    [ $st = 0 ] || { fail "$part: restart-mpi status $st"; tail -20 "$W/r$part.err"; }
    cmp -s "$W/native.out" "$W/r$part.out" || fail "$part: restarted result differs"
    pass "$flavor: $part: that sequence restarts on the live hosts and $spare with the native result"
}

lose c h2 h3 h3 h4
# a fresh pair of hosts (h3 is down): h4 plays h2's part (rank 2, the partner copies of h1's ranks)
lose d h4 h5 h4 h2
finish
