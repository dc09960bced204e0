#!/bin/bash
# exec_once.sh FLAVOR: the MPI flavour of a job's program is detected once, by the mpirun
# wrapper, not again by every rank's revive-exec (tools/mpi/revive-exec.in, REVIVE_EXEC_KNOWN):
# detecting runs the dynamic loader twice (--verify, --list), 10-20 ms of CPU in every rank of
# every job. A 3-rank job under strace (execve only): the loader runs 2 times (the wrapper's),
# not 2 + 2 per rank; the job ends as it does natively. An answer for another host or another
# file is not taken (revive-exec of /bin/true detects it, and refuses it as before). The wrapper
# itself starts no basename nor dirname, and never probes env (its run of itself again with SIGINT
# and SIGQUIT at their default goes through revive-coord --exec-sigdfl: diffrev45 R-L7).
# In front of the ranks is revive-rank (tools/mpi/revive_rank.c), which does revive-exec's common
# case without bash (~6 ms of CPU a rank): no rank runs revive-exec (the wrapper's --detect
# alone); revive-rank hands every other case to revive-exec (the answers above not taken: the
# same refusal), and where it takes the answer the program gets the environment revive-exec gives.
# The wrapper's --detect goes through revive-rank too (the script's bash was ~20 ms of CPU a job):
# no revive-exec at all in a job of one program linked against MPI, and revive-rank --detect
# answers as revive-exec --detect does (output, messages, status) for programs of either MPI, a
# Fortran one (linked through the MPI's Fortran library), REVIVE_MPI set, none, a script, a
# static program, a missing one and a directory.
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
# the ^C sentinel is one program, revive-coord --sentinel, not env and cat (~10 ms of CPU a job)
sentinels=$(grep -E 'execve\("[^"]*/revive-coord", \["[^"]*"(\.\.\.)?, "--sentinel"\]' "$tmp/trace" | grep -vc ' = -1 ')
if [ "$(ran env)" != 0 ] || [ "$(ran cat)" != 0 ] || [ "$sentinels" != 1 ]; then
    echo "FAIL: the job started env $(ran env) times, cat $(ran cat) times and revive-coord --sentinel" \
        "$sentinels times (0, 0 and 1 expected: the ^C sentinel is one program)"
    fail=1
else
    echo "ok: the ^C sentinel was one revive-coord --sentinel, no env nor cat"
fi
if [ -n "$ignore" ] && [ "$reruns" != 1 ]; then
    echo "FAIL: started with SIGINT and SIGQUIT ignored, the wrapper ran itself again $reruns times (1 expected)"
    fail=1
