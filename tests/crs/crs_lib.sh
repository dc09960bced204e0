# Shell helpers shared by the tests in tests/crs (sourced by bash scripts).
#
# Environment (set by `make check`; set REVIVE_BUILDDIR by hand otherwise):
#   REVIVE_BUILDDIR   the build tree: tools in tools/, the state programs in
#                     tests/crs/uspace/, the image tool in tests/crs/base/, the
#                     -lcr programs in tests/crs/libcr/
#   CRS_KEEP=1        keep the work directory even when everything passed
#   CRS_TIMEOUT=N     seconds a test program may run (default 60)
#
# Every command that could hang runs under timeout(1). Each test works in its
# own directory under ${TMPDIR:-/tmp}, removed when the test passes and kept
# (its path printed) when it fails.

set -u

if [ -z "${REVIVE_BUILDDIR:-}" ]; then
    REVIVE_BUILDDIR=$(pwd)
fi
CRS_BIN=$REVIVE_BUILDDIR/tests/crs/uspace
CRS_BASE_BIN=$REVIVE_BUILDDIR/tests/crs/base
CRS_LIBCR_BIN=$REVIVE_BUILDDIR/tests/crs/libcr
CRS_TOOLS=${CRS_TOOLS:-$REVIVE_BUILDDIR/tools}
CRS_TIMEOUT=${CRS_TIMEOUT:-60}
CRS_CKPT_TIMEOUT=${CRS_CKPT_TIMEOUT:-120}
CRS_FAILS=0
CRS_PASSES=0
CRS_FAILED_NAMES=
CRS_CLEANUPS=
WORK=

crs_note() { echo "   $*"; }

crs_pass() {
    CRS_PASSES=$((CRS_PASSES + 1))
    echo "PASS $*"
}

crs_fail() {
    local name=${1%%:*}
    CRS_FAILS=$((CRS_FAILS + 1))
    case " $CRS_FAILED_NAMES " in
        *" $name "*) ;;
        *) CRS_FAILED_NAMES="$CRS_FAILED_NAMES $name" ;;
    esac
    echo "FAIL $*"
}

crs_skip() {
    echo "SKIP: $*"
    CRS_SKIPPED=1
    exit 77
}

# crs_need_tools TOOL... : skip the test when a tool is not built yet.
crs_need_tools() {
    local t
    for t in "$@"; do
        [ -x "$CRS_TOOLS/$t" ] || crs_skip "$CRS_TOOLS/$t is not built yet"
    done
}

crs_have_tools() {
    local t
    for t in "$@"; do
        [ -x "$CRS_TOOLS/$t" ] || return 1
    done
    return 0
}

crs_need_root() {
    [ "$(id -u)" = 0 ] || crs_skip "$1 needs root (running as uid $(id -u))"
}

