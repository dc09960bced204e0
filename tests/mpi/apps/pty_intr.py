#!/usr/bin/env python3
"""pty_intr.py DIR OUT CMD...: runs CMD on a new terminal (its session's controlling terminal,
CMD in the foreground), waits until DIR/ready exists (60 s), types ^C there, and copies what the
terminal shows to OUT until CMD ends (60 s after the ^C it is killed). Exit status: CMD's (128 +
signal for a signal), 124 when it had to be killed, 125 when DIR/ready never came; the seconds
from the ^C to CMD's end in DIR/secs. The ^C is the
terminal's SIGINT to its foreground process group (si_code SI_KERNEL), as a user's."""
import os
import pty
import select
import signal
import sys
import time

d, out, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
pid, fd = pty.fork()
if pid == 0:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.execvp(cmd[0], cmd)
log = open(out, "wb")


def pump(seconds):
    """copies the terminal's output to OUT for up to SECONDS; False once it is closed"""
    r, _, _ = select.select([fd], [], [], seconds)
    if not r:
        return True
    try:
        data = os.read(fd, 4096)
    except OSError:
        return False
    if not data:
        return False
    log.write(data)
    return True


def finish(deadline):
    open_ = True
    while time.time() < deadline:
        if open_:
            open_ = pump(0.1)
        else:
            time.sleep(0.1)
        p, st = os.waitpid(pid, os.WNOHANG)
        if p:
            while open_ and pump(0.1):
                pass
            return os.waitstatus_to_exitcode(st) if hasattr(os, "waitstatus_to_exitcode") else st
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return None


t0 = time.time()
while not os.path.exists(os.path.join(d, "ready")) and time.time() - t0 < 60:
    pump(0.1)
if not os.path.exists(os.path.join(d, "ready")):
    finish(time.time())
    sys.exit(125)
time.sleep(0.3)
os.write(fd, b"\x03")
t1 = time.time()
rc = finish(t1 + 60)
log.close()
with open(os.path.join(d, "secs"), "w") as f:
    f.write("%d\n" % int(time.time() - t1))
if rc is None:
    sys.exit(124)
sys.exit(128 - rc if rc < 0 else rc)
