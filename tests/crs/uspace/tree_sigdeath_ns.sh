#!/bin/bash
# What is left of a restarted tree when its first process dies of a signal, as cr_restart(1) and
# README.md ("Process trees") say (sigdeath49): crt_script (bash waiting for its step, a child
# command) checkpointed with --tree --cont, then
#   ns      restarted while the original runs (its pids taken: the restart takes a pid namespace
#           of its own, as every restart by a user does): SIGTERM to the restarted bash; cr_restart
#           dies of it (143) and the namespace ends with its first process: the kernel kills the
#           restarted step;
#   native  the original's bash gets SIGTERM: its step runs on (under init);
#   direct  as root, restarted once the original's pids are free (no namespace): SIGTERM to the
#           restarted bash; cr_restart 143, the restarted step runs on, as natively.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup tree_sigdeath_ns
crs_need_tools cr_run cr_checkpoint cr_restart
command -v bash >/dev/null || crs_skip "bash is missing"
export CRT_SCRIPT_NULL=1 # the step's streams on /dev/null: no pipe of the test held by it
d=$WORK/p
crs_start_or_end "crt_script never got ready" "$d" "$CRS_TOOLS/cr_run" "$CRS_BIN/crt_script"
sh=$PID
step=$(cat /proc/"$sh"/task/*/children 2>/dev/null | awk '{ print $1 }')
[ -n "$step" ] || { crs_fail "the script's step is not running"; crs_summary tree_sigdeath_ns; }
crs_tool "$WORK/ck" cr_checkpoint --tree --cont -f "$WORK/img" "$sh" ||
    { crs_fail "cr_checkpoint --tree --cont: $(head -n 1 "$WORK/ck.err")"; crs_summary tree_sigdeath_ns; }
cd "$d" || exit 99

# ns_outer INNER: the pids, outside, of this test's processes whose pid in a namespace of their
# own is INNER (not the original's, which has INNER itself)
ns_outer() {
    local p
    for p in $(grep -h '^NSpid:' /proc/[0-9]*/status 2>/dev/null | awk -v i="$1" 'NF > 2 && $NF == i { print $2 }'); do
        [ "$(readlink "/proc/$p/cwd" 2>/dev/null)" = "$d" ] && echo "$p"
    done
}
# alive PID: PID runs (not gone, not a zombie)
alive() {
    local st
    st=$(sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null)
    [ -n "$st" ] && [ "$st" != Z ]
}
# gone_within SECONDS PID: 0 once PID no longer runs
gone_within() {
    local i
    for i in $(seq $(($1 * 20))); do
        alive "$2" || return 0
        crs_nap 0.05
    done
    return 1
}

# ns: the original holds the pids
crs_launch "$WORK/rns" "$CRS_TOOLS/cr_restart" "$WORK/img"
for i in $(seq 600); do
    osh=$(ns_outer "$sh") ostep=$(ns_outer "$step")
    [ -n "$osh" ] && [ -n "$ostep" ] && break
    crs_nap 0.05
done
if [ -z "$osh" ] || [ -z "$ostep" ]; then
    crs_fail "ns: the restarted script ($osh) or step ($ostep) never ran in a pid namespace"
    crs_show "$WORK/rns.err"
else
    crs_nap 0.5 # past the restore: the script waits for its step again
    kill -TERM "$osh"
    st=$(crs_wait_exit "$WORK/rns" 30)
    [ "$st" = 143 ] && crs_pass "ns: cr_restart died of the first process's SIGTERM (143)" ||
        crs_fail "ns: cr_restart after SIGTERM to the restarted script: $(crs_status_text "$st")"
    gone_within 10 "$ostep" && crs_pass "ns: the restarted step ended with the namespace" ||
        { crs_fail "ns: the restarted step $ostep runs on after its namespace's first process died"; kill -KILL "$ostep"; }
fi

# native: the original's script killed, its step runs on
kill -TERM "$sh"
gone_within 10 "$sh" || crs_fail "native: the original script $sh did not end of SIGTERM"
crs_nap 1
if alive "$step"; then
    crs_pass "native: the step runs on after its script died of SIGTERM"
else
    crs_fail "native: the step $step ended with its script"
fi
kill -KILL "$step" 2>/dev/null

# direct: as root, once the original's pids are free (its zombies reaped by init)
if [ "$(id -u)" != 0 ]; then
    echo "SKIP-PART: direct (a restart by a user always takes a pid namespace)"
elif ! crs_wait_pids_free 60 "$sh" "$step"; then
    echo "SKIP-PART: direct (the original's pids $sh $step were not free within 60 s)"
else
    crs_launch "$WORK/rd" "$CRS_TOOLS/cr_restart" "$WORK/img"
    for i in $(seq 600); do
        { alive "$sh" && alive "$step"; } || [ -n "$(ns_outer "$sh")" ] && break
        crs_nap 0.05
    done
    if [ -n "$(ns_outer "$sh")" ]; then
        crs_fail "direct: the restart took a pid namespace although the pids were free"
    elif ! alive "$sh" || ! alive "$step"; then
        crs_fail "direct: the restarted script ($sh) or step ($step) never ran"
        crs_show "$WORK/rd.err"
    else
        crs_nap 0.5
        kill -TERM "$sh"
        st=$(crs_wait_exit "$WORK/rd" 30)
        [ "$st" = 143 ] && crs_pass "direct: cr_restart died of the first process's SIGTERM (143)" ||
            crs_fail "direct: cr_restart after SIGTERM to the restarted script: $(crs_status_text "$st")"
        crs_nap 1
        if alive "$step"; then
            crs_pass "direct: the restarted step runs on, as natively"
        else
            crs_fail "direct: the restarted step $step ended with its script"
        fi
        kill -KILL "$step" 2>/dev/null
    fi
fi
crs_summary tree_sigdeath_ns
