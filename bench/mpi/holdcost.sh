#!/bin/bash
# bench/mpi/holdcost.sh [FLAVOR]: what holding every rank from its capture to the commit costs a
# job one of whose ranks computes outside MPI (docs/snapshots.md: why only --stop, --term and
# --save-files hold). holdcost.c (built here with the MPI's mpicc) on NP ranks (default 4), STEPS
# steps (300) of MS ms (20; rank 1 twice as long), under "mpirun -am ft-enable-cr", in three
# modes alternating ROUNDS times (default 2): no snapshot; a plain ckpt-mpirun every GAP seconds
# (0.7: the job runs on, nothing held); the same with --save-files of a small file (every rank
# held until the copy is made). Prints each run's elapsed time and snapshot count, and per mode the
# median elapsed and the median cost per snapshot against the median run without any.
flavor=${1:-ompi}
. "$(dirname "$0")/lib.sh"
np=${NP:-4} steps=${STEPS:-300} ms=${MS:-20} rounds=${ROUNDS:-2} gap=${GAP:-0.7}
cc=$(command -v "mpicc.$(echo "$flavor" | sed 's/ompi/openmpi/')") || { echo "$flavor: no mpicc"; exit 1; }
case $flavor in
ompi) launcher=$(sed -n 's/^MPIEXEC_OMPI = //p' "$build/Makefile") ;;
mpich) launcher=$(sed -n 's/^MPIEXEC_MPICH = //p' "$build/Makefile") ;;
esac
"$cc" -O1 -o "$tmp/holdcost" "$(dirname "$0")/holdcost.c" || exit 1
echo small >"$tmp/kept"
for r in $(seq "$rounds"); do
    for mode in none plain held; do
        mkdir -p "$tmp/ck.$r.$mode"
        # (not under timeout: ckpt-mpirun takes mpirun's pid, not a wrapper's)
        PATH=$(dirname "$launcher"):$PATH TMPDIR=$tmp "$build/tools/mpi/mpirun" -am ft-enable-cr \
            --ckpt-dir "$tmp/ck.$r.$mode" -n "$np" "$tmp/holdcost" "$steps" "$ms" >"$tmp/out" 2>"$tmp/err" </dev/null &
        job=$! n=0
        sleep 1.5
        while kill -0 $job 2>/dev/null; do
            case $mode in
            plain) "$build/tools/snapc/ckpt-mpirun" $job >/dev/null 2>&1 && n=$((n + 1)) ;;
            held) "$build/tools/snapc/ckpt-mpirun" --save-files "$tmp/kept" $job >/dev/null 2>&1 && n=$((n + 1)) ;;
            esac
            sleep "$gap"
        done
        wait $job || echo "$mode: the job failed: $(tail -n 1 "$tmp/err")"
        echo "$mode $(sed -n 's/^elapsed \([0-9.]*\).*/\1/p' "$tmp/out") $n" | tee -a "$tmp/runs"
    done
done
echo "== $flavor, $np ranks, $steps steps of $ms ms (rank 1: $((2 * ms)) ms), a snapshot every $gap s, $rounds rounds ($(nproc) cores)"
awk '
    function median(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
    { m = $1; k[m]++; e[m, k[m]] = $2; s[m, k[m]] = $3 }
    END {
        for (i = 1; i <= k["none"]; i++) z[i] = e["none", i]; base = median(z, k["none"])
        printf "none   elapsed %.2f s\n", base
        split("plain held", modes, " ")
        for (q = 1; q <= 2; q++) { m = modes[q]; delete x; delete c
            for (i = 1; i <= k[m]; i++) { x[i] = e[m, i]; c[i] = s[m, i] ? (e[m, i] - base) * 1000 / s[m, i] : 0 }
            printf "%-6s elapsed %.2f s, %.0f ms a snapshot\n", m, median(x, k[m]), median(c, k[m]) }
    }' "$tmp/runs"
