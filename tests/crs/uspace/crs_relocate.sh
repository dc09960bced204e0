#!/bin/bash
# Files that moved (issue 10, point 13): crt_relocate runs from a folder
# DIR (its program, an input file read through a descriptor, a data file
# mapped shared, a folder descriptor, its working directory, a Unix
# listener's path). After a --kill checkpoint DIR is moved: cr_restart
# alone is refused in one line naming --relocate; cr_restart --relocate
# DIR=NEW finishes with the uninterrupted run's output (the program checks
# that everything is found under the new place, /proc/self/exe included).
# A malformed --relocate is a usage error. The same move through the other state flavours:
# twice, rr (the restarted process's folder moved once more), cont, fork and stop (the original
# finishes in OLD, then the move) and busy (a restart under a copy of the folder while the
# original still runs in OLD). A tree (--tree) whose members
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

# The other flavours of a move (the contract's state flavours: tests/crs/README.md):
# twice: the moved image restarted again;
(cd "$d" && rm -f ready.*)
st=$(cd "$d" && crs_run "$WORK/r2" "$CRS_TOOLS/cr_restart" --relocate "$WORK/old/=$WORK/new" "$WORK/img")
crs_expect_run "twice: a second cr_restart --relocate of the moved image finishes as the uninterrupted run" \
    "$WORK/ref.after1" "$WORK/r2" "$st"
# rr: the restarted process, its files under NEW now, checkpointed at point 2 (--kill) and its
# folder moved once more: its image restarts with --relocate NEW=NEW2 only
crs_after_point 2 "$r/ref.out" >"$WORK/ref.after2"
rm -f "$d"/ready.* "$d/go.2"
(cd "$d" && crs_launch "$WORK/r3" "$CRS_TOOLS/cr_restart" --relocate "$WORK/old/=$WORK/new" "$WORK/img")
if crs_wait_for "$d/ready.2" 60 "$WORK/r3.status" &&
    crs_tool "$WORK/ck3" cr_checkpoint --kill -f "$WORK/img3" "$(crs_outer_pid "$(cat "$d/ready.2")")"; then
    crs_wait_status "$WORK/r3" 30 >/dev/null
    mv "$WORK/new" "$WORK/new2"
    touch "$d/go.2"
    rm -f "$d"/ready.*
    st=$(cd "$d" && crs_run "$WORK/r4" "$CRS_TOOLS/cr_restart" --relocate "$WORK/new=$WORK/new2" "$WORK/img3")
    crs_expect_run "rr: the relocated restart checkpointed, moved again and restarted with --relocate NEW=NEW2 finishes as the uninterrupted run" \
        "$WORK/ref.after2" "$WORK/r4" "$st"
else
    crs_fail "rr: the relocated restart never reached point 2, or its checkpoint failed: $(head -n 1 "$WORK/r3.err") $(head -n 1 "$WORK/ck3.err" 2>/dev/null)"
    touch "$d/go.2"
fi
# cont, fork, stop (an original that runs on after its checkpoint and finishes in OLD, then the
# move) and busy (the restart under a copy of the folder while the original still runs in OLD:
# a pid namespace of its own, its listener at the copy's path)
for fl in cont fork stop busy; do
    o=$WORK/$fl.old n=$WORK/$fl.new p=$WORK/$fl.prog
    make_dir "$o"
    CRT_RELOC_DIR=$o crs_start "$p" orig "$CRS_TOOLS/cr_run" "$o/bin/crt_relocate" ||
        { crs_fail "$fl: crt_relocate under cr_run never got ready"; continue; }
    crs_tool "$WORK/$fl.ck" cr_checkpoint "--${fl/busy/cont}" -f "$WORK/$fl.img" "$PID" ||
        { crs_fail "$fl: cr_checkpoint --${fl/busy/cont}: $(head -n 1 "$WORK/$fl.ck.err")"; touch "$p/go.1" "$p/go.2"; continue; }
    [ "$fl" = stop ] && kill -CONT "$PID"
    if [ "$fl" = busy ]; then
        make_dir "$n"   # the same files, another folder (the original keeps OLD)
        rm -f "$p/ready.1"
        (cd "$p" && crs_launch "$WORK/$fl.r" "$CRS_TOOLS/cr_restart" --relocate "$o=$n" "$WORK/$fl.img")
        # the copy runs (at point 1, its program the copy's: its command line still names OLD)
        copy_runs() {
            local q
            for q in $(pgrep -x crt_relocate); do
                [ "$(readlink "/proc/$q/exe")" = "$n/bin/crt_relocate" ] && return 0
            done
            return 1
        }
        for i in $(seq 1 300); do
            copy_runs && break
            [ -e "$WORK/$fl.r.status" ] && break
            crs_nap 0.1
        done
        copy_runs || crs_fail "$fl: no restarted copy ran beside the original: $(head -n 1 "$WORK/$fl.r.err")"
        crs_finish "$p" orig || crs_fail "$fl: the original beside the restart: $FINISH_STATUS"
        st=$(crs_wait_status "$WORK/$fl.r")
    else
        crs_finish "$p" orig || crs_fail "$fl: the original after its checkpoint: $FINISH_STATUS"
        mv "$o" "$n"
        rm -f "$p"/ready.*
        st=$(cd "$p" && crs_run "$WORK/$fl.r" "$CRS_TOOLS/cr_restart" --relocate "$o=$n" "$WORK/$fl.img")
    fi
    cmp -s "$p/orig.out" "$r/ref.out" || crs_fail "$fl: the original's output differs from the uninterrupted run's"
    crs_expect_run "$fl: cr_restart --relocate OLD=NEW finishes as the uninterrupted run" \
        "$WORK/ref.after1" "$WORK/$fl.r" "$st"
done

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
