#!/bin/sh
# make check's LOG_COMPILER: runs the test (its arguments) and writes its wall time and the CPU
# time of its waited-for processes (user + system), in seconds, to a file next to its log:
# NAME.time for NAME.log, "WALL CPU" (scripts/test-summary lists the slowest). The harness
# records no times itself, and CI's length is ruled by a few long tests; a test whose CPU time is
# far below its wall time mostly waits.
# In braces: the shell reads all of it before the test runs, so an edit of this file while tests
# run does not break them.
{
    # automake's test driver sends the test's output to its log, so fd 1 names the log
    log=$(readlink "/proc/$$/fd/1" 2>/dev/null)
    start=$(date +%s.%N)
    "$@"
    rc=$?
    end=$(date +%s.%N)
    # times' second line: the children's user and system time (as 1m2.5s); not in a pipe, whose
    # subshell would have no children
    out=${log%.log}
    [ "$out" != "$log" ] && times >"$out.time" && awk -v s="$start" -v e="$end" '
        function sec(t) { split(t, a, /[ms]/); return a[1] * 60 + a[2] }
        NR == 2 { printf "%.1f %.1f\n", e - s, sec($1) + sec($2) }' "$out.time" >"$out.time.new" &&
        mv "$out.time.new" "$out.time"
    exit $rc
}
