#!/bin/bash
# badhosts.sh FLAVOR: bad input of issue 9 on the host test bed, each one clear message, a
# non-zero exit and no hang (every command bounded; a bound reached is a failure):
# - mpirun -am ft-enable-cr on a host nobody knows (refused before the launch, naming it: the
#   launcher itself waited for ever, MPICH's at least);
# - restart-mpi --hostfile naming a host nobody knows (refused before the launch, naming it);
# - restart-mpi --hostfile naming a host that is up but whose sshd is stopped (h3; newuser47 M1:
#   MPICH's launcher waited REVIVE_LAUNCH_TIMEOUT, 300 s, in silence): refused at once before
#   the launch, naming h3, port 22 and --hostfile, nothing left, not marked; with h3's ssh on
#   port 2222 (the bed's ssh_config) that port is asked: refused naming it while nothing listens
#   there, the restart's native result once an sshd does, also with the port given by Open MPI's
#   plm_rsh_args "-p 2222" (option or environment) instead; through a remote shell that is not
#   ssh (no port known) nothing is asked: the restart's native result with both ports closed;
# - restart-mpi --hostfile naming a host that is known but unreachable (h3, killed; MPICH's
#   launcher waits for ever): refused before the launch by the same probe (no route, or no
#   answer within 10 s), naming h3; the snapshot is not marked as failed;
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

# a snapshot of a job on h1,h2 (node-local first), and the native result its restarts must give
launch_opts h1:2,h2:2
native_job 4
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

# 2b. a host that is up but whose remote shell does not answer (newuser47 M1: h3's sshd stopped;
#     ssh is refused, and MPICH's mpiexec then waited REVIVE_LAUNCH_TIMEOUT, 300 s, in silence):
#     restart-mpi asks every host of the launch on its remote shell's port first and refuses at
#     once, naming h3, its answer and what to do; nothing launched or left, the snapshot not marked
hb_sshd_stop h3 22
hostfile "$W/hf-13" h1:2 h3:2
# bed_left: the processes on h1 and h3 but their sshd stand-ins
bed_left() {
    local h p c
    for h in h1 h3; do
        for p in $(host_pids $h); do
            c=$(tr '\0' ' ' </proc/$p/cmdline 2>/dev/null)
            case $c in "hb-sshd "*|'') ;; *) echo "$h: $c;" ;; esac
        done
    done
}
: >"$HB/agent.log"
t0=$(date +%s%N)
bounded "$RESTART" --hostfile "$W/hf-13" "$ref"
ms=$((($(date +%s%N) - t0) / 1000000))
no_hang "restart-mpi --hostfile with h3's sshd stopped"
[ $BST = 1 ] || fail "h3's sshd stopped: status $BST, not 1"
grep -q "^restart-mpi: host h3, which the restarted job would run on, is down: 10.77.0.3 refuses connections on port 22 (its remote shell's): nothing was started (the snapshot is not marked as failed); give hosts that are up with --hostfile" "$W/b.err" ||
    fail "h3's sshd stopped: no line naming h3, port 22 and what to do: $(tail -5 "$W/b.err")"
[ "$(wc -l <"$W/b.err")" = 1 ] || fail "h3's sshd stopped: more than one line: $(cat "$W/b.err")"
[ $ms -lt 10000 ] || fail "h3's sshd stopped: refused after $ms ms (not at once)"
[ -s "$HB/agent.log" ] && fail "h3's sshd stopped: a launch was tried: $(agent_hosts)"
[ -z "$(bed_left)" ] || fail "h3's sshd stopped: processes left: $(bed_left)"
grep -q "failed_restarts" "$(dirname "$ref")/index" && fail "h3's sshd stopped: the snapshot was marked as failed"
pass "$flavor: h3 up, its sshd stopped: restart-mpi refused in $ms ms (status $BST) naming h3, port 22 and --hostfile; nothing launched or left, not marked"

# 2c. h3's remote shell on another port (the ssh configuration's Port 2222; 22 still closed): the
#     port ssh goes to (ssh -G) is the one asked: nothing there yet, refused naming port 2222;
#     (2d) a remote shell that is not ssh (the bed's agent named as such: a site's agent, a
#     container's exec, whose port nobody can tell) is not asked: the restart runs on h1,h3
#     with both ports closed, the native result; (2e) an sshd on 2222: the restart through ssh
#     runs on h1,h3, the native result. A probe that refused a working setup would be worse than
#     none (before: port 22 asked whatever the remote shell, both refused).
printf 'Host h3\n    Port 2222\n' >"$HB/ssh_config"
bounded "$RESTART" --hostfile "$W/hf-13" "$ref"
[ $BST = 1 ] && grep -q "^restart-mpi: host h3, which the restarted job would run on, is down: 10.77.0.3 refuses connections on port 2222 (its remote shell's)" "$W/b.err" ||
    fail "h3's ssh port 2222 closed: status $BST, not refused naming port 2222: $(tail -3 "$W/b.err")"
