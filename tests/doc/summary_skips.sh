#!/bin/sh
# scripts/test-summary names the parts of tests that were skipped (a "SKIP-PART: WHAT" line in a
# test's log, as tests/snapc/usage_hint.sh prints for its read-only case when it cannot mount a
# tmpfs), under "parts skipped", beside the tests that passed (review LOW: that case was skipped
# without being counted anywhere); the other MPI's wrappers of the tests run on one MPI by default
# (ONE_MPI_OTHER of tests/mpi/ckpt/Makefile.inc), when they did not run, on a line of their own,
# not as skips, and each one's sibling is in TESTS and its test in README.md's table "On one MPI";
# the last line stays "N passed, N failed".
set -u
src=${REVIVE_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
w=$(mktemp -d) || exit 99
trap 'rm -rf "$w"' EXIT
mkdir -p "$w/tests/snapc" "$w/tests/crs"
printf ':test-result: PASS\n' >"$w/tests/snapc/usage_hint.sh.trs"
printf 'ok: something\nSKIP-PART: a snapshot on read-only storage (cannot mount a tmpfs: not root?)\nPASS\n' \
    >"$w/tests/snapc/usage_hint.sh.log"
printf ':test-result: PASS\n' >"$w/tests/crs/other.sh.trs"
printf 'PASS all\n' >"$w/tests/crs/other.sh.log"
# tests run on one MPI by default: the other MPI's wrapper, not run, named on one line (not as a
# skip); one that ran (REVIVE_TEST_BOTH_MPIS=1) is not named there
mkdir -p "$w/tests/mpi/ckpt"
printf 'ONE_MPI_OTHER = tests/mpi/ckpt/rst_stdio-mpich.sh \\\n\ttests/mpi/ckpt/term_lines-ompi.sh \\\n\ttests/mpi/ckpt/rst_popen-ompi.sh\nEXTRA_DIST += x\n' >"$w/Makefile"
printf ':test-result: PASS\n' >"$w/tests/mpi/ckpt/rst_popen-ompi.sh.trs"
printf 'PASS\n' >"$w/tests/mpi/ckpt/rst_popen-ompi.sh.log"
out=$("$src/scripts/test-summary" "$w")
fails=0
echo "$out" | grep -q "^parts skipped (1, in tests counted above):" &&
    echo "$out" | grep -q "tests/snapc/usage_hint.sh: a snapshot on read-only storage (cannot mount a tmpfs: not root?)" ||
    { echo "FAIL: the skipped part is not named:"; echo "$out" | sed 's/^/    /'; fails=1; }
echo "$out" | grep -qx "run on the other MPI only by default (2, tests/mpi/ckpt/README.md; REVIVE_TEST_BOTH_MPIS=1 runs them): tests/mpi/ckpt/ rst_stdio-mpich.sh term_lines-ompi.sh" &&
    ! echo "$out" | grep -q "^skipped" ||
    { echo "FAIL: the tests run on the other MPI only are not named on their line:"; echo "$out" | sed 's/^/    /'; fails=1; }
# each such wrapper: its test on the other MPI in TESTS, and a row of README.md's table
mk=$src/tests/mpi/ckpt/Makefile.inc
others=$(sed -n '/^ONE_MPI_OTHER = /,/[^\\]$/p' "$mk" | sed 's/^ONE_MPI_OTHER = //; s/\\$//')
[ "$(echo $others | wc -w)" -ge 10 ] || { echo "FAIL: ONE_MPI_OTHER of $mk not found"; fails=1; }
# (an entry of another folder, tests/hosts/scratch-mpich.sh: its folder's Makefile.inc and README)
for one in $others; do
    base=${one%-*}; mine=${one##*-}
    case $mine in ompi.sh) sib=$base-mpich.sh ;; mpich.sh) sib=$base-ompi.sh ;; *) sib=? ;; esac
    dir=$src/$(dirname "$one")
    awk '{ while (/\\$/) { sub(/\\$/, ""); l = $0; getline; $0 = l " " $0 } } /^TESTS \+= / { print }' "$dir/Makefile.inc" |
        grep -q "[[:space:]]$sib\([[:space:]]\|$\)" && [ -f "$src/$one" ] &&
        grep -q "^| \`$(basename "$base")\` |" "$dir/README.md" ||
        { echo "FAIL: $one: $sib must be in TESTS and README.md's table \"On one MPI\" must name $(basename "$base")"; fails=1; }
done
[ "$(echo "$out" | tail -n 1)" = "3 passed, 0 failed" ] ||
    { echo "FAIL: the last line is not '3 passed, 0 failed': $(echo "$out" | tail -n 1)"; fails=1; }
grep -q '^ *echo "SKIP-PART: a snapshot on read-only storage' "$src/tests/snapc/usage_hint.sh" ||
    { echo "FAIL: tests/snapc/usage_hint.sh does not say its read-only case's skip as SKIP-PART"; fails=1; }
[ $fails = 0 ] && echo "PASS: test-summary names the skipped part of a passing test and the tests run on the other MPI only"
exit $fails
