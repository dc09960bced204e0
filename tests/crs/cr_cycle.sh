#!/bin/bash
# cr_cycle.sh PROGRAM [ARGS...]
#
# Runs one state test program (tests/crs/crt_*, contract in crt_common.h)
# through checkpoint/restart flavours and compares each run's output with an
# uninterrupted reference run: the same lines from the checkpoint on, the same
# final RESULT line, the same exit status (42). Prints PASS or FAIL per
# flavour, with the differing lines, and a summary line; exits 0 when every
# flavour passed, 1 otherwise, 77 (skip) when the tools are not built yet
# (after checking that the reference run passes).
#
# Flavours (CRS_FLAVOURS picks some; default: all but mutate; the word
# "state" in CRS_FLAVOURS stands for kill twice rr cont fork stop busy, the
# flavours that act on a program's own state; run, nopid, term, compress,
# stdoutfile, tty and sigdeath are the tools' mechanics, which a test names
# beside "state" when they act on its state too: tests/crs/README.md):
#   ref        the program alone (always run first)
#   run        under cr_run, no checkpoint: same output, same PID as cr_run
#   kill       cr_checkpoint --kill at point 1, cr_restart; image mode 0600,
#              no temporary file left, cr_info/--json/--verify accept it; as
#              root the original PID must come back
#   twice      a second cr_restart from the image of `kill`
#   nopid      cr_restart --no-restore-pid from the image of `kill`
#   rr         restart of a restart: --kill at point 1, restart, --kill the
#              restarted process at point 2, restart that image
#   cont       cr_checkpoint --cont: the original finishes as the reference
#              did, then a restart from the image finishes too
#   fork       the same with --fork
#   stop       --stop: the process is stopped; SIGCONT lets it finish; restart
#   term       --term: the original dies of SIGTERM; restart
#   compress   --kill --compress; cr_info --verify; restart
#   stdoutfile the original's stdout is a regular file: after --kill and
#              cr_restart the file holds exactly the reference output
#   mutate     like kill, then runs $CRS_MUTATE in the flavour's directory
#              before the restart (files changed since the checkpoint)
#   tty        the original runs on a terminal (script(1) gives it a pty for
#              stdin, stdout and stderr); --kill; cr_restart, on another pty,
#              must attach the process to that terminal and print the rest
#              (compared without the pty's carriage returns)
#   sigdeath   --kill, cr_restart; the restarted process, waiting at point 2,
#              gets SIGTERM: cr_restart must die of SIGTERM too (143) within
#              30 s, timed by its own end (OUT.exit: a child the SIGTERM did not
#              end holds the output pipes, natively too); as root once the old
#              pids are free (the restart beside us, not in a pid namespace)
#   busy       --cont, then cr_restart while the original still runs (its
#              PID is taken, so the restart must come up in a pid namespace of
#              its own, where it has the original PID: checked as root and with
#              CRS_EXPECT_PID); both finish, each with the reference output
#              (not for programs whose files the two copies would share:
#              crt_files, crt_mmap)
#   stopped    (only when asked for) the original is stopped (SIGSTOP) at
#              point 1: cr_checkpoint must refuse within 20 s with one line
#              saying so, leaving no file; after SIGCONT, --kill works and the
#              image restarts
#
# Environment: CRS_CKPT_SCOPE (--tree, --pgid or --sid: every cr_checkpoint
# takes that scope of the program's process; --stop's SIGCONT goes to its
# descendants too), CRS_CKPT_OPTS (options every cr_checkpoint gets: --save-shared), CRS_MAX_IMAGE_MB (fail when an image is larger: untouched
# memory must not be stored), CRS_IMAGE_THREADS (every image must hold this
# many threads, as cr_info counts them), CRS_EXPECT_PID=1 (the original PID
# must come back even when not root: in a user+pid namespace),
# CRS_RESTART_ENV (VAR=value words set for cr_restart only), CRS_RESTART_WRAP
# (command words cr_restart runs under, e.g. setarch -R: without ASLR), CRS_TIMEOUT (seconds a program may run, default 60),
# CRS_CKPT_TIMEOUT (per tool call, default 120), CRS_KEEP=1 keeps the work
# directory; see crs_lib.sh.

. "$(dirname "$0")/crs_lib.sh"

