#!/bin/bash
# override.sh FLAVOR: launcher options given to restart-mpi after `--` replace the saved ones
# (newuser9 F2). A job started with a CPU binding (Open MPI `--bind-to core`, MPICH `-bind-to
# core`) on h1:2,h2:2, a `--term` snapshot, restarted as 4 ranks on the one host h3 (2 cores)
# with `-- --bind-to none` (`-- -bind-to none`): the launch command holds the binding given,
# not the saved one (--showme), the other saved options stay (the bed's agent, and with Open MPI
# the other --mca keys beside a replaced one), restart-mpi says what it replaced, and the restart
# gives the native result. Before, the options after `--` went before the saved ones: Open MPI
# kept `--bind-to core` and could not bind 4 ranks on 2 cores (its daemon on h3 failed, status
# 205); MPICH's mpiexec was given two bindings.
# The restarted job takes a snapshot: its snapshot.meta records the options it ran with (the
# binding given after --, the hostfile), and a restart of it with nothing given runs the same
# way (binding none, on h3) with the native result (diffrev31 R-M1: the snapshot held neither
# binding, so that restart ran with the launcher's default binding).
flavor=$1
. "$(dirname "$0")/lib.sh"
hosts_workdir override-$flavor
hostbed_up 3
[ -x "$B/tools/revive-restart-rank" ] || { echo "SKIP: revive-restart-rank not built"; exit 77; }
export REVIVE_RESTART_RANK=$B/tools/revive-restart-rank
launch_opts h1:2,h2:2
native_job 4
case $flavor in
ompi) bind=(--bind-to core); unbind=(--bind-to none); keep=plm_rsh_agent
      # a keyed option: this --mca key replaced, the job's other --mca keys kept
      more=(--mca mpi_yield_when_idle 1) ;;
mpich) bind=(-bind-to core); unbind=(-bind-to none); keep=-launcher-exec; more=() ;;
esac

revive_job a --ckpt-dir "$SHARED" "${bind[@]}"
wait_for 120 '[ "$(ranks_hosts)" = "h1 h1 h2 h2 " ]' || fail "ranks not on h1 h1 h2 h2: $(ranks_hosts)"
if ! expect_rc 0 "ckpt-mpirun --term of the bound job" on h1 timeout 300 "$CKPT" --wait --term $JOB; then
    touch "$W/a.go"; finish
fi
ref=$(tail -n1 "$W/cmd.out")
job_gone $JOB 60 || fail "--term: mpirun still runs 60 s after ckpt-mpirun returned"
wait $JOB
touch "$W/a.go"
wait_for 60 '[ -z "$(ranks_hosts)" ]' || fail "--term: ranks left: $(ranks_hosts)"
hostfile "$W/hosts3" h3:4

on h1 "$RESTART" --showme --hostfile "$W/hosts3" -- "${unbind[@]}" "${more[@]}" "$ref" >"$W/show.out" 2>"$W/show.err"
st=$?
cmdline=$(grep -v '^#' "$W/show.out")
[ $st = 0 ] || fail "restart-mpi --showme: status $st: $(cat "$W/show.err")"
[ "$(grep -o -- '-bind-to [a-z]*' <<<"$cmdline")" = "-bind-to none" ] ||
    fail "the launch command's bindings: $(grep -o -- '-bind-to [a-z]*' <<<"$cmdline" | tr '\n' ' ') (expected only the one given: none): $cmdline"
grep -qF -- "$keep" <<<"$cmdline" || fail "a saved option ($keep) went: $cmdline"
grep -qF "restart-mpi: the saved launcher option ${bind[*]} is replaced by ${unbind[*]}, given after --" "$W/show.err" ||
    fail "restart-mpi does not say it replaced ${bind[*]}: $(cat "$W/show.err")"
if [ $flavor = ompi ]; then
    [ "$(grep -o 'mpi_yield_when_idle [0-9]' <<<"$cmdline" | tr '\n' ' ')" = "mpi_yield_when_idle 1 " ] ||
        fail "--mca mpi_yield_when_idle given after -- is not the only one: $cmdline"
    [ "$(grep -o -- '--mca [a-z_]*' <<<"$cmdline" | sort | uniq -c | awk '$1 != 1' | wc -l)" = 0 ] ||
        fail "a --mca key twice: $cmdline"
    grep -qF -- "--mca btl_tcp_if_include" <<<"$cmdline" || fail "the other --mca keys went: $cmdline"
fi
pass "$flavor: restart-mpi --showme -- ${unbind[*]}: the binding given replaces the saved one, said; the other saved options stay"

