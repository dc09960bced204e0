#!/bin/sh
# make check's LOG_COMPILER: runs the test (its arguments) and writes its wall time in seconds to
# a file next to its log, NAME.time for NAME.log (scripts/test-summary lists the slowest). The
# harness records no times itself, and CI's length is ruled by a few long tests.
# automake's test driver sends the test's output to its log, so fd 1 names the log.
log=$(readlink "/proc/$$/fd/1" 2>/dev/null)
start=$(date +%s.%N)
"$@"
rc=$?
case "$log" in
    *.log) awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f\n", e - s }' \
               >"${log%.log}.time" ;;
esac
exit $rc