prog_name=$1
shift
PROG=$CRS_BIN/$prog_name
ALL_FLAVOURS="run kill twice nopid rr cont fork stop term compress stdoutfile tty sigdeath busy"
STATE_FLAVOURS="kill twice rr cont fork stop busy"
FLAVOURS=${CRS_FLAVOURS:-$ALL_FLAVOURS}
FLAVOURS=$(echo " $FLAVOURS " | sed "s/ state / $STATE_FLAVOURS /; s/^ *//; s/ *\$//")
[ -x "$PROG" ] || { echo "FAIL: $PROG is not built"; exit 1; }

# System V objects the programs make are the cycle's alone (crs_lib.sh)
crs_own_ipc "$prog_name" "$@"
crs_setup "$prog_name"
CR_RUN=$CRS_TOOLS/cr_run
# CRS_RESTART_ENV: VAR=value words for cr_restart only (a fault point of the restorer);
# CRS_RESTART_WRAP: command words cr_restart runs under (setarch -R)
# shellcheck disable=SC2206
CR_RESTART=(${CRS_RESTART_WRAP:-} ${CRS_RESTART_ENV:+env $CRS_RESTART_ENV} "$CRS_TOOLS/cr_restart")
IS_ROOT=0
[ "$(id -u)" = 0 ] && IS_ROOT=1

# fl_dir NAME: a fresh directory for the flavour, made the current one.
fl_dir() {
    D=$WORK/$1
    mkdir -p "$D/images"
    cd "$D" || exit 99
    export REVIVE_TEST_READY=$D/ready REVIVE_TEST_GO=$D/go
}

# compare FLAVOUR WHAT EXPECTED_FILE GOT_FILE EXPECTED_STATUS GOT_STATUS [ERRFILE]
compare() {
    local fl=$1 what=$2 exp=$3 got=$4 est=$5 gst=$6 err=${7:-} why=
    if [ "$est" != "$gst" ]; then
        why="$(crs_status_text "$gst"), expected $(crs_status_text "$est")"
    fi
    if ! cmp -s "$exp" "$got"; then
        why="${why:+$why; }output differs"
    fi
    [ -z "$why" ] && return 0
    crs_fail "$fl: $what: $why"
    if ! cmp -s "$exp" "$got"; then
        diff -u --label expected --label got "$exp" "$got" | head -n 40 | sed 's/^/   | /'
    fi
    if [ -n "$err" ] && [ -s "$err" ]; then
        echo "   stderr:"
        crs_show "$err" 15
    fi
    return 1
}

# crs_wait_for_nested PID SECONDS: waits until a test program runs as PID
# inside a pid namespace below ours (NSpid has two or more ids, the last PID).
crs_wait_for_nested() {
    local i
    for i in $(seq $(($2 * 10))); do
        grep -h '^NSpid:' /proc/[0-9]*/status 2>/dev/null |
            awk -v p="$1" 'NF > 2 && $NF == p { f = 1 } END { exit !f }' && return 0
        crs_nap 0.1
    done
    return 1
}

# wait_ready FLAVOUR N STATUSFILE_PREFIX: waits for ready.N; sets PID.
wait_ready() {
    local st
    if ! crs_wait_for "$D/ready.$2" 60 "$3.status"; then
        st=$(cat "$3.status" 2>/dev/null || echo "still running")
        crs_fail "$1: the program never reached checkpoint point $2 ($st)"
        crs_show "$3.out" 30
        crs_show "$3.err" 15
        return 1
    fi
    PID=$(cat "$D/ready.$2")
    return 0
}

# tree_pids PID: PID and its descendants (the members of a --tree scope)
tree_pids() {
    local c
    echo "$1"
    for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do tree_pids "$c"; done
}

