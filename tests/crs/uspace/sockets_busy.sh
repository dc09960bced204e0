#!/bin/bash
# Sockets that cannot come back (issue 10, point 6):
#   - crt_sockets checkpointed with --cont and restarted while the original
#     still holds its addresses: cr_restart fails in one line saying another
#     process holds the address (naming the socket's descriptor, the original
#     and its descriptor), the program never running; once the original has
#     finished, the same image restarts;
#   - the port of its TCP connection's client end taken by another process: the
#     restart fails in one line naming it; a holder that lets go at once is
#     waited for;
#   - with CRT_SOCKETS_OUTSIDE the program also holds a TCP connection to a
#     listener of another process: the checkpoint is refused in one line
#     naming the descriptor, and the program runs on;
#   - with CRT_SOCKETS_OUTSIDE_UNIX a Unix connection to another process:
#     refused naming that process (pid and name);
#   - with CRT_SOCKETS_PENDING_OUTSIDE a connection from another process
#     waiting to be accepted on a TCP listener beside the program's own:
#     refused naming the listener, and the program runs on;
#   - with CRT_SOCKETS_ACCEPT_OUTSIDE a connection from another process to the
#     listener without SO_REUSEADDR, accepted and closed by the program first:
#     after the original is gone its end holds the listener's address in
#     TIME-WAIT (FIN-WAIT-2 while the other end is open), and no restart ends
#     it, as root neither (not a connection of the image): the refusal says
#     so in one line, naming the other end, without "root".
. "$(dirname "$0")/../crs_lib.sh"
crs_setup sockets_busy
crs_need_tools cr_run cr_checkpoint cr_restart
crs_busy_image sockets_busy "$CRS_BIN/crt_sockets"
crs_tool "$WORK/r1" cr_restart "$WORK/img"
crs_expect_refusal "cr_restart while the original holds its addresses" "$WORK/r1.err" $? \
    "another process holds that address"
[ -s "$WORK/r1.out" ] && crs_fail "the refused restart printed: $(head -n 1 "$WORK/r1.out")"
# the message names the descriptor the program knows the socket by
nfd=$(sed -n 's/.*cannot bind the socket at descriptor \([0-9]*\) .*/\1/p' "$WORK/r1.err")
if [ -n "$nfd" ] && readlink "/proc/$PID/fd/$nfd" | grep -q '^socket:'; then
    crs_pass "the refusal names descriptor $nfd, a socket of the program"
else
    crs_fail "the refusal does not name the socket's descriptor: $(head -n 1 "$WORK/r1.err")"
fi
# and the original as the holder, with its descriptor holding the address: a restart beside it
# runs in a pid namespace whose /proc does not show it, and the refusal said only "another
# process holds that address" (newuser10 L1: the connection named, not the listener holding it)
hfd=$(sed -n "s/.*the original process ($PID, crt_sockets) still runs and holds it (descriptor \([0-9]*\)).*/\1/p" \
    "$WORK/r1.err")
if [ -n "$hfd" ] && readlink "/proc/$PID/fd/$hfd" | grep -q '^socket:'; then
    crs_pass "the refusal names the original ($PID) and its socket at descriptor $hfd"
else
    crs_fail "the refusal does not name the original and its descriptor: $(head -n 1 "$WORK/r1.err")"
fi
# the client end of the program's TCP connection to itself: its port, one the kernel chose
cport=
for lp in $(ss -tnpH state established 2>/dev/null | grep "pid=$PID," | awk '{print $3}' | sed 's/.*://'); do
    ss -tlnpH 2>/dev/null | grep "pid=$PID," | awk '{print $4}' | grep -q ":$lp\$" || cport=$lp
done
crs_restart_after_original "once the original is gone the image restarts"

# that port given to another process once the original has gone (a CI run: a test beside took
# it): one line naming the socket and the address; a holder that lets go within a second or two
# is waited for
hold_port() { # PORT SECONDS: a listener of another process on 127.0.0.1:PORT for SECONDS
    python3 -c 'import socket,sys,time,os
s=socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1)
open(sys.argv[2] + ".tmp", "w").close()
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
time.sleep(float(sys.argv[3]))' "$1" "$WORK/held.$1.$2" "$2" </dev/null >/dev/null 2>&1 &
    hpid=$!
    crs_at_exit "kill $hpid"
    crs_wait_for "$WORK/held.$1.$2" 30
}
if [ -z "$cport" ]; then
    crs_fail "the client port of crt_sockets' TCP connection was not found with ss"
