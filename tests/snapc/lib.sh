# Sourced by tests/snapc/*.sh: the build tree, a private work folder, jobs of fake ranks under
# the real coordinator, and checks.
B=${REVIVE_BUILDDIR:?run through make check}
COORD=$B/tools/snapc/revive-coord
CKPT=$B/tools/snapc/ckpt-mpirun
INFO=$B/tools/snapc/ckpt-info
RESTART=$B/tools/snapc/restart-mpi
FLAUNCH=$B/tests/snapc/fake_launch
FRANK=$B/tests/snapc/fake_rank
# the schedule of a job that must outlive everything its test does to it (the test ends it):
# a bounded one (10^6 collectives) ended by itself in a loaded CI run while 40 snapshots of it
# were still being taken (converge.sh, 8 ranks: "rank 0 has ended" from snapshot 27 on)
UNTIL_KILLED=1000000000
# each test its own socket directory (a private one under its work folder)
fails=0

# snapc_workdir NAME: W=/tmp/revive-NAME.XXXXXX (0700), removed at exit (jobs killed first),
# cd'd into. Extra cleanup goes in $cleanup.
cleanup=:
jobs_started=
snapc_workdir() {
    W=$(mktemp -d "/tmp/revive-$1.XXXXXX") || exit 99
    trap 'eval "$cleanup"; for p in $jobs_started; do kill -KILL $p 2>/dev/null; done; sleep 0.2; rm -rf "$W"' EXIT
    cd "$W" || exit 99
    export REVIVE_SOCKET_DIR=$W/sock
    # the node-local caches of the jobs (each node's default: $TMPDIR/revive-local-<uid>) go
    # with the folder, not into /tmp
    export TMPDIR=$W
}
# snapc_cache_workdir NAME: the start of a test that counts with strace the paths a job reads
# in a node-local cache of many job caches (agent_collect.sh, start_sweep.sh, superseded_sweep.sh):
# snapc_workdir NAME; SKIP without strace or where it cannot trace; cache the folder's node-local
# cache (TMPDIR's revive-local-<uid>, not made), N=200 the caches to make there.
snapc_cache_workdir() {
    snapc_workdir "$1"
    command -v strace >/dev/null || { echo "SKIP: strace is missing: the paths read cannot be counted"; exit 77; }
    strace -qq -o /dev/null -e trace=openat true 2>/dev/null ||
        { echo "SKIP: strace cannot trace here (ptrace refused)"; exit 77; }
    cache=$W/revive-local-$(id -u)
    N=200
}
# nap SECONDS: waits SECONDS without starting a process (tests/crs/crs_lib.sh's crs_nap,
# tests/mpi/mpienv.sh's nap): a read with a timeout on a FIFO in the work folder that nobody
# writes (opened read-write: the open does not wait for a writer). The loops below look every
# 50 ms while a job runs, and a sleep(1) each time cost 6-10 ms of CPU on the loaded 2-core
# machine. Before snapc_workdir, or where the FIFO cannot be made: sleep.
nap() {
    if [ -n "${W:-}" ] && { [ -p "$W/.nap" ] || mkfifo "$W/.nap" 2>/dev/null; }; then
        read -r -t "$1" _nap <>"$W/.nap"
        return 0
    fi
    sleep "$1"
}

# snapc_mpi_setup NAME [restart]: the start of a test of a real MPI job (mpi_loop.c) under the
# coordinator, $flavor its MPI: tests/mpi/mpienv.sh read (launcher, wrapper, TMO...), the work
# folder snapc-NAME-$flavor (snapc_workdir; cleanup removes mpienv.sh's folder, whose EXIT trap
# snapc_workdir's replaced), bin the program (SKIP when not built), REVIVE_COORD_BIN exported,
# np=2. With "restart": revive-restart-rank too (SKIP when not built), as REVIVE_RESTART_RANK.
snapc_mpi_setup() {
    . "$REVIVE_SRCDIR/tests/mpi/mpienv.sh" || exit $?
    snapc_workdir "snapc-$1-$flavor"
    cleanup='rm -rf "$tmp"'
    bin=$B/tests/snapc/mpi_loop-$flavor
    [ -x "$bin" ] || { echo "SKIP: $bin not built"; exit 77; }
    export REVIVE_COORD_BIN=$COORD
    if [ "$2" = restart ]; then
        [ -x "$B/tools/revive-restart-rank" ] || { echo "SKIP: revive-restart-rank not built"; exit 77; }
        export REVIVE_RESTART_RANK=$B/tools/revive-restart-rank
    fi
    np=2
}

