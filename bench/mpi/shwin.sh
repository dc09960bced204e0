#!/bin/sh
# bench/mpi/shwin.sh [FLAVOR...]: what a shared-memory window (MPI_Win_allocate_shared) costs a
# checkpoint. bench/mpi/shwin-FLAVOR runs on 2 ranks under "mpirun -am ft-enable-cr" with MIB
# MiB per rank (default 64) either in a shared window or in malloc'd memory (the baseline: the
# same bytes, which the image holds directly), alternating, REPS times each (default 3), each
# run checkpointing itself 3 times; prints the best of each side and the ratio shared / private
# for the checkpoint time, the image size and the resident memory after the checkpoints, and how
# much the resident memory grew during the checkpoints (a copy kept after a snapshot shows there).
flavors=${*:-ompi mpich}
. "$(dirname "$0")/lib.sh"
mib=${MIB:-64}
for fl in $flavors; do
    bin=$build/bench/mpi/shwin-$fl
    [ -x "$bin" ] || { echo "$fl: $bin not built (make in $build)"; continue; }
    case $fl in
    ompi) launcher=$(sed -n 's/^MPIEXEC_OMPI = //p' "$build/Makefile") ;;
    mpich) launcher=$(sed -n 's/^MPIEXEC_MPICH = //p' "$build/Makefile") ;;
    esac
    : >"$tmp/out"
    for r in $(seq "$reps"); do
        for mode in private shared; do
            PATH=$(dirname "$launcher"):$PATH TMPDIR=$tmp timeout 300 "$build/tools/mpi/mpirun" -am ft-enable-cr \
                -n 2 "$bin" "$mib" $mode 3 >>"$tmp/out" 2>"$tmp/err" ||
                { echo "$fl: the $mode run failed: $(tail -n 1 "$tmp/err")"; }
        done
    done
    echo "== $fl, 2 ranks, $mib MiB per rank, best of $reps runs of 3 checkpoints ($(uname -r), $(nproc) cores)"
    printf '%-12s %12s %12s %8s\n' measure private shared ratio
    for m in ckpt image rss rssgrow; do
        awk -v m=$m '
            function best(name,   b) { b = ""; for (i = 1; i <= n; i++) if (k[i] == name && (b == "" || v[i] < b)) b = v[i]; return b }
            { n++; k[n] = $1; v[n] = $2 + 0; u[$1] = $3 }
            END { p = best(m "_private"); s = best(m "_shared");
                if (p == "" || s == "") { printf "%-12s %12s %12s %8s\n", m, "-", "-", "-"; exit }
                if (m == "rssgrow") { printf "%-12s %9.1f %-2s %9.1f %-2s %8s\n", m, p, u[m "_private"], s, u[m "_shared"], "(MiB)"; exit }
                printf "%-12s %9.1f %-2s %9.1f %-2s %8.3f\n", m, p, u[m "_private"], s, u[m "_shared"], s / p }' "$tmp/out"
    done
done
