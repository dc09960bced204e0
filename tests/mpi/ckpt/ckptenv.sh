# Sourced by the tests in tests/mpi/ckpt after tests/mpi/mpienv.sh ($flavor set): the restarter
# and helpers shared by the restart tests.
restarter=$REVIVE_BUILDDIR/tools/revive-restart-rank
prog=$REVIVE_BUILDDIR/tests/mpi/ckpt/rst_prog-$flavor
[ -x "$prog" ] && [ -x "$restarter" ] || { echo "SKIP: $prog or $restarter not built"; exit 77; }
fail=0
pass() { echo "PASS: $*"; }
failed() { echo "FAIL: $*"; fail=1; }
# clean CMD...: runs CMD with only descriptors 0-2 (the launcher gives ranks its own).
clean() {
    bash -c 'for f in /proc/$$/fd/*; do n=${f##*/}; [ "$n" -gt 2 ] 2>/dev/null && eval "exec $n>&-"; done
        exec "$@"' clean "$@"
}
# the lines that count: rank 0's per-step checksums and its last line
results() { grep -hE '^(step [0-9]+: |done: )' "$@"; }
# restart_job N SNAPDIR: the new job (the launcher runs revive-restart-rank as each rank); Open
# MPI's launcher passes REVIVE_RESTART_REPORT on only when told
xenv=()
[ "$flavor" = ompi ] && xenv=(-x REVIVE_RESTART_REPORT)
restart_job() { n=$1; shift; clean timeout -k 5 "$TMO" "$launcher" -n "$n" "${xenv[@]}" "$restarter" "$@"; }