# Runs a cleanup command when the test ends.
crs_at_exit() { CRS_CLEANUPS="$1
$CRS_CLEANUPS"; }

# crs_hugepages_raise TEST ADD MIN: as root, reserves ADD more huge pages (vm.nr_hugepages, the
# machine's) for this test and puts the count back when the test ends (crs_at_exit); one test at
# a time changes it: /tmp/revive-hugepages.lock, taken on descriptor 9 and held until the test
# ends (another test holding it 15 minutes: crs_fail, then crs_summary TEST, which ends the test).
# Sets CRS_HUGEPAGES_ORIG (the count before) and CRS_HUGEPAGES_GOT (how many more the kernel
# gave). 0 when it gave MIN more at least, 1 fewer, 2 not root (nothing changed).
crs_hugepages_raise() {
    local test=$1 add=$2 min=$3
    [ "$(id -u)" = 0 ] && [ -w /proc/sys/vm/nr_hugepages ] || return 2
    exec 9>/tmp/revive-hugepages.lock
    flock -w 900 9 || { crs_fail "setup: /tmp/revive-hugepages.lock stayed held for 15 minutes"; crs_summary "$test"; }
    CRS_HUGEPAGES_ORIG=$(cat /proc/sys/vm/nr_hugepages)
    crs_at_exit "echo $CRS_HUGEPAGES_ORIG >/proc/sys/vm/nr_hugepages"
    echo $((CRS_HUGEPAGES_ORIG + add)) >/proc/sys/vm/nr_hugepages
    CRS_HUGEPAGES_GOT=$(( $(cat /proc/sys/vm/nr_hugepages) - CRS_HUGEPAGES_ORIG ))
    [ "$CRS_HUGEPAGES_GOT" -ge "$min" ]
}

crs_exit_trap() {
    local rc=$? line
    # kill the test programs this test started that are still running
    if [ -n "$WORK" ] && [ -d "$WORK" ]; then
        for f in $(find "$WORK" -name 'ready.[0-9]' 2>/dev/null); do
            crs_kill_test_prog "$(cat "$f" 2>/dev/null)"
        done
    fi
    while IFS= read -r line; do
        [ -n "$line" ] && eval "$line" >/dev/null 2>&1
    done <<EOF
$CRS_CLEANUPS
EOF
    if [ -n "$WORK" ] && [ -d "$WORK" ]; then
        if [ "$rc" = 0 ] || [ "$rc" = 77 ]; then
            [ "${CRS_KEEP:-0}" = 1 ] && echo "work directory kept: $WORK" || rm -rf "$WORK"
        else
            echo "work directory kept for inspection: $WORK"
        fi
    fi
    exit "$rc"
}

# crs_outer_pid PID: the PID as seen from here of the test program that sees
# itself as PID. Without root, cr_restart brings the original PID back inside
# a new user+pid namespace, so the PID a restarted program reports (in its
# ready file) is not the one cr_checkpoint and kill need out here. Only this
# test's programs (crs_is_ours): another test's program in a pid namespace of
# its own may see itself by the same pid (ns_init_image's programs are pid 1
# there, and so is any other restart's namespace init).
crs_outer_pid() {
    local inner=$1 outer
    if [ -r "/proc/$inner/status" ] && grep -q "^NSpid:[[:space:]]*$inner\$" "/proc/$inner/status" &&
        crs_is_test_prog "$inner" && crs_is_ours "$inner"; then
        echo "$inner"
        return
    fi
    # every process whose innermost pid is $inner, the first that is a test program of this test:
    # a pid namespace's init is pid 1 there, and another test's restart has one (cr_restart's),
    # which the first match alone once took for ns_init_image's program (CI of b31e903: its exit
    # trap SIGKILLed tree_devshm_user's restart); the first test program alone could still be
    # another test's, restarted in a namespace of its own under the same inner pid
    for outer in $(grep -h '^NSpid:' /proc/[0-9]*/status 2>/dev/null |
        awk -v p="$inner" 'NF > 2 && $NF == p { print $2 }'); do
        crs_is_test_prog "$outer" && crs_is_ours "$outer" && { echo "$outer"; return; }
    done
    echo "$inner"
}

# crs_is_test_prog PID: PID runs a test program: one of its arguments (argv[0], or the script
# an interpreter runs) is named crt_*. Not "crt_ anywhere in the command line": cr_restart's
# image path lies in a work folder named revive-crt_*.
crs_is_test_prog() {
    [ -r "/proc/$1/cmdline" ] && tr '\0' '\n' <"/proc/$1/cmdline" 2>/dev/null | awk '{ sub(/.*\//, "") } /^crt_/ { f = 1 } END { exit !f }'
}

# crs_is_ours PID: PID is one of this test's programs: its environment names a ready file in this
# test's work folder (REVIVE_TEST_READY, which crs_start and cr_cycle.sh export; a restarted
# program has its original's environment). Another test's program names its own work folder
# (tests run side by side). Without that variable, or where the environment cannot be read:
# whether PID descends from this test's shell ($$; a program a subshell started in the background
# is reparented once that subshell ends, so this alone does not do). CRS_OURS_TOP names another
# top (a test of this helper).
crs_is_ours() {
    local pid=$1 top=${CRS_OURS_TOP:-$$} hops=0 ready
    ready=$(tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | sed -n 's/^REVIVE_TEST_READY=//p' | head -n 1)
    if [ -n "$ready" ] && [ -n "$WORK" ]; then
        case "$ready" in "$WORK"/*) return 0 ;; *) return 1 ;; esac
    fi
    while [ -n "$pid" ] && [ "$pid" -gt 1 ] 2>/dev/null && [ $hops -lt 128 ]; do
        [ "$pid" = "$top" ] && return 0
        pid=$(awk '/^PPid:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
        hops=$((hops + 1))
    done
    return 1
}

# crs_kill_test_prog PID: SIGKILL PID if it is still one of our test programs.
crs_kill_test_prog() {
    local pid=$1
    case "$pid" in '' | *[!0-9]*) return ;; esac
    pid=$(crs_outer_pid "$pid")
    if crs_is_test_prog "$pid"; then
        kill -9 "$pid" 2>/dev/null
    fi
}

# crs_own_ipc "$@" (before crs_setup): as root, the test runs again in an IPC
# namespace of its own (unshare --ipc), for the tests whose programs make
# System V segments, semaphore sets and message queues. A restart as root
# makes them again under their old ids (kernel.*_next_id), which only works
# while no other process of the namespace holds them: in the machine's
# namespace another test's or user's object made meanwhile took one (CI:
# crs_tree sysvipc, "semaphore set 720944 is now 720946", and the program,
# which kept 720944, failed and removed whichever set held it), and each
# test's cleanup there had to guess which objects were its own. In a
# namespace of its own every object is the test's, none of another's, and
# the kernel removes what is left when its last process ends. Without root,
# or where unshare cannot, the test runs where it is.
crs_own_ipc() {
    [ -z "${CRS_OWN_IPC:-}" ] && [ "$(id -u)" = 0 ] || return 0
    unshare --ipc true 2>/dev/null || return 0
    CRS_OWN_IPC=1 exec unshare --ipc -- bash "$0" "$@"
}

# crs_setup NAME: make the work directory and install the exit trap.
crs_setup() {
    CRS_NAME=$1
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/revive-$1.XXXXXX") || exit 99
    chmod 755 "$WORK"
    mkfifo "$WORK/.nap" 2>/dev/null # crs_nap's
    trap crs_exit_trap EXIT
    trap 'exit 130' INT TERM
}

# crs_nap SECONDS: waits SECONDS without starting a process: a read with a timeout on the work
# directory's FIFO, which nobody writes (opened read-write, so the open does not wait for a
# writer). The polls here run every 20 ms for as long as a test program runs, and a sleep(1)
# each time cost more CPU than many programs: 250 polls (5 s) took 2.8 s of CPU with sleep,
# 0.04 s with the read, on the loaded 2-core machine, where make check's tests are bound by CPU.
# Without the FIFO (no work directory yet): sleep.
crs_nap() {
    local nap
    if [ -n "$WORK" ] && [ -p "$WORK/.nap" ]; then
        read -r -t "$1" nap <>"$WORK/.nap"
        return 0
    fi
    sleep "$1"
}

# crs_wait_for FILE SECONDS [STATUSFILE]: waits until FILE exists; fails on
# timeout or when STATUSFILE appears first (the program ended).
crs_wait_for() {
    local file=$1 secs=$2 status=${3:-} i=0 n=$(($2 * 50))
    while [ ! -e "$file" ]; do
        if [ -n "$status" ] && [ -e "$status" ]; then
            crs_nap 0.05
            [ -e "$file" ] && return 0
            return 1
        fi
        i=$((i + 1))
        [ "$i" -ge "$n" ] && return 1
        crs_nap 0.02
    done
    return 0
}

# crs_clean_exec CMD...: closes every file descriptor above 2 (whatever the
# caller inherited: make's, the terminal's, bash's process substitutions),
# then execs CMD. A checkpoint refuses descriptors it cannot restore, so the
# test programs must start with only 0, 1 and 2.
crs_clean_exec() {
    local fd
    # a glob, not ls: no process started for each command run clean (the directory's own fd,
    # open while the glob reads it, is closed by then; closing it again does nothing)
    for fd in /proc/$BASHPID/fd/*; do
        fd=${fd##*/}
        [ "$fd" -gt 2 ] && eval "exec $fd>&-"
    done
    exec "$@"
}

