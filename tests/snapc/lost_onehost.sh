#!/bin/bash
# One verdict per host (diffrev33 R-L3): two ranks of one host with different evidence do not put
# that host both among the live hosts and among the lost ones. Fake ranks on two hosts of the bed
# (tests/hosts/hostbed.sh, root): ranks 0,1 with the coordinator on h1, ranks 2,3 on h2. A
# snapshot, its commit held (snapc-commit-hold), the launcher stopped; rank 2's connection reset
# from h2 (ss -K) and a routing rule on h1 rejecting connects to where rank 2 was (its port on h2);
# the remote shell port not asked (REVIVE_FETCH_PROBE_PORT=0); rank 3 killed (its connection kept,
# h2 answers its keepalive probes). The hold let go: h2 answered on rank 3's connection, so it is up
# for rank 2 too: hosts h1,h2, no hosts.lost, rank.2.gone "ended" saying so. Before: hosts h1,h2
# and hosts.lost h2 (rank 2 "its node lost", rank 3 "its node up").
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../hosts/hostbed.sh"
snapc_workdir snapc-lost-onehost
cleanup='touch "$W/commit.hold"; hostbed_down'
hostbed_up 2
h1=$(host_pid h1)
h2=$(host_pid h2)
command -v ss >/dev/null || { echo "SKIP: ss (iproute2) is needed to reset a connection"; exit 77; }
nsenter -t $h1 -n ip rule add to 10.77.0.2/32 ipproto tcp dport 40000 unreachable pref 100 2>/dev/null &&
    nsenter -t $h1 -n ip rule del pref 100 ||
    { echo "SKIP: ip rule with ipproto/dport is not supported here"; exit 77; }

cat >"$W/rank.sh" <<EOF
#!/bin/sh
case "\$FAKE_RANK" in 2|3) exec nsenter -t $h2 -n -u -m -- "\$@" ;; esac
exec "\$@"
EOF
chmod 700 "$W/rank.sh"
held_job a 4 REVIVE_FAULT=snapc-commit-hold REVIVE_COMMIT_HOLD="$W/commit.hold" REVIVE_FETCH_PROBE_PORT=0 \
    -- nsenter -t $h1 -n -u -m --wd="$W" --
expect_rc 0 "a snapshot (--no-wait-stage, its commit held)" "$CKPT" --no-wait-stage $JOB || finish
wait_for 60 'grep -q "the commit of sequence 0 holds until" "$W/a.err"' ||
    { fail "the commit did not hold"; tail -5 "$W/a.err"; finish; }
rank_pid 3 && r3=$RANK_PID && rank_pid 2 && r2=$RANK_PID || { fail "no launcher ($LAUNCHER) or ranks 2, 3"; finish; }
kill -STOP $LAUNCHER

# rank 2's connection reset from h2, connects to its port there rejected from h1
port=$(nsenter -t $h2 -n ss -tnpH state established dst 10.77.0.1 | grep "pid=$r2," |
       awk '{ n = split($3, a, ":"); print a[n] }' | head -1)
[ -n "$port" ] || { fail "rank 2's connection is not found on h2: $(nsenter -t $h2 -n ss -tnp)"; finish; }
nsenter -t $h2 -n ss -K dst 10.77.0.1 sport = :$port >/dev/null 2>&1
wait_for 30 'grep -q "rank 2.s connection closed" "$W/a.err"' || fail "rank 2's end was not seen: $(tail -3 "$W/a.err")"
nsenter -t $h1 -n ip rule add to 10.77.0.2/32 ipproto tcp dport $port unreachable pref 100 ||
    fail "the routing rule could not be added"
# rank 3 killed: its connection closes with a FIN, kept, h2 asked on it
kill -KILL $r3
wait_for 30 'grep -q "rank 3.s connection closed" "$W/a.err"' || fail "rank 3's end was not seen: $(tail -3 "$W/a.err")"
sleep 1

touch "$W/commit.hold"
wait_for 60 '[ -f "$jd/0/snapshot.meta" ] || grep -q "checkpoint 0 is not committed" "$W/a.err"'
[ -f "$jd/0/snapshot.meta" ] || { fail "the sequence did not commit: $(grep -m1 "not committed" "$W/a.err")"; finish; }
grep "ended before the commit" "$W/a.err" | sed 's/^/    /'
grep -q "^hosts.lost" "$jd/0/snapshot.meta" && fail "h2 is recorded lost too: $(grep "^hosts" "$jd/0/snapshot.meta" | tr '\n' ';')"
grep -qx "hosts h1,h2" "$jd/0/snapshot.meta" || fail "hosts: $(grep "^hosts" "$jd/0/snapshot.meta" | tr '\n' ';')"
grep -qx "rank.2.gone ended" "$jd/0/snapshot.meta" && grep -qx "rank.3.gone ended" "$jd/0/snapshot.meta" ||
    fail "ranks 2, 3: $(grep "^rank.[23].gone" "$jd/0/snapshot.meta" | tr '\n' ';')"
grep -q "^rank.2.gone.why h2 answered on rank 3's connection" "$jd/0/snapshot.meta" ||
    fail "rank 2's gone.why: $(grep "^rank.2.gone.why" "$jd/0/snapshot.meta")"
pass "h2 answered on rank 3's connection, rank 2's connect rejected: h2 is up for both, in hosts only"

nsenter -t $h1 -n ip rule del pref 100
end_held_job
finish
