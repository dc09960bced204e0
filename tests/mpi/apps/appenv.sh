# Sourced by the tests in tests/mpi/apps: third-party MPI programs from Debian packages, run
# natively and under Revive. Expects $flavor (ompi|mpich); sets up what tests/mpi/mpienv.sh does
# (launchers, timeouts, $tmp) plus:
#   need_prog PATH...      skip (77) unless every program is installed (scripts/install-deps)
#   on_lower N             fails unless the REVIVE_MPI_REPORT file has one line per rank
#   show_unsupported FILE  prints the "not supported under Revive" lines of FILE, if any
. "$(dirname "$0")/../mpienv.sh" || exit $?
apps_src=$(cd "$(dirname "$0")" && pwd)
need_prog() {
    for p in "$@"; do
        [ -x "$p" ] || { echo "SKIP: $p is not installed (run scripts/install-deps as root)"; exit 77; }
    done
}
on_lower() {
    lines=$(cat "$tmp/report" 2>/dev/null | wc -l)
    [ "$lines" = "$1" ] || { echo "FAIL np=$1: $lines of $1 ranks report running on Revive's lower half"; return 1; }
}
show_unsupported() {
    grep -m3 "not supported under Revive" "$1" | sed 's/^/  /'
}
