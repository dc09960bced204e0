#!/bin/bash
# ckpt-mpirun against what it must refuse, each with one clear message and exit status 1 (2
# for wrong usage), no hang, the job untouched: a dead PID, a process that is no launcher, a
# launcher started without -am ft-enable-cr, another user's job, a job still starting, a job in
# MPI_Finalize, a second request during a checkpoint (and --wait), ranks that cannot reach a safe
# point (--timeout), a rank with a wrong secret; bad options.
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-badinput

expect_rc 2 "no PID" "$CKPT"
expect_rc 2 "a PID that is no number" "$CKPT" 12ab && err_has "'12ab' is not a process id"
expect_rc 2 "--term with --stop" "$CKPT" --term --stop 1 && err_has "exclude each other"
expect_rc 2 "a bad --timeout" "$CKPT" --timeout 0 1 && err_has "--timeout needs a whole number"

# a dead PID
sleep 0 & dead=$!; wait $dead
expect_rc 1 "a dead PID" "$CKPT" $dead && err_has "there is no process $dead"
# a process that is not an MPI launcher
sleep 60 & other=$!
jobs_started="$jobs_started $other"
wait_exec $other
expect_rc 1 "a non-launcher" "$CKPT" $other && err_has "(sleep) is not an MPI launcher started with Revive's 'mpirun -am ft-enable-cr'"
# a launcher started without -am ft-enable-cr (a program called mpirun)
ln -s "$(command -v sleep)" "$W/mpirun"
"$W/mpirun" 60 & plain=$!
jobs_started="$jobs_started $plain"
wait_exec $plain
expect_rc 1 "a launcher without ft-enable-cr" "$CKPT" $plain && err_has "was not started with 'mpirun -am ft-enable-cr'"
# a process with a launcher under it (timeout wrapping mpirun): refused, naming that launcher
timeout 60 "$W/mpirun" 60 & wrapped=$!
jobs_started="$jobs_started $wrapped"
wait_exec $wrapped
wait_for 60 '[ "$(cat /proc/$(pgrep -P $wrapped | head -1)/comm 2>/dev/null)" = mpirun ]'
child=$(pgrep -P $wrapped | head -1)
expect_rc 1 "timeout wrapping a launcher" "$CKPT" $wrapped &&
    err_has "(timeout) is not an MPI launcher started with Revive's 'mpirun -am ft-enable-cr' (nor is any process above it); under it, process $child (mpirun) is an MPI launcher: ckpt-mpirun $child"
kill $other $plain $wrapped
pass "dead PID, non-launcher, launcher without -am ft-enable-cr, a wrapper of a launcher"

# a job of ours
# (rank 0's capture waits while a.hold exists: a checkpoint held in progress, below)
start_job a 4 --iters $UNTIL_KILLED --sleep-us 500 --hold "0:capture:$W/a.hold"
# another user (nobody) asks: refused, and the job's socket is out of its reach anyway
if command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
    chmod 755 "$W"   # let nobody reach ckpt-mpirun's path only; the socket dir stays 0700
    expect_rc 1 "another user's job" setpriv --reuid=nobody --regid=nogroup --clear-groups \
        "$CKPT" $JOB && err_has "process $JOB (revive-coord) belongs to user root (uid 0): only that user or root can checkpoint it"
    expect_rc 1 "another user's job, by a rank's pid" setpriv --reuid=nobody --regid=nogroup \
        --clear-groups "$CKPT" "$(pgrep -f -- "--ready $W/a.ready" | tail -1)" && err_has "belongs to user root"
    # the coordinator checks its peer itself: with the socket opened to everybody (as a careless
    # admin could), a request straight on it from another uid is refused, the job not touched
    # (a system python3 other users can run; none: this part is skipped, and said so)
    py=/usr/bin/python3
    if [ -x $py ]; then
    chmod 711 "$REVIVE_SOCKET_DIR"; chmod 666 "$REVIVE_SOCKET_DIR/coord.$JOB"
    setpriv --reuid=nobody --regid=nogroup --clear-groups $py - "$REVIVE_SOCKET_DIR/coord.$JOB" \
        >"$W/peer.out" 2>&1 <<'EOS'
import socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
try:
    s.sendall(struct.pack('<IHHII', 0x43535652, 1, 100, 8, 0) + struct.pack('<II', 0, 0))
