#!/bin/bash
# A process that was its pid namespace's init (pid 1, getppid() 0: a container's first process,
# `unshare -f`), checkpointed from outside by its outer pid (crt_ids under `unshare -fp`): a
# restart makes it the init of a new pid namespace again, under pid 1 with its threads, its
# parent outside the namespace, and it ends as the uninterrupted run. Before, cr_restart's own
# init held pid 1 there and the process came back silently as pid 2 (getppid() 1, no longer the
# reaper of the namespace's orphans). Twice from the image. Then a tree whose first process was
# its namespace's init (crt_tree children, --tree): it comes back as the init, and makes its
# children (before: refused). Root only (unshare -p).
. "$(dirname "$0")/../crs_lib.sh"
crs_setup ns_init_image
crs_need_tools cr_run cr_checkpoint cr_restart
crs_need_root "the original runs in a pid namespace of its own (unshare -p)"
command -v unshare >/dev/null || crs_skip "unshare is missing"

st=$(crs_uninterrupted "$WORK/ref" ref "$CRS_BIN/crt_ids")
[ "$st" = 42 ] || { crs_fail "the uninterrupted run: $(crs_status_text "$st")"; crs_summary ns_init_image; }
crs_after_point 1 "$WORK/ref/ref.out" >"$WORK/after1"

d=$WORK/p
crs_start_or_end "crt_ids under unshare -fp never got ready" "$d" unshare -fp --mount-proc "$CRS_TOOLS/cr_run" \
    "$CRS_BIN/crt_ids"
[ "$PID" = 1 ] || crs_fail "setup: crt_ids is not its namespace's init (it says pid $PID)"
# its pid out here: the crt_ids working in $d whose innermost pid is 1
outer=
for q in $(pgrep -x crt_ids); do
    [ "$(readlink "/proc/$q/cwd")" = "$d" ] && grep -q "^NSpid:.*[[:space:]]1\$" "/proc/$q/status" && outer=$q
done
[ -n "$outer" ] || { crs_fail "setup: crt_ids's pid out here not found"; crs_summary ns_init_image; }
crs_tool "$WORK/ck" cr_checkpoint --kill -f "$WORK/img" "$outer" ||
    { crs_fail "cr_checkpoint --kill: $(head -n 1 "$WORK/ck.err")"; crs_summary ns_init_image; }
crs_wait_status "$d/orig" 30 >/dev/null

# restart RUN [USER]: up to point 2, where its innermost pid must be 1; then to its end
restart() {
    local run=$1 st ns=
    rm -f "$d"/ready.* "$d/go.2"
    touch "$d/go.1"
    (cd "$d" && crs_launch "$WORK/$run" "${asu[@]}" "$CRS_TOOLS/cr_restart" "$WORK/img")
    if crs_wait_for "$d/ready.2" 60 "$WORK/$run.status"; then
        for q in $(pgrep -x "$prog"); do
            [ "$(readlink "/proc/$q/cwd" 2>/dev/null)" = "$d" ] || continue
            grep -q "^NSpid:.*[[:space:]]1\$" "/proc/$q/status" || continue
            ns=$(grep "^NSpid:" "/proc/$q/status")
        done
    fi
    touch "$d/go.2"
    st=$(crs_wait_status "$WORK/$run")
    if [ "$(cat "$d/ready.2" 2>/dev/null)" = 1 ] && [ "$(cat "$d/ready.done" 2>/dev/null)" = 1 ] &&
        echo "$ns" | grep -q "[[:space:]]1\$"; then
        crs_pass "$run: the namespace's init again, pid 1 (NSpid: ${ns#NSpid:})"
    else
        crs_fail "$run: came back as pid $(cat "$d/ready.2" 2>/dev/null) (NSpid: ${ns#NSpid:}), expected 1, its namespace's init"
    fi
    crs_expect_run "$run: ends as the uninterrupted run" "$WORK/after1" "$WORK/$run" "$st"
}
asu=()
prog=crt_ids
restart r1
restart r2   # (the same image again)

# A tree whose first process was its namespace's init: crt_tree children (--tree), the children
# made by it after the restart, as they were (before: refused, "process 1 came back as 2: a tree
# needs its pids back (as root while they are free, or in a pid namespace of its own)")
export CRT_TREE=children
prog=crt_tree
st=$(crs_uninterrupted "$WORK/tref" ref "$CRS_BIN/crt_tree")
[ "$st" = 42 ] || { crs_fail "tree: the uninterrupted run: $(crs_status_text "$st")"; crs_summary ns_init_image; }
crs_after_point 1 "$WORK/tref/ref.out" >"$WORK/after1"
d=$WORK/t
crs_start_or_end "crt_tree under unshare -fp never got ready" "$d" unshare -fp --mount-proc "$CRS_TOOLS/cr_run" \
    "$CRS_BIN/crt_tree"
outer=
for q in $(pgrep -x crt_tree); do
    [ "$(readlink "/proc/$q/cwd")" = "$d" ] && grep -q "^NSpid:.*[[:space:]]1\$" "/proc/$q/status" && outer=$q
done
[ -n "$outer" ] || { crs_fail "tree: setup: crt_tree's pid out here not found"; crs_summary ns_init_image; }
crs_tool "$WORK/tck" cr_checkpoint --tree --kill -f "$WORK/img" "$outer" ||
    { crs_fail "tree: cr_checkpoint --tree --kill: $(head -n 1 "$WORK/tck.err")"; crs_summary ns_init_image; }
crs_wait_status "$d/orig" 30 >/dev/null
restart tree1
restart tree2
crs_summary ns_init_image
