#!/bin/bash
# stagefail.sh FLAVOR: a failure while staging (issue 9, point 3) on a 4-rank job across h1,h2
# with node-local first by default (no --ckpt-local: each host's cache is under its TMPDIR,
# which the bed makes its node-local directory). Sequence 0 commits; the staging of sequence 1
# holds (fault point filem-stage-hold, so the failure surely comes while it stages) and then
#  a. h2 is lost (its link down, its processes killed, its node-local directory wiped): the
#     coordinator gives up on h2's ranks once their host is silent (TCP keepalive,
#     REVIVE_HOST_SILENT_S=10 here: the default 30 s was most of the MPICH test's time), or at
#     the latest after the staging bound (REVIVE_CAPTURE_TIMEOUT=45);
#  b. (a new job on h1,h3) a rank's process on h1 is killed (its agent thread is its stager),
#     h3's cached copies of sequence 1 removed before (else they are fetched: it commits).
# Each time: sequence 1 is not committed and ckpt-info shows it failed, sequence 0 is untouched
# (verifies), h1's cache keeps sequence 0, and sequence 1 until the job's end, which removes it
# and says so (it can never be restarted: newuser7 F3). Checked while the job runs (both kept,
# unless its end already said it removed 1: Open MPI's mpirun may have ended the job) and after
# the job's end (removed and said; both kept only when the test had to kill the job, its
# launcher waiting for the lost host: diffrev32 R-L5, an end that removed nothing and said
# nothing passed). After a: sequence 0
# restarts on h1,h3 (h1's ranks from h1's cache, h3's from the snapshot directory), a checkpoint
# of the restarted job commits (and the old job's cache on h1 goes: retention follows the chain
# of restarted jobs), and it ends with the native result.
flavor=$1
. "$(dirname "$0")/lib.sh"
hosts_workdir stagefail-$flavor
hostbed_up 3
[ -x "$B/tools/revive-restart-rank" ] || { echo "SKIP: revive-restart-rank not built"; exit 77; }
export REVIVE_RESTART_RANK=$B/tools/revive-restart-rank
launch_opts h1:2,h2:2
uid=$(id -u)

native_job 4

# run_job NAME: the job from h1 in the background (JOB), staging held from its second epoch on
# until NAME.stage exists
run_job() {
    local name=$1
    ( PATH=$(dirname "$launcher"):$PATH clean_exec REVIVE_VERBOSE=2 REVIVE_FAULT=filem-stage-hold \
        REVIVE_FAULT_EPOCH=2 REVIVE_STAGE_HOLD="$W/$name.stage" REVIVE_CAPTURE_TIMEOUT=45 REVIVE_HOST_SILENT_S=10 \
        TMPDIR="$TMPDIR" nsenter -t "$(host_pid h1)" -n -u -m -- \
        "$wrapper" -am ft-enable-cr --ckpt-dir "$SHARED" "${LOPTS[@]}" \
        -n 4 "$bin" $iters hold "$W/go" ) >"$W/$name.out" 2>"$W/$name.err" &
    JOB=$!; jobs_started="$jobs_started $JOB"
    wait_for 120 'case "$(cat /proc/$JOB/comm 2>/dev/null)" in mpirun|revive-coord) true ;; *) false ;; esac' ||
        fail "the job $name did not start Revive's mpirun"
}
# cache HOST: the sequences of job JD in HOST's default cache
cache() { ls "$HB/node/$1/revive-local-$uid/$jdn" 2>/dev/null | tr '\n' ' '; }
# two_seqs NAME: sequence 0 commits, sequence 1 is left staging (held)
two_seqs() {
    expect_rc 0 "$1: sequence 0" on h1 timeout 300 "$CKPT" --wait $JOB || { touch "$W/go" "$W/$1.stage"; finish; }
    ref0=$(tail -n1 "$W/cmd.out")
    jd=$(dirname "$ref0"); jdn=$(basename "$jd")
    expect_rc 0 "$1: sequence 1 (--no-wait-stage)" on h1 timeout 300 "$CKPT" --wait --no-wait-stage $JOB ||
        { touch "$W/go" "$W/$1.stage"; finish; }
    grep -q "not committed yet" "$W/cmd.err" || { fail "$1: sequence 1 was committed without staging"; cat "$W/cmd.err"; }
}
# removed_said NAME: the job's end said it removed sequence 1 from h1's cache
removed_said() { grep -q "removed from this node's cache .*$jdn the images of checkpoint 1, not committed" "$W/$1.err"; }
# failed_but_intact NAME: sequence 1 uncommitted and shown failed, 0 verifies; h1's cache holds
# sequences 0 and 1 while the job runs (a failed sequence's images are kept until the job's
# end), and 0 alone once the job's end said it removed 1 (Open MPI's mpirun may have ended the
# job already: then its end may have come before this looks)
failed_but_intact() {
    wait_for 300 '[ -f "$jd/1/staging.failed" ]' || fail "$1: sequence 1 is not marked failed"
    [ ! -f "$jd/1/snapshot.meta" ] || fail "$1: sequence 1 was committed"
    expect_rc 0 "$1: ckpt-info" "$INFO" "$jd"
    grep -q "/1$" "$W/cmd.out" && grep -q "failed: " "$W/cmd.out" ||
        { fail "$1: ckpt-info does not show sequence 1 failed"; cat "$W/cmd.out"; }
    expect_rc 0 "$1: ckpt-info --verify of sequence 0" "$INFO" --verify "$ref0"
    local said=0 c
    removed_said $1 && said=1
    c=$(cache h1)
    if [ $said = 1 ]; then
        [ "$c" = "0 " ] || fail "$1: the job's end said it removed sequence 1 from h1's cache, which holds '$c'"
        echo "note: $1: the job had ended when the test looked (its end removed sequence 1, said)"
    elif [ "$c" != "0 1 " ]; then
        # removed just before the test looked, the words not written yet: they must follow
        if [ "$c" = "0 " ] && wait_for 20 'removed_said $1'; then
            echo "note: $1: the job's end removed sequence 1 as the test looked (said)"
        else
            fail "$1: h1's cache holds '$c', not sequences 0 and 1 while the job runs (nothing said sequence 1 was removed)"
        fi
    fi
}

