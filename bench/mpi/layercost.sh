#!/bin/sh
# bench/mpi/layercost.sh [FLAVOR...]: the CPU time Revive's MPI layer adds per call, in the same
# run. Runs bench/mpi/layercost-FLAVOR with 1 rank natively and under "mpirun -am ft-enable-cr",
# alternating, REPS times each (default 3), and prints the best of each side, the difference in
# ns per call and the ratio (Revive / native). CPU time of the calling thread, one rank talking to
# itself: another process's scheduling on a loaded machine does not enter (wall time does).
# Needs a build tree: BUILD=/path/to/build (default: the folder this is run from).
build=${BUILD:-$(pwd)}
reps=${REPS:-3}
scale=${SCALE:-1}
flavors=${*:-ompi mpich}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export REVIVE_MPI_LIBDIR=$build/.libs REVIVE_EXEC=$build/tools/mpi/revive-exec
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for fl in $flavors; do
    bin=$build/bench/mpi/layercost-$fl
    [ -x "$bin" ] || { echo "$fl: $bin not built (make in $build)"; continue; }
    case $fl in
    ompi) launcher=$(sed -n 's/^MPIEXEC_OMPI = //p' "$build/Makefile") ;;
    mpich) launcher=$(sed -n 's/^MPIEXEC_MPICH = //p' "$build/Makefile") ;;
    esac
    : >"$tmp/native"; : >"$tmp/revive"
    for r in $(seq "$reps"); do
        timeout 300 "$launcher" -n 1 "$bin" "$scale" >>"$tmp/native" 2>/dev/null || echo "$fl: native run failed"
        PATH=$(dirname "$launcher"):$PATH timeout 300 "$build/tools/mpi/mpirun" -am ft-enable-cr -n 1 "$bin" "$scale" \
            >>"$tmp/revive" 2>/dev/null || echo "$fl: Revive run failed"
    done
    echo "== $fl, 1 rank, CPU ns per call, best of $reps ($(uname -r), $(nproc) cores)"
    printf '%-24s %10s %10s %8s %8s\n' measure native revive added ratio
    for m in comm_rank allreduce_8B irecv_send_wait_8B isend_irecv_waitall_8B; do
        awk -v m=$m -v nf="$tmp/native" -v rf="$tmp/revive" '
            function best(f,   b) { b = ""; while ((getline l < f) > 0) { split(l, a, " ");
                if (a[1] == m && (b == "" || a[2] + 0 < b)) b = a[2] + 0 } close(f); return b }
            BEGIN { n = best(nf); r = best(rf);
                if (n == "" || r == "") { printf "%-24s %10s %10s %8s %8s\n", m, "-", "-", "-", "-"; exit }
                printf "%-24s %10.1f %10.1f %8.1f %8.2f\n", m, n, r, r - n, r / n }'
    done
done
