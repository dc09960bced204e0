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

# the restarted ranks hold halfway again until a.go exists: where they run is seen meanwhile
rm -f "$W/a.go"
( on h1 timeout -k 5 600 "$RESTART" --hostfile "$W/hosts3" -- "${unbind[@]}" "${more[@]}" "$ref" >"$W/r.out" 2>"$W/r.err" ) &
R=$!
wait_for 120 '[ "$(ranks_hosts)" = "h3 h3 h3 h3 " ] || ! kill -0 $R 2>/dev/null'
seen=$(ranks_hosts)
touch "$W/a.go"
wait $R; st=$?
[ $st = 0 ] || { fail "restart-mpi --hostfile h3:4 -- ${unbind[*]}: status $st"; tail -30 "$W/r.err"; }
cmp -s "$W/native.out" "$W/r.out" || { fail "restarted result differs"; cat "$W/native.out" "$W/r.out"; }
[ -z "$seen" ] || [ "$seen" = "h3 h3 h3 h3 " ] || fail "restarted ranks on $seen, not h3 h3 h3 h3"
grep -qF "the saved launcher option ${bind[*]} is replaced by ${unbind[*]}" "$W/r.err" ||
    fail "the restart does not say it replaced ${bind[*]}"
pass "$flavor: a job bound on h1:2,h2:2 restarted as 4 ranks on h3 with -- ${unbind[*]}: the native result"
finish