# seq1_dropped NAME: after the job's end (end_job): its end removed sequence 1 (not committed: it
# can never be restarted) from h1's cache and said so, sequence 0 stays (newuser7 F3; the old
# rule kept both, "keeps the images of checkpoint 1"). Only a job whose coordinator end_job had
# to kill (JOB_KILLED: its launcher waited for the lost host) has no end to do it: then h1's
# cache still holds both. A job that ended by itself and neither removed
# sequence 1 nor said why fails (diffrev32 R-L5: that passed)
seq1_dropped() {
    if removed_said $1; then
        [ "$(cache h1)" = "0 " ] ||
            fail "$1: the job's end said it removed sequence 1 from h1's cache, which holds '$(cache h1)'"
    elif grep -q "keeps the images of checkpoint" "$W/$1.err"; then
        fail "$1: the job's end kept the failed sequence's images: $(grep "keeps the images" "$W/$1.err" | cut -c1-200)"
    elif [ "$JOB_KILLED" = 1 ]; then
        [ "$(cache h1)" = "0 1 " ] || fail "$1: after the job was killed h1's cache holds '$(cache h1)', not sequences 0 and 1"
        echo "note: $1: the job was killed before its end could sweep its cache: sequence 1 stays cached"
    else
        fail "$1: the job ended (status $JOB_STATUS) without removing sequence 1 from h1's cache nor saying why; the cache holds '$(cache h1)'"
    fi
}

# a. h2 lost while sequence 1 stages
run_job a
two_seqs a
host_kill h2
host_wipe h2
touch "$W/a.stage"   # h1's ranks copy theirs; h2's never will
failed_but_intact a
# h2's ranks never answer (its link is down: silence); h1's ranks may be ended by their
# launcher first (Open MPI's mpirun ends the job when h2's remote shell dies): before they
# staged (a rank's end), or after (the launcher's end: a rank that staged changes nothing)
# the reason names h2 and its ranks (newuser9 F3: with Open MPI it named rank 0, on h1, ended by
# its launcher first): h2 found silent when a rank's connection closed (its ranks named
# together), or one of its ranks' connections timed out (keepalive), or the staging bound
grep -q "host h2 (ranks 2,3) stopped answering (lost or cut off?) during the checkpoint\|rank [23]'s host h2 did not answer for 10 s (lost or cut off?) during the checkpoint\|rank [23] did not copy its image" "$jd/1/staging.failed" ||
    { fail "a: the reason does not name the lost host h2"; cat "$jd/1/staging.failed"; }
echo "a: sequence 1 failed: $(cat "$jd/1/staging.failed")"
end_job
seq1_dropped a
pass "$flavor: h2 lost while staging: sequence 1 failed (ckpt-info), sequence 0 intact, h1 keeps it cached"