elif hold_port "$cport" 60; then
    rm -f ready.*
    crs_tool "$WORK/r3" cr_restart "$WORK/img"
    crs_expect_refusal "cr_restart while another process holds the client port $cport" "$WORK/r3.err" $? \
        "to 127.0.0.1:$cport again: another process holds that address"
    [ -s "$WORK/r3.out" ] && crs_fail "the refused restart printed: $(head -n 1 "$WORK/r3.out")"
    kill "$hpid" 2>/dev/null
    wait "$hpid" 2>/dev/null
    if hold_port "$cport" 1; then
        rm -f ready.*
        st=$(crs_run "$WORK/r4" "$CRS_TOOLS/cr_restart" "$WORK/img")
        crs_expect_run "a holder of the client port that lets go after 1 s is waited for" "$WORK/after1" "$WORK/r4" "$st"
    else
        crs_fail "the holder of port $cport never started"
    fi
else
    crs_fail "the holder of port $cport never started"
fi

# a connection to another process
python3 -c 'import socket,sys,time
s=socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(4)
open(sys.argv[1] + ".tmp", "w").write("%d\n" % s.getsockname()[1])
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
held=[]
s.settimeout(120)
while True: held.append(s.accept()[0])' "$WORK/port" </dev/null >/dev/null 2>&1 &
lpid=$!
crs_at_exit "kill $lpid"
crs_wait_for "$WORK/port" 30 || crs_fail "outside: the listener of another process never started"
port=$(cat "$WORK/port" 2>/dev/null)
d2=$WORK/outside
CRT_SOCKETS_OUTSIDE=$port crs_start_or_end "outside: crt_sockets never got ready" "$d2" "$CRS_TOOLS/cr_run" "$CRS_BIN/crt_sockets"
crs_tool "$WORK/ck2" cr_checkpoint -f "$WORK/img2" "$PID"
# naming the other process's address and the connection's own (newuser7b F5: the descriptor only)
crs_expect_refusal "a TCP connection to another process" "$WORK/ck2.err" $? \
    "a TCP connection to another process at 127.0.0.1:$port (local address 127.0.0.1:"
[ -e "$WORK/img2" ] && crs_fail "the refused checkpoint left an image"
crs_finish "$d2" orig && crs_pass "the program ran on" || crs_fail "the program after the refusal: $FINISH_STATUS"
kill "$lpid" 2>/dev/null

# a Unix connection to another process: the refusal names that process and the socket
python3 -c 'import socket,sys,os
s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(4)
open(sys.argv[1] + ".ready", "w").close()
held=[]
s.settimeout(120)
while True: held.append(s.accept()[0])' "$WORK/usock" </dev/null >/dev/null 2>&1 &
upid=$!
crs_at_exit "kill $upid"
crs_wait_for "$WORK/usock.ready" 30 || crs_fail "outside unix: the listener of another process never started"
d3=$WORK/outside_unix
CRT_SOCKETS_OUTSIDE_UNIX=$WORK/usock crs_start_or_end "outside unix: crt_sockets never got ready" "$d3" "$CRS_TOOLS/cr_run" "$CRS_BIN/crt_sockets"
crs_tool "$WORK/ck3" cr_checkpoint -f "$WORK/img3" "$PID"
crs_expect_refusal "a Unix connection to another process, named" "$WORK/ck3.err" $? \
    "connected to $WORK/usock, a socket of process $upid 'python3'"
[ -e "$WORK/img3" ] && crs_fail "the refused checkpoint left an image"
crs_finish "$d3" orig && crs_pass "the program ran on" || crs_fail "the program after the refusal: $FINISH_STATUS"
kill "$upid" 2>/dev/null

# a connection from another process waiting in a TCP listener's queue (not accepted yet) cannot
# come back: refused naming the listener and the count (before: refused for any waiting one,
# the program's own ones too, which now come back: crs_sockets)
python3 -c 'import socket,sys,os,time
w=sys.argv[1]
for i in range(3000):
    if os.path.exists(w): break
    time.sleep(0.02)