# crs_launch OUT CMD...: starts CMD in the background, under timeout, stdin
# from /dev/null, stdout and stderr into pipes that cat copies to OUT.out and
# OUT.err; when CMD ends its exit status (128+N for signal N) goes to
# OUT.status. The file descriptors above 2 are closed for CMD. OUT.status comes once
# the pipes are closed too, by CMD and by every process that holds them still (a child
# that outlived CMD); OUT.exit holds the same status as soon as CMD itself ended
# (crs_wait_exit).
crs_launch() {
    local out=$1
    shift
    rm -f "$out.out" "$out.err" "$out.status" "$out.exit"
    (
        {
            timeout -k 5 "$CRS_TIMEOUT" bash -c 'for f in /proc/$$/fd/*; do n=${f##*/}
                [ "$n" -gt 2 ] 2>/dev/null && eval "exec $n>&-"; done; exec "$@"' crs_closefds "$@" \
                </dev/null 2> >(cat >"$out.err")
            st=$?
            echo "$st" >"$out.exit.tmp" && mv "$out.exit.tmp" "$out.exit"
            exit "$st"
        } | cat >"$out.out"
        echo "${PIPESTATUS[0]}" >"$out.status.tmp"
        crs_nap 0.05 # let the stderr copy finish
        mv "$out.status.tmp" "$out.status"
    ) 2>/dev/null &
}

