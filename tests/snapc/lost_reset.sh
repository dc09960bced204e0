#!/bin/bash
# A live host whose rank's connection was reset is not called lost when connects to the rank's
# (ephemeral) port are rejected, as by a node firewall (diffrev33 R-L1). With nothing left to ask
# on, the coordinator asks such a host with a connect to where the rank was; a rejected
# (EHOSTUNREACH) or dropped connect made it "lost". Now it also asks the host's remote shell port
# (REVIVE_FETCH_PROBE_PORT, 22, as restart-mpi's probe), which a firewall lets through for the
# launcher. Fake ranks on two hosts of the bed (tests/hosts/hostbed.sh, root; its stand-in sshd
# answers on port 22): ranks 0,1 on h1 with the coordinator, rank 2 on h2. A snapshot, its commit
# held (snapc-commit-hold); the launcher stopped; rank 2's connection reset from h2 (ss -K); on
# h1 a routing rule rejects connects to h2's ports 1024-65534 at once (an unreachable route:
# ENETUNREACH; a firewall's ICMP admin-prohibited reject gives EHOSTUNREACH, its DROP nothing). The hold let go: the sequence commits with h2 up (hosts h1,h2,
# no hosts.lost; rank.2.gone "ended", gone.why naming port 22). Before: hosts.lost h2, "h2 is not
# reachable (Network is unreachable)".
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../hosts/hostbed.sh"
snapc_workdir snapc-lost-reset
cleanup='touch "$W/commit.hold"; hostbed_down'
hostbed_up 2
h1=$(host_pid h1)
h2=$(host_pid h2)
command -v ss >/dev/null || { echo "SKIP: ss (iproute2) is needed to reset a connection"; exit 77; }
nsenter -t $h1 -n ip rule add to 10.77.0.2/32 ipproto tcp dport 1024-65534 unreachable pref 100 2>/dev/null &&
    nsenter -t $h1 -n ip rule del pref 100 ||
    { echo "SKIP: ip rule with ipproto/dport is not supported here"; exit 77; }

cat >"$W/rank.sh" <<EOF
#!/bin/sh
[ "\$FAKE_RANK" = 2 ] && exec nsenter -t $h2 -n -u -m -- "\$@"
exec "\$@"
EOF
chmod 700 "$W/rank.sh"
held_job a 3 REVIVE_FAULT=snapc-commit-hold REVIVE_COMMIT_HOLD="$W/commit.hold" \
    -- nsenter -t $h1 -n -u -m --wd="$W" --
expect_rc 0 "a snapshot (--no-wait-stage, its commit held)" "$CKPT" --no-wait-stage $JOB || finish
wait_for 60 'grep -q "the commit of sequence 0 holds until" "$W/a.err"' ||
    { fail "the commit did not hold"; tail -5 "$W/a.err"; finish; }
rank_pid 2 || { fail "no launcher ($LAUNCHER) or rank 2"; finish; }
launcher=$LAUNCHER
kill -STOP $launcher

# rank 2's connection reset from its (live) host; then connects to h2's ephemeral ports rejected
nsenter -t $h2 -n ss -K dst 10.77.0.1 >/dev/null 2>&1
wait_for 30 '[ -z "$(nsenter -t $h2 -n ss -tnH state established dst 10.77.0.1)" ]' ||
    fail "rank 2's connection was not reset: $(nsenter -t $h2 -n ss -tn)"
nsenter -t $h1 -n ip rule add to 10.77.0.2/32 ipproto tcp dport 1024-65534 unreachable pref 100 ||
    fail "the routing rule could not be added"
sleep 1

touch "$W/commit.hold"
wait_for 60 '[ -f "$jd/0/snapshot.meta" ] || grep -q "checkpoint 0 is not committed" "$W/a.err"'
[ -f "$jd/0/snapshot.meta" ] || { fail "the sequence did not commit: $(grep -m1 "not committed" "$W/a.err")"; finish; }
grep "rank 2 ended before the commit" "$W/a.err" | sed 's/^/    /'
grep -q "^hosts.lost" "$jd/0/snapshot.meta" && fail "a host is recorded lost: $(grep "^hosts.lost" "$jd/0/snapshot.meta")"
grep -qx "hosts h1,h2" "$jd/0/snapshot.meta" || fail "hosts: $(grep "^hosts" "$jd/0/snapshot.meta" | tr '\n' ';')"
grep -qx "rank.2.gone ended" "$jd/0/snapshot.meta" || fail "rank 2: $(grep "^rank.2.gone" "$jd/0/snapshot.meta" | tr '\n' ';')"
grep -q "^rank.2.gone.why h2 answered (a connect to its port 22" "$jd/0/snapshot.meta" ||
    fail "rank 2's gone.why: $(grep "^rank.2.gone.why" "$jd/0/snapshot.meta")"
pass "a live host whose rank's connection was reset, connects to its ephemeral ports rejected: up (port 22 answered), not lost"

nsenter -t $h1 -n ip rule del pref 100
end_held_job
finish