# the restarted ranks hold halfway again until a.go exists: where they run is seen meanwhile,
# and the restarted job takes a snapshot
rm -f "$W/a.go"
( on h1 timeout -k 5 600 "$RESTART" --hostfile "$W/hosts3" -- "${unbind[@]}" "${more[@]}" "$ref" >"$W/r.out" 2>"$W/r.err" ) &
R=$!
wait_for 120 '[ "$(ranks_hosts)" = "h3 h3 h3 h3 " ] || ! kill -0 $R 2>/dev/null'
seen=$(ranks_hosts)
rpid=
for p in $(host_pids h1); do
    case $(cat /proc/$p/comm 2>/dev/null) in restart-mpi|revive-coord) rpid=$p ;; esac
done
ref2=
if [ -n "$rpid" ] && expect_rc 0 "a snapshot of the restarted job" on h1 timeout 300 "$CKPT" --wait $rpid; then
    ref2=$(tail -n1 "$W/cmd.out")
else
    fail "no snapshot of the restarted job (its coordinator: '$rpid')"
fi
touch "$W/a.go"
wait $R; st=$?
[ $st = 0 ] || { fail "restart-mpi --hostfile h3:4 -- ${unbind[*]}: status $st"; tail -30 "$W/r.err"; }
cmp -s "$W/native.out" "$W/r.out" || { fail "restarted result differs"; cat "$W/native.out" "$W/r.out"; }
[ -z "$seen" ] || [ "$seen" = "h3 h3 h3 h3 " ] || fail "restarted ranks on $seen, not h3 h3 h3 h3"
grep -qF "the saved launcher option ${bind[*]} is replaced by ${unbind[*]}" "$W/r.err" ||
    fail "the restart does not say it replaced ${bind[*]}"
pass "$flavor: a job bound on h1:2,h2:2 restarted as 4 ranks on h3 with -- ${unbind[*]}: the native result"

# the restarted job's snapshot records the launcher options it ran with: the binding given
# after --, not the saved one, and the hosts of --hostfile (diffrev31 R-M1: it held neither
# binding and the old hosts, so its restart ran with the launcher's default binding)
[ -n "$ref2" ] || finish
args=$(grep '^launcher\.arg\.' "$ref2/snapshot.meta" | sort -t. -k3 -n | cut -d' ' -f2- | tr '\n' ' ')
grep -qF -- " ${unbind[*]} " <<<" $args" && ! grep -q -- "-bind-to core" <<<"$args" ||
    fail "the restarted job's snapshot.meta does not record ${unbind[*]} alone: $args"
grep -qF -- "$W/hosts3" <<<"$args" || fail "the restarted job's snapshot.meta does not record the hostfile: $args"
[ $flavor = ompi ] && { grep -qF "mpi_yield_when_idle 1" <<<"$args" && grep -qF -- "--mca btl_tcp_if_include" <<<"$args" ||
    fail "the restarted job's snapshot.meta lost a --mca option: $args"; }
pass "$flavor: the restarted job's snapshot.meta records the options it ran with (${unbind[*]}, the hostfile)"

# a restart of that snapshot, nothing given: the same binding, the same host, the native result
on h1 "$RESTART" --showme "$ref2" >"$W/show2.out" 2>"$W/show2.err"
st=$?
cmdline=$(grep -v '^#' "$W/show2.out")
[ $st = 0 ] || fail "restart-mpi --showme of the restarted job's snapshot: status $st: $(cat "$W/show2.err")"
[ "$(grep -o -- '-bind-to [a-z]*' <<<"$cmdline")" = "-bind-to none" ] ||
    fail "the second restart's bindings: $(grep -o -- '-bind-to [a-z]*' <<<"$cmdline" | tr '\n' ' ') (expected -bind-to none): $cmdline"
grep -q "replaced" "$W/show2.err" && fail "the second restart replaced an option: $(cat "$W/show2.err")"
rm -f "$W/a.go"
( on h1 timeout -k 5 600 "$RESTART" "$ref2" >"$W/r2.out" 2>"$W/r2.err" ) &
R=$!
wait_for 120 '[ "$(ranks_hosts)" = "h3 h3 h3 h3 " ] || ! kill -0 $R 2>/dev/null'
seen=$(ranks_hosts)
touch "$W/a.go"
wait $R; st=$?
[ $st = 0 ] || { fail "the restart of the restarted job's snapshot: status $st"; tail -30 "$W/r2.err"; }
cmp -s "$W/native.out" "$W/r2.out" || { fail "the second restart's result differs"; cat "$W/native.out" "$W/r2.out"; }
[ -z "$seen" ] || [ "$seen" = "h3 h3 h3 h3 " ] || fail "the second restart's ranks on $seen, not h3 h3 h3 h3"
pass "$flavor: the restarted job's snapshot restarts with ${unbind[*]} on h3 (nothing given): the native result"
finish
