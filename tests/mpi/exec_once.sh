#!/bin/bash
# exec_once.sh FLAVOR: the MPI flavour of a job's program is detected once, by the mpirun
# wrapper, not again by every rank's revive-exec (tools/mpi/revive-exec.in, REVIVE_EXEC_KNOWN):
# detecting runs the dynamic loader twice (--verify, --list), 10-20 ms of CPU in every rank of
# every job. A 3-rank job under strace (execve only): the loader runs 2 times (the wrapper's),
# not 2 + 2 per rank; the job ends as it does natively. An answer for another host or another
# file is not taken (revive-exec of /bin/true detects it, and refuses it as before). The wrapper
# itself starts no basename nor dirname, and never probes env (its run of itself again with SIGINT
# and SIGQUIT at their default goes through revive-coord --exec-sigdfl: diffrev45 R-L7).
flavor=$1
. "$(dirname "$0")/mpienv.sh" || exit $?
bin=$REVIVE_BUILDDIR/tests/snapc/mpi_loop-$flavor
[ -x "$bin" ] || { echo "SKIP: $bin not built"; exit 77; }
command -v strace >/dev/null || { echo "SKIP: strace is missing"; exit 77; }
fail=0
run_native 3 "$bin" 50 >"$tmp/native.out" 2>"$tmp/native.err" || { echo "FAIL: native run: $(tail -2 "$tmp/native.err")"; exit 1; }
# loader_runs TRACE: execve of the dynamic loader with --verify or --list
loader_runs() { grep -E 'execve\("[^"]*ld-linux[^"]*", \[[^]]*"--(verify|list)"' "$1" | grep -vc ' = -1 '; }
# with SIGINT and SIGQUIT ignored, as a script's background job has them (every job of the tests
# in CI): the wrapper runs itself again with both at their default (mpirun.in)
ignore=
env --ignore-signal=INT,QUIT true 2>/dev/null && ignore="env --ignore-signal=INT,QUIT"
PATH=$(dirname "$launcher"):$PATH timeout -k 5 "$TMO" $ignore strace -f -qq --seccomp-bpf -e trace=execve -o "$tmp/trace" \
    "$wrapper" -am ft-enable-cr -n 3 "$bin" 50 >"$tmp/rev.out" 2>"$tmp/rev.err"; st=$?
if [ $st != 0 ] || ! cmp -s "$tmp/native.out" "$tmp/rev.out"; then
    echo "FAIL: the job under Revive (status $st) did not end as natively: $(tail -3 "$tmp/rev.err")"; fail=1
fi
n=$(loader_runs "$tmp/trace")
if [ "$n" = 2 ]; then
    echo "ok: 3 ranks: the dynamic loader ran 2 times to detect the flavour (the wrapper's only)"
else
    echo "FAIL: 3 ranks: the dynamic loader ran $n times to detect the flavour (2 expected: the wrapper's; each rank's revive-exec detected it again)"
    grep -E 'execve\("[^"]*ld-linux' "$tmp/trace" | head -8 | sed 's/^/  /'
    fail=1
fi
# The wrapper's own commands (each started command is 5-12 ms of CPU in every job on the loaded
# 2-core machine): no basename or dirname (bash's own words do), and no "env --default-signal=INT
# true" probe of env at all: the wrapper runs itself again with SIGINT and SIGQUIT at their
# default (when its caller ignored them) through revive-coord --exec-sigdfl, which needs none
# (diffrev45 R-L7: env's option, missing before coreutils 8.31, was baked in by configure); the
# ^C sentinel's env needs none either (ci45: that probe was 10 ms of CPU a job)
ran() { grep -E "execve\\(\"[^\"]*/$1\"" "$tmp/trace" | grep -vc ' = -1 '; }
probes=$(grep -E 'execve\("[^"]*/env", \["env", "--default-signal=INT", "true"' "$tmp/trace" | grep -vc ' = -1 ')
# (strace cuts each argument at 32 bytes: the revive-coord path as argv[0] too)
reruns=$(grep -E 'execve\("[^"]*/revive-coord", \["[^"]*"(\.\.\.)?, "--exec-sigdfl", ' "$tmp/trace" |
    grep -vc ' = -1 ')
if [ "$(ran basename)" != 0 ] || [ "$(ran dirname)" != 0 ] || [ "$probes" != 0 ]; then
    echo "FAIL: the wrapper started basename $(ran basename) times, dirname $(ran dirname) times and" \
        "probed env $probes times for $reruns runs of itself again (0, 0 and 0 expected)"
    fail=1
else
    echo "ok: the wrapper started no basename nor dirname, and probed env $probes times for $reruns runs of itself again"
fi
if [ -n "$ignore" ] && [ "$reruns" != 1 ]; then
    echo "FAIL: started with SIGINT and SIGQUIT ignored, the wrapper ran itself again $reruns times (1 expected)"
    fail=1
fi
# the answer is taken only for that host and that file: anything else is detected (/bin/true:
# not an MPI program, refused as before)
for known in "ompi not-$HOSTNAME /bin/true" "ompi $HOSTNAME /bin/false"; do
    if REVIVE_EXEC_KNOWN=$known "$REVIVE_EXEC" /bin/true 2>"$tmp/known.err"; then
        echo "FAIL: REVIVE_EXEC_KNOWN='$known' was taken for /bin/true on $HOSTNAME"; fail=1
    elif ! grep -q "is not linked against Open MPI" "$tmp/known.err"; then
        echo "FAIL: REVIVE_EXEC_KNOWN='$known', /bin/true: $(cat "$tmp/known.err")"; fail=1
    else
        echo "ok: REVIVE_EXEC_KNOWN='$known' is not taken for /bin/true on this host: detected and refused"
    fi
done
exit $fail
