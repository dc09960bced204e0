#!/bin/bash
# crs_runtime_tree_here (runtime.h; crs_tree_checkpoint_self, crs/base/tree_self.h): a process
# (tree_here, linked with libcr) with a child joined by two pipes takes a tree image of itself
# and the child from a thread of its own, 1..10 unread in the pipe; it is then killed with its
# child (SIGKILL), and cr_restart brings both back from the file: the numbers go on (11..20,
# none lost, none twice) and waitpid gives the child's exit 20, as in the uninterrupted run.
# Then again while three threads loop on malloc and free with one arena (MALLOC_ARENA_MAX=1), the
# original running on: written, the child's exit 20 (diffrev25 R-M1: the requester, in the park
# window, allocated with malloc, and the thread parked inside malloc held the arena for ever).
# Before, a process could not take its descendants with its own in-process image (the MPI
# layer's agent refuses a rank with a running child).
. "$(dirname "$0")/../crs_lib.sh"
crs_setup tree_here
crs_need_tools cr_restart cr_info
P=$CRS_LIBCR_BIN/tree_here
[ -x "$P" ] || crs_skip "$P is not built (libcr.la missing?)"
st=$(cd "$WORK" && LD_PRELOAD= crs_run "$WORK/plain" "$P" -)
plain="child: waited for, exit 20"
crs_expect_said "uninterrupted: the child read 1..20 in order (exit 20)" "uninterrupted" "$st" "$WORK/plain" 0 "$plain"
st=$(cd "$WORK" && LD_PRELOAD= crs_run "$WORK/orig" "$P" "$WORK/tree.img" kill)
crs_expect_said "the image written from the process's own thread, then killed with its child" "the original" \
    "$st" "$WORK/orig" 137 "tree image: written"
crs_expect_members "$WORK/tree.img" 2
st=$(cd "$WORK" && crs_run "$WORK/r1" "$CRS_TOOLS/cr_restart" "$WORK/tree.img")
crs_expect_said "cr_restart: both back, the numbers go on, the child's exit 20 through waitpid" "cr_restart" \
    "$st" "$WORK/r1" 0 "tree image: restarted
$plain"
# three rounds: the old code hung only when a thread was parked inside malloc (3 of 5 runs)
for round in 1 2 3; do
    st=$(cd "$WORK" && LD_PRELOAD= TREE_HERE_MALLOC=1 MALLOC_ARENA_MAX=1 crs_run "$WORK/arena" "$P" "$WORK/arena.img")
    [ "$st" = 0 ] && [ "$(cat "$WORK/arena.out")" = "tree image: written
$plain" ] || break
done
crs_expect_said "threads looping on malloc with one arena, 3 rounds: written, the original runs on (exit 20)" \
    "with threads looping on malloc (MALLOC_ARENA_MAX=1), round $round" "$st" "$WORK/arena" 0 "tree image: written
$plain"
crs_summary tree_here
