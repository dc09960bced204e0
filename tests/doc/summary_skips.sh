#!/bin/sh
# scripts/test-summary names the parts of tests that were skipped (a "SKIP-PART: WHAT" line in a
# test's log, as tests/snapc/usage_hint.sh prints for its read-only case when it cannot mount a
# tmpfs), under "parts skipped", beside the tests that passed (review LOW: that case was skipped
# without being counted anywhere); the last line stays "N passed, N failed".
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
out=$("$src/scripts/test-summary" "$w")
fails=0
echo "$out" | grep -q "^parts skipped (1, in tests counted above):" &&
    echo "$out" | grep -q "tests/snapc/usage_hint.sh: a snapshot on read-only storage (cannot mount a tmpfs: not root?)" ||
    { echo "FAIL: the skipped part is not named:"; echo "$out" | sed 's/^/    /'; fails=1; }
[ "$(echo "$out" | tail -n 1)" = "2 passed, 0 failed" ] ||
    { echo "FAIL: the last line is not '2 passed, 0 failed': $(echo "$out" | tail -n 1)"; fails=1; }
grep -q '^ *echo "SKIP-PART: a snapshot on read-only storage' "$src/tests/snapc/usage_hint.sh" ||
    { echo "FAIL: tests/snapc/usage_hint.sh does not say its read-only case's skip as SKIP-PART"; fails=1; }
[ $fails = 0 ] && echo "PASS: test-summary names the skipped part of a passing test"
exit $fails