# rank_pids: after snapc_mpi_setup, the pids of this test's mpi_loop ranks running now (started,
# or restored in place by revive-restart-rank; working in $W, so not another test's)
rank_pids() {
    local p e
    for p in /proc/[0-9]*; do
        e=$(readlink $p/exe 2>/dev/null) || continue
        [ "$e" = "$bin" ] || [ "$e" = "$REVIVE_RESTART_RANK" ] || continue
        [ "$(readlink $p/cwd 2>/dev/null)" = "$W" ] && echo ${p#/proc/}
    done
}

# clean_exec [VAR=value...] CMD ARGS...: replaces the (sub)shell with CMD run with only fds 0-2.
# (in this shell, which it replaces, as "exec bash -c" did, without starting bash: 7 ms of CPU per
# job on the loaded machine; every caller runs it in a subshell; the glob's own descriptor is
# closed by then)
clean_exec() {
    local f n
    for f in /proc/$BASHPID/fd/*; do n=${f##*/}; [ "$n" -gt 2 ] 2>/dev/null && eval "exec $n>&-"; done
    exec env "$@"
}

# launcher_of COORD: the launcher under a coordinator (launcher_of.sh)
. "$(dirname "${BASH_SOURCE[0]}")/launcher_of.sh" || exit 99

# start_job NAME NRANKS [COORD OPTIONS --] FAKE_RANK OPTIONS...: starts a job in the background;
# JOB = the coordinator's pid (what the user's mpirun is; "wait $JOB" gives its exit status),
# its output in NAME.out/NAME.err. Waits until every rank's agent runs (NAME.ready/).
start_job() {
    local name=$1 n=$2
    shift 2
    local copts=()
    if [ "${1:-}" = --coord ]; then
        shift
        while [ "$1" != -- ]; do copts+=("$1"); shift; done
        shift
    fi
    # a name used before leaves its ready files: the wait below would end at once
    rm -rf "$W/$name.ready"
    mkdir -p "$W/$name.ready"
    ( clean_exec REVIVE_VERBOSE=${REVIVE_VERBOSE:-2} "$COORD" --flavor fake "${copts[@]}" -- \
        "$FLAUNCH" -np "$n" "$FRANK" --ready "$W/$name.ready" "$@" ) >"$W/$name.out" 2>"$W/$name.err" &
    JOB=$!
    jobs_started="$jobs_started $JOB"
    local t=0 r
    # (the ready files counted by the shell: ls and grep were three processes per look)
    while r=("$W/$name.ready"/ready.*); [ -e "${r[0]}" ] || r=(); [ ${#r[@]} -lt "$n" ]; do
        nap 0.05; t=$((t + 1))
        if [ $t -gt 400 ]; then echo "FAIL: job $name did not start"; cat "$W/$name.err"; exit 1; fi
    done
}
# held_job NAME NRANKS [VAR=VALUE...] [-- PREFIX...]: a job of fake ranks that runs until killed,
# for the tests that end ranks or hosts while a sequence is held (the fault points and their files
# in VAR=VALUE, REVIVE_VERBOSE=2); the coordinator started through PREFIX (nsenter into a host of
# the bed), the ranks through $W/rank.sh when it exists (a rank under another host name); its
# stderr lines stamped with the time (perl) when TIMED=1. Sets JOB and jd (its snapshot
# directory); waits until every rank runs, else the test ends.
held_job() {
    local name=$1 n=$2 envs=() pre=() wrap=()
    HELD_NAME=$name
    shift 2
    while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
    [ "${1:-}" = -- ] && { shift; pre=("$@"); }
    [ -x "$W/rank.sh" ] && wrap=("$W/rank.sh")
    rm -rf "$W/$name.ready"
    mkdir -p "$W/$name.ready"
    if [ "${TIMED:-0}" = 1 ]; then
        ( clean_exec REVIVE_VERBOSE=2 "${envs[@]}" "${pre[@]}" "$COORD" --flavor fake -- "$FLAUNCH" \
            -np "$n" "${wrap[@]}" "$FRANK" --ready "$W/$name.ready" --iters $UNTIL_KILLED --sleep-us 300 ) \
            >"$W/$name.out" \
            2> >(exec perl -MTime::HiRes=time -ne 'BEGIN { $| = 1 } printf "%.3f %s", time, $_' >"$W/$name.err") &
    else
        ( clean_exec REVIVE_VERBOSE=2 "${envs[@]}" "${pre[@]}" "$COORD" --flavor fake -- "$FLAUNCH" \
            -np "$n" "${wrap[@]}" "$FRANK" --ready "$W/$name.ready" --iters $UNTIL_KILLED --sleep-us 300 ) \
            >"$W/$name.out" 2>"$W/$name.err" &
    fi
    JOB=$!
    jobs_started="$jobs_started $JOB"
    wait_for 60 '[ "$(ls "$W/$name.ready" | grep -c "^ready\.")" = "$n" ]' ||
        { fail "$name: the job did not start"; cat "$W/$name.err"; finish; }
    wait_exec $JOB
    jd=$W/revive_global_snapshot_$JOB.ckpt
}
# native_run [ARGS...]: snapc_mpi_setup's program run uninterrupted by the MPI's own launcher
# (ARGS: $iters when none) into $W/native.out and $W/native.err; the test ends if it fails.
native_run() {
    [ $# -gt 0 ] || set -- $iters
    timeout -k 5 300 "$launcher" -n $np "$bin" "$@" >"$W/native.out" 2>"$W/native.err" ||
        { fail "native run"; cat "$W/native.err"; finish; }
}
# held_mpi_job [MPIRUN OPTIONS...]: the same program under Revive's mpirun -am ft-enable-cr in
# the background, held at its end until $W/go exists, output in $W/job.out and $W/job.err;
# JOB = mpirun's pid.
held_mpi_job() {
    ( PATH=$(dirname "$launcher"):$PATH clean_exec "$wrapper" -am ft-enable-cr "$@" -n $np "$bin" $iters hold "$W/go" ) \
        >"$W/job.out" 2>"$W/job.err" &
    JOB=$!; jobs_started="$jobs_started $JOB"
}
# fake_rank_of LAUNCHER R: the pid of fake rank R under the fake launcher LAUNCHER; 1 if none.
fake_rank_of() {
    local p
    for p in $(pgrep -P "$1"); do
        tr '\0' '\n' </proc/$p/environ 2>/dev/null | grep -qx "FAKE_RANK=$2" && { echo "$p"; return 0; }
    done
    return 1
}
# small_tmpfs SIZE: a tmpfs of SIZE mounted at $W/small (mnt), unmounted by the cleanup; the
# test is skipped (77) where none can be mounted (not root).
small_tmpfs() {
    mnt=$W/small
    mkdir -m 700 "$mnt"
    if ! mount -t tmpfs -o "size=$1,mode=0700" tmpfs "$mnt" 2>/dev/null; then
        echo "SKIP: cannot mount a tmpfs here (not root?): the small file system this test fills is not made"; exit 77
    fi
    cleanup='umount -l "$mnt" 2>/dev/null'
}
# rank_pid R: sets LAUNCHER (the fake launcher under the coordinator JOB) and RANK_PID (its fake
# rank R); 1 when either is not found.
rank_pid() {
    local p
    RANK_PID=
    LAUNCHER=$(pgrep -P "$JOB" -x fake_launch)
    [ -n "$LAUNCHER" ] || return 1
    RANK_PID=$(fake_rank_of "$LAUNCHER" "$1")
}
# rank_named R NAME: held_job's ranks start through $W/rank.sh, which runs rank R under the host
# name NAME ("" none) in a UTS namespace of its own (root: unshare -u); the others as they are.
rank_named() {
    printf '#!/bin/sh\n[ "$FAKE_RANK" = %s ] && exec unshare -u sh -c '"'"'echo "%s" >/proc/sys/kernel/hostname && exec "$@"'"'"' sh "$@"\nexec "$@"\n' \
        "$1" "$2" >"$W/rank.sh"
    chmod 700 "$W/rank.sh"
}
# end_held_job: the launcher held_job's test stopped is continued, the job ended (SIGTERM to its
# coordinator, which must end within 60 s), no fake process of the test left.
end_held_job() {
    [ -n "${LAUNCHER:-}" ] && kill -CONT "$LAUNCHER" 2>/dev/null
    kill -TERM "$JOB" 2>/dev/null
    job_gone "$JOB" 60 || { fail "the coordinator did not end"; show_stuck "$JOB" "$W/${HELD_NAME:-a}.err"; }
    [ "$(type -t hostbed_down)" = function ] && hostbed_down
    wait_no_strays 30
}
# show_stuck PID [LOG]: what a process that did not end, and each of its descendants, waits in
# (state, kernel wait channel, threads), and the last lines of LOG: a failure under the CI's load
# that does not come back alone explains itself
show_stuck() {
    local p pids=$1 next=$1 t
    while [ -n "$next" ]; do
        next=$(for p in $next; do pgrep -P "$p"; done)
        pids="$pids $next"
    done
    for p in $pids; do
        [ -r "/proc/$p/stat" ] || continue
        echo "    pid $p ($(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | cut -c1-100)):" \
            "state $(awk '{print $3}' "/proc/$p/stat") wchan $(cat "/proc/$p/wchan" 2>/dev/null)"
        for t in /proc/$p/task/*; do
            [ "${t##*/}" = "$p" ] && continue
            echo "      thread ${t##*/}: state $(awk '{print $3}' "$t/stat") wchan $(cat "$t/wchan" 2>/dev/null)"
        done
    done
    [ -n "${2:-}" ] && [ -f "$2" ] && { echo "    the last lines of ${2##*/}:"; tail -15 "$2" | sed 's/^/      /'; }
    return 0
}
# job_gone PID [SECONDS]: waits until the process has ended (default 10 s); 1 if it did not.
job_gone() {
    local t=0 max=$(( ${2:-10} * 20 ))
    while kill -0 "$1" 2>/dev/null; do
        nap 0.05; t=$((t + 1)); [ $t -ge $max ] && return 1
    done
    return 0
}

# no_strays: no fake rank or fake launcher of this work folder is left.
no_strays() {
    local left
    left=$(pgrep -f -- "--ready $W/" || true)
    if [ -n "$left" ]; then
        echo "FAIL: stray processes: $left"; ps -o pid,stat,args -p $left; fails=$((fails + 1))
        kill -KILL $left 2>/dev/null
    fi
}

# wait_no_strays [SECONDS]: waits (default 20 s) until no fake rank or launcher of this work
# folder is left (they end after their coordinator or launcher, later under load), then no_strays.
wait_no_strays() {
    local t=0 max=$(( ${1:-20} * 20 ))
    while pgrep -f -- "--ready $W/" >/dev/null && [ $t -lt $max ]; do nap 0.05; t=$((t + 1)); done
    no_strays
}

# wait_for SECONDS CONDITION: evaluates the shell CONDITION every 50 ms until it holds (0) or
# SECONDS have passed (1). Tests wait for what they need, never a fixed time: CI runs at load 25.
wait_for() {
    local t=0 max=$(( $1 * 20 ))
    until eval "$2"; do
        nap 0.05; t=$((t + 1)); [ $t -ge $max ] && return 1
    done
    return 0
}
# wait_exec PID: waits until the background job PID (just started with &) runs its program,
# not the forked shell any more: $! is known before the exec, and under load that takes long.
wait_exec() {
    local sh pid=$1
    sh=$(readlink /proc/$$/exe)
    wait_for 60 '[ "$(readlink /proc/$pid/exe 2>/dev/null)" != "$sh" ]'
}
# committed JOBDIR: how many sequences have a snapshot.meta; newest_committed JOBDIR: the largest
# such sequence (-1 when none).
committed() { ls -d "$1"/*/snapshot.meta 2>/dev/null | wc -l; }
newest_committed() {
    local n
    n=$(ls -d "$1"/*/snapshot.meta 2>/dev/null | sed 's,.*/\([0-9]*\)/snapshot.meta$,\1,' | sort -n | tail -1)
    echo "${n:--1}"
}
# cache_bounded JOBDIR CACHE ERRFILE N: after N failed checkpoints of a periodic job whose
# snapshot directory is full (cache_bound.sh, mpi_cache_bound.sh; the coordinator's host is the
# only host), the node's cache CACHE holds the sequences committed in JOBDIR and, besides them,
# only the one being written (2 in all at most), and no sequence the coordinator's ERRFILE said
# failed ("checkpoint N is not committed") before the cache was looked at: a failed sequence's
# images go at its failure, before that line (before, the newest failed one stayed until the
# next checkpoint began); looked at 10 times, 0.3 s apart; ERRFILE says the removal once.
# Sets kept: the most sequences CACHE held.
cache_bounded() {
    local jd=$1 cache=$2 err=$3 n=$4 s seqs failed said k c
    kept=0
    for k in 1 2 3 4 5 6 7 8 9 10; do
        # the failures said first, then one listing: a sequence that failed after the listing
        # is not taken for one kept (the job goes on checkpointing meanwhile)
        failed=" $(sed -n 's/.*checkpoint \([0-9]*\) is not committed.*/\1/p' "$err" | tr '\n' ' ')"
        seqs=$(ls "$cache" 2>/dev/null | grep '^[0-9]*$' | sort -n)
        c=$(printf '%s\n' "$seqs" | grep -c .)
        [ "$c" -gt "$kept" ] && kept=$c
        for s in $seqs; do
            case "$failed" in *" $s "*)
                fail "failed sequence $s (said failed before the cache was listed) is still in the node's cache: $(echo $seqs)" ;;
            esac
        done
        [ "$c" -le 2 ] || fail "$c sequences in the node's cache after $n failed checkpoints: $(echo $seqs)"
        sleep 0.3
    done
    said=$(grep -c "each node removes a failed checkpoint's images from its cache at the failure" "$err")
    [ "$said" = 1 ] || fail "the removal is said $said times, not once: $(grep 'failed checkpoint' "$err" | head -3)"
}
# cache_only_committed JOBDIR CACHE: waits (60 s at most) until CACHE holds no sequence that is
# neither committed in JOBDIR nor newer than its newest committed one (the one being written).
cache_only_committed() {
    local jd=$1 cache=$2 left s
    wait_for 60 '
        left=
        for s in $(ls "$cache" | grep "^[0-9]*$"); do
            [ -f "$jd/$s/snapshot.meta" ] || [ "$s" -gt "$(newest_committed "$jd")" ] || left="$left $s"
        done
        [ -z "$left" ]' || fail "failed sequences left in the cache after a commit:$left"
}
# consistent_committed JOBDIR N: every committed sequence is a consistent cut (each one held
# with a shared lock while it is read, so that retention leaves it alone meanwhile).
consistent_committed() {
    local s
    for s in $(ls "$1" | grep '^[0-9]*$'); do
        exec 9<"$1/$s" 2>/dev/null || continue
        flock -s 9
        [ -f "$1/$s/snapshot.meta" ] && consistent "$1/$s" "$2"
        exec 9<&-
    done
}

