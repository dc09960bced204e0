#!/bin/bash
# restart_chain.sh FLAVOR: restart -> checkpoint -> restart for 12 generations with 2 ranks
# (REVIVE_TEST_QUICK=1: 10). The job checkpoints at every step from 1 and ends as if killed;
# each restarted job goes on from its snapshot to the next step's checkpoint; the last one runs
# to the end. Every generation must reuse the lower half's namespace slot (ld.so's limit of
# about 14 fresh namespaces would stop the chain otherwise) and the concatenated checksums must
# equal an uninterrupted run's.
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
G=12
[ "${REVIVE_TEST_QUICK:-0}" = 1 ] && G=10
n=2
steps=$((G + 3))
d=$tmp/chain
mkdir -p "$d"
run_native "$n" "$prog" $steps >"$d/native.out" 2>"$d/native.err"
clean timeout -k 5 "$TMO" "$wrapper" -am ft-enable-cr -n "$n" "$prog" $steps "$d" $(seq 1 $G) --exit \
    >"$d/out.0" 2>"$d/err.0"
for g in $(seq 1 $G); do
    if [ ! -s "$d/s$g/rank_1.img" ]; then
        failed "generation $g: no snapshot s$g"; tail -5 "$d/err.$((g - 1))"; break
    fi
    start=$(date +%s%N)
    REVIVE_RESTART_REPORT=$d/report restart_job "$n" "$d/s$g" >"$d/out.$g" 2>"$d/err.$g"
    rc=$?
    ms=$((($(date +%s%N) - start) / 1000000))
    if ! grep -q "rank 1 restarted at step $g, generation $g," "$d/err.$g"; then
        failed "generation $g: status $rc, not restarted"; show_err "$d/err.$g"; break
    fi
    echo "generation $g: restarted in $ms ms (whole job, launcher included)"
done
results $(for g in $(seq 0 $G); do echo "$d/out.$g"; done) >"$d/chain.out"
ns=$(awk '$1 == "rank" && $2 == 0 {print $6}' "$d/report" 2>/dev/null | sort -u | tr '\n' ' ')
if [ $fail = 0 ] && cmp -s <(results "$d/native.out") "$d/chain.out"; then
    pass "$G generations: $(wc -l <"$d/chain.out") result lines as uninterrupted; lower half in namespace(s) $ns"
elif [ $fail = 0 ]; then
    failed "the chain's results differ from the uninterrupted run"; diff <(results "$d/native.out") "$d/chain.out" | head
fi
[ "$(awk '$1 == "rank" && $2 == 0' "$d/report" 2>/dev/null | wc -l)" = "$G" ] || failed "rank 0 reported $(grep -c '^rank 0 ' "$d/report") restarts of $G"
exit $fail