# ckpt FLAVOUR OUT PID IMAGE OPTIONS...: runs cr_checkpoint OPTIONS -f IMAGE
# PID; checks success, the image's mode and size, that it verifies at once,
# and that nothing else was left in its directory.
ckpt() {
    local fl=$1 out=$2 pid=$3 img=$4 st mode others mb n
    shift 4
    crs_tool "$out" cr_checkpoint ${CRS_CKPT_SCOPE:-} ${CRS_CKPT_OPTS:-} "$@" -f "$img" "$pid"
    st=$?
    if [ "$st" != 0 ]; then
        crs_fail "$fl: cr_checkpoint $* -f IMAGE PID: $(crs_status_text "$st")"
        crs_show "$out.err"
        return 1
    fi
    if [ ! -f "$img" ]; then
        crs_fail "$fl: cr_checkpoint $* exited 0 but wrote no image"
        return 1
    fi
    mode=$(stat -c %a "$img")
    [ "$mode" = 600 ] || crs_fail "$fl: image mode $mode, expected 600"
    if [ -n "${CRS_IMAGE_THREADS:-}" ] && [ -x "$CRS_TOOLS/cr_info" ]; then
        crs_tool "$out.info" cr_info "$img"
        n=$(sed -n 's/^threads: //p' "$out.info.out")
        [ "$n" = "$CRS_IMAGE_THREADS" ] || crs_fail "$fl: the image holds ${n:-no} threads," \
            "expected $CRS_IMAGE_THREADS"
    fi
    if [ -n "${CRS_MAX_IMAGE_MB:-}" ]; then
        mb=$(($(stat -c %s "$img") >> 20))
        [ "$mb" -le "$CRS_MAX_IMAGE_MB" ] || crs_fail "$fl: the image has $mb MiB, more than" \
            "$CRS_MAX_IMAGE_MB MiB: untouched (zero) memory seems to be stored"
    fi
    # complete as soon as cr_checkpoint returns (--fork: while the child may
    # still be around)
    if [ -x "$CRS_TOOLS/cr_info" ] && ! crs_tool "$out.verify" cr_info --verify "$img"; then
        crs_fail "$fl: cr_info --verify right after cr_checkpoint $*:" \
            "$(head -n 1 "$out.verify.err")"
    fi
    basename "$img" >>"$WORK/known_images"
    others=$(cd "$(dirname "$img")" && ls -A | grep -vxF -f "$WORK/known_images")
    [ -z "$others" ] || crs_fail "$fl: cr_checkpoint left other files beside the image:" $others
    return 0
}

# restart FLAVOUR OUT EXPECTED_FILE IMAGE [OPTIONS...]: cr_restart and compare.
restart() {
    local fl=$1 out=$2 exp=$3 img=$4 st
    shift 4
    rm -f "$D"/ready.*
    st=$(crs_run "$out" "${CR_RESTART[@]}" "$@" "$img")
    compare "$fl" "cr_restart $*" "$exp" "$out.out" "$REF_STATUS" "$st" "$out.err"
}

# pid_check FLAVOUR ORIGINAL_PID WAS_TAKEN [nopid] [READY]: as root (or with
# CRS_EXPECT_PID=1) the restarted process (its READY file, default ready.2)
# must have the original PID, with --no-restore-pid a new one.
pid_check() {
    local fl=$1 orig=$2 taken=$3 mode=${4:-} ready=${5:-$D/ready.2} now
    [ -f "$ready" ] || return 0
    now=$(cat "$ready")
    if [ "$mode" = nopid ]; then
        [ "$now" != "$orig" ] || crs_fail "$fl: the PID came back ($now) despite --no-restore-pid"
    elif [ "$taken" = 0 ] && [ "$now" != "$orig" ]; then
        if [ "$IS_ROOT" = 1 ]; then
            crs_fail "$fl: as root the original PID $orig should come back, got $now"
        elif [ "${CRS_EXPECT_PID:-0}" = 1 ]; then
            crs_fail "$fl: the original PID $orig should come back (in a user+pid namespace), got $now"
        fi
    fi
}

# ---------------------------------------------------------------- reference
fl_dir ref
: >"$WORK/known_images"
touch go.1 go.2
REF_STATUS=$(crs_run ref "$PROG" "$@")
if [ "$REF_STATUS" != 42 ] || ! tail -n 1 ref.out | grep -q ' RESULT ok$' ||
    ! grep -qx -- '-- checkpoint 1 --' ref.out || ! grep -qx -- '-- checkpoint 2 --' ref.out; then
    crs_fail "ref: the uninterrupted run failed ($(crs_status_text "$REF_STATUS"))"
    crs_show ref.out 60
    crs_show ref.err
    crs_summary "$prog_name"
fi
REF=$D/ref.out
sed -n '1,/^-- checkpoint 1 --$/p' "$REF" >"$WORK/ref.upto1"
crs_after_point 1 "$REF" >"$WORK/ref.after1"
sed -n '/^-- checkpoint 1 --$/,/^-- checkpoint 2 --$/p' "$REF" | tail -n +2 >"$WORK/ref.1to2"
crs_after_point 2 "$REF" >"$WORK/ref.after2"
crs_pass "ref (uninterrupted: $(wc -l <"$REF") lines, $(crs_status_text "$REF_STATUS"))"

