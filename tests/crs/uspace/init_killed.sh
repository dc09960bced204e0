#!/bin/bash
# The init of a restart's pid namespace (cr_restart's own, pid 1 there) killed from outside once
# the restored processes run (flake31: another test's exit trap took it for its own program, pid 1
# in a namespace): the kernel ends the namespace and every restored process with it, and init
# never passes the first process's status on. cr_restart must end non-zero with one message
# saying so. Before, it ended with status 1 and no word at all (tree_devshm_user.sh busy in the
# session-31 CI: "cr_restart ended ... exit 1", only its warning). A tree (crt_tree children,
# --tree) and one process (crt_ids), each restarted in a user and pid namespace (a throwaway
# user's restart as root; else the user's running the test), its init killed (SIGKILL) while the
# program waits at point 2. Checkpoints --kill.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup init_killed
crs_need_tools cr_run cr_checkpoint cr_restart
crs_user_or_self crsik "restarting as a throwaway user (a user and pid namespace)"

# trial NAME PROGRAM SCOPE: checkpoint (--kill) at point 1, restart, SIGKILL to the namespace's
# init (the parent of the restored first process) at point 2
trial() {
    local name=$1 prog=$2 scope=$3 d=$WORK/$1 st inner outer init left
    crs_user_ckpt_kill "$name" "$prog" "$scope" || return
    (cd "$d" && crs_launch "$WORK/$name.r" "${asu[@]}" "$CRS_TOOLS/cr_restart" "$WORK/$name.img")
    if ! crs_wait_for "$d/ready.2" 60 "$WORK/$name.r.status"; then
        crs_fail "$name: the restart never reached point 2: $(head -n 2 "$WORK/$name.r.err" | tr '\n' ' ')"
        touch "$d/go.2"
        crs_wait_status "$WORK/$name.r" >/dev/null
        return
    fi
    inner=$(cat "$d/ready.2")
    outer=$(crs_outer_pid "$inner")
    init=$(awk '/^PPid:/ { print $2 }' "/proc/$outer/status" 2>/dev/null)
    if [ -z "$init" ] || ! grep -q "^NSpid:.*[[:space:]]1\$" "/proc/$init/status" 2>/dev/null; then
        crs_fail "$name: the restored process $inner (out here $outer) has no namespace's init as its parent (${init:-none})"
        touch "$d/go.2"
        crs_wait_status "$WORK/$name.r" >/dev/null
        return
    fi
    kill -KILL "$init"
    st=$(crs_wait_status "$WORK/$name.r" 30)
    local end=$((SECONDS + 10))
    while :; do   # (the killed processes may take a moment to go)
        left=$(pgrep -u "$uid" -f "$prog" | tr '\n' ' ')
        [ -z "$left" ] || [ $SECONDS -ge $end ] && break
        crs_nap 0.2
    done
    if [ "$st" != 0 ] && [ "$st" != 124 ] && grep -q "ended with their pid namespace\|ended with its pid namespace" "$WORK/$name.r.err" &&
        grep -q "killed by signal 9" "$WORK/$name.r.err" && [ -z "$left" ]; then
        crs_pass "$name: its namespace's init killed at point 2: cr_restart says so ($(crs_status_text "$st")), nothing left"
    else
        crs_fail "$name: its namespace's init killed at point 2: $(crs_status_text "$st"), left: ${left:-nothing}; stderr: $(grep -v warning "$WORK/$name.r.err" | head -n 2 | tr '\n' ' ')"
        [ -n "$left" ] && kill -KILL $left 2>/dev/null   # the throwaway user's: this test's
    fi
}

export CRT_TREE=children
trial tree crt_tree --tree
trial one crt_ids ""
crs_summary init_killed
