#!/bin/sh
# ldso_chain.sh FLAVOR: lower_reset.c on its own. One process tree loads the MPI library into a
# dlmopen namespace 16 times; between two generations it forks without atfork handlers (only the
# calling thread survives), unmaps everything that appeared during the generation (the lower
# half's objects, arenas, stacks, segments) and asks lower_reset.c to make ld.so forget the dead
# namespace. Every generation initialises MPI, computes, starts and joins threads; the last
# exits normally. Without the reset the first thread started after the "restart" crashes in
# glibc's stack cache (checked too, so the test shows what the reset is for).
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
bin=$REVIVE_BUILDDIR/tests/mpi/ckpt/ldso_chain-$flavor
root=$REVIVE_BUILDDIR/.libs/revive-lower-$flavor.so
[ -x "$bin" ] && [ -r "$root" ] || { echo "SKIP: $bin or $root not built"; exit 77; }
fail=0
timeout -k 5 120 "$bin" "$root" 16 >"$tmp/reset.out" 2>&1; rc=$?
if [ $rc = 0 ] && grep -qx PASS "$tmp/reset.out" && [ "$(grep -c '^\[pid' "$tmp/reset.out")" = 15 ]; then
    echo "PASS: 16 generations of the lower half in namespace $(sed -n 's/.*generation 16: namespace \([0-9]*\).*/\1/p' "$tmp/reset.out")"
    grep '^\[pid' "$tmp/reset.out" | tail -1 | sed 's/^/  last: /'
else
    echo "FAIL: status $rc"; tail -5 "$tmp/reset.out"; fail=1
fi
timeout -k 5 60 "$bin" "$root" 3 noreset >"$tmp/noreset.out" 2>&1; rc=$?
if [ $rc != 0 ] && ! grep -qx PASS "$tmp/noreset.out"; then
    echo "PASS: without the reset the second generation fails (status $rc)"
else
    echo "FAIL: without the reset the chain went through: the test shows nothing"; fail=1
fi
exit $fail
