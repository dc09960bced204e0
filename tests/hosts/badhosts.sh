#!/bin/bash
# badhosts.sh FLAVOR: bad input of issue 9 on the host test bed, each one clear message, a
# non-zero exit and no hang (every command bounded; a bound reached is a failure):
# - mpirun -am ft-enable-cr on a host nobody knows (refused before the launch, naming it: the
#   launcher itself waited for ever, MPICH's at least);
# - restart-mpi --hostfile naming a host nobody knows (refused before the launch, naming it);
# - restart-mpi --hostfile naming a host that is known but unreachable (h3, killed; the
#   MPICH's launcher waits for ever): after REVIVE_LAUNCH_TIMEOUT (here 15 s) the coordinator
#   names the ranks that never started and ends the job (Open MPI's launcher gives up by
#   itself, and restart-mpi says no rank began); the snapshot is not marked as failed;
# - a snapshot whose image of rank 2 is missing on every copy (the shared directory and h2's
#   node-local cache): refused, naming the image and what h2 answered when asked for its
#   copy; no rank started;
# - ckpt-mpirun --wait on a job started with an unreachable host (h3): given up after --timeout.
flavor=$1
. "$(dirname "$0")/lib.sh"
why=$(hostbed_skip_reason)
[ -z "$why" ] || { echo "SKIP: $why"; exit 77; }
hosts_workdir badhosts-$flavor
[ -x "$B/tools/revive-restart-rank" ] || { echo "SKIP: revive-restart-rank not built"; exit 77; }
export REVIVE_RESTART_RANK=$B/tools/revive-restart-rank
hostbed_up 3
LOCAL=$HB/local

# bounded CMD...: runs CMD from h1 with at most 240 s; BST = its status (124/137: the bound)
bounded() { on h1 timeout -k 5 240 "$@" >"$W/b.out" 2>"$W/b.err"; BST=$?; }
no_hang() { [ $BST = 124 ] || [ $BST = 137 ] && fail "$1: still running after 240 s (a hang)"; [ $BST != 0 ] || fail "$1: exit status 0"; }

# 1. a job on an unknown host
launch_opts h1:2,nosuchhost:2
: >"$HB/agent.log"
bounded "$wrapper" -am ft-enable-cr --ckpt-dir "$SHARED" "${LOPTS[@]}" -n 4 "$bin" $iters
no_hang "mpirun -am ft-enable-cr on an unknown host"
grep -q "revive-coord: the launcher option ${LOPTS[-2]} h1:2,nosuchhost:2 names host 'nosuchhost', which this machine cannot resolve" "$W/b.err" ||
    fail "the job on an unknown host: no message naming it: $(tail -3 "$W/b.err")"
[ -z "$(ranks_hosts)" ] || fail "ranks left after the failed launch (on the bed): $(ranks_hosts)"
[ -s "$HB/agent.log" ] && fail "a launch was tried on an unknown host: $(agent_hosts)"
pass "$flavor: a job on an unknown host: refused before the launch naming it (status $BST), nothing left"

# a snapshot of a job on h1,h2 (node-local first)
launch_opts h1:2,h2:2
( PATH=$(dirname "$launcher"):$PATH clean_exec nsenter -t "$(host_pid h1)" -n -u -m -- \
    "$wrapper" -am ft-enable-cr --ckpt-dir "$SHARED" --ckpt-local "$LOCAL" "${LOPTS[@]}" -n 4 "$bin" $iters \
    hold "$W/a.go" ) >"$W/a.out" 2>"$W/a.err" &
JOB=$!; jobs_started="$jobs_started $JOB"
wait_for 120 'case "$(cat /proc/$JOB/comm 2>/dev/null)" in mpirun|revive-coord) true ;; *) false ;; esac' ||
    fail "the job did not start Revive's mpirun"
expect_rc 0 "ckpt-mpirun --term" on h1 timeout 300 "$CKPT" --wait --term $JOB || finish
ref=$(tail -n1 "$W/cmd.out")
job_gone $JOB 60 || fail "--term: mpirun still runs"
wait $JOB
touch "$W/a.go"

# 2. a hostfile naming an unknown host
hostfile "$W/hf-unknown" h1:2 nosuchhost:2
bounded "$RESTART" --hostfile "$W/hf-unknown" "$ref"
no_hang "restart-mpi --hostfile with an unknown host"
grep -q "restart-mpi: the hostfile $W/hf-unknown (line 2) names host 'nosuchhost', which this machine cannot resolve" "$W/b.err" ||
    fail "restart-mpi with an unknown host: $(cat "$W/b.err")"
[ "$(wc -l <"$W/b.err")" = 1 ] || fail "more than one line for an unknown host: $(cat "$W/b.err")"
: >"$HB/agent.log"
bounded "$RESTART" --showme --hostfile "$W/hf-unknown" "$ref"
[ $BST = 1 ] || fail "restart-mpi --showme with an unknown host: status $BST"
pass "$flavor: restart-mpi --hostfile naming an unknown host: one line naming it, before any launch"

