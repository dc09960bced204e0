#!/bin/sh
# run.sh FLAVOR NP PROG ARGS...: under Revive from the build tree (quick manual runs)
fl=$1 np=$2; shift 2
B=/work/wt-ranks/_build
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
export REVIVE_MPI_LIBDIR=$B/.libs REVIVE_EXEC=$B/tools/mpi/revive-exec
case $fl in ompi) L=$(sed -n 's/^MPIEXEC_OMPI = //p' $B/Makefile);; mpich) L=$(sed -n 's/^MPIEXEC_MPICH = //p' $B/Makefile);; esac
if [ "${NATIVE:-0}" = 1 ]; then exec timeout -k 5 ${TMO:-60} $L -n $np "$@"; fi
PATH=$(dirname $L):$PATH exec timeout -k 5 ${TMO:-60} $B/tools/mpi/mpirun -am ft-enable-cr -n $np "$@"
