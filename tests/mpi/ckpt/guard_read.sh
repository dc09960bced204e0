#!/bin/bash
# guard_read.sh FLAVOR: the guard page below a thread's stack stops writes but not reads under
# Revive (src/pml_hooks/halves.h, pml_guard_readable). guard_read.c (built with the MPI's own
# mpicc) starts a thread after MPI_Init that reads and writes a byte of its own stack's guard.
# Natively the read faults (the check that the program finds the guard); under Revive it must
# not, as a read by Open MPI 4.1 past a keyval made from Fortran ended in such a guard page now
# and then (SIGSEGV inside ompi_attr_delete_all at MPI_Comm_free, ~1 run in 12-25 with 1000
# Fortran keyvals with attributes: rst_flegacy); the write must fault in both (stack overflows
# are still stopped). Then each rank writes a file with MPI_File_iwrite: both libraries use POSIX
# AIO, whose helper threads the library's libc starts by itself; rank 0 then looks in
# /proc/self/maps for thread-stack guards that still fault on a read (an inaccessible page of at
# most 64 KiB right below anonymous read-write memory): natively there are (the check finds
# them), under Revive there must be none (the AIO threads' guards stayed inaccessible before).
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_workdir run
ck_build_src guard_read -lpthread
clean timeout -k 5 "$TMO" "$launcher" -n 2 "$prog" >native.out 2>native.err || { failed "the native run: status $?"; show_err native.err; }
if ! grep -qx 'guard: read faults, write faults, perms ---p' native.out ||
    ! grep -qx 'inaccessible stack guards after MPI_File_iwrite: some' native.out; then
    failed "natively: '$(cat native.out)', expected guards that fault on read and write"
fi
PATH=$(dirname "$launcher"):$PATH clean timeout -k 5 "$TMO" "$wrapper" -am ft-enable-cr -n 2 "$prog" >revive.out 2>revive.err || { failed "under Revive: status $?"; show_err revive.err; }
if grep -qx 'guard: read ok, write faults, perms r--p' revive.out; then
    pass "under Revive a thread's stack guard is read-only: $(head -n 1 revive.out)"
else
    failed "under Revive: '$(cat revive.out)', expected 'guard: read ok, write faults, perms r--p'"
fi
if grep -qx 'inaccessible stack guards after MPI_File_iwrite: none' revive.out; then
    pass "under Revive the guards of the threads POSIX AIO started are read-only too"
else
    failed "under Revive after MPI_File_iwrite: '$(tail -n 1 revive.out)', expected none inaccessible"
fi
left=$(no_strays "$d/") || failed "processes left: $left"
exit $fail