if ! crs_have_tools cr_run cr_checkpoint cr_restart; then
    echo "SKIP: the tools are not built yet ($CRS_TOOLS/cr_run, cr_checkpoint, cr_restart);" \
        "only the uninterrupted run was checked"
    exit 77
fi

# ---------------------------------------------------------------- flavours
KILL_IMG=
KILL_PID=

fl_run() {
    local pid wd st
    fl_dir run
    touch go.1 go.2
    crs_clean_exec "$CR_RUN" "$PROG" "$@" </dev/null >run.out 2>run.err &
    pid=$!
    (
        i=0
        while kill -0 "$pid" 2>/dev/null && [ $i -lt $((CRS_TIMEOUT * 10)) ]; do
            crs_nap 0.1
            i=$((i + 1))
        done
        # only when the time ran out: the run ended and reaped, its pid may be another's now
        # (ci52: a kill -9 after every normal end)
        [ $i -lt $((CRS_TIMEOUT * 10)) ] || kill -9 "$pid" 2>/dev/null
    ) &
    wd=$!
    wait "$pid"
    st=$?
    wait "$wd" 2>/dev/null
    compare run "cr_run without a checkpoint" "$REF" run.out "$REF_STATUS" "$st" run.err
    if [ -f ready.1 ] && [ "$(cat ready.1)" != "$pid" ]; then
        crs_fail "run: cr_run did not exec in place (cr_run PID $pid, program PID $(cat ready.1))"
    fi
}

# fl_killed FLAVOUR SIGNAL OPTIONS...: checkpoint at point 1 with OPTIONS, the
# original must die of SIGNAL; then restart and compare.
fl_killed() {
    local fl=$1 sig=$2 st taken=0
    shift 2
    fl_dir "$fl"
    touch go.2
    crs_launch orig "$CR_RUN" "$PROG" "$@"
    wait_ready "$fl" 1 orig || return
    ckpt "$fl" ck "$PID" "$D/images/ctx" "${CKPT_OPTS[@]}" || return
    st=$(crs_wait_status orig 30)
    [ "$st" = $((128 + sig)) ] || crs_fail "$fl: the original after the checkpoint:" \
        "$(crs_status_text "$st"), expected killed by SIG$(kill -l "$sig")"
    compare "$fl" "the original's output up to the checkpoint" "$WORK/ref.upto1" orig.out "$st" "$st"
    if [ "$fl" = kill ] || [ "$fl" = compress ]; then
        crs_tool info cr_info "$D/images/ctx" || crs_fail "$fl: cr_info: exit $?" "$(head -n 3 info.err)"
        if crs_tool json cr_info --json "$D/images/ctx"; then
            python3 -m json.tool json.out >/dev/null 2>json.check ||
                crs_fail "$fl: cr_info --json does not print valid JSON: $(head -n 1 json.check)"
        else
            crs_fail "$fl: cr_info --json: exit $?" "$(head -n 3 json.err)"
        fi
        crs_tool verify cr_info --verify "$D/images/ctx" ||
            crs_fail "$fl: cr_info --verify on a good image: exit $?" "$(head -n 3 verify.err)"
    fi
    if [ "$fl" = mutate ]; then
        (eval "${CRS_MUTATE:-true}") || crs_fail "mutate: the command CRS_MUTATE failed"
    fi
    touch go.1
    [ -e "/proc/$PID" ] && taken=1
    restart "$fl" r1 "$WORK/ref.after1" "$D/images/ctx"
    pid_check "$fl" "$PID" "$taken"
    if [ "$fl" = kill ]; then
        KILL_IMG=$D/images/ctx
        KILL_PID=$PID
    fi
}

fl_again() {
    local fl=$1 taken=0
    shift
    if [ -z "$KILL_IMG" ]; then
        crs_fail "$fl: no image (flavour kill did not make one)"
        return
    fi
    D=$WORK/kill
    cd "$D" || return
    export REVIVE_TEST_READY=$D/ready REVIVE_TEST_GO=$D/go
    [ -e "/proc/$KILL_PID" ] && taken=1
    restart "$fl" "$fl" "$WORK/ref.after1" "$KILL_IMG" "$@"
    if [ "$fl" = nopid ]; then
        pid_check "$fl" "$KILL_PID" "$taken" nopid
    else
        pid_check "$fl" "$KILL_PID" "$taken"
    fi
}

