#!/bin/bash
# started_remote.sh: the "a rank started" word (SNAPC_MSG_STARTED) that a rank's revive-exec
# sends a coordinator on another host (diffrev40 R-L1). It used to go from a detached background
# subshell: on a host whose firewall drops the coordinator's port that subshell lived on for the
# kernel's connect timeout (about 2 min), outliving the rank and its job; and it could arrive
# after the end of a job whose ranks ended at once. Now it is sent before the program runs,
# bounded to 5 s. In a network namespace of the test's own (root): the "coordinator" is an
# address whose packets go out on a veth and are dropped on its other end (a static neighbour
# entry: no ARP failure ends the connect), as a firewall drops them.
#  1. revive-exec (of /bin/true, which it then refuses: not an MPI program) returns within 5 s
#     + its kill grace + slack, and 3 s later no process it started is left (old: the sender
#     lived on); the job's secret is on no command line meanwhile.
#  2. a listener on the namespace's own address: the frame (the 16-byte header of type 24, then
#     the job's 64-character secret) is there when revive-exec returns.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (a network namespace of its own)"; exit 77; }
command -v ip >/dev/null && command -v unshare >/dev/null || { echo "SKIP: needs ip and unshare"; exit 77; }
EXEC=$B/tools/mpi/revive-exec
[ -x "$EXEC" ] || { echo "SKIP: $EXEC not built"; exit 77; }
snapc_workdir snapc-started
secret=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
cat >inner.sh <<'EOS'
# runs in the namespace: $1 revive-exec, $SECRET the secret; results in the current folder
exec_=$1 secret=$SECRET
ip link set lo up && ip link add v0 type veth peer name v1 && ip addr add 10.9.9.1/24 dev v0 &&
    ip link set v0 up && ip link set v1 up &&
    ip neigh add 10.9.9.2 lladdr 02:00:00:00:00:02 dev v0 nud permanent || { echo "no network" >setup.err; exit 1; }
# 1. a coordinator whose packets are dropped
t0=$(date +%s%N)
env -i PATH="$PATH" REVIVE_COORD=10.9.9.2:5555 REVIVE_JOB_SECRET="$secret" REVIVE_JOB_ID=0 \
    REVIVE_STARTED_MARK="$MARK" "$exec_" /bin/true >p1.out 2>p1.err &
e=$!
sleep 1
grep -lF "$secret" /proc/[0-9]*/cmdline 2>/dev/null >p1.cmdline
wait $e
echo "$(( ($(date +%s%N) - t0) / 1000000 ))" >p1.ms
sleep 3
for p in /proc/[0-9]*; do
    tr '\0' '\n' 2>/dev/null <$p/environ | grep -qxF "REVIVE_STARTED_MARK=$MARK" && echo "${p#/proc/} $(tr '\0' ' ' <$p/cmdline)"
done >p1.left
# 2. a coordinator that listens: what arrives
python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.9.9.1", 5556)); s.listen(1); s.settimeout(20)
open("listening", "w").close()
c, _ = s.accept(); c.settimeout(10); data = b""
while True:
    b = c.recv(4096)
    if not b: break
    data += b
open("frame.tmp", "wb").write(data)
import os; os.rename("frame.tmp", "frame")
' &
l=$!
for i in $(seq 100); do [ -e listening ] && break; sleep 0.1; done
env -i PATH="$PATH" REVIVE_COORD=10.9.9.1:5556 REVIVE_JOB_SECRET="$secret" REVIVE_JOB_ID=0 \
    "$exec_" /bin/true >p2.out 2>p2.err
[ -e frame ] && echo yes >p2.there || echo no >p2.there
wait $l
EOS
SECRET=$secret MARK=$$.$RANDOM timeout -k 5 60 unshare -n bash inner.sh "$EXEC"
[ -e setup.err ] && { echo "SKIP: the test's network could not be made ($(cat setup.err))"; exit 77; }
ms=$(cat p1.ms 2>/dev/null)
if [ -n "$ms" ] && [ "$ms" -lt 9000 ]; then
    echo "ok: 1. a coordinator that drops the connection: revive-exec returned after $ms ms (bound 5 s + 1 s)"
else
    echo "FAIL: 1. a coordinator that drops the connection: revive-exec returned after ${ms:-?} ms (bound 5 s + 1 s)"; fails=1
fi
if [ -s p1.left ]; then
    echo "FAIL: 1. 3 s after revive-exec returned, processes it started are left (the sender of the word): $(head -3 p1.left)"; fails=1
    kill -KILL $(cut -d' ' -f1 p1.left) 2>/dev/null
else
    echo "ok: 1. 3 s after revive-exec returned, no process it started is left"
fi
if [ -s p1.cmdline ]; then
    echo "FAIL: 1. the job's secret is on a command line: $(cat p1.cmdline)"; fails=1
else
    echo "ok: 1. the job's secret is on no command line"
fi
grep -q "is not linked against Open MPI" p1.err ||
    { echo "FAIL: 1. revive-exec /bin/true did not go on to refuse it: $(cat p1.err)"; fails=1; }
want=$(printf 'RVSC\x01\x00\x18\x00\x40\x00\x00\x00\x00\x00\x00\x00%s' "$secret" | od -An -tx1 | tr -d ' \n')
got=$(od -An -tx1 frame 2>/dev/null | tr -d ' \n')
if [ "$(cat p2.there 2>/dev/null)" = yes ] && [ "$got" = "$want" ]; then
    echo "ok: 2. the STARTED frame (header, type 24, the secret) was in when revive-exec returned"
else
    echo "FAIL: 2. the STARTED frame: there when revive-exec returned: $(cat p2.there 2>/dev/null); got '$got', want '$want'"; fails=1
fi
exit $fails
