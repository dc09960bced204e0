#!/bin/bash
# Files that moved (issue 10, point 13): crt_relocate runs from a folder
# DIR (its program, an input file read through a descriptor, a data file
# mapped shared, a folder descriptor, its working directory, a Unix
# listener's path). After a --kill checkpoint DIR is moved: cr_restart
# alone is refused in one line naming --relocate; cr_restart --relocate
# DIR=NEW finishes with the uninterrupted run's output (the program checks
# that everything is found under the new place, /proc/self/exe included).
# A malformed --relocate is a usage error. A tree (--tree) whose members
# share a file in their moved working folder: refused without --relocate,
# restarted with it.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_relocate
crs_need_tools cr_run cr_checkpoint cr_restart
make_dir() {
    mkdir -p "$1/bin" "$1/data" "$1/work"
    cp "$CRS_BIN/crt_relocate" "$1/bin/"
    printf 'abcdefghijklmnopqrstuvwxyz\n' >"$1/work/input.txt"
    { printf 'shared data\n'; head -c 4084 /dev/zero; } >"$1/data/shared.bin"
}
make_dir "$WORK/refdir"
r=$WORK/ref
st=$(CRT_RELOC_DIR=$WORK/refdir crs_uninterrupted "$r" ref "$WORK/refdir/bin/crt_relocate")
[ "$st" = 42 ] || { crs_fail "the uninterrupted run: $(crs_status_text "$st")"; crs_show "$r/ref.out"; crs_summary crs_relocate; }
crs_after_point 1 "$r/ref.out" >"$WORK/ref.after1"
make_dir "$WORK/old"
d=$WORK/prog
CRT_RELOC_DIR=$WORK/old crs_start "$d" orig "$CRS_TOOLS/cr_run" "$WORK/old/bin/crt_relocate" || {
    crs_fail "setup: crt_relocate under cr_run never got ready"
    crs_show "$d/orig.out"
    crs_summary crs_relocate
}
crs_tool "$WORK/ck" cr_checkpoint --kill -f "$WORK/img" "$PID" || {
    crs_fail "cr_checkpoint --kill: $(head -n 1 "$WORK/ck.err")"
    crs_summary crs_relocate
}
crs_wait_status "$d/orig" 30 >/dev/null
mv "$WORK/old" "$WORK/new"
touch "$d/go.1" "$d/go.2"
rm -f "$d"/ready.*
crs_tool "$WORK/r0" cr_restart "$WORK/img"
crs_expect_refusal "cr_restart after the folder moved" "$WORK/r0.err" $? "--relocate"
crs_tool "$WORK/bad" cr_restart --relocate "$WORK/old" "$WORK/img"
st=$?
[ "$st" = 2 ] && grep -q OLD=NEW "$WORK/bad.err" && crs_pass "--relocate without '=' is a usage error" ||
    crs_fail "--relocate without '=': $(crs_status_text "$st"): $(head -n 1 "$WORK/bad.err")"
st=$(cd "$d" && crs_run "$WORK/r1" "$CRS_TOOLS/cr_restart" --relocate "$WORK/old/=$WORK/new" "$WORK/img")
crs_expect_run "cr_restart --relocate OLD=NEW finishes as the uninterrupted run" \
    "$WORK/ref.after1" "$WORK/r1" "$st"

# a tree (--tree) whose members share a file (crt_tree sharedfd, in its
# working folder): after the folder moved, refused naming --relocate;
# with it, the shared file is reopened (one offset) under the new place
mkdir -p "$WORK/tref" "$WORK/told"
st=$(CRT_TREE=sharedfd crs_uninterrupted "$WORK/tr" ref env -C "$WORK/tref" "$CRS_BIN/crt_tree")
[ "$st" = 42 ] || { crs_fail "tree: the uninterrupted run: $(crs_status_text "$st")"; crs_summary crs_relocate; }
crs_after_point 1 "$WORK/tr/ref.out" >"$WORK/tref.after1"
d=$WORK/tprog
CRT_TREE=sharedfd crs_start_or_end "tree: crt_tree under cr_run never got ready" "$d" env -C "$WORK/told" "$CRS_TOOLS/cr_run" "$CRS_BIN/crt_tree"
crs_tool "$WORK/tck" cr_checkpoint --tree --kill -f "$WORK/timg" "$PID" || {
    crs_fail "tree: cr_checkpoint --tree --kill: $(head -n 1 "$WORK/tck.err")"
    crs_summary crs_relocate
}
crs_wait_status "$d/orig" 30 >/dev/null
mv "$WORK/told" "$WORK/tnew"
touch "$d/go.1" "$d/go.2"
rm -f "$d"/ready.*
crs_tool "$WORK/t0" cr_restart "$WORK/timg"
crs_expect_refusal "tree: cr_restart after the folder moved" "$WORK/t0.err" $? "--relocate"
st=$(cd "$d" && crs_run "$WORK/t1" "$CRS_TOOLS/cr_restart" --relocate "$WORK/told=$WORK/tnew" "$WORK/timg")
crs_expect_run "tree: cr_restart --relocate reopens the members' shared file under the new place" \
    "$WORK/tref.after1" "$WORK/t1" "$st"
[ -s "$WORK/tnew/crt_tree.shared" ] && [ ! -e "$WORK/told" ] ||
    crs_fail "tree: the shared file is not where it moved to"
crs_summary crs_relocate
