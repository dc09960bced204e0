#!/bin/bash
# rst_fort.sh FLAVOR: Fortran handles across a restart. rst_fort.f90 (built with the MPI's own
# mpif90) keeps communicators, groups, datatypes, a user reduction, an info object, a keyval and
# an error handler as INTEGER handles and uses each at every step; the job runs under
# "mpirun -am ft-enable-cr", is ended with "ckpt-mpirun --term" after its second step, and
# "restart-mpi" runs it to its end. At 1, 2 and 4 ranks the step lines of both generations
# together and the last line must equal an uninterrupted native run's, and no process may be
# left. Open MPI's Fortran integers were its library's own numbers, which the fresh library of
# a restarted rank gives out anew (MPI_ERR_TYPE at the first use of a derived datatype after
# the restart): the layer now gives its own (src/pml_hooks/fortran_handles.c).
# rst_fort.sh FLAVOR rst_fmany: the same with rst_fmany.f90 (70 Fortran reduction functions and
# 70 Fortran error handlers, each counting its calls; the layer's fixed sets of 32 and 64
# trampolines stopped the job at the 33rd or 65th, thunks now: src/pml_hooks/thunk.c).
# rst_fort.sh FLAVOR rst_flegacy: the same with rst_flegacy.f90 (the MPI-1 calls MPI-3 removed,
# through mpif.h; a keyval freed while its attribute is set; 1100 keyvals made from Fortran, an
# attribute of each: an MPICH restart died of SIGSEGV about 1 in 20 until a Fortran attribute call
# waiting for the restart stopped using the handle of the lower half that was gone).
# rst_fort.sh FLAVOR rst_fwin: the same with rst_fwin.f90 (windows of one rank, MPI_COMM_SELF's
# MPI_Win_allocate in fence epochs and MPI_Win_allocate_shared in exclusive and shared lock epochs,
# and WORLD's MPI_Win_allocate under lock_all, with Put, Get and Accumulate each step and the
# program's loads and stores through the pointers it made from the base addresses; the snapshot
# comes with the fence epoch open and the locks held. On Open MPI a window of one rank lies in
# memory the lower half's root serves from shared mappings: src/pml_hooks/lower_winmem.c). Every
# predefined attribute of each window from MPI_WIN_GET_ATTR must equal the C binding's
# (rst_fwin_c.c, built with the MPI's mpicc), before the snapshot and after the restart.
# rst_fort.sh FLAVOR rst_fgreq: the same with rst_fgreq.f90 (generalized requests with Fortran
# query, free and cancel functions; one pending and one complete but not waited on at every
# snapshot; before, MPICH stopped at MPII_Grequest_set_lang_f77 and Open MPI at MPI_Grequest_start).
# Skipped only when the Fortran compiler or binding is absent; a program that does not build
# fails (../fortenv.sh).
flavor=$1 name=${2:-rst_fort}
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
. "$(dirname "$0")/../fortenv.sh" || exit $?
fort_compiler
prog=$tmp/$name
# rst_flegacy calls MPI through mpif.h with buffers of several types, as old codes do
fflags=(-O1)
[ "$name" = rst_flegacy ] && fflags+=(-fallow-argument-mismatch)
# rst_fstep.f90 first: the module the program uses (its start and step end)
# rst_fwin compares window attributes with the C binding's (rst_fwin_c.c, built with mpicc)
cobj=()
if [ "$name" = rst_fwin ]; then
    cc=$(command -v "mpicc.$(echo $flavor | sed 's/ompi/openmpi/')")
    [ -n "$cc" ] || { echo "SKIP: no mpicc for $flavor"; exit 77; }
    "$cc" -c -O1 -o "$tmp/rst_fwin_c.o" "$REVIVE_SRCDIR/tests/mpi/ckpt/rst_fwin_c.c" 2>"$tmp/cc.err" ||
        { echo "FAIL: mpicc cannot build rst_fwin_c.c: $(head -3 "$tmp/cc.err")"; exit 1; }
    cobj=("$tmp/rst_fwin_c.o")
fi
fort_build "rst_fstep.f90 + $name.f90" "$prog" "${fflags[@]}" "$REVIVE_SRCDIR/tests/mpi/ckpt/rst_fstep.f90" \
    "$REVIVE_SRCDIR/tests/mpi/ckpt/$name.f90" "${cobj[@]}"
export REVIVE_RESTART_RANK=$restarter
steps=12 ms=150
for n in 1 2 4; do
    ck_workdir np$n
    paced_term_cycle "np=$n" "$n" || continue
    left=$(no_strays "$d/") || failed "np=$n: processes left: $left"
done
exit $fail
