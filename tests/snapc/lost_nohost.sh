#!/bin/bash
# A rank whose host name is empty (HELLO said none) and that ends while a sequence stages: the
# coordinator does not keep its ended connection (diffrev33 R-L4). coord_lost.c keeps the
# connection a rank's end closed (CLOSE_WAIT) to ask its host at the commit, but never asks a
# rank without a host name: the kept end stayed open until the coordinator ended (its peer's
# FIN_WAIT2 kept alive by 1 s keepalives). A job of 4 fake ranks, rank 1 under an empty host
# name (its own UTS namespace: root only), staging held (filem-stage-hold), the launcher stopped
# so that it does not end the others; rank 1 is killed (its connection closed with a FIN),
# the coordinator stages its image from this host's cache: then no connection of the
# coordinator's is left in CLOSE_WAIT; the sequence commits and verifies.
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-lost-nohost
[ "$(id -u)" = 0 ] && unshare -u true 2>/dev/null ||
    { echo "SKIP: a rank without a host name needs root and unshare -u"; exit 77; }
command -v ss >/dev/null || { echo "SKIP: ss (iproute2) is needed to see the coordinator's sockets"; exit 77; }

rank_named 1 ""
cleanup='touch "$W/stage.hold"'
held_job a 4 REVIVE_FAULT=filem-stage-hold REVIVE_STAGE_HOLD="$W/stage.hold"
expect_rc 0 "a snapshot (--no-wait-stage, its staging held)" "$CKPT" --no-wait-stage $JOB || finish
rank_pid 1 || { fail "no launcher ($LAUNCHER) or rank 1"; finish; }
launcher=$LAUNCHER victim=$RANK_PID
h=$(nsenter -t $victim -u cat /proc/sys/kernel/hostname 2>&1)
[ -z "$h" ] || fail "rank 1's host name is not empty: '$h'"
kill -STOP $launcher
kill -KILL $victim
wait_for 60 'grep -q "image staged by the coordinator" "$W/a.err" || grep -q "checkpoint 0 is not committed" "$W/a.err"' ||
    fail "the coordinator did not take up rank 1's image: $(tail -5 "$W/a.err")"
# its end is taken (the stage is running, so coord_lost_keep had its chance): nothing kept
sleep 1
left=$(ss -tnpH state close-wait 2>/dev/null | grep -c "pid=$JOB,")
[ "$left" = 0 ] ||
    { fail "the coordinator keeps $left connection(s) in CLOSE_WAIT after rank 1 (no host name) ended"; ss -tnp state close-wait | grep "pid=$JOB," | sed 's/^/    /'; }
pass "a rank without a host name ended while staging: its connection is not kept (no CLOSE_WAIT left)"

touch "$W/stage.hold"
kill -CONT $launcher
wait_for 60 '[ -f "$jd/0/snapshot.meta" ] || grep -q "checkpoint 0 is not committed" "$W/a.err"'
[ -f "$jd/0/snapshot.meta" ] || fail "the sequence did not commit: $(grep -m1 "not committed" "$W/a.err")"
expect_rc 0 "ckpt-info --verify of the sequence" "$INFO" --verify "$jd/0"
kill -TERM $JOB 2>/dev/null
job_gone $JOB 60 || fail "the coordinator did not end"
wait_no_strays 30
pass "the sequence commits and verifies"
finish
