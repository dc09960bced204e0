#!/bin/bash
# State test: Unix datagram sockets the process sends to itself (crt_unixdgram.c; issue 10,
# point 6; newuser10 F3: every checkpoint was refused, "an unconnected datagram socket holding
# datagrams from senders Revive cannot tell"): a bound receiver holding datagrams of an unbound
# sender connected to it one way and its own (sendto itself), an abstract receiver with
# SO_PASSCRED holding a bound sender's. Every flavour but busy (the restarted copy cannot bind
# the names the original still holds, as crs_sockets.sh); nopid: the credentials the datagrams
# carry name the restarted pid. Then datagrams from outside the process are still refused in one
# line naming the descriptor, the program running on: one from a bound socket of another process
# (python3) in the bound receiver's queue; one from an unbound socket of another process in the
# abstract receiver's (no sender address: no socket of the process sent it); one in the abstract
# receiver's from another process that took s2's path (unlinked it and bound its own socket
# there): its sender address is s2's, so only the credentials it carries (SO_PASSCRED, another
# pid) tell it from s2's own (diffrev31 R-L7: no part reached the credentials rule before).
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_unixdgram
if CRS_FLAVOURS=${CRS_FLAVOURS:-"run kill twice nopid rr cont fork stop term compress stdoutfile tty sigdeath"} \
    bash "$(dirname "$0")/../cr_cycle.sh" crt_unixdgram; then
    crs_pass "every flavour but busy"
else
    crs_fail "the flavours above"
fi
crs_need_tools cr_run cr_checkpoint
command -v python3 >/dev/null || crs_skip "python3 is missing (datagrams from another process)"
# foreign NAME PYTHON: a datagram sent by another process (python3 PYTHON, the program's folder
# in $D, its pid in $P) before the checkpoint at point 1, which must be refused
foreign() {
    local d=$WORK/$1 st
    crs_start_or_end "$1: crt_unixdgram never got ready" "$d" "$CRS_TOOLS/cr_run" "$CRS_BIN/crt_unixdgram"
    D=$d P=$PID python3 -c "$2" || crs_fail "$1: python3 could not send its datagram"
    crs_tool "$WORK/$1.ck" cr_checkpoint -f "$WORK/$1.img" "$PID"
    st=$?
    crs_expect_refusal "$1: refused" "$WORK/$1.ck.err" "$st" "socket descriptor"
    grep -q "senders Revive cannot play again" "$WORK/$1.ck.err" || crs_fail "$1: the refusal does not say why"
    [ ! -e "$WORK/$1.img" ] || crs_fail "$1: an image was written"
    kill -0 "$PID" 2>/dev/null && crs_pass "$1: the program runs on" || crs_fail "$1: the program did not run on"
    crs_kill_test_prog "$PID"
}
foreign outside-named 'import os, socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(os.environ["D"] + "/outsider.sock")
s.sendto(b"from outside", os.environ["D"] + "/ud.sock")'
foreign outside-unnamed 'import os, socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(b"from outside", b"\0crt_unixdgram." + os.environ["P"].encode())'
foreign outside-creds 'import os, socket
p = os.environ["D"] + "/ud2.sock"
os.unlink(p)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(p)
s.sendto(b"from outside", b"\0crt_unixdgram." + os.environ["P"].encode())'
crs_summary crs_unixdgram
