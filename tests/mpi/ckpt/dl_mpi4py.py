# dl_mpi4py.py STEPS PACEFILE MS: a Python MPI program (mpi4py; no numpy): STEPS steps of a ring
# Sendrecv of array buffers, an Allreduce, a pickled bcast and gather, an isend/Iprobe/recv pair,
# an allreduce on a split communicator and a command run with subprocess (vfork: its child closed
# the rank's descriptors in the layer's registry), sleeping MS ms after each while PACEFILE exists;
# rank 0 prints "step K: H SUM" and "done: STEPS H0 H1 ..." (dl_mpi.sh)
import os
import subprocess
import sys
import time
from array import array

from mpi4py import MPI

comm = MPI.COMM_WORLD
r, n = comm.Get_rank(), comm.Get_size()
steps, pace, ms = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
half = comm.Split(r % 2, r)
x = array('d', [r + 0.5 * i for i in range(256)])
# the MPI library revive-exec preloaded is not in the LD_PRELOAD of the rank's commands (natively
# there is none): 1 in the hashes if it is
pre = subprocess.run(["/bin/sh", "-c", 'echo "$LD_PRELOAD"'], capture_output=True, text=True).stdout
h = int("libmpi.so" in pre or "libmpich.so" in pre)
for s in range(steps):
    right, left = (r + 1) % n, (r - 1) % n
    y = array('d', bytes(8 * len(x)))
    comm.Sendrecv(x, dest=right, sendtag=s, recvbuf=y, source=left, recvtag=s)
    x = array('d', [0.5 * a + 0.25 * b + s for a, b in zip(x, y)])
    tot = array('d', [0.0])
    comm.Allreduce(array('d', [sum(x)]), tot, op=MPI.SUM)
    obj = comm.bcast({'s': s, 'v': int(tot[0])} if r == 0 else None, root=0)
    seen = comm.gather((r, s), root=0)
    req = comm.isend((s, r), dest=right, tag=7)
    while not comm.Iprobe(source=left, tag=7):
        pass
    got = comm.recv(source=left, tag=7)
    req.wait()
    part = half.allreduce(s * (r + 1))
    echo = int(subprocess.run(["/bin/echo", str(s + r)], capture_output=True, text=True).stdout)
    h = (h * 1000003 + obj['v'] + got[0] + got[1] + part + echo + (len(seen) if seen else 0)) % (1 << 61)
    if r == 0:
        print("step %d: %d %.6e" % (s, h, tot[0]), flush=True)
    if os.path.exists(pace):
        time.sleep(ms / 1000)
hs = comm.gather(h, root=0)
if r == 0:
    print("done: %d %s" % (steps, " ".join(map(str, hs))), flush=True)
half.Free()
