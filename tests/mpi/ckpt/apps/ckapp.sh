# Sourced (bash) by the tests in tests/mpi/ckpt/apps: a third-party MPI application (a Debian package)
# checkpointed mid-run with the real commands and restarted. Expects $flavor (ompi|mpich); sets
# up what tests/mpi/mpienv.sh does (launchers, $tmp) plus:
#   need_prog PATH...   skip (77) unless every program is installed (scripts/install-deps)
#   ck_cycle DIR NP COND CMD...
#       runs CMD natively in DIR/native (output native.out/.err), then under
#       "mpirun -am ft-enable-cr" in DIR/revive (gen0.out/.err); once the shell condition COND
#       (run in DIR/revive) holds, "ckpt-mpirun --term" ends the job with a snapshot, which must
#       pass "ckpt-info --verify"; then "restart-mpi REF" runs it to its end in DIR/revive
#       (gen1.out/.err). CKAPP_SETUP (shell code) prepares both folders; CKAPP_AFTER_TERM runs in
#       DIR/revive once the first generation has ended. Every step is bounded; no process of the job may be left. Returns 0 when
#       both runs ended with status 0 (the caller compares results), 1 on a failure (CK_WHY says
#       what), 2 when the snapshot was refused because the job was already finishing (the
#       caller may try again with more work: a mid-run moment cannot be promised by timing).
#   ck_same WHAT NATIVE REVIVE
#       0 when the two files hold the same bytes; else prints "FAIL np=$n: not as in the native
#       run: WHAT" with the start of the difference and returns 1
#   ck_differing NATIVE_DIR REVIVE_DIR FILE...
#       prints " FILE" for each FILE whose two copies differ (nothing when all are the same)
#   CKAPP_FROM_SCRATCH=1: the second generation runs CMD again from its beginning in DIR/revive
#       (under "mpirun -am ft-enable-cr") instead of restart-mpi: every test must then fail,
#       which shows that its comparison can tell a restart from a run begun again.
. "$(dirname "$0")/../../mpienv.sh" || exit $?
ckpt=$REVIVE_BUILDDIR/tools/snapc/ckpt-mpirun
restart=$REVIVE_BUILDDIR/tools/snapc/restart-mpi
info=$REVIVE_BUILDDIR/tools/snapc/ckpt-info
export REVIVE_RESTART_RANK=$REVIVE_BUILDDIR/tools/revive-restart-rank
for t in "$ckpt" "$restart" "$info"; do
    [ -x "$t" ] || { echo "SKIP: $t is not built"; exit 77; }
