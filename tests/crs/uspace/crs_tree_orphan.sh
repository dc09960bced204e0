#!/bin/bash
# Orphans of a restarted tree (issue 10, point 1): crt_tree's orphan kind (a
# grandchild orphaned after point 1, when its parent ends, outlives the
# program and then appends a line to crt_tree.orphan). Checkpointed with
# --tree --cont at point 1 and restarted while the original still runs, so
# the restart takes a pid namespace of its own; there the orphan's new
# parent is cr_restart's init, and were that init to end with the program,
# the kernel would kill the orphan with the namespace. Both copies must
# behave as the uninterrupted run: the program's output, exit 42, and the
# orphan's line once the program has ended (two lines: the original's and
# the restarted copy's); cr_restart returns the program's status without
# waiting for the orphan; nothing is left running at the end.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_tree_orphan
crs_need_tools cr_run cr_checkpoint cr_restart
prog=$CRS_BIN/crt_tree
export CRT_TREE=orphan

# the uninterrupted run
r=$WORK/ref
mkdir -p "$r"
touch "$r/go.orphan"
st=$(crs_uninterrupted "$r" out "$prog")
[ "$st" = 42 ] || crs_fail "the uninterrupted run: $(crs_status_text "$st")"
for _ in $(seq 600); do [ -s "$r/crt_tree.orphan" ] && break; sleep 0.1; done
[ "$(grep -c outlived "$r/crt_tree.orphan" 2>/dev/null)" = 1 ] && crs_pass "uninterrupted: the orphan outlived the program" ||
    crs_fail "uninterrupted: the orphan did not write its line"
crs_after_point 1 "$r/out.out" >"$WORK/ref.after1"

d=$WORK/orig
crs_start_or_end "the program never got ready" "$d" "$CRS_TOOLS/cr_run" "$prog"
crs_tool "$WORK/ck" cr_checkpoint --tree --cont -f "$WORK/img" "$PID" || {
    crs_fail "cr_checkpoint --tree --cont: $(head -n 1 "$WORK/ck.err")"
    crs_kill_test_prog "$PID"
    crs_summary crs_tree_orphan
}
# the restart while the original holds the pids: a pid namespace of its own
(cd "$d" && crs_launch "$WORK/rs" "$CRS_TOOLS/cr_restart" "$WORK/img")
touch "$d/go.1" "$d/go.2"
st=$(crs_wait_status "$WORK/rs")
crs_expect_run "cr_restart returned the program's status and output without waiting for the orphan" \
    "$WORK/ref.after1" "$WORK/rs" "$st"
crs_finish "$d" orig || crs_fail "the original: $(crs_status_text "$FINISH_STATUS")"
# the orphans wait for this before they write
touch "$d/go.orphan"
for _ in $(seq 600); do [ "$(grep -c outlived "$d/crt_tree.orphan" 2>/dev/null)" = 2 ] && break; sleep 0.1; done
n=$(grep -c outlived "$d/crt_tree.orphan" 2>/dev/null)
[ "$n" = 2 ] && crs_pass "both orphans (the original's and the restarted copy's) outlived their programs" ||
    crs_fail "${n:-no} orphan line(s), expected 2: the restarted copy's orphan died with the program"
# nothing of ours left running (cr_restart's init ends with the last orphan):
# no process works in the flavour's folder
left=
for _ in $(seq 300); do
    left=$(for c in /proc/[0-9]*/cwd; do [ "$(readlink "$c" 2>/dev/null)" = "$d" ] && echo "${c%/cwd}"; done |
        grep -v "^/proc/$$\$" | head -n 3)
    [ -z "$left" ] && break
    sleep 0.1
done
[ -z "$left" ] && crs_pass "nothing left running" || crs_fail "left running: $left"
crs_summary crs_tree_orphan
