#!/bin/sh
# halves.sh FLAVOR: knowing the halves apart on running ranks. Runs tests/mpi/halves-FLAVOR
# under Revive with 2 and 4 ranks; each rank classifies its memory, threads and descriptors
# through the layer and checks them against independent evidence (see halves.c). Fails unless
# every rank reports ok. On failure the layer's full dump (REVIVE_HALVES_DUMP) is shown in part.
flavor=$1
. "$(dirname "$0")/mpienv.sh" || exit $?
bin=$REVIVE_BUILDDIR/tests/mpi/halves-$flavor
[ -x "$bin" ] || { echo "SKIP: $bin not built"; exit 77; }
fail=0
for n in 2 4; do
    rm -f "$tmp"/dump.*
    REVIVE_HALVES_DUMP=$tmp/dump run_revive "$n" "$bin" >"$tmp/out" 2>"$tmp/err"; rc=$?
    oks=$(grep -c ': ok: ' "$tmp/out")
    if [ $rc != 0 ] || [ "$oks" != "$n" ]; then
        echo "FAIL np=$n: exit status $rc, $oks of $n ranks ok"
        sed 's/^/  /' "$tmp/out"; sed 's/^/  err: /' "$tmp/err" | head -40
        [ -f "$tmp/dump.0" ] && { echo "  dump of rank 0 (lower and mixed pieces, threads, fds):"
            grep -v ' upper why' "$tmp/dump.0" | grep -v '^region.*object of the lower' | head -40 | sed 's/^/    /'; }
        fail=1
    else
        echo "ok np=$n: $(sed -n 's/^rank 0: ok: //p' "$tmp/out")"
    fi
done
exit $fail