# 3. a known host that cannot be reached (h3 lost)
host_kill h3
hostfile "$W/hf-lost" h1:2 h3:2
REVIVE_LAUNCH_TIMEOUT=15 bounded "$RESTART" --hostfile "$W/hf-lost" "$ref"
no_hang "restart-mpi --hostfile with an unreachable host"
# the launcher gives up by itself (Open MPI: the ranks on h1 never began, said so), or waits
# until the coordinator's bound (MPICH: names the ranks that never started)
grep -q "2 of 4 ranks did not start within 15 s (not started: ranks 2,3)" "$W/b.err" ||
    grep -q "before any rank began its restore: the launcher failed" "$W/b.err" ||
    fail "restart-mpi with an unreachable host does not say the ranks did not start: $(tail -5 "$W/b.err")"
grep -q "is not marked as failed" "$W/b.err" || fail "restart-mpi does not say the snapshot is not marked: $(tail -3 "$W/b.err")"
grep -q "failed_restarts" "$(dirname "$ref")/index" && fail "an unreachable host marked the snapshot as failed"
wait_for 60 '[ -z "$(ranks_hosts)" ]' || fail "restarted ranks left on the bed: $(ranks_hosts)"
pass "$flavor: restart-mpi --hostfile with an unreachable host: the ranks that never started said, status $BST, the snapshot not marked"

# 4. rank 2's image missing on every copy (shared, and h2's node-local cache)
jd=$(basename "$(dirname "$ref")"); seq=$(basename "$ref")
rm -f "$ref/rank_2.img" "$HB/node/h2/$jd/$seq/rank_2.img"
: >"$HB/agent.log"
bounded "$RESTART" --ckpt-local "$LOCAL" "$ref"
no_hang "restart-mpi of a snapshot missing an image everywhere"
grep -q "rank 2's image is in no copy restart-mpi can reach: not $ref/rank_2.img, not in the cache of h2, no partner copy (h2: no copy in this host's cache)" "$W/b.err" ||
    fail "the missing image is not named with where it was looked for: $(cat "$W/b.err")"
[ "$(wc -l <"$W/b.err")" = 1 ] || fail "more than one line for a missing image: $(cat "$W/b.err")"
# restart-mpi asks h2 (rank 2's host in snapshot.meta) for its cached copy; no rank starts
[ "$(agent_hosts)" = "h2 " ] || fail "a launch other than the fetch from h2 was tried for a snapshot missing an image: $(agent_hosts)"
pass "$flavor: a snapshot whose image is missing on every copy: refused in one line naming it and where it was looked for, no rank launched"

# 5. ckpt-mpirun --wait on a job one of whose hosts is unreachable at its start (h3 still lost;
#    review9 F1: it waited for ever, silently, as MPICH's launcher does): bounded by --timeout,
#    progress said, then given up naming the ranks that never connected and the hosts given to
#    the launcher where none did; no sequence begun; the job goes on (ended here). Open MPI's
#    launcher may give up on h3 by itself first: the job's end is the answer then.
launch_opts h1:2,h3:2
revive_job w --ckpt-dir "$SHARED" --ckpt-local "$LOCAL"
bounded timeout -k 5 90 "$CKPT" --wait --timeout 8 $JOB
[ $BST = 124 ] || [ $BST = 137 ] && fail "ckpt-mpirun --wait --timeout 8 on a job with an unreachable host: still waiting after 90 s"
[ $BST = 1 ] || fail "ckpt-mpirun --wait on a job with an unreachable host: status $BST: $(cat "$W/b.err")"
if ! grep -q "the job ended\|closed the connection" "$W/b.err"; then
    grep -q "\] waiting for the job to start: " "$W/b.err" || fail "--wait on a job still starting: no progress said: $(cat "$W/b.err")"
    grep -q "ckpt-mpirun: the job has not started within 8 s: .*not connected: ranks* [0-9,]*.*; hosts given to the launcher where no rank connected: \(h1,\)*h3" "$W/b.err" ||
        fail "--wait gave up without naming the ranks and the host that never connected: $(cat "$W/b.err")"
    kill -0 $JOB 2>/dev/null || fail "the job ended when the --wait request gave up"
fi
sed 's/^/    said: /' "$W/b.err"
ls -d "$SHARED/revive_global_snapshot_$JOB.ckpt"/[0-9]* >/dev/null 2>&1 &&
    fail "a sequence was begun for a job that never started: $(ls -d "$SHARED/revive_global_snapshot_$JOB.ckpt"/[0-9]*)"
end_job >/dev/null
touch "$W/w.go"
wait_for 60 '[ -z "$(ranks_hosts)" ]' || fail "ranks left on the bed: $(ranks_hosts)"
pass "$flavor: ckpt-mpirun --wait on a job with an unreachable host: given up after --timeout naming what never connected (status $BST), no sequence begun"
finish