# crs_start DIR NAME CMD...: starts CMD (a test program, usually under
# cr_run) in DIR with its ready/go files there, output in DIR/NAME.*; waits
# until it reaches checkpoint point 1 and sets PID. Fails if it never does:
# it ended first, or CRS_TIMEOUT passed (at least 60 s; the program is killed
# then anyway, so a test that gives a slow start a longer CRS_TIMEOUT waits as
# long: crt_heap's 1 GiB at load 16 took more than 60 s).
crs_start() {
    local dir=$1 name=$2
    shift 2
    mkdir -p "$dir"
    (
        cd "$dir" || exit 1
        export REVIVE_TEST_READY=$dir/ready REVIVE_TEST_GO=$dir/go
        crs_launch "$dir/$name" "$@"
    )
    if ! crs_wait_for "$dir/ready.1" "$((CRS_TIMEOUT > 60 ? CRS_TIMEOUT : 60))" "$dir/$name.status"; then
        PID=
        return 1
    fi
    PID=$(cat "$dir/ready.1")
    return 0
}

# crs_start_or_end WHY DIR CMD...: crs_start DIR orig CMD...; when the program never gets ready,
# counts the failure WHY, shows what it printed on stderr and ends the test (crs_summary).
crs_start_or_end() {
    local why=$1 dir=$2
    shift 2
    crs_start "$dir" orig "$@" && return 0
    crs_fail "$why"
    crs_show "$dir/orig.err"
    crs_summary "$CRS_NAME"
}

# crs_finish DIR NAME: lets the program started by crs_start go on; succeeds
# when it ends with status 42 and "RESULT ok". Sets FINISH_STATUS.
crs_finish() {
    touch "$1/go.1" "$1/go.2"
    FINISH_STATUS=$(crs_wait_status "$1/$2")
    [ "$FINISH_STATUS" = 42 ] && tail -n 1 "$1/$2.out" | grep -q ' RESULT ok$'
}

# crs_uninterrupted DIR NAME CMD...: runs CMD (a test program) straight through in DIR (made),
# its go files made first so that it never waits at a checkpoint point, output in DIR/NAME.*;
# prints its status (42: it ran to its end).
crs_uninterrupted() {
    local dir=$1 name=$2
    shift 2
    mkdir -p "$dir"
    touch "$dir/go.1" "$dir/go.2"
    (cd "$dir" && REVIVE_TEST_READY=$dir/ready REVIVE_TEST_GO=$dir/go crs_run "$dir/$name" "$@")
}

# crs_after_point N FILE: what a test program printed after checkpoint point N (FILE: its output).
crs_after_point() { sed -n "/^-- checkpoint $1 --\$/,\$p" "$2" | tail -n +2; }

# crs_wait_status OUT [SECONDS]: waits for OUT.status; prints the status.
crs_wait_status() {
    local out=$1 secs=${2:-$((CRS_TIMEOUT + 15))}
    if crs_wait_for "$out.status" "$secs"; then
        cat "$out.status"
    else
        echo "timeout"
    fi
}

