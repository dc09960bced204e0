#!/usr/bin/env python3
"""rank_fdmade_svc.py DIR: the test's stand-in for a system daemon (rank_fdmade.sh, svc mode):
a datagram socket DIR/dgram (as syslog's /dev/log) whose datagrams go to DIR/dgram.log, and a
stream listener DIR/stream (as SSSD's NSS pipe) whose every line goes to DIR/stream.log and is
answered "ok S" (S: the line's step). Writes DIR/ready once both listen; runs until killed."""
import os
import selectors
import socket
import sys

d = sys.argv[1]
sel = selectors.DefaultSelector()
dg = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
dg.bind(os.path.join(d, "dgram"))
ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
ls.bind(os.path.join(d, "stream"))
ls.listen(64)
dlog = open(os.path.join(d, "dgram.log"), "a", buffering=1)
slog = open(os.path.join(d, "stream.log"), "a", buffering=1)
sel.register(dg, selectors.EVENT_READ, "dgram")
sel.register(ls, selectors.EVENT_READ, "listen")
bufs = {}
open(os.path.join(d, "ready"), "w").close()
while True:
    for key, _ in sel.select():
        s = key.fileobj
        if key.data == "dgram":
            dlog.write(s.recv(4096).decode())
        elif key.data == "listen":
            c, _ = s.accept()
            bufs[c] = b""
            sel.register(c, selectors.EVENT_READ, "conn")
        else:
            try:
                got = s.recv(4096)
            except OSError:
                got = b""
            if not got:
                sel.unregister(s)
                s.close()
                bufs.pop(s, None)
                continue
            bufs[s] += got
            while b"\n" in bufs[s]:
                line, bufs[s] = bufs[s].split(b"\n", 1)
                slog.write(line.decode() + "\n")
                try:
                    s.sendall(b"ok %s\n" % line.split()[-1])
                except OSError:
                    pass