fi
rank_agent=${REVIVE_EXEC%/*}/revive-rank
[ -x "$rank_agent" ] || { echo "FAIL: $rank_agent is not built"; exit 1; }
if [ "$(ran revive-exec)" != 0 ]; then
    echo "FAIL: revive-exec ran $(ran revive-exec) times in a 3-rank job (0 expected: revive-rank" \
        "runs in front of the ranks and answers the wrapper's --detect; each bash script is 6-20 ms of CPU)"
    fail=1
elif [ "$(ran revive-rank)" != 4 ]; then
    echo "FAIL: revive-rank ran $(ran revive-rank) times in a 3-rank job (4 expected: the wrapper's --detect, 3 ranks)"; fail=1
else
    echo "ok: the wrapper's --detect and 3 ranks through revive-rank, revive-exec never ran"
fi
# revive-rank --detect answers as revive-exec --detect, or hands the program to it
other=mpich; [ "$flavor" = mpich ] && other=ompi
printf '#!/bin/sh\necho script\n' >"$tmp/script.sh"; chmod +x "$tmp/script.sh"
# a Fortran program: linked against the MPI's Fortran library, which the MPI library comes with
fort=$tmp/fort
fc=mpif90.$flavor; [ "$flavor" = ompi ] && fc=mpif90.openmpi
printf '%s\n' 'program f' '  use mpi' '  integer :: ierr' '  call MPI_INIT(ierr)' '  call MPI_FINALIZE(ierr)' \
    'end program f' >"$tmp/fort.f90"
command -v "$fc" >/dev/null && (cd "$tmp" && "$fc" -o fort fort.f90) >/dev/null 2>&1 ||
    echo "  (no Fortran program: $fc cannot build one here)"
for p in "$bin" "${bin%-*}-$other" "$fort" "forced:$bin" /bin/true "$tmp/script.sh" /sbin/ldconfig \
    "$tmp/missing" cat "$tmp"; do
    force=
    case $p in forced:*) p=${p#forced:}; force=$other ;; esac
    [ -e "$p" ] || [ "$p" = "$tmp/missing" ] || [ "$p" = cat ] || continue
    a=$(REVIVE_MPI=$force "$REVIVE_EXEC" --detect "$p" 2>&1; echo "status $?")
    b=$(REVIVE_MPI=$force "$rank_agent" --detect "$p" 2>&1; echo "status $?")
    if [ "$a" != "$b" ]; then
        echo "FAIL: --detect ${force:+(REVIVE_MPI=$force) }$p: revive-exec said '$a', revive-rank '$b'"; fail=1
    else
        echo "ok: --detect ${force:+(REVIVE_MPI=$force) }$p: revive-rank as revive-exec: $(echo $a | cut -c1-90)"
    fi
done
# the answer is taken only for that host and that file: anything else is detected (/bin/true:
# not an MPI program, refused as before), by revive-exec itself or through revive-rank
for agent in "$REVIVE_EXEC" "$rank_agent"; do
    for known in "ompi not-$HOSTNAME /bin/true" "ompi $HOSTNAME /bin/false"; do
        if REVIVE_EXEC_KNOWN=$known "$agent" /bin/true 2>"$tmp/known.err"; then
            echo "FAIL: ${agent##*/}: REVIVE_EXEC_KNOWN='$known' was taken for /bin/true on $HOSTNAME"; fail=1
        elif ! grep -q "is not linked against Open MPI" "$tmp/known.err"; then
            echo "FAIL: ${agent##*/}: REVIVE_EXEC_KNOWN='$known', /bin/true: $(cat "$tmp/known.err")"; fail=1
        else
            echo "ok: ${agent##*/}: REVIVE_EXEC_KNOWN='$known' is not taken for /bin/true on this host: detected and refused"
        fi
    done
done
# where the answer is taken, the program's environment is revive-exec's: the preload list (an
# MPI library after the layer, the user's own preload last), the flavour, REVIVE_EXEC_KNOWN gone;
# the program named by an absolute path, a relative one ($PWD/NAME) and a bare name (PATH).
# "./env" is not the answer's file name ($PWD/./env): both detect it and refuse it alike.
envbin=$(command -v env)
envdir=${envbin%/*}
seen() { grep -E '^(LD_PRELOAD|REVIVE_MPI_FLAVOR|REVIVE_MPI_PRELOADED|REVIVE_EXEC_KNOWN)=|^revive' "$1" | sort; }
for kf in ompi "mpich:/nonexistent/libmpich.so.12"; do
    for name in "$envbin" "${envdir##*/}/env" env ./env; do
        wd=$envdir
        case $name in */*/*) ;; ./*) ;; */*) wd=${envdir%/*} ;; esac
        for agent in "$REVIVE_EXEC" "$rank_agent"; do
            ( cd "${wd:-/}" && PWD=${wd:-/} LD_PRELOAD=/nonexistent/user-preload.so \
                REVIVE_EXEC_KNOWN="$kf $HOSTNAME $envbin" "$agent" "$name" ) >"$tmp/env.${agent##*/}" 2>&1
        done
        taken=0
        grep -q '^REVIVE_MPI_FLAVOR=' "$tmp/env.revive-exec" && taken=1
        if [ "$name" = ./env ] && [ $taken = 1 ]; then
            echo "FAIL: revive-exec took REVIVE_EXEC_KNOWN for ./env (\$PWD/./env is not $envbin)"; fail=1
        elif [ "$name" != ./env ] && [ $taken = 0 ]; then
            echo "FAIL: revive-exec of $name (REVIVE_EXEC_KNOWN '$kf ... $envbin') did not take the answer: $(head -3 "$tmp/env.revive-exec")"; fail=1
        elif [ -z "$(seen "$tmp/env.revive-exec")" ] || [ "$(seen "$tmp/env.revive-exec")" != "$(seen "$tmp/env.revive-rank")" ]; then
            echo "FAIL: revive-rank of $name gave another outcome than revive-exec:"
            diff <(seen "$tmp/env.revive-exec") <(seen "$tmp/env.revive-rank") | sed 's/^/  /'; fail=1
        else
            echo "ok: revive-rank of $name ($kf, run in $wd): as revive-exec ($([ $taken = 1 ] && echo the answer taken || echo detected and refused))"
        fi
    done
done
exit $fail
