#!/bin/bash
# across.sh FLAVOR: a 4-rank job across two hosts of the test bed (h1, h2; 2 ranks each), the
# launcher reaching h2 through the bed's agent: natively, then under Revive (mpirun -am
# ft-enable-cr from h1: the coordinator must reach the ranks on h2 over the bed's network), a
# global snapshot while it runs (it finishes with the native result), a --term snapshot, h2
# lost (its processes killed, its node-local directory wiped), and restart-mpi --hostfile on
# h1,h3 from the shared snapshot directory: the native result.
flavor=$1
. "$(dirname "$0")/lib.sh"
hosts_workdir across-$flavor
hostbed_up 3
[ -x "$B/tools/revive-restart-rank" ] || { echo "SKIP: revive-restart-rank not built"; exit 77; }
export REVIVE_RESTART_RANK=$B/tools/revive-restart-rank
launch_opts h1:2,h2:2

# native, across h1 and h2
: >"$HB/agent.log"
native_job 4
grep -q '^result' "$W/native.out" || { fail "native job printed no result"; cat "$W/native.out"; finish; }
case $(agent_hosts) in *h2*) ;; *) fail "the launcher did not go through the agent to h2 (agent: $(agent_hosts))" ;; esac
pass "$flavor: native 4-rank job across h1,h2 through the agent"

# under Revive from h1, snapshots to the shared directory
run_job() { revive_job "$1" --ckpt-dir "$SHARED"; } # NAME
: >"$HB/agent.log"
run_job a
# the ranks on h2 run (the job holds halfway until a.go exists)
wait_for 120 '[ "$(ranks_hosts)" = "h1 h1 h2 h2 " ]' || fail "ranks not on h1 h1 h2 h2: $(ranks_hosts)"
if expect_rc 0 "ckpt-mpirun of the job across h1,h2" on h1 timeout 300 "$CKPT" --wait $JOB; then
    ref=$(tail -n1 "$W/cmd.out")
    expect_rc 0 "ckpt-info --verify $ref" "$INFO" --verify "$ref"
    grep -q "REVIVE_COORD=127.0.0.1" "$W/a.err" && fail "the coordinator gave the ranks 127.0.0.1"
fi
touch "$W/a.go"
wait $JOB; st=$?
[ $st = 0 ] || { fail "the job's status $st after the snapshot"; tail -5 "$W/a.err"; }
cmp -s "$W/native.out" "$W/a.out" || { fail "result after the snapshot differs"; cat "$W/native.out" "$W/a.out"; }
pass "$flavor: Revive's job across h1,h2: a snapshot while it runs, the native result"

run_job b
wait_for 120 '[ "$(ranks_hosts)" = "h1 h1 h2 h2 " ]' || fail "ranks not on h1 h1 h2 h2: $(ranks_hosts)"
if ! expect_rc 0 "ckpt-mpirun --term" on h1 timeout 300 "$CKPT" --wait --term $JOB; then
    touch "$W/b.go"; finish
fi
tref=$(tail -n1 "$W/cmd.out")
job_gone $JOB 60 || fail "--term: mpirun still runs 60 s after ckpt-mpirun returned"
wait $JOB
touch "$W/b.go"
# h2 is lost: whatever ran there is killed, its node-local storage wiped
host_kill h2
host_wipe h2
wait_for 60 '[ -z "$(ranks_hosts)" ]' || fail "--term: ranks left: $(ranks_hosts)"

# restart on h1,h3 from the shared directory
hostfile "$W/hosts13" h1:2 h3:2
: >"$HB/agent.log"
# the restarted ranks hold halfway again until b.go exists, so where they run is seen while they
# run (a restart that finished between two looks read as "h1 " in a fresh-clone CI of 13a1dc0)
rm -f "$W/b.go"
( on h1 timeout -k 5 600 "$RESTART" --hostfile "$W/hosts13" "$tref" >"$W/r.out" 2>"$W/r.err" ) &
R=$!
wait_for 120 '[ "$(ranks_hosts)" = "h1 h1 h3 h3 " ] || ! kill -0 $R 2>/dev/null' 
seen=$(ranks_hosts)
touch "$W/b.go"
wait $R; st=$?
[ $st = 0 ] || { fail "restart-mpi --hostfile h1,h3: status $st"; tail -40 "$W/r.err"; }
cmp -s "$W/native.out" "$W/r.out" || { fail "restarted result differs"; cat "$W/native.out" "$W/r.out"; }
case $(agent_hosts) in *h3*) ;; *) fail "the restart did not go through the agent to h3 (agent: $(agent_hosts))" ;; esac
case $(agent_hosts) in *h2*) fail "the restart went to the lost h2" ;; esac
[ -z "$seen" ] || [ "$seen" = "h1 h1 h3 h3 " ] || fail "restarted ranks on $seen, not h1 h1 h3 h3"
pass "$flavor: h2 lost, restart-mpi --hostfile h1,h3 from shared storage: the native result"
finish