# crs_wait_exit OUT SECONDS: waits until the command crs_launch started ended itself (OUT.exit),
# whoever still holds its output pipes; prints its status, or "timeout". For a command whose
# children may outlive it: a shell killed by a signal leaves its foreground child running, and
# that child holds the shell's stdout, so OUT.status waits for the child too (the CI of ddf737d0:
# cr_restart ended at once with the restarted script's status, 143, and the step the script
# waited for held the pipe 150 s more: crs_script's sigdeath "did not end in time").
crs_wait_exit() {
    if crs_wait_for "$1.exit" "$2" "$1.status"; then
        cat "$1.exit"
    else
        echo "timeout"
    fi
}

# crs_wait_pids_free SECONDS PID...: waits until no process has any of the PIDs (a process
# killed by a checkpoint's --kill whose parent died with it stays a zombie until the system's
# init reaps it, which in a container may take seconds under load); 0 once all are free, 1 when
# SECONDS passed first.
crs_wait_pids_free() {
    local secs=$1 i p busy
    shift
    for i in $(seq $((secs * 20))); do
        busy=
        for p in "$@"; do
            [ -e "/proc/$p" ] && busy=$p && break
        done
        [ -z "$busy" ] && return 0
        crs_nap 0.05
    done
    return 1
}

# crs_run OUT CMD...: crs_launch and wait; prints the status.
crs_run() {
    local out=$1
    crs_launch "$@"
    crs_wait_status "$out"
}

# crs_tool OUT TOOL ARGS...: runs a tool from the build tree synchronously
# (no stdin, timeout CRS_CKPT_TIMEOUT); stdout to OUT.out, stderr to OUT.err;
# returns its status (124 on timeout, 128+N when killed by signal N).
crs_tool() {
    local out=$1 tool=$2
    shift 2
    (crs_clean_exec timeout -k 5 "$CRS_CKPT_TIMEOUT" "$CRS_TOOLS/$tool" "$@" </dev/null \
        >"$out.out" 2>"$out.err")
}

# crs_status_text STATUS: "exit N" or "killed by SIGNAME" (status > 128).
crs_status_text() {
    case "$1" in
        timeout) echo "did not end in time" ;;
        124) echo "timed out (124)" ;;
        *)
            if [ "$1" -gt 128 ] 2>/dev/null; then
                echo "killed by SIG$(kill -l $(($1 - 128)) 2>/dev/null) ($1)"
            else
                echo "exit $1"
            fi
            ;;
    esac
}

# crs_show FILE [LINES]: prints the first lines of FILE, indented.
crs_show() {
    [ -s "$1" ] && head -n "${2:-10}" "$1" | sed 's/^/   | /'
    return 0
}

# crs_expect_refusal NAME ERRFILE STATUS [WORD]: the contract for a refusal: a
# non-zero exit that is not a signal, within the time limit, and exactly one
# non-empty line on stderr (that names WORD, when given).
crs_expect_refusal() {
    local name=$1 err=$2 status=$3 word=${4:-} lines why=
    lines=$(grep -c . "$err" 2>/dev/null)
    if [ "$status" = 0 ]; then
        why="exit status 0"
    elif [ "$status" = 124 ] || [ "$status" = timeout ]; then
        why="hung (killed after the time limit)"
    elif [ "$status" -gt 128 ] 2>/dev/null; then
        why="$(crs_status_text "$status")"
    elif [ "${lines:-0}" = 0 ]; then
        why="no message on stderr"
    elif [ "$lines" != 1 ]; then
        why="$lines lines on stderr, expected one"
    elif [ -n "$word" ] && ! grep -qF -- "$word" "$err"; then
        why="the message does not name '$word'"
    fi
    if [ -z "$why" ]; then
        crs_pass "$name ($(crs_status_text "$status"): $(head -n 1 "$err"))"
        return 0
    fi
    crs_fail "$name: $why"
    crs_show "$err"
    return 1
}

