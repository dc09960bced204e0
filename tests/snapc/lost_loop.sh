#!/bin/bash
# The coordinator asks the hosts of ranks that ended before the commit (src/snapc/coord_lost.c)
# without stopping its only loop (diffrev33 R-L3: up to 3 s in coord_lost_settle, answering no
# tool and passing on no signal). Fake ranks on two hosts of the bed (tests/hosts/hostbed.sh,
# root): the coordinator, the launcher and ranks 0,1 on h1, ranks 2,3 on h2 (nsenter). A
# snapshot stages, its commit held (snapc-commit-hold); the launcher stopped (SIGSTOP: it does not
# end the others), rank 2 killed (its connection kept to ask h2 on), then h2 cut off (its link
# down: no answer to a keepalive probe, rank 3's connection left open). The hold let go, the
# coordinator asks h2 (two 1 s probes unanswered: ~2 s); a ckpt-mpirun sent then (after its
# "asking the hosts" line) is answered ("in progress") before the asking ends (tried again while it
# runs: under load one run of the tool may take longer). Before: only after it (the loop waited in
# the asking).
# Then the sequence commits, h2 named lost (hosts.lost h2, hosts h1) and verifies.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../hosts/hostbed.sh"
snapc_workdir snapc-lost-loop
cleanup='touch "$W/commit.hold"; hostbed_down'
command -v perl >/dev/null || { echo "SKIP: perl is needed to time the coordinator's lines"; exit 77; }
hostbed_up 2
h1=$(host_pid h1)
h2=$(host_pid h2)

cat >"$W/rank.sh" <<EOF
#!/bin/sh
case "\$FAKE_RANK" in 2|3) exec nsenter -t $h2 -n -u -m -- "\$@" ;; esac
exec "\$@"
EOF
chmod 700 "$W/rank.sh"
TIMED=1 held_job a 4 REVIVE_FAULT=snapc-commit-hold REVIVE_COMMIT_HOLD="$W/commit.hold" \
    -- nsenter -t $h1 -n -u -m --wd="$W" --
expect_rc 0 "a snapshot (--no-wait-stage, its commit held)" "$CKPT" --no-wait-stage $JOB || finish
wait_for 60 'grep -q "the commit of sequence 0 holds until" "$W/a.err"' ||
    { fail "the commit did not hold"; tail -5 "$W/a.err"; finish; }

rank_pid 2 || { fail "no launcher ($LAUNCHER) or rank 2"; finish; }
launcher=$LAUNCHER victim=$RANK_PID
[ "$(nsenter -t $victim -u hostname)" = h2 ] || fail "rank 2 does not run on h2"
kill -STOP $launcher
kill -KILL $victim
wait_for 30 'grep -q "rank 2.s connection closed\|rank 2 .*gone\|rank 2 ended" "$W/a.err"' || sleep 2
hb_in "$(cat "$HB/switch.pid")" ip link set h2 down

touch "$W/commit.hold"
sleep 0.3
# ckpt-mpirun again and again until the asking has ended: one sent while the coordinator asks
# (after its "asking the hosts" line) must be answered "in progress" before its "asked the hosts"
# line (several tries: under load one run of the tool can take longer than the asking)
answered= tries=0 st= ms=
while [ $tries -lt 100 ] && ! grep -q "asked the hosts of" "$W/a.err"; do
    tries=$((tries + 1))
    began=$(grep -c "asking the hosts of" "$W/a.err")
    t0=$(date +%s%N)
    timeout -k 5 30 "$CKPT" $JOB >"$W/st.out" 2>"$W/st.err"; st=$?
    ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    if [ $st = 1 ] && grep -q "in progress" "$W/st.err" && [ "$began" != 0 ] &&
        ! grep -q "asked the hosts of" "$W/a.err"; then
        answered="try $tries: status $st in $ms ms ($(head -1 "$W/st.err"))"
        break
    fi
done
wait_for 30 'grep -q "asked the hosts of" "$W/a.err"' || fail "the coordinator did not ask the hosts: $(tail -5 "$W/a.err")"
took=$(sed -n 's/.*asked the hosts of [0-9]* ranks\{0,1\} that ended, in \([0-9]*\) ms.*/\1/p' "$W/a.err" | head -1)
echo "    ckpt-mpirun during the asking: ${answered:-never answered while it ran (last: try $tries, status $st in $ms ms: $(head -1 "$W/st.err"))}; the asking took ${took:-?} ms"
[ "${took:-0}" -ge 1000 ] || fail "the asking took ${took:-?} ms: too short to tell whether the loop went on (h2 cut off: two probes, ~2 s, expected)"
[ -n "$answered" ] ||
    fail "no ckpt-mpirun was answered while the coordinator asked h2 (${took:-?} ms): the loop waited in the asking"
pass "while the coordinator asks the cut-off h2 (${took:-?} ms), it answers ckpt-mpirun"

wait_for 60 '[ -f "$jd/0/snapshot.meta" ] || grep -q "checkpoint 0 is not committed" "$W/a.err"'
[ -f "$jd/0/snapshot.meta" ] ||
    { fail "the sequence did not commit: $(grep -m1 "not committed" "$W/a.err")"; grep -v "step" "$W/a.err" | tail -15; }
grep -qx "hosts.lost h2" "$jd/0/snapshot.meta" && grep -qx "hosts h1" "$jd/0/snapshot.meta" ||
    fail "snapshot.meta's hosts: $(grep "^hosts" "$jd/0/snapshot.meta" 2>/dev/null | tr '\n' ';')"
expect_rc 0 "ckpt-info --verify of the sequence" "$INFO" --verify "$jd/0"
pass "the sequence commits with h2 lost (hosts h1, hosts.lost h2) and verifies"

end_held_job
finish
