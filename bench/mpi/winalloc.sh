#!/bin/sh
# bench/mpi/winalloc.sh [FLAVOR...]: what making and freeing a window (MPI_Win_create,
# MPI_Win_allocate, MPI_Win_allocate_shared, 4 KiB a rank; and a shared window on a communicator
# of its own, MPI_Comm_dup and MPI_Comm_free around it) costs under Revive against natively, in
# the same run.
# Runs bench/mpi/winalloc-FLAVOR on 2 ranks (NP) natively and under "mpirun -am ft-enable-cr",
# alternating, REPS times each (default 3), and prints the best of each side per allocate + free
# pair, wall and the calling thread's CPU time, in us, and the ratio (Revive / native).
# Needs a build tree: BUILD=/path/to/build (default: the folder this is run from).
flavors=${*:-ompi mpich}
. "$(dirname "$0")/lib.sh"
for fl in $flavors; do
    bench_runs winalloc "$fl" "${NP:-2}" || continue
    echo "== $fl, ${NP:-2} ranks, us per make + free, best of $reps ($(uname -r), $(nproc) cores)"
    printf '%-30s %10s %10s %8s\n' measure native revive ratio
    for m in win_create_free win_create_free_cpu win_allocate_free win_allocate_free_cpu \
             win_allocate_shared_free win_allocate_shared_free_cpu dup_shared_free dup_shared_free_cpu; do
        awk -v m=$m -v nf="$tmp/native" -v rf="$tmp/revive" '
            function best(f,   b) { b = ""; while ((getline l < f) > 0) { split(l, a, " ");
                if (a[1] == m && (b == "" || a[2] + 0 < b)) b = a[2] + 0 } close(f); return b }
            BEGIN { n = best(nf); r = best(rf);
                if (n == "" || r == "") { printf "%-30s %10s %10s %8s\n", m, "-", "-", "-"; exit }
                printf "%-30s %10.1f %10.1f %8.2f\n", m, n, r, r / n }'
    done
done