done
[ -x "$REVIVE_RESTART_RANK" ] || { echo "SKIP: $REVIVE_RESTART_RANK is not built: no restart yet"; exit 77; }
# known_failure WHY: a known failure of Revive (tests/mpi/ckpt/campaign/campaign-failures.md) makes this test
# fail: skipped by name until fixed (then remove the call). CKAPP_RUN_KNOWN_FAILURES=1 runs it.
known_failure() {
    [ "${CKAPP_RUN_KNOWN_FAILURES:-0}" = 1 ] && return 0
    echo "SKIP: a known failure of Revive: $*"
    exit 77
}
export REVIVE_SOCKET_DIR=$tmp/sock
mkdir -m 0700 "$REVIVE_SOCKET_DIR"
# every process of the test carries this variable: strays are found by it
CKAPP_TAG=ckapp.$$.$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
trap 'for p in $(tagged); do kill -KILL "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT
tagged() {
    grep -lzxF -- "CKAPP_TAG=$CKAPP_TAG" /proc/[0-9]*/environ 2>/dev/null |
        sed 's|^/proc/||; s|/environ$||' | grep -vxF -e "$$"
}
need_prog() {
    for p in "$@"; do
        [ -x "$p" ] || { echo "SKIP: $p is not installed (run scripts/install-deps as root)"; exit 77; }
    done
}
# bg DIR OUT CMD...: CMD in DIR in the background with only descriptors 0-2 (stdin /dev/null,
# stdout DIR/OUT.out, stderr DIR/OUT.err), tagged; BGPID is its pid (CMD execs in place)
bg() {
    local d=$1 o=$2
    shift 2
    (cd "$d" && CKAPP_TAG=$CKAPP_TAG exec bash -c \
        'for f in /proc/$$/fd/*; do n=${f##*/}; [ "$n" -gt 2 ] 2>/dev/null && eval "exec $n>&-"; done
         exec "$@"' bg "$@") >"$d/$o.out" 2>"$d/$o.err" </dev/null &
    BGPID=$!
}
# ended PID: true once PID has exited (or is a zombie)
ended() {
    ! kill -0 "$1" 2>/dev/null || [ "$(awk '{print $3}' /proc/"$1"/stat 2>/dev/null)" = Z ]
}
# wait_for SECONDS PID CODE: true once the shell code CODE holds; false when PID ended first or
# SECONDS passed
wait_for() {
    local end=$((SECONDS + $1)) pid=$2
    shift 2
    until eval "$1"; do
        ended "$pid" && return 1
        [ $SECONDS -ge $end ] && return 1
        sleep 0.1
    done
}
# finish PID SECONDS: its exit status, 124 after killing the test's processes when it overran
finish() {
    local end=$((SECONDS + $2))
    until ended "$1"; do
        if [ $SECONDS -ge $end ]; then
            for p in $(tagged); do kill -KILL "$p" 2>/dev/null; done
            wait "$1" 2>/dev/null
            return 124
        fi
        sleep 0.1
    done
    wait "$1"
}
LATE_RE='has called MPI_Finalize|the job is ending|is in MPI_Finalize|the job ended|does not answer \(it has ended'
ck_cycle() {
    local d=$1 n=$2 cond=$3 st ref
    shift 3
    CK_WHY=
    rm -rf "$d"
    mkdir -p "$d/native" "$d/revive"
    [ -n "${CKAPP_SETUP:-}" ] && { (cd "$d/native" && eval "$CKAPP_SETUP") && (cd "$d/revive" && eval "$CKAPP_SETUP") || {
        CK_WHY="setting up the input failed"; return 1; }; }
    # native (bounded: at a load of 25 runs take many times their idle time)
    bg "$d/native" native "$launcher" -n "$n" "$@"
    finish "$BGPID" 600; st=$?
    [ $st = 0 ] || { CK_WHY="the native run's exit status is $st: $(tail -2 "$d/native/native.err" | tr '\n' ' ')"; return 1; }
    # under Revive, ended at a moment the application itself shows
    bg "$d/revive" gen0 env PATH="$(dirname "$launcher"):$PATH" "$wrapper" -am ft-enable-cr -n "$n" "$@"
    local job=$BGPID
    if ! wait_for 120 "$job" '[ -S "$REVIVE_SOCKET_DIR/coord.$job" ]'; then
        finish "$job" 5
        CK_WHY="the job's coordinator never listened: $(tail -2 "$d/revive/gen0.err" | tr '\n' ' ')"; return 1
    fi
    if ! wait_for 600 "$job" "(cd '$d/revive' && $cond)"; then
        finish "$job" 5; st=$?
        CK_WHY="the job (status $st) ended or ran 600 s without reaching the checkpoint moment ($cond): $(tail -2 "$d/revive/gen0.err" | tr '\n' ' ')"
        return 1
    fi
    timeout -k 5 300 "$ckpt" --term "$job" >"$d/ck.out" 2>"$d/ck.err"; st=$?
    if [ $st != 0 ]; then
        finish "$job" 600
        grep -qE "$LATE_RE" "$d/ck.err" && { CK_WHY=$(tail -1 "$d/ck.err"); return 2; }
        CK_WHY="ckpt-mpirun --term: exit $st: $(tail -2 "$d/ck.err" | tr '\n' ' ')"; return 1
    fi
    ref=$(tail -n1 "$d/ck.out")
    finish "$job" 60; st=$?
    [ $st = 124 ] && { CK_WHY="the job still ran 60 s after ckpt-mpirun --term"; return 1; }
    [ -n "${CKAPP_AFTER_TERM:-}" ] && (cd "$d/revive" && eval "$CKAPP_AFTER_TERM")
    timeout -k 5 120 "$info" --verify "$ref" >"$d/verify.out" 2>&1 ||
        { CK_WHY="ckpt-info --verify $ref: $(tail -2 "$d/verify.out" | tr '\n' ' ')"; return 1; }
    [ -z "$(tagged)" ] || { CK_WHY="processes left after --term: $(tagged | tr '\n' ' ')"; return 1; }
    local second="restart-mpi $ref"
    if [ "${CKAPP_FROM_SCRATCH:-0}" = 1 ]; then
        echo "note: CKAPP_FROM_SCRATCH=1: the second generation begins again instead of restarting"
        second="the second generation (begun again)"
        bg "$d/revive" gen1 env PATH="$(dirname "$launcher"):$PATH" "$wrapper" -am ft-enable-cr -n "$n" "$@"
    else
        bg "$d/revive" gen1 env PATH="$(dirname "$launcher"):$PATH" "$restart" "$ref"
    fi
    finish "$BGPID" 600; st=$?
    [ $st = 0 ] || { CK_WHY="$second: exit status $st: $(grep -v '^ *$' "$d/revive/gen1.err" | tail -3 | tr '\n' ' ')"; return 1; }
    sleep 0.5
    [ -z "$(tagged)" ] || { CK_WHY="processes left after the restarted job: $(tagged | tr '\n' ' ')"; return 1; }
    CK_SNAP="$(grep -h 'committed' "$d/ck.err" | head -1 | sed 's/^ckpt-mpirun: *//')"
    return 0
}
# ck_try DIR NP COND CMD...: ck_cycle, again (up to 3 times) while the snapshot came too late
ck_try() {
    local k rc
    for k in 1 2 3; do
        ck_cycle "$@"; rc=$?
        [ $rc = 2 ] || return $rc
        echo "note: the snapshot was refused as the job was finishing ($CK_WHY): again"
    done
    CK_WHY="three times the job finished before its snapshot: $CK_WHY"
    return 1
}
ck_same() {
    cmp -s "$2" "$3" && return 0
    echo "FAIL np=$n: not as in the native run: $1"
    diff "$2" "$3" | head -20
    return 1
}
ck_differing() {
    local native=$1 revive=$2 f
    shift 2
    for f; do
        cmp -s "$native/$f" "$revive/$f" || printf ' %s' "$f"
    done
}