# sequence 0 restarts on h1,h3; a checkpoint of the restarted job commits; native result
hostfile "$W/hosts13" h1:2 h3:2
( on h1 env REVIVE_VERBOSE=2 timeout -k 5 600 "$RESTART" --hostfile "$W/hosts13" "$ref0" \
    >"$W/r.out" 2>"$W/r.err" ) &
R=$!
# every rank is back (a cheap condition: the host of each rank is checked by what it read)
wait_for 300 'grep -qs "every rank of the restarted job is back" "$W/r.err" || ! kill -0 $R 2>/dev/null'
rpid=
for p in $(host_pids h1); do
    case $(cat /proc/$p/comm 2>/dev/null) in restart-mpi|revive-coord) rpid=$p ;; esac
done
if [ -n "$rpid" ] && expect_rc 0 "a checkpoint of the restarted job" on h1 timeout 300 "$CKPT" --wait $rpid; then
    expect_rc 0 "ckpt-info --verify of the restarted job's snapshot" "$INFO" --verify "$(tail -n1 "$W/cmd.out")"
    # the old job's cached sequences go by the retention rule once the job it became commits
    # (no --ckpt-keep: a node keeps the newest committed only), as the restart has read them.
    # A sequence still locked by a reader at that commit stays and goes at the next one (the
    # rule retain.sh checks); with MPICH the first commit after the restart has been seen to
    # find it still locked (16:47, session 6; the holder had gone when the test looked): one
    # more commit then, after which it must be gone
    if [ -e "$HB/node/h1/revive-local-$uid/$jdn" ] &&
       grep -q "older node-local sequence kept while a restart reads them" "$W/r.err"; then
        echo "note: the first commit found the old cache locked; one more checkpoint"
        expect_rc 0 "a second checkpoint of the restarted job" on h1 timeout 300 "$CKPT" --wait $rpid
    fi
    if ! wait_for 100 '[ ! -e "$HB/node/h1/revive-local-$uid/$jdn" ]'; then
        fail "the restarted job's commit left the old job's cache on h1: $(ls -R "$HB/node/h1/revive-local-$uid/$jdn" 2>&1 | head -5)"
        grep -i "node-local\|retention" "$W/r.err"
        for p in $(host_pids h1); do ls -l /proc/$p/fd 2>/dev/null | grep -F "$jdn" | sed "s|^|pid $p $(cat /proc/$p/comm 2>/dev/null): |"; done
    fi
else
    fail "no checkpoint of the restarted job (restart-mpi pid '$rpid')"; tail -20 "$W/r.err"
fi
touch "$W/go"
wait $R; st=$?
[ $st = 0 ] || { fail "restart of sequence 0 on h1,h3: status $st"; tail -20 "$W/r.err"; }
cmp -s "$W/native.out" "$W/r.out" || { fail "restarted result differs"; cat "$W/native.out" "$W/r.out"; }
for r in 0 1; do
    grep -qF "rank $r reads $HB/local/revive-local-$uid/$jdn/0/rank_$r.img" "$W/r.err" ||
        { fail "rank $r did not read h1's cache"; grep reads "$W/r.err"; }
done
for r in 2 3; do
    grep -qF "rank $r reads $ref0/rank_$r.img" "$W/r.err" ||
        { fail "rank $r did not read the snapshot directory"; grep reads "$W/r.err"; }
done
pass "$flavor: sequence 0 restarts on h1,h3 (h1 from its cache), a later checkpoint commits, native result"

# b. a rank's process (its agent is its stager) killed while sequence 1 stages
rm -f "$W/go"
launch_opts h1:2,h3:2   # h2 is gone
run_job b
two_seqs b
victim=
for p in $(host_pids h1); do
    [ "$(cat /proc/$p/comm 2>/dev/null)" = "$(basename "$bin" | cut -c1-15)" ] && victim=$p
done
[ -n "$victim" ] || fail "b: no rank process on h1"
# h3's cached sequence 1 goes first: with it, the coordinator would fetch h3's ranks' images
# from there once the launcher ends the job and the sequence would commit (coord_fetch.c,
# newuser9b N6: tests/hosts/stagelost3.sh); here nobody holds them
rm -rf "$HB/node/h3/revive-local-$uid/$jdn/1"
kill -KILL $victim
failed_but_intact b
grep -q "rank [0-3] ended during the checkpoint" "$jd/1/staging.failed" ||
    { fail "b: the reason does not say a rank ended"; cat "$jd/1/staging.failed"; }
end_job
seq1_dropped b
touch "$W/go"
pass "$flavor: a rank (its stager) killed while staging: sequence 1 failed, sequence 0 intact, caches kept"
finish