fl_rr() {
    local st pid1 outer
    fl_dir rr
    crs_launch orig "$CR_RUN" "$PROG" "$@"
    wait_ready rr 1 orig || return
    pid1=$PID
    ckpt rr ck1 "$PID" "$D/images/ctx1" --kill || return
    st=$(crs_wait_status orig 30)
    [ "$st" = 137 ] || crs_fail "rr: the original after --kill: $(crs_status_text "$st")"
    rm -f ready.1
    touch go.1
    crs_launch r1 "${CR_RESTART[@]}" "$D/images/ctx1"
    wait_ready rr 2 r1 || return
    [ "${CRS_EXPECT_PID:-0}" = 1 ] && pid_check rr "$pid1" 0
    outer=$(crs_outer_pid "$PID")
    if [ "$outer" != "$PID" ]; then
        crs_note "rr: the restarted process sees itself as PID $PID (its own pid namespace);" \
            "out here it is $outer, which cr_checkpoint is given"
        PID=$outer
    fi
    ckpt rr ck2 "$PID" "$D/images/ctx2" --kill || return
    st=$(crs_wait_status r1 30)
    [ "$st" = 137 ] || crs_fail "rr: cr_restart whose process was checkpointed with --kill:" \
        "$(crs_status_text "$st"), expected killed by SIGKILL like its process"
    compare rr "the 1st restart's output up to point 2" "$WORK/ref.1to2" r1.out "$st" "$st" r1.err
    touch go.2
    restart rr r2 "$WORK/ref.after2" "$D/images/ctx2"
    [ "${CRS_EXPECT_PID:-0}" = 1 ] && pid_check rr "$pid1" 0 "" "$D/ready.done"
    [ "$IS_ROOT" = 1 ] && [ "$PID" != "$pid1" ] &&
        crs_note "rr: the 1st restart ran as PID $PID, the original was $pid1"
    return 0
}

# fl_continued FLAVOUR OPTIONS...: the original goes on after the checkpoint
# and must finish exactly like the reference; then restart from the image.
fl_continued() {
    local fl=$1 st state
    shift
    fl_dir "$fl"
    touch go.2
    crs_launch orig "$CR_RUN" "$PROG" "${PROG_ARGS[@]}"
    wait_ready "$fl" 1 orig || return
    ckpt "$fl" ck "$PID" "$D/images/ctx" "$@" || return
    if [ "$fl" = stop ]; then
        state=$(sed 's/.*) \(.\).*/\1/' "/proc/$PID/stat" 2>/dev/null)
        [ "$state" = T ] || crs_fail "stop: the process state after --stop is '$state', expected T"
        touch go.1
        kill -CONT $(tree_pids "$PID")
    else
        touch go.1
    fi
    st=$(crs_wait_status orig)
    compare "$fl" "the original after the checkpoint" "$REF" orig.out "$REF_STATUS" "$st" orig.err
    restart "$fl" r1 "$WORK/ref.after1" "$D/images/ctx"
}

# on_pty OUT CMD...: runs CMD on a new pseudo-terminal (script(1)) in the
# background; what it prints goes to OUT.out, its status to OUT.status.
on_pty() {
    local out=$1 cmd= a
    shift
    for a in "$@"; do cmd="$cmd '$a'"; done
    rm -f "$out.out" "$out.status"
    (
        (crs_clean_exec timeout -k 5 "$CRS_TIMEOUT" script -qefc "exec $cmd" /dev/null \
            </dev/null >"$out.raw" 2>"$out.err")
        echo $? >"$out.status.tmp"
        tr -d '\r' <"$out.raw" >"$out.out"
        mv "$out.status.tmp" "$out.status"
    ) 2>/dev/null &
}

fl_tty() {
    local st
    if ! command -v script >/dev/null; then
        crs_note "tty: script(1) is missing; not tested"
        return
    fi
    fl_dir tty
    touch go.2
    on_pty orig "$CR_RUN" "$PROG" "${PROG_ARGS[@]}"
    wait_ready tty 1 orig || return
    if ! readlink "/proc/$PID/fd/1" | grep -q '^/dev/pts/'; then
        crs_fail "tty: the original's stdout is $(readlink "/proc/$PID/fd/1"), not a terminal"
        return
    fi
    ckpt tty ck "$PID" "$D/images/ctx" --kill || return
    crs_wait_status orig 30 >/dev/null
    compare tty "the original's output on its terminal up to the checkpoint" "$WORK/ref.upto1" \
        orig.out 0 0
    touch go.1
    rm -f ready.*
    on_pty r1 "${CR_RESTART[@]}" "$D/images/ctx"
    st=$(crs_wait_status r1)
    compare tty "cr_restart on another terminal" "$WORK/ref.after1" r1.out "$REF_STATUS" "$st" \
        r1.err
}

