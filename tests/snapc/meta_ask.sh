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
slow*) echo \$\$ >"$W/\$1.pid"; sleep 60 ;;
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

# three hosts whose remote shells hang (up, their shells never answer): asked at once, bounded
# together by REVIVE_FETCH_TIMEOUT (4 s), not once per host (before: 3 x 4 s one after another;
# with the default 120 s, six minutes); one line naming each, status 1, no shell left
t0=$(date +%s%N)
( clean_exec REVIVE_RSH="$W/rsh" REVIVE_FETCH_PROBE_PORT=0 REVIVE_FETCH_TIMEOUT=4 \
    "$RESTART" --ckpt-local "$W/cache" --meta-from slow1,slow2,slow3 "$ref" ) >"$W/h.out" 2>"$W/h.err"
st=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ $st = 1 ] || fail "hanging shells: restart-mpi status $st, not 1"
grep -qF "asked too: slow1: no answer within 4 s (REVIVE_FETCH_TIMEOUT); slow2: no answer within 4 s (REVIVE_FETCH_TIMEOUT); slow3: no answer within 4 s (REVIVE_FETCH_TIMEOUT))" "$W/h.err" ||
    fail "hanging shells: no line naming the three hosts: $(cat "$W/h.err")"
# 4 s and the shells' end (SIGTERM; SIGKILL after 3 s at most) at load: not 12 s
[ $ms -lt 9000 ] || fail "hanging shells: it took $ms ms (3 hosts, REVIVE_FETCH_TIMEOUT=4): asked one after another?"
for h in slow1 slow2 slow3; do
    p=$(cat "$W/$h.pid" 2>/dev/null)
    [ -n "$p" ] || { fail "hanging shells: $h was not asked"; continue; }
    kill -0 "$p" 2>/dev/null && { fail "hanging shells: $h's remote shell $p runs on"; kill -KILL "$p"; }
done
left=$(ls -d "$W"/revive-meta-* 2>/dev/null)
[ -z "$left" ] || fail "hanging shells: the folders of the answers are left: $left"
pass "three hosts whose remote shells hang: asked at once, $ms ms in all (bound 4 s), one line, no shell or folder left"

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
# the sender's reader gone (restart-mpi's remote shell ended at its bound): the sender says it
# could not write its answer and exits 1 (before: killed by SIGPIPE without a word, status 141)
rr=$B/tools/revive-restart-rank
if [ -x "$rr" ]; then
    ( sleep 0.5; exec "$rr" --send-meta --local "$W/cache" "$W/shared/revive_global_snapshot_4242.ckpt" ) 2>"$W/sp.err" | true
    st=${PIPESTATUS[0]}
    [ $st = 1 ] && grep -q "cannot write its answer: Broken pipe" "$W/sp.err" ||
        fail "the sender whose reader went: status $st, not 1 with a message: $(cat "$W/sp.err")"
    pass "the sender whose reader went: status 1, says it could not write its answer"
fi
finish