c=socket.create_connection(("127.0.0.1", int(open(w).read())))
open(w + ".done", "w").close()
time.sleep(120)' "$WORK/tl3port" </dev/null >/dev/null 2>&1 &
opid=$!
crs_at_exit "kill $opid"
d5=$WORK/pending_outside
CRT_SOCKETS_PENDING_OUTSIDE=$WORK/tl3port crs_start_or_end "pending outside: crt_sockets never got ready" "$d5" \
    "$CRS_TOOLS/cr_run" "$CRS_BIN/crt_sockets"
crs_tool "$WORK/ck5" cr_checkpoint -f "$WORK/img5" "$PID"
crs_expect_refusal "a connection from another process waiting on a listener" "$WORK/ck5.err" $? \
    "is listening with 2 connections waiting to be accepted, of which the process holds the client end of 1"
[ -e "$WORK/img5" ] && crs_fail "pending outside: the refused checkpoint left an image"
crs_finish "$d5" orig && crs_pass "pending outside: the program ran on" ||
    crs_fail "pending outside: the program after the refusal: $FINISH_STATUS"
kill "$opid" 2>/dev/null

# a connection from another process accepted by the listener without SO_REUSEADDR and closed by
# the program first (before: the message said "a restart as root ends the TIME-WAIT" of a
# connection no restart ends, and while the other end was open, /proc/net/tcp showing state 05,
# that "another process holds that address"). As root, so that the image's own connections'
# TIME-WAIT is ended and this one is the one left.
if [ "$(id -u)" != 0 ]; then
    crs_note "tw outside: not run (as root only: the restart must be one that ends what it can)"
    crs_summary sockets_busy
fi
python3 -c 'import socket,sys,os,time
w=sys.argv[1]
for i in range(3000):
    if os.path.exists(w + "/tl2port"): break
    time.sleep(0.02)
c=socket.create_connection(("127.0.0.1", int(open(w + "/tl2port").read())))
open(w + "/cport.tmp", "w").write("%d\n" % c.getsockname()[1]); os.rename(w + "/cport.tmp", w + "/cport")
c.settimeout(60); c.recv(1)
open(w + "/eof", "w").close()
for i in range(3000):
    if os.path.exists(w + "/close"): break
    time.sleep(0.02)
c.close()
open(w + "/closed", "w").close()' "$WORK" </dev/null >/dev/null 2>&1 &
cpid=$!
crs_at_exit "kill $cpid"
d4=$WORK/tw_outside
CRT_SOCKETS_ACCEPT_OUTSIDE=$WORK/tl2port crs_start_or_end "tw outside: crt_sockets never got ready" "$d4" \
    "$CRS_TOOLS/cr_run" "$CRS_BIN/crt_sockets"
crs_wait_for "$WORK/eof" 30 || crs_fail "tw outside: the other process did not see the program close its end"
cport=$(cat "$WORK/cport" 2>/dev/null)
crs_tool "$WORK/ck4" cr_checkpoint --kill -f "$WORK/img4" "$PID" ||
    crs_fail "tw outside: cr_checkpoint --kill: $(head -n 1 "$WORK/ck4.err")"
[ "$(crs_wait_status "$d4/orig")" = timeout ] && crs_fail "tw outside: the original did not end"
for phase in FIN-WAIT-2 TIME-WAIT; do
    crs_tool "$WORK/r5" cr_restart "$WORK/img4"
    if crs_expect_refusal "tw outside: cr_restart while the program's end of a connection from another process is in $phase" \
        "$WORK/r5.err" $? "(to 127.0.0.1:$cport) is in TIME-WAIT"; then
        if grep -q "it is not a connection of the image.*restart once it has gone" "$WORK/r5.err" &&
            ! grep -qi root "$WORK/r5.err"; then
            crs_pass "tw outside ($phase): the refusal says no restart ends it, and not to restart as root"
        else
            crs_fail "tw outside ($phase): the refusal does not say that no restart ends it: $(cat "$WORK/r5.err")"
        fi
    fi
    [ -s "$WORK/r5.out" ] && crs_fail "tw outside: the refused restart printed: $(head -n 1 "$WORK/r5.out")"
    touch "$WORK/close"
    crs_wait_for "$WORK/closed" 30 || crs_fail "tw outside: the other process did not close its end"
done
crs_summary sockets_busy
