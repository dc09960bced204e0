#!/bin/sh
# bench/mpi/rmaio.sh [FLAVOR...]: one-sided latency and MPI-IO bandwidth under Revive against
# native MPI, in the same run. Runs bench/mpi/rmaio-FLAVOR with 2 ranks natively and under "mpirun -am ft-enable-cr",
# alternating, REPS times each (default 3), and prints the best of each side and the ratio
# (Revive / native for times, native / Revive for bandwidth: above 1.00 means Revive is slower).
# Needs a build tree: BUILD=/path/to/build (default: the folder this is run from).
flavors=${*:-ompi mpich}
. "$(dirname "$0")/lib.sh"
for fl in $flavors; do
    bench_runs rmaio "$fl" 2 || continue
    echo "== $fl, 2 ranks, best of $reps ($(uname -r), $(nproc) cores)"
    printf '%-20s %14s %14s %8s\n' measure native revive ratio
    for m in put_fence_8B put_fence_1MiB get_fence_8B get_fence_1MiB acc_fence_8B acc_fence_1MiB \
             put_lock_8B put_lock_1MiB get_lock_8B get_lock_1MiB acc_lock_8B acc_lock_1MiB \
             put_pscw_8B put_pscw_1MiB get_pscw_8B get_pscw_1MiB acc_pscw_8B acc_pscw_1MiB \
             io_write_all_16MiB io_read_all_16MiB; do
        awk -v m=$m -v nf="$tmp/native" -v rf="$tmp/revive" '
            function best(f,   v, b, u) { b = ""; while ((getline l < f) > 0) { split(l, a, " ");
                if (a[1] != m) continue; v = a[2] + 0; u = a[3];
                if (b == "" || (u == "MB/s" ? v > b : v < b)) b = v } close(f); unit = u; return b }
            BEGIN { n = best(nf); r = best(rf);
                if (n == "" || r == "") { printf "%-18s %14s %14s %8s\n", m, "-", "-", "-"; exit }
                ratio = unit == "MB/s" ? n / r : r / n
                printf "%-18s %11.4f %-2s %11.4f %-2s %8.3g\n", m, n, (unit == "us" ? "us" : unit == "s" ? "s" : "MB"), r, (unit == "us" ? "us" : unit == "s" ? "s" : "MB"), ratio }'
    done
done
