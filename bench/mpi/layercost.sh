#!/bin/sh
# bench/mpi/layercost.sh [FLAVOR...]: the CPU time Revive's MPI layer adds per call, in the same
# run. Runs bench/mpi/layercost-FLAVOR with 1 rank natively and under "mpirun -am ft-enable-cr",
# alternating, REPS times each (default 3), and prints the best of each side, the difference in
# ns per call and the ratio (Revive / native). CPU time of the calling thread, one rank talking to
# itself: another process's scheduling on a loaded machine does not enter (wall time does).
# Needs a build tree: BUILD=/path/to/build (default: the folder this is run from).
flavors=${*:-ompi mpich}
. "$(dirname "$0")/lib.sh"
for fl in $flavors; do
    bench_runs layercost "$fl" 1 || continue
    echo "== $fl, 1 rank, CPU ns per call, best of $reps ($(uname -r), $(nproc) cores)"
    printf '%-24s %10s %10s %8s %8s\n' measure native revive added ratio
    for m in comm_rank allreduce_8B irecv_send_wait_8B isend_irecv_waitall_8B pscw_8B fence_put_8B \
             lock_put_8B lockx_put_8B put_flush_8B get_flush_8B acc_flush_8B; do
        awk -v m=$m -v nf="$tmp/native" -v rf="$tmp/revive" '
            function best(f,   b) { b = ""; while ((getline l < f) > 0) { split(l, a, " ");
                if (a[1] == m && (b == "" || a[2] + 0 < b)) b = a[2] + 0 } close(f); return b }
            BEGIN { n = best(nf); r = best(rf);
                if (n == "" || r == "") { printf "%-24s %10s %10s %8s %8s\n", m, "-", "-", "-", "-"; exit }
                printf "%-24s %10.1f %10.1f %8.1f %8.2f\n", m, n, r, r - n, r / n }'
    done
done
