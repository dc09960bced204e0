#!/bin/bash
# restart-mpi asking other hosts for the snapshot's metadata through the remote shell
# (tools/snapc/restart_meta_ask.c) when the snapshot directory is gone and this host's cache
# holds none, without MPI or a job: REVIVE_RSH is a script that answers as each named host
# would (REVIVE_FETCH_PROBE_PORT=0: no port probe). Hosts "empty" (a cache without the job:
# only the end line), "cut" (an answer cut short) and "broken" (its remote shell fails, status
# 255, saying why on stderr) are asked in --meta-from's order. Checks: status 1 and one line
# naming this host's cache and what each host answered; the remote shell ran with no
# descriptor open beyond 0-2 (before, restart-mpi's /dev/null stayed open in it as a 4th);
# no temporary folder of answers left. Then SIGTERM to restart-mpi while host "slow"'s remote
# shell runs: the shell ended, the folder removed, restart-mpi ended by SIGTERM.
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-meta-ask
mkdir -m 0700 "$W/shared" "$W/cache"
ref=$W/shared/revive_global_snapshot_4242.ckpt/0
cat >"$W/rsh" <<EOF
#!/bin/sh
# the shell's own descriptors (not those of the ls it starts)
ls -l /proc/\$\$/fd >"$W/fds.\$1"
case \$1 in
slow) echo \$\$ >"$W/slow.pid"; sleep 60 ;;
empty) echo "revive-meta: end" ;;
cut) echo "revive-meta: sequence 0 bytes 100"; echo short ;;
*) echo "ssh: Could not resolve hostname \$1" >&2; exit 255 ;;
esac
EOF
chmod 700 "$W/rsh"
( clean_exec REVIVE_RSH="$W/rsh" REVIVE_FETCH_PROBE_PORT=0 REVIVE_FETCH_TIMEOUT=30 \
    "$RESTART" --ckpt-local "$W/cache" --meta-from empty,cut,broken "$ref" ) >"$W/r.out" 2>"$W/r.err"
st=$?
[ $st = 1 ] || fail "restart-mpi: status $st, not 1"
[ "$(wc -l <"$W/r.err")" = 1 ] || fail "more than one line:"$'\n'"$(cat "$W/r.err")"
for want in "$ref does not exist" "node-local cache ($W/cache) holds no sequence 0 of it" \
    "asked too: empty: holds no copy either; cut: its answer was cut (status 0); broken: no answer through its remote shell (status 255): ssh: Could not resolve hostname broken)" \
    "name such hosts with --meta-from"; do
    grep -qF "$want" "$W/r.err" || fail "no '$want' in: $(cat "$W/r.err")"
done
for h in empty cut broken; do
    [ -f "$W/fds.$h" ] || { fail "$h was not asked through REVIVE_RSH"; continue; }
    # fd 0 is /dev/null; any other descriptor on it is restart-mpi's own, leaked
    n=$(grep -c ' /dev/null$' "$W/fds.$h")
    [ "$n" = 1 ] || fail "the remote shell for $h holds /dev/null $n times (restart-mpi's descriptor left open in it):"$'\n'"$(cat "$W/fds.$h")"
done
left=$(ls -d "$W"/revive-meta-* 2>/dev/null)
[ -z "$left" ] || fail "the folders of the answers are left: $left"
[ -e "$W/shared/revive_global_snapshot_4242.ckpt" ] && fail "the job directory was made"
sed 's/^/    /' "$W/r.err"
pass "three hosts asked through the remote shell, none with a copy: one line with each answer, status 1, no descriptor leaked, nothing left"

# SIGTERM to restart-mpi while a host's remote shell runs: the shell ended, the folder removed,
# restart-mpi ended by the signal (before: the folder stayed, the shell ran on for its 60 s)
( clean_exec REVIVE_RSH="$W/rsh" REVIVE_FETCH_PROBE_PORT=0 REVIVE_FETCH_TIMEOUT=120 \
    "$RESTART" --ckpt-local "$W/cache" --meta-from slow "$ref" ) >"$W/s.out" 2>"$W/s.err" &
rp=$!; jobs_started="$jobs_started $rp"
if wait_for 30 '[ -s "$W/slow.pid" ]'; then
    sp=$(cat "$W/slow.pid")
    kill -TERM $rp
    wait $rp; st=$?
    [ $st = 143 ] || fail "SIGTERM during the ask: restart-mpi's status $st, not 143 (ended by SIGTERM)"
    wait_for 5 '! kill -0 $sp 2>/dev/null' || { fail "SIGTERM during the ask: the remote shell $sp runs on"; kill -KILL -- -$sp; }
    left=$(ls -d "$W"/revive-meta-* 2>/dev/null)
    [ -z "$left" ] || fail "SIGTERM during the ask: the folder of the answer is left: $left"
    pass "SIGTERM during the ask of a host: its remote shell ended, no folder left, restart-mpi ended by the signal"
else
    fail "the slow host's remote shell never started: $(cat "$W/s.err")"
    kill -KILL $rp 2>/dev/null
fi
finish
