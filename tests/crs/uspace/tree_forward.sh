#!/bin/bash
# A signal sent to cr_restart while it restores in a pid namespace reaches the restored process
# (diffrev30 K-L2). There cr_restart passes the signals it forwards (SIGTERM, SIGHUP, SIGUSR1,
# SIGUSR2, SIGALRM, SIGCONT) on to the namespace's init until it knows the restored process by
# its pid, and for a tree to that init when it cannot find the first member among the init's
# children (the member ended at once, /proc cannot tell; forced by REVIVE_FAULT=tree-first-unseen).
# The kernel drops a SIGTERM sent to a namespace's init that has no handler for it: before, the
# SIGTERM was lost, the process or tree ran on and cr_restart with it. Now that init passes them on.
#
# Run by a throwaway user (as root; else by the user running the test), so that every restart
# is in a user and pid namespace: crt_tree children (a program and two children, --tree) up to
# point 2, then a SIGTERM to cr_restart, with the first member found and with it unseen; crt_ids
# (one process) with REVIVE_FAULT=restore-start-hold, a SIGTERM to cr_restart while its process
# waits before its restore. Each: the program dies of it, so does cr_restart (143), within 20 s,
# nothing left. Checkpoints by root (--kill).
. "$(dirname "$0")/../crs_lib.sh"
crs_setup tree_forward
crs_need_tools cr_run cr_checkpoint cr_restart
crs_user_or_self crsfw "running the tree as a throwaway user"

# the test's programs still running as the user
left_of() { pgrep -u "$uid" -f "$1" | tr "\n" " "; }

# trial NAME PROGRAM SCOPE FAULT: checkpoint (--kill) at point 1, a restart under REVIVE_FAULT=FAULT,
# its SIGTERM once the restart holds (restore-start-hold) or the program waits at point 2
trial() {
    local name=$1 prog=$2 scope=$3 fault=$4 d=$WORK/$1 st end
    crs_user_ckpt_kill "$name" "$prog" "$scope" || return
    (cd "$d" && export REVIVE_FAULT=$fault && crs_clean_exec "${asu[@]}" "$CRS_TOOLS/cr_restart" "$WORK/$name.img" \
        </dev/null >"$WORK/$name.r.out" 2>"$WORK/$name.r.err") &
    local rp=$! when="the program waits at point 2"
    if [ "$fault" = restore-start-hold ]; then
        when="its process waits before its restore"
        end=$((SECONDS + 60))
        while [ $SECONDS -lt $end ] && kill -0 "$rp" 2>/dev/null && ! grep -qs "holding the restore" "$WORK/$name.r.err"; do
            crs_nap 0.05
        done
    else
        crs_wait_for "$d/ready.2" 60
    fi
    if ! grep -qs "holding the restore" "$WORK/$name.r.err" && [ ! -e "$d/ready.2" ]; then
        crs_fail "$name: the restart never got there ($when): $(head -n 2 "$WORK/$name.r.err" | tr '\n' ' ')"
        kill -KILL "$rp" 2>/dev/null
        wait "$rp"
        return
    fi
    kill -TERM "$rp"
    end=$((SECONDS + 20))
    while [ $SECONDS -lt $end ] && kill -0 "$rp" 2>/dev/null; do
        crs_nap 0.1
    done
    local what="a SIGTERM to cr_restart (a pid namespace, REVIVE_FAULT=${fault:-none}) while $when"
    if kill -0 "$rp" 2>/dev/null; then
        crs_fail "$name: $what never reached it: cr_restart still waits after 20 s"
        touch "$d/go.2"   # it ends as it would have
        wait "$rp"
        return
    fi
    wait "$rp"
    st=$?
    local left=
    end=$((SECONDS + 10))
    while [ $SECONDS -lt $end ]; do
        left=$(left_of "$prog")
        [ -z "$left" ] && break
        crs_nap 0.2
    done
    if [ "$st" = 143 ] && [ -z "$left" ] && ! grep -q "RESULT" "$WORK/$name.r.out"; then
        crs_pass "$name: $what ends the program, and cr_restart dies of it too (143), nothing left"
    else
        crs_fail "$name: $what: $(crs_status_text "$st"), expected killed by SIGTERM (143); left: ${left:-nothing}; $(tail -n 1 "$WORK/$name.r.out")"
        [ -n "$left" ] && kill -KILL $left 2>/dev/null
    fi
}

export CRT_TREE=children
trial found crt_tree --tree ""
trial unseen crt_tree --tree tree-first-unseen
trial one crt_ids "" restore-start-hold
crs_summary tree_forward
