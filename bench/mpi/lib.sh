# Sourced by bench/mpi/run.sh, rmaio.sh and layercost.sh: the build tree (BUILD, default the
# folder they are run from), repetitions (REPS, default 3), scale (SCALE, default 1), the
# environment a rank needs natively and under Revive from a build tree, a scratch folder, and
# the runs themselves.
build=${BUILD:-$(pwd)}
reps=${REPS:-3}
scale=${SCALE:-1}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export REVIVE_MPI_LIBDIR=$build/.libs REVIVE_EXEC=$build/tools/mpi/revive-exec
# the build's coordinator and restorer (not an installed copy's)
export REVIVE_COORD_BIN=$build/tools/snapc/revive-coord REVIVE_RESTART_RANK=$build/tools/revive-restart-rank
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# bench_runs PROGRAM FLAVOR NP: bench/mpi/PROGRAM-FLAVOR on NP ranks natively and under
# "mpirun -am ft-enable-cr", alternating, REPS times each; their output in $tmp/native and
# $tmp/revive. Status 1 (said) when the program is not built.
bench_runs() {
    bin=$build/bench/mpi/$1-$2
    [ -x "$bin" ] || { echo "$2: $bin not built (make in $build)"; return 1; }
    case $2 in
    ompi) launcher=$(sed -n 's/^MPIEXEC_OMPI = //p' "$build/Makefile") ;;
    mpich) launcher=$(sed -n 's/^MPIEXEC_MPICH = //p' "$build/Makefile") ;;
    esac
    : >"$tmp/native"; : >"$tmp/revive"
    for r in $(seq "$reps"); do
        timeout 300 "$launcher" -n "$3" "$bin" "$scale" >>"$tmp/native" 2>/dev/null || echo "$2: native run failed"
        PATH=$(dirname "$launcher"):$PATH timeout 300 "$build/tools/mpi/mpirun" -am ft-enable-cr -n "$3" "$bin" "$scale" \
            >>"$tmp/revive" 2>/dev/null || echo "$2: Revive run failed"
    done
}
