#!/bin/bash
# pmpi_tool.sh FLAVOR (newuser10 F2): a PMPI profiling tool (MPI_X wrappers that count and call
# PMPI_X, as mpiP, IPM, Darshan, Score-P and TAU are made: pmpi_tool_lib.c) runs under Revive as
# natively, given either way users give one: (a) preloaded with the launcher's own option
# (-x LD_PRELOAD=... for Open MPI, -genv LD_PRELOAD ... for MPICH; Revive's layer comes before it
# in the ranks' LD_PRELOAD) and (b) linked into the program (a library it needs, named before the
# MPI library). The preloaded tool reaches PMPI_X with dlsym(RTLD_NEXT, "PMPI_X"), as Darshan's
# preloaded build does (natively the library's; under Revive the layer's, not the application's
# copy of the library, which never runs), the linked one calls PMPI_X. Until session 41 the layer's MPI_X was what the program called either way: the
# job's answer was right and the tool silently never ran (no report).
# For each way, pmpi_tool (2 ranks, paced) runs natively, then under "mpirun -am ft-enable-cr"
# uninterrupted, then ended by "ckpt-mpirun --term" after its second step and restarted by
# restart-mpi. The tool's lines (one per rank at MPI_Finalize) must equal the native run's each
# time. The counting rule: the tool's counters are in the rank's memory, taken into the image
# with it, so the restarted job's tool reports the calls since the job's start (those before the
# snapshot and those after the restart), exactly the native run's counts; the calls the layer
# makes itself for a snapshot never reach the tool. The preloaded way also preloads a wrapper of
# PMPI_Barrier itself (-DPMPI_LEVEL), which cannot run under Revive: rank 0 must say so in one
# line at MPI_Init.
flavor=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../mpienv.sh" || exit $?
. "$here/ckptenv.sh" || exit $?
mpicc=$(command -v "mpicc.$(echo "$flavor" | sed 's/ompi/openmpi/')")
[ -n "$mpicc" ] || { echo "SKIP: no mpicc for $flavor"; exit 77; }
n=2 steps=8 ms=250
export REVIVE_RESTART_RANK=$restarter
tool_lines() { grep -h '^tool rank ' "$@" | sort; }
# cycle WAY LAUNCHER_ARGS...: the native run, the uninterrupted run and the --term/restart cycle
# of ./pmpi_tool in $d with the launcher's arguments given
cycle() {
    local way=$1 job
    shift
    run_native "$n" "$@" ./pmpi_tool $steps "$d/nopace" 0 >native.out 2>native.err ||
        { failed "$way: the native run: status $?"; show_err native.err; return 1; }
    tool_lines native.out >native.tool
    if [ "$(wc -l <native.tool)" != $n ] || grep -q 'allreduce 0 ' native.tool; then
        failed "$way: the native run's tool lines (the tool does not run natively?):"; show_err native.out; return 1
    fi
    clean timeout -k 5 600 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" -n "$n" "$@" ./pmpi_tool \
        $steps "$d/nopace" 0 >plain.out 2>plain.err
    if cmp -s native.tool <(tool_lines plain.out) && cmp -s <(results native.out) <(results plain.out); then
        pass "$way: uninterrupted under Revive, the tool's lines as natively: $(head -n 1 native.tool)"
    else
        failed "$way: uninterrupted under Revive, the tool's lines (native, then Revive's):"
        sed 's/^/  native: /' native.tool; tool_lines plain.out | sed 's/^/  revive: /'; show_err plain.err
    fi
    touch pace
    clean timeout -k 5 600 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" -n "$n" "$@" ./pmpi_tool \
        $steps "$d/pace" $ms >out.0 2>err.0 &
    job=$!; pids+=($job)
    wait_steps out.0 2 $job || { rm -f pace; failed "$way: no steps before the checkpoint"; show_err err.0; return 1; }
    if ! term_restart $job; then
        failed "$way: ckpt-mpirun --term: $(tail -n 3 ckpt.term.err | tr '\n' ' ')"; show_err err.0; return 1
    fi
    restart_verdict "$way: --term and restart-mpi, the job's results"
    if [ -n "$(tool_lines out.0)" ]; then
        failed "$way: the tool reported before the snapshot (the job ended in MPI_Finalize?)"
    elif cmp -s native.tool <(tool_lines out.1); then
        pass "$way: the restarted job's tool counted every call since the job's start, as natively"
    else
        failed "$way: the restarted job's tool lines (native, then restarted):"
        sed 's/^/  native: /' native.tool; tool_lines out.1 | sed 's/^/  restarted: /'; show_err err.1
    fi
}

ck_workdir preload
"$mpicc" -O1 -shared -fPIC -DVIA_RTLD_NEXT -o libpmpit.so "$here/pmpi_tool_lib.c" -ldl 2>>cc.err &&
    "$mpicc" -O1 -shared -fPIC -DPMPI_LEVEL -o libpmpil.so "$here/pmpi_tool_lib.c" -ldl 2>>cc.err &&
    "$mpicc" -O1 -I"$here" -o pmpi_tool "$here/pmpi_tool.c" 2>>cc.err ||
    { failed "pmpi_tool.c or pmpi_tool_lib.c does not build:"; head -n 6 cc.err | sed 's/^/  /'; exit 1; }
pre=$d/libpmpit.so:$d/libpmpil.so
case $flavor in
ompi) cycle "preloaded (-x LD_PRELOAD)" -x LD_PRELOAD="$pre" ;;
*) cycle "preloaded (-genv LD_PRELOAD)" -genv LD_PRELOAD "$pre" ;;
esac
k=$(grep -ac 'libpmpil.so defines PMPI_Barrier.*never run' plain.err 2>/dev/null)
if [ "$k" = 1 ]; then
    pass "preloaded: the wrapper of PMPI_Barrier is said to be passed over, once: $(grep -a -m1 'defines PMPI_Barrier' plain.err | cut -c1-120)..."
else
    failed "preloaded: the wrapper of PMPI_Barrier passed over is said $k times (1 expected)"; show_err plain.err
fi

ck_workdir linked
"$mpicc" -O1 -shared -fPIC -o libpmpit.so "$here/pmpi_tool_lib.c" 2>>cc.err &&
    "$mpicc" -O1 -I"$here" -o pmpi_tool "$here/pmpi_tool.c" -L"$d" -lpmpit -Wl,-rpath,"$d" 2>>cc.err ||
    { failed "pmpi_tool.c or pmpi_tool_lib.c does not build (linked):"; head -n 6 cc.err | sed 's/^/  /'; exit 1; }
cycle "linked (mpicc ... -lpmpit)"
left=$(no_strays "$tmp/") || { failed "processes left: $left"; kill -KILL $(awk '{print $1}' <<<"$left") 2>/dev/null; }
exit $fail
