#!/bin/bash
# iface.sh FLAVOR: the coordinator's address on a host with two interfaces (issue 9). h1 gets
# first an interface on another network (aa0, 10.99.0.1, which h2 cannot reach), so the first
# address of h1 is not on the bed's network; the user names the bed's network to the launcher
# (Open MPI --mca oob_tcp_if_include 10.77.0.0/24, MPICH -iface rv0) and the coordinator gives
# the ranks its address there: a 4-rank job on h1,h2 takes a snapshot (the ranks on h2 reach
# the coordinator), finishes with the native result, and a restart (the coordinator in
# restart mode, from the snapshot's launcher options) finishes with the native result too; so
# does a restart given the network option again after -- (it replaces the saved one: the
# coordinator must see the one given, diffrev31 R-M1).
flavor=$1
. "$(dirname "$0")/lib.sh"
why=$(hostbed_skip_reason)
[ -z "$why" ] || { echo "SKIP: $why"; exit 77; }
hosts_workdir iface-$flavor
[ -x "$B/tools/revive-restart-rank" ] || { echo "SKIP: revive-restart-rank not built"; exit 77; }
export REVIVE_RESTART_RANK=$B/tools/revive-restart-rank
HB_TWO_IF=h1 hostbed_up 2
launch_opts h1:2,h2:2
unset REVIVE_COORD_ADDR
case $flavor in
ompi) said="(--mca oob_tcp_if_include $HB_NET)" ;;
mpich) said="(-iface $HB_IF)" ;;
esac

# the first IPv4 address of h1 (the rule without the user's choice) is not on the bed
first=$(on h1 ip -4 -o addr show | awk '$2 != "lo" { sub("/.*", "", $4); print $4; exit }')
[ "$first" = 10.99.0.1 ] || fail "h1's first address is $first, not 10.99.0.1: the test proves nothing"

native_job 4

( PATH=$(dirname "$launcher"):$PATH clean_exec REVIVE_VERBOSE=2 nsenter -t "$(host_pid h1)" -n -u -m -- \
    "$wrapper" -am ft-enable-cr --ckpt-dir "$SHARED" "${LOPTS[@]}" -n 4 "$bin" $iters hold "$W/a.go" ) \
    >"$W/a.out" 2>"$W/a.err" &
JOB=$!; jobs_started="$jobs_started $JOB"
wait_for 120 'case "$(cat /proc/$JOB/comm 2>/dev/null)" in mpirun|revive-coord) true ;; *) false ;; esac' ||
    fail "the job did not start Revive's mpirun"
if expect_rc 0 "ckpt-mpirun of the job on h1,h2" on h1 timeout 300 "$CKPT" --wait $JOB; then
    ref=$(tail -n1 "$W/cmd.out")
    expect_rc 0 "ckpt-info --verify $ref" "$INFO" --verify "$ref"
fi
grep -q "the ranks reach the coordinator at 10.77.0.1 $said" "$W/a.err" ||
    fail "the coordinator did not say it chose 10.77.0.1 $said: $(grep -i coordinator "$W/a.err" | head -3)"
grep -q "REVIVE_COORD=10.99" "$W/a.err" && fail "the ranks were given the other network's address"
expect_rc 0 "ckpt-mpirun --term" on h1 timeout 300 "$CKPT" --wait --term $JOB
tref=$(tail -n1 "$W/cmd.out")
job_gone $JOB 60 || fail "--term: mpirun still runs 60 s after ckpt-mpirun returned"
wait $JOB
pass "$flavor: h1 with two interfaces: the coordinator on the network named by $said, snapshots across h1,h2"

touch "$W/a.go"
on h1 timeout -k 5 600 "$RESTART" "$tref" >"$W/r.out" 2>"$W/r.err"; st=$?
[ $st = 0 ] || { fail "restart-mpi on h1,h2: status $st"; tail -20 "$W/r.err"; }
cmp -s "$W/native.out" "$W/r.out" || { fail "restarted result differs"; cat "$W/native.out" "$W/r.out"; }
pass "$flavor: restarted on h1,h2 (the coordinator again on the named network): the native result"

# the network option given again after -- (it replaces the saved one): the restarted job's
# coordinator still takes its address there (diffrev31 R-M1: the replaced option was removed
# from what the coordinator looks at and the new one never shown to it: it took h1's first
# address, which h2's ranks cannot reach)
case $flavor in
ompi) again=(--mca oob_tcp_if_include $HB_NET) ;;
mpich) again=(-iface $HB_IF) ;;
esac
on h1 env REVIVE_VERBOSE=2 REVIVE_LAUNCH_TIMEOUT=60 timeout -k 5 600 "$RESTART" -- "${again[@]}" "$tref" \
    >"$W/r2.out" 2>"$W/r2.err"; st=$?
[ $st = 0 ] || { fail "restart-mpi -- ${again[*]}: status $st"; grep -v "step" "$W/r2.err" | tail -20; }
grep -qF "is replaced by ${again[*]}, given after --" "$W/r2.err" || fail "restart-mpi did not say it replaced the network option"
grep -q "the ranks reach the coordinator at 10.77.0.1 $said" "$W/r2.err" ||
    fail "the restarted job's coordinator did not take 10.77.0.1 $said: $(grep "reach the coordinator" "$W/r2.err" | head -3)"
cmp -s "$W/native.out" "$W/r2.out" || { fail "restarted result differs"; cat "$W/native.out" "$W/r2.out"; }
pass "$flavor: restart-mpi -- ${again[*]}: the coordinator on the network given after --, the native result"
finish
