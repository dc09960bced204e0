#!/bin/bash
# A tree's restart that fails on a damaged member image leaves none of the processes it made
# (newuser10 F9): as root with the pids free (no pid namespace), cr_restart makes every member,
# one fails its restore (a flipped byte in its chunk), cr_restart kills them; the members below
# the first, whose parent it killed, went to process 1 and stayed there as zombies until it
# reaped them (the image's pids still held). Now cr_restart is their subreaper while it restores
# them and reaps every one before it exits. Each of five restarts of the damaged image runs under
# a subreaper of the test's (python3), to which a member left behind would come (rather than to
# process 1, which reaps when it pleases): it must get none. Root only (the pids directly).
. "$(dirname "$0")/../crs_lib.sh"
crs_own_ipc "$@"
crs_setup tree_fail_reap
crs_need_tools cr_run cr_checkpoint cr_restart cr_info
crs_need_root "a tree's restart under its own pids, without a pid namespace"
img=$WORK/ck.img
d=$WORK/run
CRT_TREE=children crs_start_or_end "the program never got ready" "$d" setsid "$CRS_TOOLS/cr_run" "$CRS_BIN/crt_tree"
crs_tool "$WORK/ck" cr_checkpoint --tree --kill -f "$img" "$PID" ||
    { crs_fail "cr_checkpoint --tree --kill: $(head -n 1 "$WORK/ck.err")"; crs_summary tree_fail_reap; }
crs_wait_status "$d/orig" 30 >/dev/null
pids=$("$CRS_TOOLS/cr_info" --json "$img" | grep -o '"pid": [0-9]*, "ppid"' | grep -o '[0-9]*' | sort -u | tr '\n' ' ')
[ -n "$pids" ] || { crs_fail "no member pids in cr_info --json"; crs_summary tree_fail_reap; }
# a memory chunk of the first member damaged (its restore fails loading it, after it made its
# children; a damaged section table would fail the restart before any process is made)
sz=$(stat -c %s "$img")
flip=
for at in $((sz / 10)) $((sz / 8)) $((sz / 6)) $((sz / 12)); do
    "$REVIVE_BUILDDIR/tests/crs/base/crt_imgtool" flipcopy "$img" "$WORK/bad.img" "$at"
    "$CRS_TOOLS/cr_info" --verify "$WORK/bad.img" 2>&1 | grep -q "(process $PID): chunk [0-9]* .*checksum mismatch" &&
        { flip=$at; break; }
done
[ -n "$flip" ] || { crs_fail "no flipped offset damaged a memory chunk of the first member"; crs_summary tree_fail_reap; }
touch "$d/go.1" "$d/go.2"
command -v python3 >/dev/null || crs_skip "python3 is missing (the subreaper above cr_restart)"
# each restart under a subreaper of the test's (python3): a member cr_restart leaves behind comes
# to it, not to process 1, which reaps when it pleases; it counts those it reaps
left_total=0
for trial in 1 2 3 4 5; do
    out=$(cd "$d" && crs_clean_exec python3 -c '
import ctypes, os, subprocess, sys, time
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)   # PR_SET_CHILD_SUBREAPER
with open(sys.argv[2], "w") as err:
    r = subprocess.run(["timeout", "-k", "5", "60", sys.argv[1], sys.argv[3]], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=err)
time.sleep(0.5)
adopted = []
while True:
    try:
        p, st = os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        break
    if p == 0:
        time.sleep(0.1)
        continue
    adopted.append(str(p))
print(r.returncode, " ".join(adopted))
' "$CRS_TOOLS/cr_restart" "$WORK/r$trial.err" "$WORK/bad.img" </dev/null)
    st=${out%% *} adopted=${out#* }
    [ "$st" = 1 ] || crs_fail "trial $trial: cr_restart of the damaged tree: exit $st, expected 1: $(head -n 1 "$WORK/r$trial.err")"
    if [ -n "$adopted" ]; then
        left_total=$((left_total + 1))
        crs_fail "trial $trial: cr_restart exited leaving the members it made (image pids $pids): they came to the subreaper above it: $adopted"
    fi
done
[ "$left_total" = 0 ] && crs_pass "5 failed restarts of a damaged tree: cr_restart reaped every member it made each time"
crs_summary tree_fail_reap
