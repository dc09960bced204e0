#!/bin/sh
# libc_shared.sh FLAVOR: the state the application's libc and the MPI library's libc share in a
# rank under Revive (src/pml_hooks/lower_libc.h). Runs libc_shared-FLAVOR natively and under
# Revive with 1 and 2 ranks: same output, exit status 0 (under Revive each rank also checks the
# layer's invariants and says on stderr what failed); the MPI library with an environment of its
# own (as after a restart), 1 rank; then the MPI_Abort mode with 1 rank: the same lines natively
# and under Revive (MPICH's MPI_Abort calls exit(), which must run the application's exit
# handler and flush its stdout).
flavor=$1
. "$(dirname "$0")/mpienv.sh" || exit $?
bin=$REVIVE_BUILDDIR/tests/mpi/libc_shared-$flavor
[ -x "$bin" ] || { echo "SKIP: $bin not built"; exit 77; }
fail=0
for n in 1 2; do
    run_native "$n" "$bin" >"$tmp/native.out" 2>"$tmp/native.err"; rn=$?
    run_revive "$n" "$bin" >"$tmp/revive.out" 2>"$tmp/revive.err"; rr=$?
    if [ $rn != 0 ] || [ $rr != 0 ]; then
        echo "FAIL np=$n: exit status native $rn, revive $rr"
        grep -h 'FAIL' "$tmp/native.err" "$tmp/revive.err" | sed 's/^/  /'
        tail -5 "$tmp/revive.err" | sed 's/^/  revive: /'; fail=1
    elif ! cmp -s "$tmp/native.out" "$tmp/revive.out" || [ ! -s "$tmp/native.out" ]; then
        echo "FAIL np=$n: outputs differ"; diff "$tmp/native.out" "$tmp/revive.out" | head; fail=1
    else
        echo "ok np=$n: $(wc -l <"$tmp/native.out") lines identical ($(head -1 "$tmp/native.out"))"
    fi
done
run_native 1 "$bin" ownenv >"$tmp/native.out" 2>"$tmp/native.err"; rn=$?
run_revive 1 "$bin" ownenv >"$tmp/revive.out" 2>"$tmp/revive.err"; rr=$?
if [ $rn != 0 ] || [ $rr != 0 ] || ! cmp -s "$tmp/native.out" "$tmp/revive.out"; then
    echo "FAIL ownenv: exit status native $rn, revive $rr"; grep -h FAIL "$tmp/revive.err" | sed 's/^/  /'
    diff "$tmp/native.out" "$tmp/revive.out" | head -5; fail=1
else
    echo "ok ownenv: the MPI library's own environment and the application's kept apart"
fi
run_native 1 "$bin" abort >"$tmp/native.out" 2>/dev/null
run_revive 1 "$bin" abort >"$tmp/revive.out" 2>/dev/null; rr=$?
if [ $rr = 124 ] || [ $rr = 137 ]; then
    echo "FAIL abort: timed out under Revive"; fail=1
elif ! cmp -s "$tmp/native.out" "$tmp/revive.out" || [ ! -s "$tmp/native.out" ]; then
    echo "FAIL abort: outputs differ"; diff "$tmp/native.out" "$tmp/revive.out" | head; fail=1
else
    echo "ok abort: $(tr '\n' '|' <"$tmp/native.out")"
fi
exit $fail
