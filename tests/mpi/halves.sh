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
    REVIVE_VERBOSE=2 REVIVE_HALVES_DUMP=$tmp/dump run_revive "$n" "$bin" >"$tmp/out" 2>"$tmp/err"; rc=$?
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
    # The lower half's objects are walked after each dlopen/dlclose in its namespace (Open MPI's
    # MPI_Init opens some 60 components): each object is looked up (dladdr, a scan of its
    # symbols) when it appears, not again at every walk (halves_moments.c). Each rank says
    # "halves: N lower objects (W walks of them, L looked up)"; L stays within 3 N (the
    # components Open MPI closes again come and go once each); looking every object up at every
    # walk gave hundreds to thousands.
    said=$(sed -n 's/.*halves: \([0-9]*\) lower objects (\([0-9]*\) walks of them, \([0-9]*\) looked up).*/\1 \2 \3/p' "$tmp/err")
    if [ "$(printf '%s\n' "$said" | grep -c .)" != "$n" ]; then
        echo "FAIL np=$n: not every rank said how many lower objects it looked up (REVIVE_VERBOSE=2):"
        grep 'halves:' "$tmp/err" | head -4 | sed 's/^/  /'
        fail=1
    else
        bad=$(printf '%s\n' "$said" | while read -r objs walks looked; do
            [ "$looked" -le $((3 * objs)) ] ||
                echo "FAIL np=$n: a rank looked up $looked lower objects in $walks walks of $objs objects (at most $((3 * objs)) expected: each once)"
        done)
        if [ -n "$bad" ]; then
            echo "$bad"
            fail=1
        else
            echo "ok np=$n: lower objects, walks, looked up per rank: $(printf '%s\n' "$said" | tr '\n' ';')"
        fi
    fi
done
exit $fail