except OSError:
    pass  # the coordinator answers at once, and closes
data = b''
while True:
    b = s.recv(4096)
    if not b:
        break
    data += b
print(data[16 + 16:].decode(errors='replace'))
EOS
    chmod 700 "$REVIVE_SOCKET_DIR"; chmod 600 "$REVIVE_SOCKET_DIR/coord.$JOB"
    grep -q '"error":"this job belongs to another user (uid 0)"' "$W/peer.out" ||
        { fail "a request from another uid on the socket: $(cat "$W/peer.out")"; }
    wait_for 30 'grep -q "refused a tool connection from uid 65534" "$W/a.err"' || fail "the coordinator did not log the refusal"
    else
        echo "skip: no $py: the coordinator's own peer check is not run"
    fi
    chmod 700 "$W"
    pass "another user's job (ckpt-mpirun refuses; the coordinator checks its peer itself)"
else
    echo "skip: no setpriv or no user nobody: the other-user case is not run"
fi
# a rank's pid finds the job too
r=$(pgrep -f -- "--ready $W/a.ready" | tail -1)
expect_rc 0 "a rank's pid" "$CKPT" $r && consistent "$(tail -n1 "$W/cmd.out")" 4
# a second request while a checkpoint runs (rank 0's capture held until the third request is
# queued; the second is made once every rank has drained): refused, or queued
touch "$W/a.hold"
"$CKPT" --status $JOB >"$W/first.out" 2>"$W/first.err" & first=$!
wait_for 60 'grep -q "] Drained" "$W/first.err"' || fail "the first request did not reach Drained"
expect_rc 1 "a second request" "$CKPT" $JOB && err_has "a checkpoint of this job is in progress (sequence 1); try again when it ends"
"$CKPT" --wait --status $JOB >"$W/third.out" 2>"$W/third.err" & third=$!
wait_for 60 'grep -q "] Queued" "$W/third.err"' || fail "the waiting request was not queued: $(cat "$W/third.err")"
rm -f "$W/a.hold"
wait $first || fail "the first request failed: $(cat "$W/first.err")"
wait $third || fail "the waiting request failed: $(cat "$W/third.err")"
[ "$(tail -n1 "$W/first.out")" = "$W/revive_global_snapshot_$JOB.ckpt/1" ] || fail "first: $(cat "$W/first.out")"
[ "$(tail -n1 "$W/third.out")" = "$W/revive_global_snapshot_$JOB.ckpt/2" ] || fail "waiting: $(cat "$W/third.out")"
grep -q "] Queued (after the checkpoint in progress, sequence 1)" "$W/third.err" || fail "--wait --status: not told it was queued: $(head -3 "$W/third.err")"
# each requester's summary is its own snapshot's: the first's was printed after the queued
# request had started the next epoch, and showed that one's numbers ("snapshot 2 ... 0 B",
# times -1)
for w in first:1 third:2; do
    f=$W/${w%:*}.err s=${w#*:}
    grep -qE "snapshot $s committed: 4 ranks, [1-9]" "$f" && ! grep -q "running again -1" "$f" ||
        fail "${w%:*} request's summary is not snapshot $s's: $(grep -A1 committed "$f")"
done
pass "second request refused, --wait queued, each summary its own"
# a rank with the wrong secret is refused; the job is not disturbed
coord=$(tr '\0' '\n' < /proc/$(launcher_of $JOB)/environ | sed -n 's/^REVIVE_COORD=//p')
bad=$(printf '%064d' 7)
truncate -s 65536 "$W/shm"
FAKE_RANK=0 FAKE_SIZE=4 FAKE_SHM_FD=9 REVIVE_COORD=$coord REVIVE_JOB_SECRET=$bad \
    "$FRANK" --iters 1 </dev/null >"$W/intruder.out" 2>"$W/intruder.err" 9<>"$W/shm"
rc=$?
[ $rc = 1 ] || fail "a wrong secret: status $rc"
grep -q "the job's coordinator refused this rank: wrong job secret" "$W/intruder.err" ||
    { fail "a wrong secret: no clear message"; cat "$W/intruder.err"; }
grep -q "refused a connection from .*: wrong job secret" "$W/a.err" || fail "the coordinator did not log the refusal"
# a connection saying nothing, one sending garbage, one announcing a frame too large for an
# unproven peer: each closed, the job not disturbed
exec 7<>/dev/tcp/${coord%:*}/${coord#*:}; exec 7>&-
exec 7<>/dev/tcp/${coord%:*}/${coord#*:}; printf 'GET / HTTP/1.0\r\n\r\n' >&7; exec 7>&-
exec 7<>/dev/tcp/${coord%:*}/${coord#*:}; printf 'RVSC\001\000\001\000\000\000\020\000\000\000\000\000' >&7; exec 7>&-
wait_for 30 'grep -q "not a Revive coordination frame" "$W/a.err"' || fail "garbage was not refused"
wait_for 30 'grep -q "frame of 1048576 bytes is too long" "$W/a.err"' || fail "a large frame before HELLO was not refused"

expect_rc 0 "a snapshot after the intruders" "$CKPT" $JOB && consistent "$(tail -n1 "$W/cmd.out")" 4
pass "wrong secret refused"
kill -TERM $JOB; wait $JOB

# a rank that cannot reach a safe point: no checkpoint after --timeout, the job goes on
start_job b 3 --iters $UNTIL_KILLED --sleep-us 500 --stall 1:100
wait_for 120 'grep -q "fake_rank 1: stalling outside MPI" "$W/b.err"' || fail "rank 1 did not stall"
t0=$(date +%s%N)
expect_rc 1 "a stalled rank" "$CKPT" --timeout 2 $JOB &&
    err_has "no checkpoint: rank 1 is outside MPI (targets not reached within 2 s)"
t=$(( ($(date +%s%N) - t0) / 1000000 ))
[ $t -lt 30000 ] || fail "the timeout took $t ms (not the 2 s asked)"
[ -d "$W/revive_global_snapshot_$JOB.ckpt/0" ] && fail "the failed sequence was left behind"
kill -0 $JOB || fail "the job ended after the timeout"
kill -TERM $JOB; wait $JOB
# its snapshot directory, made for that checkpoint, holds nothing: not left once the job has
# ended (review newuser7 L2: an empty revive_global_snapshot_PID.ckpt stayed)
[ -e "$W/revive_global_snapshot_$JOB.ckpt" ] &&
    fail "an empty snapshot directory left: $(ls -la "$W/revive_global_snapshot_$JOB.ckpt")"
pass "--timeout: no checkpoint, the rank named, no empty snapshot directory left"

# requests while the job starts (rank 3 starts its agent once c.start exists) and while a rank
# is in MPI_Finalize
mkdir -p "$W/c.ready"
( clean_exec REVIVE_VERBOSE=2 "$COORD" --flavor fake -- "$FLAUNCH" -np 4 "$FRANK" --ready "$W/c.ready" \
    --iters 50 --sleep-us 100 --start-file "3:$W/c.start" --end-sleep 60 --early-finalize 2 ) >"$W/c.out" 2>"$W/c.err" &
JOB=$!; jobs_started="$jobs_started $JOB"
wait_for 60 '[ "$(ls "$W/c.ready" | wc -l)" -ge 3 ]' || fail "the job c did not start"
expect_rc 1 "a job still starting" "$CKPT" $JOB && err_has "the job is starting: 3 of 4 ranks ready; try again in a moment"
touch "$W/c.start"
wait_for 60 '[ "$(ls "$W/c.ready" | wc -l)" -ge 4 ]' || fail "rank 3 of job c did not start"
# rank 2 enters MPI_Finalize after its 50 steps, the others sleep 60 s before theirs: a request
# before that may still be taken; once rank 2 is there, every request is refused
for t in $(seq 1 60); do
    "$CKPT" $JOB >"$W/cmd.out" 2>"$W/cmd.err"; rc=$?
    grep -qF "rank 2 has called MPI_Finalize: the job is ending" "$W/cmd.err" && [ $rc = 1 ] && break
    # taken before rank 2 got there, or aborted when it did: ask again
    [ $rc = 0 ] || grep -q "MPI_Finalize" "$W/cmd.err" || { fail "a rank in MPI_Finalize: status $rc"; cat "$W/cmd.err"; break; }
    sleep 0.2
done
err_has "rank 2 has called MPI_Finalize: the job is ending"
kill -TERM $JOB; wait $JOB
pass "requests while starting and after MPI_Finalize"

# the PID of Revive's mpirun while it is still a script (before it execs the coordinator) or
# of restart-mpi still checking: "still starting"; with --wait, the snapshot once it runs
mkdir -p "$W/wrap" "$W/d.ready"
cat >"$W/wrap/mpirun" <<EOS
#!/bin/bash
until [ -e "$W/go" ]; do sleep 0.05; done
exec "$COORD" --flavor fake -- "$FLAUNCH" -np 2 "$FRANK" --ready "$W/d.ready" --iters $UNTIL_KILLED --sleep-us 300
EOS
chmod +x "$W/wrap/mpirun"
( clean_exec REVIVE_VERBOSE=2 "$W/wrap/mpirun" -am ft-enable-cr -np 2 ./app ) >"$W/d.out" 2>"$W/d.err" &
JOB=$!; jobs_started="$jobs_started $JOB"
wait_for 30 '[ "$(cat /proc/$JOB/comm 2>/dev/null)" = mpirun ]' || fail "the stand-in mpirun did not start"
expect_rc 1 "a Revive mpirun still starting" "$CKPT" $JOB && err_has "job $JOB (mpirun) is still starting: its coordinator is not up yet; try again in a moment, or use --wait"
"$CKPT" --wait $JOB >"$W/dw.out" 2>"$W/dw.err" & waiter=$!
touch "$W/go"
wait $waiter || fail "--wait on a starting job: $(cat "$W/dw.err")"
[ "$(tail -n1 "$W/dw.out")" = "$W/revive_global_snapshot_$JOB.ckpt/0" ] || fail "--wait on a starting job: $(cat "$W/dw.out")"
kill -TERM $JOB; wait $JOB
pass "a Revive mpirun still starting: refused, or waited for with --wait"

# --wait given a process that has not exec'd mpirun yet: `nohup mpirun ... & ckpt-mpirun --wait
# $!` looking before nohup (or env, setsid, the forked shell) exec'd it was refused at once
# (issue 7 review F2). A young process is looked at again (until it is 10 s old): here a shell
# that execs Revive's mpirun once "go2" is there, 2 s after the request
( clean_exec bash -c 'until [ -e "$1" ]; do sleep 0.05; done; shift; exec "$@"' sh "$W/go2" \
    "$W/wrap/mpirun" -am ft-enable-cr -np 2 ./app ) >"$W/f.out" 2>"$W/f.err" &
JOB=$!; jobs_started="$jobs_started $JOB"
wait_for 30 '[ "$(cat /proc/$JOB/comm 2>/dev/null)" = bash ]' || fail "the shell before mpirun did not start"
"$CKPT" --wait $JOB >"$W/fw.out" 2>"$W/fw.err" & waiter=$!
sleep 2
touch "$W/go2"
wait $waiter || fail "--wait on a shell that execs mpirun 2 s later: $(cat "$W/fw.err")"
[ "$(tail -n1 "$W/fw.out")" = "$W/revive_global_snapshot_$JOB.ckpt/0" ] || fail "--wait on a shell about to exec mpirun: $(cat "$W/fw.out")"
kill -TERM $JOB; wait $JOB
# one that never becomes a job: refused once it is 10 s old, saying --wait looked at it
sleep 60 & other=$!
jobs_started="$jobs_started $other"
wait_exec $other
t0=$SECONDS
expect_rc 1 "--wait on a young process that never runs mpirun" "$CKPT" --wait $other &&
    err_has "process $other (sleep) is not an MPI launcher started with Revive's 'mpirun -am ft-enable-cr' (nor is any process above it) (--wait looked at it until it was 10 s old: it did not exec Revive's mpirun); give the PID of the job's mpirun"
[ $((SECONDS - t0)) -le 30 ] || fail "--wait on a young non-launcher took $((SECONDS - t0)) s (bound 10 s)"
kill $other
pass "--wait on a process about to exec mpirun: waited for; one that never does: refused after 10 s"

# before any rank has connected (the launcher has started none yet): "no rank is ready yet",
# refused or queued (it said "0 of 0 ranks ready")
( clean_exec REVIVE_VERBOSE=2 "$COORD" --flavor fake -- sleep 120 ) >"$W/e.out" 2>"$W/e.err" &
JOB=$!; jobs_started="$jobs_started $JOB"
wait_for 60 '[ -S "$REVIVE_SOCKET_DIR/coord.$JOB" ]' || fail "the job e did not start"
expect_rc 1 "no rank yet" "$CKPT" $JOB && err_has "the job is starting: no rank is ready yet; try again in a moment"
"$CKPT" --wait --status $JOB >"$W/ew.out" 2>"$W/ew.err" & waiter=$!
wait_for 60 'grep -q "Queued" "$W/ew.err"' || fail "--wait --status with no rank: not queued"
grep -q "] Queued (the job is starting: no rank is ready yet)" "$W/ew.err" ||
    fail "--wait --status with no rank: $(cat "$W/ew.err")"
pass "no rank connected yet: 'no rank is ready yet'"
# --wait is bounded by --timeout while the job starts (review9 F1: it waited for ever, silently,
# on a job whose host was unreachable): said at once, then given up naming what is missing; the
# job goes on (the queued --wait --status above still waits)
expect_rc 1 "--wait --timeout 2 on a job no rank of which connects" timeout -k 5 60 "$CKPT" --wait --timeout 2 $JOB &&
    err_has "] waiting for the job to start: no rank connected" &&
    err_has "ckpt-mpirun: the job has not started within 2 s: no rank connected" &&
    err_has "no checkpoint was begun and the snapshot directory is unchanged"
kill -0 $JOB 2>/dev/null || fail "the job ended when a --wait request gave up"
kill -0 $waiter 2>/dev/null || fail "the other queued request ended with the one that gave up"
# without --wait, once the job has been starting for longer than --timeout (it has, by the 2 s
# above): what is missing, not "try again in a moment" (it said that for ever)
expect_rc 1 "no --wait, --timeout 1, a job starting for longer" "$CKPT" --timeout 1 $JOB &&
    err_has "the job has been starting for" && err_has "(longer than 1 s, --timeout) and is not ready: no rank connected" &&
    err_has "end the job (kill $JOB) if a host is lost, or wait for it: ckpt-mpirun --wait --timeout SEC $JOB"
grep -q "try again in a moment" "$W/cmd.err" && fail "a job starting for longer than --timeout: still 'try again in a moment'"
kill -TERM $JOB; wait $JOB; wait $waiter
pass "--wait --timeout on a job still starting: progress said, given up after the timeout naming what is missing; without --wait, past --timeout: named too"

# an MPMD line "OPTIONS PROG : OPTIONS PROG" (coord.c and coord_startwait.c read only the options
# before the first program): a later program's unknown host refused at the launch in one line;
# --wait giving up on such a job no rank of which connects counts every program's ranks and names
# every program's hosts. The launcher a script that only waits (it starts no rank).
printf '#!/bin/sh\nexec sleep 120\n' >"$W/mpmd_launch"; chmod +x "$W/mpmd_launch"
if expect_rc 1 "an MPMD line whose second program names an unknown host" \
    timeout -k 5 20 "$COORD" --flavor fake --prog 4 --prog 10 -- "$W/mpmd_launch" \
    -np 2 -host localhost "$FRANK" : -np 3 -host revive-nohost.invalid "$FRANK" &&
    err_has "revive-coord: the launcher option -host revive-nohost.invalid names host 'revive-nohost.invalid', which this machine cannot resolve"; then
    [ "$(wc -l <"$W/cmd.err")" = 1 ] || fail "the unknown host of an MPMD line: more than one line: $(cat "$W/cmd.err")"
fi
( clean_exec REVIVE_VERBOSE=2 "$COORD" --flavor fake --prog 4 --prog 10 -- "$W/mpmd_launch" \
    -np 2 -host localhost "$FRANK" : -np 3 -host 127.0.0.1 "$FRANK" ) >"$W/m.out" 2>"$W/m.err" &
JOB=$!; jobs_started="$jobs_started $JOB"
wait_for 60 '[ -S "$REVIVE_SOCKET_DIR/coord.$JOB" ]' || fail "the MPMD job did not start: $(cat "$W/m.err")"
expect_rc 1 "--wait --timeout 1 on an MPMD job no rank of which connects" timeout -k 5 60 "$CKPT" --wait --timeout 1 $JOB &&
    err_has "ckpt-mpirun: the job has not started within 1 s: 0 of 5 ranks connected; not connected: ranks 0,1,2,3,4; hosts given to the launcher where no rank connected: localhost,127.0.0.1"
kill -TERM $JOB; wait $JOB
pass "an MPMD line: every program's hosts checked at the launch, counted and named when the job does not start"
finish