# crs_summary NAME: last line, exit status of the test.
crs_summary() {
    echo "$*: $CRS_PASSES passed, $CRS_FAILS failed${CRS_FAILED_NAMES:+:$CRS_FAILED_NAMES}"
    [ "$CRS_FAILS" = 0 ] && exit 0
    exit 1
}

# crs_good_image TEST PROG: the setup the image tests share. Runs PROG once
# uninterrupted (its output after checkpoint point 1 in $WORK/ref.after1),
# then under cr_run, checkpointed with --kill at point 1 into $GOOD
# ($WORK/good.img); leaves the shell in that run's directory $d with its go
# files in place, so a restart runs straight through.
crs_good_image() {
    local test=$1 prog=$2
    r=$WORK/ref
    crs_uninterrupted "$r" ref "$prog" >/dev/null
    crs_after_point 1 "$r/ref.out" >"$WORK/ref.after1"
    d=$WORK/prog
    crs_start "$d" orig "$CRS_TOOLS/cr_run" "$prog" || {
        crs_fail "setup: $(basename "$prog") under cr_run never got ready"
        crs_summary "$test"
    }
    GOOD=$WORK/good.img
    crs_tool "$WORK/ck" cr_checkpoint --kill -f "$GOOD" "$PID" || {
        crs_fail "setup: cr_checkpoint --kill: $(head -n 1 "$WORK/ck.err")"
        crs_summary "$test"
    }
    crs_wait_status "$d/orig" 30 >/dev/null
    touch "$d/go.1" "$d/go.2"
    cd "$d" || exit 99
}

# crs_expect_run NAME EXPECTED_FILE OUT STATUS: a run (crs_run OUT, ended with STATUS) passes
# (NAME) when it ended with 42 and printed EXPECTED_FILE; else fails showing the difference and its
# stderr. Returns 0 when it passed.
crs_expect_run() {
    local name=$1 exp=$2 out=$3 st=$4
    if [ "$st" = 42 ] && cmp -s "$exp" "$out.out"; then
        crs_pass "$name"
        return 0
    fi
    crs_fail "$name: $(crs_status_text "$st")$(cmp -s "$exp" "$out.out" || echo ", output differs")"
    diff -u --label expected --label got "$exp" "$out.out" | head -n 30 | sed 's/^/   | /'
    crs_show "$out.err"
    return 1
}

# crs_expect_said PASS FAIL STATUS OUT WANT_STATUS WANT: a run (crs_run OUT, ended with STATUS)
# passes (PASS) when it ended with WANT_STATUS and printed exactly the text WANT; else fails (FAIL,
# the status) showing its output and stderr. Returns 0 when it passed.
crs_expect_said() {
    local pass=$1 fail=$2 st=$3 out=$4 want_st=$5 want=$6
    if [ "$st" = "$want_st" ] && [ "$(cat "$out.out")" = "$want" ]; then
        crs_pass "$pass"
        return 0
    fi
    crs_fail "$fail: $(crs_status_text "$st")"
    crs_show "$out.out"
    crs_show "$out.err"
    return 1
}

