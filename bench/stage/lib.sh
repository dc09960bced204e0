# Sourced by the bench/stage scripts: what each needs before its own setup. After
# `stage_bench_setup NAME WHY-ROOT TOOL...` (TOOL: paths under the build folder besides mpirun,
# ckpt-mpirun and revive-restart-rank), with $1 of the script in BUILD_ARG:
#   die MSG   the script's one-line failure ("bench/stage/NAME: MSG"), exit 2 (could not run)
#   src build launcher W   the source folder, the build folder, MPICH's launcher, a fresh 0700
#                          work folder under BENCH_DIR (default /work if writable, else /tmp)
# shellcheck shell=bash
stage_bench_setup() {
    local name=$1 why=$2 t base
    shift 2
    BENCH_NAME=$name
    die() { echo "bench/stage${BENCH_NAME:+/$BENCH_NAME}: $*" >&2; exit 2; }
    [ "$(id -u)" = 0 ] || die "needs root ($why)"
    launcher=$(sed -n 's/^MPIEXEC_MPICH = //p' "$build/Makefile" 2>/dev/null)
    [ -x "$launcher" ] || die "no MPICH launcher in $build/Makefile"
    for t in tools/mpi/mpirun tools/snapc/ckpt-mpirun tools/revive-restart-rank "$@"; do
        [ -x "$build/$t" ] || die "$build/$t is missing (build first)"
    done
    command -v mpicc.mpich >/dev/null || die "mpicc.mpich is missing"
    base=${BENCH_DIR:-}
    [ -n "$base" ] || { [ -w /work ] && base=/work || base=/tmp; }
    W=$(mktemp -d "$base/revive-bench-${name:-stage}.XXXXXX") || die "cannot make a folder in $base"
}
