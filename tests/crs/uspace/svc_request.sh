#!/bin/bash
# A request to a system daemon in progress at the checkpoint (issue 7): crt_svcreq.py, a client
# of a stand-in daemon's stream socket (tests/mpi/ckpt/rank_fdmade_svc.py) that the process's
# REVIVE_SERVICE_SOCKETS names, is checkpointed while the answer to its request has arrived and
# waits unread (a park at any moment can catch a program between the answer's arrival and its
# recv; CI once refused an MPI snapshot so, "connected to ... a socket of process N 'python3',
# another process ... close it first"):
#   park    the program reads the answer once the test saw it parked by the checkpoint (its
#           main thread waiting in futex: /proc/PID/syscall): cr_checkpoint --kill must succeed
#           (libcr lets the threads run and parks them again), and the restarted process, its
#           socket restored unconnected, connects again and ends as the uninterrupted run;
#   never   the program does not read it until told: cr_checkpoint must be refused after its
#           tries (REVIVE_PARK_TIMEOUT_S=2 bounds them here, 10 s otherwise) in one line saying
#           a request to the service at DIR/stream is in progress, a reply waiting unread, not
#           "another process"; the program runs on and ends as the uninterrupted run.
# Wall time about 5 s.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup svc_request
crs_need_tools cr_run cr_checkpoint cr_restart
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }
src=${REVIVE_SRCDIR:-$(dirname "$0")/../../..}
svc=$WORK/svc
mkdir -p "$svc"
python3 "$src/tests/mpi/ckpt/rank_fdmade_svc.py" "$svc" >"$svc/err" 2>&1 &
svcpid=$!
crs_at_exit "kill $svcpid 2>/dev/null"
crs_wait_for "$svc/ready" 30 || { crs_fail "the stand-in daemon did not start: $(cat "$svc/err")"; crs_summary svc_request; }
export REVIVE_SERVICE_SOCKETS="$svc/"
client=$src/tests/crs/uspace/crt_svcreq.py

# release_when_parked PID FILE: makes FILE once PID's main thread is seen parked (in futex, the
# park's wait: the program itself waits in nanosleep), for up to 120 s
release_when_parked() {
    local nr i
    for i in $(seq 6000); do
        read -r nr _ <"/proc/$1/syscall" 2>/dev/null || return 1
        [ "$nr" = 202 ] && { touch "$2"; return 0; }
        crs_nap 0.02
    done
    return 1
}

# park: waited for, taken, restarted
d=$WORK/park
crs_start_or_end "park: the client never got its answer waiting" "$d" "$CRS_TOOLS/cr_run" python3 "$client" "$svc" park
release_when_parked "$PID" "$d/go.2" &
watcher=$!
crs_at_exit "kill $watcher 2>/dev/null"
crs_tool "$WORK/ck" cr_checkpoint --kill -f "$WORK/park.img" "$PID"
st=$?
if [ $st != 0 ]; then
    crs_fail "park: cr_checkpoint --kill with the answer waiting unread: $(crs_status_text $st): $(head -n 1 "$WORK/ck.err")"
else
    crs_wait_status "$d/orig" 30 >/dev/null
    [ -e "$d/go.2" ] && grep -q "^reads the reply" "$d/orig.out" &&
        crs_pass "park: taken once the program read the answer it held at the park" ||
        crs_fail "park: the program did not read the answer after a park: $(tail -n 1 "$d/orig.out")"
    touch "$d/go.1"
    st=$(cd "$d" && crs_run "$d/r1" "$CRS_TOOLS/cr_restart" "$WORK/park.img")
    if [ "$st" = 42 ] && grep -q "^reconnected" "$d/r1.out" && tail -n 1 "$d/r1.out" | grep -q "RESULT ok"; then
        crs_pass "park: the restarted client connected again and ended as uninterrupted"
    else
        crs_fail "park: the restart: $(crs_status_text "$st"): $(tail -n 2 "$d/r1.out" "$d/r1.err" | tr '\n' ' ')"
    fi
fi

# never: refused after the tries, naming the request in progress; the program runs on
d=$WORK/never
crs_start_or_end "never: the client never got its answer waiting" "$d" "$CRS_TOOLS/cr_run" python3 "$client" "$svc" never
REVIVE_PARK_TIMEOUT_S=2 crs_tool "$WORK/nk" cr_checkpoint -f "$WORK/never.img" "$PID"
crs_expect_refusal "never: refused, the answer never read" "$WORK/nk.err" $? \
    "a request to the service at $svc/stream is in progress (a reply is waiting unread"
grep -q "another process" "$WORK/nk.err" && crs_fail "never: the refusal says another process: $(head -n 1 "$WORK/nk.err")"
grep -q "tries over" "$WORK/nk.err" || crs_fail "never: the refusal does not say it tried again: $(head -n 1 "$WORK/nk.err")"
if crs_finish "$d" orig; then
    crs_pass "never: the program ran on to its end"
else
    crs_fail "never: the program after the refusal: $(crs_status_text "$FINISH_STATUS"): $(tail -n 1 "$d/orig.err")"
fi
crs_summary svc_request
