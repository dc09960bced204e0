#!/bin/bash
# fetch_agent.sh FLAVOR: the fetch from a host's cache asks the host where the launch's remote
# shell goes, not port 22 whatever it is (diffrev48 R-M2). A --term snapshot of a job on h1,h2
# (--ckpt-local) launched through a remote shell that is not ssh (the bed's agent, as a site's
# own agent or a container runtime's exec: its way to a host cannot be told from here); rank
# 2's shared image removed (h2's cache holds it); h2's port 22 closed while h2 stays up and the
# agent reaches it. The restart on h1,h3 fetches rank 2 from h2 through the agent: the native
# result (before: "rank 2's image is in no copy ... h2: down: refuses connections on port 22");
# restart-mpi --showme says h2 is not probed and why.
flavor=$1
. "$(dirname "$0")/lib.sh"
cache_bed fetchagent 3
HB_AGENT=$HB/agent
launch_opts h1:2,h2:2
term_job a
[ -f "$HB/node/h2/$jd/0/rank_2.img" ] || fail "h2's cache does not hold rank 2's image"
rm -f "$ref/rank_2.img"
hb_sshd_stop h2 22
wait_for 30 '! on h1 timeout 2 bash -c "echo >/dev/tcp/10.77.0.2/22" 2>/dev/null' || fail "h2's port 22 still answers"
[ "$(on h1 "$HB_AGENT" h2 hostname 2>/dev/null)" = h2 ] || fail "the agent does not reach h2"
hostfile "$W/hosts13" h1:2 h3:2
# --showme says h2 is not probed, and why
on h1 timeout -k 5 120 "$RESTART" --showme --ckpt-local "$LOCAL" --hostfile "$W/hosts13" "$ref" >"$W/show.out" 2>"$W/show.err"
grep -qF "#   h2: rank 2 (its node's cache); not probed (the remote shell's way there is not known" "$W/show.out" ||
    fail "$flavor: --showme does not say h2 is not probed: $(grep '^#   h2' "$W/show.out" | head -2)"
: >"$HB/agent.log"
on h1 timeout -k 5 600 "$RESTART" --ckpt-local "$LOCAL" --hostfile "$W/hosts13" "$ref" >"$W/r.out" 2>"$W/r.err"
st=$?
if [ $st = 0 ] && cmp -s "$W/native.out" "$W/r.out" && grep -qx h2 "$HB/agent.log"; then
    pass "$flavor: a remote shell that is not ssh, h2's port 22 closed: rank 2 fetched from h2's cache through it, restart on h1,h3, native result"
else
    fail "$flavor: restart-mpi status $st, agent to: $(sort -u "$HB/agent.log" | tr '\n' ' '), last lines: $(tail -3 "$W/r.err" | cut -c1-300)"
fi
finish