# The restarted process gets SIGTERM at point 2: cr_restart must end with it (143), by its own
# end (OUT.exit), not by the end of its output pipes: the process's children hold those, and a
# SIGTERM to a process does not end its children, natively either (a shell's foreground step
# goes on, orphaned). As root the restart runs where the old pids are free, beside us, as it does
# on a machine whose init reaps at once: in a container whose init reaps the killed original's
# children late, a pid still taken put the restart into a pid namespace, which ends every process
# left in it with its first one, so the step held the pipes only when the pids were free in
# time (CI of ddf737d0, crs_script null: 1 of 4, "did not end in time": cr_restart had ended 143
# at once, the step held the pipes until its own 120 s ran out). What is left of the tree after
# the SIGTERM (its processes but the first) is the test's to end.
fl_sigdeath() {
    local st outer pids left p
    fl_dir sigdeath
    crs_launch orig "$CR_RUN" "$PROG" "${PROG_ARGS[@]}"
    wait_ready sigdeath 1 orig || return
    pids=$(tree_pids "$PID")
    ckpt sigdeath ck "$PID" "$D/images/ctx" --kill || return
    crs_wait_status orig 30 >/dev/null
    if [ "$IS_ROOT" = 1 ] && ! crs_wait_pids_free 20 $pids; then
        crs_note "sigdeath: a pid of the killed original is still taken after 20 s: the restart" \
            "runs in a pid namespace of its own"
    fi
    rm -f ready.*
    touch go.1
    crs_launch r1 "${CR_RESTART[@]}" "$D/images/ctx"
    wait_ready sigdeath 2 r1 || return
    outer=$(crs_outer_pid "$PID")
    [ "$outer" = "$PID" ] || crs_note "sigdeath: the restart runs in a pid namespace of its own" \
        "(process $PID there, $outer here)"
    left=$(tree_pids "$outer" | tail -n +2)
    kill -TERM "$outer"
    st=$(crs_wait_exit r1 30)
    [ "$st" = 143 ] || crs_fail "sigdeath: cr_restart whose process died of SIGTERM:" \
        "$(crs_status_text "$st"), expected killed by SIGTERM (143)"
    for p in $left; do
        crs_is_test_prog "$p" && crs_is_ours "$p" && kill -9 "$p" 2>/dev/null
    done
    st=$(crs_wait_status r1 30)
    [ "$st" != timeout ] || crs_fail "sigdeath: the restarted processes' output pipes were not closed" \
        "within 30 s of cr_restart's end, even with what was left of the tree killed"
    compare sigdeath "the restart's output up to point 2" "$WORK/ref.1to2" r1.out 0 0 r1.err
}

fl_busy() {
    local st
    fl_dir busy
    touch go.2
    crs_launch orig "$CR_RUN" "$PROG" "${PROG_ARGS[@]}"
    wait_ready busy 1 orig || return
    ckpt busy ck "$PID" "$D/images/ctx" --cont || return
    crs_launch r1 "${CR_RESTART[@]}" "$D/images/ctx"
    if [ "$IS_ROOT" = 1 ] || [ "${CRS_EXPECT_PID:-0}" = 1 ]; then
        # the restarted copy: in a pid namespace of its own, where it is $PID. Once it runs, no
        # fixed wait is needed to see a cr_restart that gives up early: one that never brings
        # the copy up fails here (and below), one that ends it later fails the comparison of its
        # output. Without this check a second is left for an early end (40 busy runs in make
        # check: 40 s)
        crs_wait_for_nested "$PID" 10 ||
            crs_fail "busy: no restarted copy runs as PID $PID in a pid namespace of its own" \
                "while the original holds that PID"
    else
        sleep 1
    fi
    if [ -e r1.status ]; then
        crs_fail "busy: cr_restart ended before being let go, while the original still ran:" \
            "$(crs_status_text "$(cat r1.status)")"
        crs_show r1.err
        crs_show r1.out
    fi
    touch go.1
    st=$(crs_wait_status orig)
    compare busy "the original" "$REF" orig.out "$REF_STATUS" "$st" orig.err
    st=$(crs_wait_status r1)
    compare busy "cr_restart while the original ran" "$WORK/ref.after1" r1.out "$REF_STATUS" \
        "$st" r1.err
}

