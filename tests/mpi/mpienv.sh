# Sourced by the tests in tests/mpi: how to launch natively and under Revive from the build
# tree, with a timeout so that nothing hangs. Expects $flavor (ompi|mpich).
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_btl_vader_single_copy_mechanism=${REVIVE_TEST_SINGLE_COPY:-none}
# Open MPI 4.1's treematch topology component hangs now and then in MPI_Dist_graph_create, natively
# too (ompi_comm_nextcid on every rank; 5 runs in 8 of 50 creations on 4 ranks here)
export OMPI_MCA_topo=^treematch
# Open MPI's ranks yield when idle (as tests/hosts' jobs do): a job of fewer ranks than cores is
# not oversubscribed to Open MPI, so its ranks would spin while they wait, and beside the other
# tests of make -j they wait a time slice for each other per message (snapc/place-ompi, two ranks
# under taskset -c 1: 99 s, 13 s yielding). What the jobs compute and checkpoint is the same.
export OMPI_MCA_mpi_yield_when_idle=${OMPI_MCA_mpi_yield_when_idle:-1}
# Open MPI's daemons wait odls_base_sigkill_timeout (1 s) between the SIGTERM and the SIGKILL of
# the ranks of a job they end abnormally, even when the ranks are gone already: every job whose
# ranks exit without MPI_Finalize (the self-checkpointing --exit runs of the restart tests,
# twice in each two_restarts test, 12 in restart_chain) took a second more to end (measured: a
# 2-rank MPI_Init-and-exit program 2.3 s, 1.2 s with 0 or with MPI_Finalize). No test's rank
# handles SIGTERM (Revive's layer does not either), so nothing else changes.
export OMPI_MCA_odls_base_sigkill_timeout=${OMPI_MCA_odls_base_sigkill_timeout:-0}
# MPICH 4.0's ranks poll flat out while they wait (it has no setting that yields): under Revive
# they give the core away (REVIVE_MPI_YIELD_WHEN_IDLE, src/pml_hooks/idle.c; ck_coll-mpich 245 s
# -> 125 s, ck_p2p-mpich 207 s -> 91 s, measured one after the other at load 20). Open MPI's
# tests keep the default (the layer's waits polling, blocking collectives as such). Native runs
# are not changed by it.
[ "$flavor" = mpich ] && export REVIVE_MPI_YIELD_WHEN_IDLE=${REVIVE_MPI_YIELD_WHEN_IDLE:-1}
: "${REVIVE_BUILDDIR:?run through make check}"
export REVIVE_MPI_LIBDIR=$REVIVE_BUILDDIR/.libs
export REVIVE_EXEC=$REVIVE_BUILDDIR/tools/mpi/revive-exec
export REVIVE_COORD_BIN=$REVIVE_BUILDDIR/tools/snapc/revive-coord
wrapper=$REVIVE_BUILDDIR/tools/mpi/mpirun
mk=$REVIVE_BUILDDIR/Makefile
case $flavor in
ompi) launcher=$(sed -n 's/^MPIEXEC_OMPI = //p' "$mk") ;;
mpich) launcher=$(sed -n 's/^MPIEXEC_MPICH = //p' "$mk") ;;
*) echo "unknown MPI flavor '$flavor'"; return 99 ;;
esac
[ -n "$launcher" ] && [ -x "$launcher" ] || { echo "SKIP: no $flavor launcher"; exit 77; }
# The timeouts catch hangs; a run that merely takes long under load is not a failure (a native
# run least of all: it is the baseline). REVIVE_MPI_TIMEOUT (default 30 s) is the bound on an
# idle machine; TMO is it times the load per core when the test starts, rounded up, from 1 to 10
# (CI runs about three tests at once on 2 cores, load 7-8: hpcc-ompi's native run was killed
# after 30 s at load 7.69; it took 55 s at load 15 here, 8 s idle). load_scaled SECONDS prints
# SECONDS scaled so, for a test's own bounds.
load_scaled() {
    awk -v b="$1" -v n="$(nproc 2>/dev/null || echo 1)" \
        '{ f = int($1 / n + 0.999); if (f < 1) f = 1; if (f > 10) f = 10; print int(b * f) }' /proc/loadavg
}
TMO=$(load_scaled "${REVIVE_MPI_TIMEOUT:-30}")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/revive-mpi.XXXXXX")
# the jobs' node-local caches (the default: $TMPDIR/revive-local-<uid>) go with the folder
export TMPDIR=$tmp
trap 'rm -rf "$tmp"' EXIT
# nap SECONDS: waits SECONDS without starting a process, as tests/crs/crs_lib.sh's crs_nap: a read
# with a timeout on a FIFO in the test's folder that nobody writes (opened read-write, so the
# open does not wait for a writer). The tests' polling loops look every 0.05-0.2 s while a job
# runs, and a sleep(1) each time cost 6-10 ms of CPU on the loaded 2-core machine (a look that
# runs ps, awk or grep costs more: each is a process). sleep where the FIFO cannot be made or
# the shell has no read -t (tests run by sh).
nap() {
    if [ -n "${BASH_VERSION:-}" ] && { [ -p "$tmp/.nap" ] || mkfifo "$tmp/.nap" 2>/dev/null; }; then
        read -r -t "$1" _nap <>"$tmp/.nap"
        return 0
    fi
    sleep "$1"
}
run_native() { n=$1; shift; timeout -k 5 "$TMO" "$launcher" -n "$n" "$@"; }
run_revive() { n=$1; shift; PATH=$(dirname "$launcher"):$PATH timeout -k 5 "$TMO" "$wrapper" -am ft-enable-cr -n "$n" "$@"; }
# native_kept OUT ERR LAUNCHER N PROG ARG...: the native reference run "LAUNCHER -n N PROG ARG..."
# (TMO's timeout), its stdout in OUT and its stderr in ERR, its status returned; sets native_s
# (its wall seconds) and native_from ("run", or "kept" when taken from an earlier test). Under
# scripts/run-tests (REVIVE_TEST_NATIVE_CACHE: a folder it empties at the start of each run) a
# run that ended with status 0 is kept there, and a later test asking for the very same run takes
# the kept output and seconds instead of running it again: ck_X-mpich's reference is Open MPI's
# run of ck_X (ckcompare.sh), the same runs ck_X-ompi makes. The same run: the launcher and the
# program (path, size, mtime and inode: a rebuilt program is another), the ranks, the arguments
# (a path under the test's folder $tmp that does not exist counts as the same in every test:
# the pace files the programs only look for), and the environment's variables of the MPI
# libraries, their launchers and hwloc. Only for programs whose output is their stdout and
# stderr alone, whatever the test's folder (files they write go under TMPDIR and are gone when
# they end; a file named in the arguments must not be written). Two tests asking at once: the second
# waits for the first's run (flock) and takes it; a failed run is not kept (the next test runs
# its own). Without the folder (make check alone) or flock: the run, as before.
native_kept() {
    _nk_out=$1 _nk_err=$2 _nk_l=$3 _nk_n=$4
    shift 4
    native_from=run
    if [ -z "${REVIVE_TEST_NATIVE_CACHE:-}" ] || [ ! -d "$REVIVE_TEST_NATIVE_CACHE" ] ||
        ! command -v flock >/dev/null 2>&1; then
        _nk_t0=$(date +%s)
        timeout -k 5 "$TMO" "$_nk_l" -n "$_nk_n" "$@" >"$_nk_out" 2>"$_nk_err"
        _nk_rc=$?
        native_s=$(($(date +%s) - _nk_t0))
        return $_nk_rc
    fi
    # (a path under the test's folder that does not exist, such as a pace file of a native run,
    # is the same in every test)
    _nk_key=$({ for _nk_a in "$_nk_l" "$_nk_n" "$@"; do
            case $_nk_a in "$tmp"/*) [ -e "$_nk_a" ] || _nk_a="(absent) TMP/${_nk_a#"$tmp"/}" ;; esac
            printf '%s\n' "$_nk_a"
        done
        stat -L -c '%n %s %.9Y %i' -- "$_nk_l" "$1"
        env | grep -E '^(OMPI_|MPICH_|MPIR_|MPIEXEC_|HYDRA_|UCX_|FI_|HWLOC_)' | LC_ALL=C sort; } |
        cksum | tr ' ' _)
    _nk_d=$REVIVE_TEST_NATIVE_CACHE/$_nk_key
    # a subshell holding the lock on fd 9: exit 0 with the kept run copied, else the run's status
    # (its seconds in $_nk_d.s once kept)
    (
        flock 9 || exit 125
        if [ -f "$_nk_d.s" ] && cp "$_nk_d.out" "$_nk_out" && cp "$_nk_d.err" "$_nk_err"; then
            touch "$_nk_d.hit.$$"
            exit 0
        fi
        _nk_t0=$(date +%s)
        timeout -k 5 "$TMO" "$_nk_l" -n "$_nk_n" "$@" >"$_nk_out" 2>"$_nk_err"
        _nk_rc=$?
        echo $(($(date +%s) - _nk_t0)) >"$_nk_d.t"
        [ $_nk_rc = 0 ] && cp "$_nk_out" "$_nk_d.out" && cp "$_nk_err" "$_nk_d.err" && mv "$_nk_d.t" "$_nk_d.s"
        exit $_nk_rc
    ) 9>"$_nk_d.lock"
    _nk_rc=$?
    if [ -f "$_nk_d.hit.$$" ]; then
        rm -f "$_nk_d.hit.$$"
        native_from=kept
    fi
    native_s=$(cat "$_nk_d.s" 2>/dev/null || cat "$_nk_d.t" 2>/dev/null || echo 0)
    return $_nk_rc
}