# hold_oldest JOBDIR [SECONDS]: holds a shared lock (fd 9, as a reader does) on the oldest
# committed sequence; HELD = its number. That is the one retention removes next, while holding
# its exclusive lock: picked by name, it may be removed before the lock comes, and the lock then
# comes on a removed directory (retention.sh in CI: "sequence 2 lost its snapshot.meta while
# locked"). So after the lock the name must still lead to the directory locked, committed, or
# the next oldest is tried. 1 when none could be held within SECONDS (default 60).
hold_oldest() {
    local jd=$1 s end=$((SECONDS + ${2:-60}))
    while [ $SECONDS -lt $end ]; do
        for s in $(ls "$jd" | grep '^[0-9]*$' | sort -n); do
            exec 9<"$jd/$s" 2>/dev/null || continue
            flock -s 9
            if [ -f "$jd/$s/snapshot.meta" ] &&
                [ "$(stat -c %d:%i "$jd/$s" 2>/dev/null)" = "$(stat -L -c %d:%i /proc/$$/fd/9)" ]; then
                HELD=$s
                return 0
            fi
            exec 9<&-
        done
        nap 0.05
    done
    return 1
}

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
# pass WHAT: "ok: WHAT" unless a check failed since the last pass
passed_fails=0
pass() {
    if [ $fails = $passed_fails ]; then echo "ok: $*"; else echo "not ok: $*"; fi
    passed_fails=$fails
}