fl_stopped() {
    local st state i
    fl_dir stopped
    touch go.2
    crs_launch orig "$CR_RUN" "$PROG" "${PROG_ARGS[@]}"
    wait_ready stopped 1 orig || return
    kill -STOP "$PID"
    for i in $(seq 100); do
        state=$(sed 's/.*) \(.\).*/\1/' "/proc/$PID/stat" 2>/dev/null)
        [ "$state" = T ] && break
        crs_nap 0.02
    done
    CRS_CKPT_TIMEOUT=20 crs_tool ck0 cr_checkpoint -f "$D/images/ctx" "$PID"
    st=$?
    crs_expect_refusal "stopped: cr_checkpoint of a stopped process" ck0.err "$st" stopped
    [ -z "$(ls -A images)" ] || crs_fail "stopped: the refused checkpoint left files:" $(ls -A images)
    kill -CONT "$PID"
    ckpt stopped ck "$PID" "$D/images/ctx" --kill || return
    st=$(crs_wait_status orig 30)
    [ "$st" = 137 ] || crs_fail "stopped: the original after SIGCONT and --kill: $(crs_status_text "$st")"
    touch go.1
    restart stopped r1 "$WORK/ref.after1" "$D/images/ctx"
    pid_check stopped "$PID" 0
}

fl_stdoutfile() {
    local st
    fl_dir stdoutfile
    touch go.2
    (
        (crs_clean_exec timeout -k 5 "$CRS_TIMEOUT" "$CR_RUN" "$PROG" "${PROG_ARGS[@]}" \
            </dev/null >orig.out 2>orig.err)
        echo $? >orig.status.tmp
        mv orig.status.tmp orig.status
    ) 2>/dev/null &
    wait_ready stdoutfile 1 orig || return
    ckpt stdoutfile ck "$PID" "$D/images/ctx" --kill || return
    st=$(crs_wait_status orig 30)
    [ "$st" = 137 ] || crs_fail "stdoutfile: the original after --kill: $(crs_status_text "$st")"
    touch go.1
    rm -f ready.*
    st=$(crs_run r1 "${CR_RESTART[@]}" "$D/images/ctx")
    compare stdoutfile "the stdout file after cr_restart" "$REF" orig.out "$REF_STATUS" "$st" r1.err
    [ -s r1.out ] && crs_fail "stdoutfile: output went to cr_restart's stdout instead of the file:" \
        "$(head -n 1 r1.out)"
    return 0
}

PROG_ARGS=("$@")
# twice and nopid restart the image of kill: run kill first when not asked for
case " $FLAVOURS " in
    *" kill "*) ;;
    *" twice "* | *" nopid "*) FLAVOURS="kill $FLAVOURS" ;;
esac
for fl in $FLAVOURS; do
    before=$CRS_FAILS
    case $fl in
        run) fl_run "$@" ;;
        kill) CKPT_OPTS=(--kill) && fl_killed kill 9 "$@" ;;
        twice) fl_again twice ;;
        nopid) fl_again nopid --no-restore-pid ;;
        rr) fl_rr "$@" ;;
        cont) fl_continued cont --cont ;;
        fork) fl_continued fork --fork ;;
        stop) fl_continued stop --stop ;;
        term) CKPT_OPTS=(--term) && fl_killed term 15 "$@" ;;
        compress) CKPT_OPTS=(--kill --compress) && fl_killed compress 9 "$@" ;;
        stdoutfile) fl_stdoutfile ;;
        busy) fl_busy ;;
        tty) fl_tty ;;
        sigdeath) fl_sigdeath ;;
        stopped) fl_stopped ;;
        mutate) CKPT_OPTS=(--kill) && fl_killed mutate 9 "$@" ;;
        *) crs_fail "$fl: unknown flavour" ;;
    esac
    # a flavour's own processes must be gone before the next one starts
    for f in "$WORK/$fl"/ready.[0-9]; do
        [ -f "$f" ] && crs_kill_test_prog "$(cat "$f")"
    done
    [ "$CRS_FAILS" = "$before" ] && crs_pass "$fl"
done
cd "$WORK" || exit 99
crs_summary "$prog_name" "$@"
