#!/usr/bin/env python3
"""crt_svcreq.py SVCDIR park|never: a client of a system daemon's stream socket (SVCDIR/stream,
served by tests/mpi/ckpt/rank_fdmade_svc.py: every line "q S" answered "ok S"), checkpointed by
svc_request.sh while a request is in progress: its answer has arrived and waits unread (issue 7).
Asks "q 1" and reads its answer; sends "q 2" and, once the answer is there, writes the ready file
(REVIVE_TEST_READY.1, its pid) and says "reply waits unread", then leaves it unread until
  park   the file REVIVE_TEST_GO.2, which the test makes once it saw the process parked by the
         checkpoint (a park's wait cannot be seen from inside: libcr resumes an interrupted sleep);
  never  the file REVIVE_TEST_GO.1: the request stays in progress through the checkpoint;
says "reads the reply" and reads it. Then waits for REVIVE_TEST_GO.1, asks "q 3" (connecting
again, and saying so, when the socket fails: it was restored unconnected) and ends with
"-- RESULT ok" and status 42."""
import ctypes
import os
import select
import socket
import sys
import time

svc, mode = sys.argv[1], sys.argv[2]
libc = ctypes.CDLL(None, use_errno=True)


class Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(os.path.join(svc, "stream"))
    return s


def answer(s, n):
    want, got = b"ok %d\n" % n, b""
    while len(got) < len(want):
        b = s.recv(len(want) - len(got))
        if not b:
            raise OSError("the service hung up")
        got += b
    if got != want:
        sys.exit("answer %r to q %d" % (got, n))


def ask(s, n):
    s.sendall(b"q %d\n" % n)
    answer(s, n)


def wait_go(n):
    go = "%s.%d" % (os.environ["REVIVE_TEST_GO"], n)
    deadline = time.monotonic() + 300
    while not os.path.exists(go):
        if time.monotonic() > deadline:
            sys.exit("waited for " + go)
        libc.nanosleep(ctypes.byref(Timespec(0, 20000000)), None)


s = connect()
ask(s, 1)
s.sendall(b"q 2\n")
if not select.select([s], [], [], 60)[0]:
    sys.exit("no answer to q 2 in 60 s")
ready = os.environ["REVIVE_TEST_READY"] + ".1"
with open(ready + ".tmp", "w") as f:
    f.write("%d\n" % os.getpid())
os.rename(ready + ".tmp", ready)
print("reply waits unread", flush=True)
wait_go(2 if mode == "park" else 1)
print("reads the reply", flush=True)
answer(s, 2)
wait_go(1)
try:
    ask(s, 3)
except OSError:
    s.close()
    s = connect()
    print("reconnected", flush=True)
    ask(s, 3)
print("-- RESULT ok", flush=True)
sys.exit(42)