# expect_rc WANT DESCRIPTION CMD...: runs CMD (stdout in $W/cmd.out, stderr in $W/cmd.err) and
# checks its exit status.
expect_rc() {
    local want=$1 what=$2 rc
    shift 2
    "$@" >"$W/cmd.out" 2>"$W/cmd.err"
    rc=$?
    if [ "$rc" != "$want" ]; then
        fail "$what: exit status $rc, expected $want"; sed 's/^/    /' "$W/cmd.err"
        return 1
    fi
    return 0
}

# err_has TEXT: the last command's stderr contains TEXT (one line of it).
err_has() {
    if grep -qF -- "$1" "$W/cmd.err"; then return 0; fi
    fail "stderr lacks '$1':"; sed 's/^/    /' "$W/cmd.err"; return 1
}

# consistent REF N: the snapshot's cut is consistent (fake_rank --check).
consistent() {
    if ! "$FRANK" --check "$1" "$2" >"$W/check.out" 2>&1; then
        fail "inconsistent cut in $1"; sed 's/^/    /' "$W/check.out"; return 1
    fi
    return 0
}

finish() {
    no_strays
    if [ $fails -gt 0 ]; then echo "FAIL: $fails check(s) failed"; exit 1; fi
    echo "PASS"
    exit 0
}
