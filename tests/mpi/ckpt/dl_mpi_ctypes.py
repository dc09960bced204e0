# dl_mpi_ctypes.py FLAVOR STEPS PACEFILE MS: a Python MPI program through ctypes, no mpi4py
# (ctypes.CDLL of the library's soname: dlopen, then dlsym on its handle): STEPS steps of an
# Allreduce, sleeping MS ms after each while PACEFILE exists; rank 0 prints "step K: SUM" and
# "done: STEPS ACC". Run by a Python that has no mpi4py, with REVIVE_MPI=FLAVOR (dl_mpi.sh).
import ctypes
import os
import sys
import time

flavor, steps, pace, ms = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
if flavor == "ompi":
    lib = ctypes.CDLL("libmpi.so.40")
    def obj(name):
        return ctypes.c_void_p(ctypes.addressof(ctypes.c_char.in_dll(lib, name)))
    world, lng, op_sum = obj("ompi_mpi_comm_world"), obj("ompi_mpi_long"), obj("ompi_mpi_op_sum")
else:
    lib = ctypes.CDLL("libmpich.so.12")
    world, lng, op_sum = ctypes.c_int(0x44000000), ctypes.c_int(0x4c000807), ctypes.c_int(0x58000003)
lib.MPI_Init(None, None)
rank = ctypes.c_int()
lib.MPI_Comm_rank(world, ctypes.byref(rank))
acc, total = ctypes.c_long(rank.value + 1), ctypes.c_long()
for s in range(steps):
    lib.MPI_Allreduce(ctypes.byref(acc), ctypes.byref(total), 1, lng, op_sum, world)
    acc.value = (acc.value * 31 + total.value + s) % 1000003
    if rank.value == 0:
        print("step %d: %d" % (s, total.value), flush=True)
    if os.path.exists(pace):
        time.sleep(ms / 1000.0)
lib.MPI_Allreduce(ctypes.byref(acc), ctypes.byref(total), 1, lng, op_sum, world)
if rank.value == 0:
    print("done: %d %d" % (steps, total.value), flush=True)
lib.MPI_Finalize()
