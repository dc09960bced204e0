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
# nsteps FILE: step lines in FILE
nsteps() { grep -c '^step [0-9]*: ' "$1" 2>/dev/null; }
# wait_steps FILE K JOBPID: until FILE holds K step lines (0), or the job ended or 300 s (1)
wait_steps() {
    local i
    for i in $(seq 3000); do
        [ "$(nsteps "$1")" -ge "$2" ] && return 0
        kill -0 "$3" 2>/dev/null || { [ "$(nsteps "$1")" -ge "$2" ]; return; }
        sleep 0.1
    done
    return 1
}
# coord ROOT: the job's coordinator (revive-coord) among ROOT's descendants (60 s), or fails
coord() {
    local root=$1 i p q todo
    for i in $(seq 600); do
        todo=$root
        while [ -n "$todo" ]; do
            p=${todo%% *}
            [ "$p" = "$todo" ] && todo= || todo=${todo#* }
            [ "$(cat /proc/$p/comm 2>/dev/null)" = revive-coord ] && { echo $p; return 0; }
            for q in $(pgrep -P $p); do todo="$todo $q"; todo=${todo# }; done
        done
        sleep 0.1
    done
    return 1
}