# crs_expect_members TREE N: cr_info of the tree file TREE lists N members.
crs_expect_members() {
    local tree=$1 n=$2 base=$WORK/info.${1##*/}
    if crs_tool "$base" cr_info "$tree" && grep -q "^members ($n):\$" "$base.out"; then
        crs_pass "the file holds the $n processes of the tree (cr_info)"
    else
        crs_fail "cr_info of the tree $tree: $(head -n 3 "$base.err" "$base.out")"
    fi
}

# crs_tree_held_ckpt SIGNAL LIMIT [OPTION...]: a tree member sent SIGNAL while a checkpoint of its
# tree holds (tree_member_stopped.sh, tree_member_dies.sh). crt_tree's children under cr_run in
# d=$WORK/p (PID), a first checkpoint (--tree --cont) into $WORK/img (sum0: its cksum); then
# cr_checkpoint --tree OPTION... -f $WORK/img PID under REVIVE_FAULT=tree-go-late (held once every
# member is parked, before the second member writes its image; `timeout LIMIT`), that member
# (victim) sent SIGNAL, and the checkpoint waited for: st its status, took its seconds,
# $WORK/ck.msg its stderr but the fault point's line. Ends the test (crs_summary) when the program
# never gets ready or the first checkpoint fails.
crs_tree_held_ckpt() {
    local sig=$1 limit=$2 t0 cp end
    shift 2
    export CRT_TREE=children
    d=$WORK/p
    crs_start_or_end "crt_tree never got ready" "$d" "$CRS_TOOLS/cr_run" "$CRS_BIN/crt_tree"
    crs_tool "$WORK/ck0" cr_checkpoint --tree --cont -f "$WORK/img" "$PID" ||
        { crs_fail "the first checkpoint: $(head -n 1 "$WORK/ck0.err")"; crs_summary "$CRS_NAME"; }
    sum0=$(cksum <"$WORK/img")
    t0=$SECONDS
    (REVIVE_FAULT=tree-go-late crs_clean_exec timeout -k 5 "$limit" "$CRS_TOOLS/cr_checkpoint" --tree "$@" \
        -f "$WORK/img" "$PID" </dev/null >"$WORK/ck.out" 2>"$WORK/ck.err") &
    cp=$!
    end=$((SECONDS + limit / 2))
    while [ $SECONDS -lt $end ] && kill -0 "$cp" 2>/dev/null && ! grep -q "holding before process" "$WORK/ck.err"; do
        crs_nap 0.05
    done
    victim=$(sed -n 's/.*holding before process \([0-9]*\) writes.*/\1/p' "$WORK/ck.err")
    [ -n "$victim" ] && kill -"$sig" "$victim"
    wait "$cp"
    st=$?
    took=$((SECONDS - t0))
    grep -v "fault tree-go-late" "$WORK/ck.err" >"$WORK/ck.msg"
}

# crs_busy_image TEST PROG: the setup of the tests that restart an image while its original
# still holds what the image needs (locks_busy, sockets_busy): PROG under cr_run in d=$WORK/prog
# (PID), checkpointed with --cont into $WORK/img; leaves the shell in $d.
crs_busy_image() {
    local test=$1 prog=$2
    d=$WORK/prog
    crs_start "$d" orig "$CRS_TOOLS/cr_run" "$prog" || {
        crs_fail "setup: $(basename "$prog") under cr_run never got ready"
        crs_summary "$test"
    }
    crs_tool "$WORK/ck" cr_checkpoint --cont -f "$WORK/img" "$PID" || {
        crs_fail "setup: cr_checkpoint --cont: $(head -n 1 "$WORK/ck.err")"
        crs_summary "$test"
    }
    cd "$d" || exit 99
}

# crs_restart_after_original PASSTEXT: crs_busy_image's original runs to its end; then its image
# restarts, ending as the original did after checkpoint point 1 (passes with PASSTEXT).
crs_restart_after_original() {
    local st
    crs_finish "$d" orig || crs_fail "the original: $FINISH_STATUS"
    crs_after_point 1 "$d/orig.out" >"$WORK/after1"
    rm -f ready.*
    st=$(crs_run "$WORK/r2" "$CRS_TOOLS/cr_restart" "$WORK/img")
    crs_expect_run "$1" "$WORK/after1" "$WORK/r2" "$st"
}

# crs_throwaway_user PREFIX WHY: as root only (else a skip naming WHY), makes the system user
# PREFIX<pid>, removed at exit, lets it reach the build tree (crs_let_others_in), and sets user,
# uid and gid for asuser. useradd is tried again while another test holds the lock of
# /etc/passwd (the tests that make users run side by side in CI).
crs_throwaway_user() {
    local t
    crs_need_root "$2"
    command -v useradd >/dev/null && command -v setpriv >/dev/null || crs_skip "useradd or setpriv is missing"
    user=$1$$
    for t in $(seq 1 20); do
        useradd -M -N -r -s /usr/sbin/nologin "$user" 2>"$WORK/useradd.err" && break
        grep -qi "lock" "$WORK/useradd.err" || break
        sleep 0.5
    done
    id -u "$user" >/dev/null 2>&1 || crs_skip "cannot create user $user: $(head -n 1 "$WORK/useradd.err")"
    crs_at_exit "userdel $user"
    crs_let_others_in
    uid=$(id -u "$user")
    gid=$(id -g "$user")
}

# asuser CMD...: CMD run as crs_throwaway_user's user, with no supplementary groups.
asuser() { setpriv --reuid="$uid" --regid="$gid" --clear-groups "$@"; }

# crs_user_or_self NAME WHY: as root, a throwaway user (crs_throwaway_user NAME WHY) who may enter
# $WORK; else the caller itself. Sets uid and asu, the command prefix that runs a command as that
# user: what a restart in a user and pid namespace of its own needs.
crs_user_or_self() {
    if [ "$(id -u)" = 0 ]; then
        crs_throwaway_user "$1" "$2"
        chmod o+x "$WORK"
        asu=(setpriv --reuid="$uid" --regid="$gid" --clear-groups)
    else
        uid=$(id -u)
        asu=(env)
    fi
}

# crs_user_ckpt_kill NAME PROG SCOPE: runs PROG under cr_run as crs_user_or_self's user in
# $WORK/NAME (ready files there), checkpoints it with SCOPE (e.g. --tree, or empty) and --kill
# into $WORK/NAME.img (given to that user), and leaves $WORK/NAME ready for the restart: the
# first run's ready files removed, go.1 made. 1 (with crs_fail) when cr_checkpoint fails.
crs_user_ckpt_kill() {
    local name=$1 prog=$2 scope=$3 d=$WORK/$1
    mkdir -p "$d"
    chown "$uid" "$d"
    crs_start_or_end "$name: the program never got ready" "$d" "${asu[@]}" "$CRS_TOOLS/cr_run" "$CRS_BIN/$prog"
    crs_tool "$WORK/$name.ck" cr_checkpoint $scope --kill -f "$WORK/$name.img" "$PID" ||
        { crs_fail "$name: cr_checkpoint: $(head -n 1 "$WORK/$name.ck.err")"; return 1; }
    crs_wait_status "$d/orig" 30 >/dev/null
    chown "$uid" "$WORK/$name.img"
    rm -f "$d"/ready.*
    touch "$d/go.1"
}

# crs_let_others_in: a throwaway user must reach the build tree's tools and
# libcr, and the checkout may sit in a private (0700) folder such as a fresh
# mktemp -d clone: allow traversal (o+x, not reading) of every folder above
# the build tree and of the tool folders themselves.
crs_let_others_in() {
    local p
    for p in "$REVIVE_BUILDDIR" "$REVIVE_BUILDDIR/tools" "$REVIVE_BUILDDIR/.libs" "$REVIVE_BUILDDIR/tests" \
        "$REVIVE_BUILDDIR/tests/crs" "$REVIVE_BUILDDIR/tests/crs/uspace" \
        "$REVIVE_BUILDDIR/tests/crs/uspace/.libs"; do
        [ -d "$p" ] && crs_open_dir o+rx "$p"
    done
    crs_open_path "$REVIVE_BUILDDIR"
}

# crs_let_others_read_harness SRC: the throwaway user also runs tests/crs/cr_cycle.sh from the
# source tree SRC (which may sit in a private folder too): traversal of every folder above SRC,
# and SRC/tests and SRC/tests/crs readable.
crs_let_others_read_harness() {
    crs_open_path "$1"
    crs_open_dir o+rx "$1/tests"
    crs_open_dir o+rx "$1/tests/crs"
}

# crs_open_path DIR: traversal (o+x) for others of DIR and every folder above it.
crs_open_path() {
    local p=$1
    while [ "$p" != / ] && [ -n "$p" ]; do
        crs_open_dir o+x "$p"
        p=$(dirname "$p")
    done
}

# crs_open_dir MODE DIR: chmod MODE DIR, saying so when that changed its mode (a private home
# folder opened to others is the user's to know). Not put back at the end: tests running beside
# this one may have opened it for their own user and still need it.
crs_open_dir() {
    local old new
    old=$(stat -c %a "$2" 2>/dev/null) || return 0
    chmod "$1" "$2" 2>/dev/null || return 0
    new=$(stat -c %a "$2")
    [ "$old" = "$new" ] ||
        crs_note "note: $2: mode $old -> $new (chmod $1, for the throwaway user; left so, for tests beside this one)"
}