pass "$flavor: h3's ssh configured on port 2222, nothing there: refused naming port 2222"
# full_restart NAME OPTION...: restart-mpi --hostfile h1,h3 OPTION... of the snapshot from h1
# (600 s at most): status 0, the native result, the launch through the remote shell to h3
full_restart() {
    local name=$1; shift
    : >"$HB/agent.log"
    on h1 timeout -k 5 600 "$RESTART" --hostfile "$W/hf-13" "$@" "$ref" >"$W/$name.out" 2>"$W/$name.err"
    BST=$?
    [ $BST = 0 ] || { fail "$name: restart-mpi status $BST"; tail -5 "$W/$name.err"; }
    cmp -s "$W/native.out" "$W/$name.out" || fail "$name: the restarted result differs from the native one"
    grep -qx h3 "$HB/agent.log" || fail "$name: no launch reached h3 through the remote shell: $(agent_hosts)"
    wait_for 60 '[ -z "$(ranks_hosts)" ]' || fail "$name: ranks left: $(ranks_hosts)"
}
case $flavor in
ompi) agent_opt=(--mca plm_rsh_agent "$HB/agent") ;;
mpich) agent_opt=(-launcher-exec "$HB/agent") ;;
esac
full_restart rd -- "${agent_opt[@]}"
pass "$flavor: a remote shell that is not ssh, h3's ports 22 and 2222 closed: not asked, the restart on h1,h3 gives the native result"
hb_sshd h3 2222
wait_for 30 'on h1 timeout 2 bash -c "echo >/dev/tcp/10.77.0.3/2222" 2>/dev/null' || fail "h3's sshd on 2222 did not start"
full_restart re
pass "$flavor: h3's ssh on port 2222 (ssh_config), 22 closed: the restart through ssh on h1,h3 gives the native result"
: >"$HB/ssh_config"
# (2f) Open MPI: the port given to ssh by plm_rsh_args ("-p 2222", the launcher's words after its
#      agent), not by the ssh configuration: asked there, the restart runs (diffrev48 R-M1b: port
#      22 was asked, refused as down); the same given in the environment (OMPI_MCA_plm_rsh_args)
if [ $flavor = ompi ]; then
    full_restart rf -- --mca plm_rsh_args "-p 2222"
    pass "$flavor: h3's ssh on port 2222 by --mca plm_rsh_args, 22 closed: the restart on h1,h3 gives the native result"
    OMPI_MCA_plm_rsh_args="-p 2222" full_restart rg
    pass "$flavor: the same by OMPI_MCA_plm_rsh_args: the native result"
fi
hb_sshd_stop h3 2222

# 3. a known host that cannot be reached (h3 lost): refused before the launch (restart-mpi's
#    probe of its remote shell's port: no route, or no answer within 10 s), as 2b
host_kill h3
hostfile "$W/hf-lost" h1:2 h3:2
: >"$HB/agent.log"
REVIVE_LAUNCH_TIMEOUT=15 bounded "$RESTART" --hostfile "$W/hf-lost" "$ref"
no_hang "restart-mpi --hostfile with an unreachable host"
[ $BST = 1 ] || fail "restart-mpi with an unreachable host: status $BST, not 1"
grep -q "^restart-mpi: host h3, which the restarted job would run on, is down: 10.77.0.3 .*: nothing was started (the snapshot is not marked as failed)" "$W/b.err" ||
    fail "restart-mpi with an unreachable host does not name it before the launch: $(tail -5 "$W/b.err")"
[ -s "$HB/agent.log" ] && fail "a launch was tried with an unreachable host: $(agent_hosts)"
grep -q "failed_restarts" "$(dirname "$ref")/index" && fail "an unreachable host marked the snapshot as failed"
wait_for 60 '[ -z "$(ranks_hosts)" ]' || fail "restarted ranks left on the bed: $(ranks_hosts)"
pass "$flavor: restart-mpi --hostfile with an unreachable host: refused before the launch naming it, status $BST, the snapshot not marked"

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
