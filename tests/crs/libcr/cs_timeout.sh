#!/bin/bash
# A checkpoint that runs out of time while its process sits in a critical section (cs_hold:
# cr_enter_cs for 3 s). (1) cr_request_checkpoint of that process with cr_timeout 1
# (request_timeout): the poll fails with ETIMEDOUT, libcr's message names no cr_checkpoint
# option, and once the section ends the process writes nothing into the requester's
# descriptor (newuser10b N4: 4096 zero bytes, the image writer's header padding, came before
# its first look at the requester). (2) cr_checkpoint -T 1 --tree of a tree whose member sits in
# a critical section: refused in one line that names the critical section, not "(is it
# stopped?)" (newuser10b), and the member's state and wait channel, no image or temporary file,
# the tree runs on to its end. (3)
# cr_checkpoint --tree ended by SIGTERM, then SIGHUP (SIGINT: a background job ignores it), while
# it waits for that member (before any member has the image's file): no temporary file left
# (newuser10b N3: an empty .NAME.tmp.PID stayed, one per attempt), the tree runs on.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup cs_timeout
crs_need_tools cr_checkpoint
H=$CRS_LIBCR_BIN/cs_hold
R=$CRS_LIBCR_BIN/request_timeout
[ -x "$H" ] && [ -x "$R" ] || crs_skip "cs_hold or request_timeout is not built (libcr.la missing?)"

# (1) the API's timeout, one process
d=$WORK/one
mkdir -p "$d"
crs_launch "$d/hold" "$H" "$d/ready" 3
if ! crs_wait_for "$d/ready" 30 "$d/hold.status"; then
    crs_fail "api: cs_hold never entered its critical section: $(head -n 2 "$d/hold.err")"
else
    pid=$(cat "$d/ready")
    (crs_clean_exec timeout 60 "$R" "$WORK/api.img" "$pid" 1 </dev/null >"$WORK/rq.out" 2>"$WORK/rq.err")
    if grep -qx "poll: -3 ETIMEDOUT" "$WORK/rq.out"; then
        crs_pass "api: the request runs out: $(cat "$WORK/rq.out")"
    else
        crs_fail "api: the request: '$(cat "$WORK/rq.out")', expected 'poll: -3 ETIMEDOUT'; stderr: $(head -n 2 "$WORK/rq.err")"
    fi
    if grep -q -- "--time" "$WORK/rq.err"; then
        crs_fail "api: libcr's message names cr_checkpoint's option: $(grep -- "--time" "$WORK/rq.err" | head -n 1)"
    else
        crs_pass "api: libcr's message names no cr_checkpoint option ($(head -n 1 "$WORK/rq.err"))"
    fi
    st=$(crs_wait_status "$d/hold" 30)
    if [ "$st" = 0 ] && grep -qx done "$d/hold.out"; then
        crs_pass "api: the process ran on to its end"
    else
        crs_fail "api: the process: $(crs_status_text "$st"), output '$(cat "$d/hold.out")'"
    fi
    crs_nap 0.3
    size=$(stat -c %s "$WORK/api.img" 2>/dev/null)
    if [ "$size" = 0 ]; then
        crs_pass "api: nothing written into the requester's file after its request ran out"
    else
        crs_fail "api: the requester's file holds ${size:-no} bytes after its request ran out, expected 0"
    fi
fi

# hold_tree NAME DIR: cs_hold in DIR whose child holds a critical section 3 s; sets parent (the
# tree's first process) once the child is in it, else fails NAME and returns 1
hold_tree() {
    mkdir -p "$2"
    crs_launch "$2/hold" "$H" "$2/ready" 3 child
    if ! crs_wait_for "$2/ready" 30 "$2/hold.status"; then
        crs_fail "$1: cs_hold's child never entered its critical section: $(head -n 2 "$2/hold.err")"
        return 1
    fi
    parent=$(awk '/^PPid:/ { print $2 }' "/proc/$(cat "$2/ready")/status")
}

# (2) cr_checkpoint -T 1 --tree, a member in a critical section
d=$WORK/tree
if hold_tree tree "$d"; then
    crs_tool "$WORK/ck" cr_checkpoint -T 1 --tree -f "$WORK/tree.img" "$parent"
    st=$?
    if [ "$st" = 1 ] && [ "$(grep -c . "$WORK/ck.err")" = 1 ] && grep -q "critical section" "$WORK/ck.err" &&
        ! grep -q "is it stopped" "$WORK/ck.err"; then
        crs_pass "tree: refused naming the critical section ($(cat "$WORK/ck.err"))"
    else
        crs_fail "tree: cr_checkpoint -T 1 --tree: $(crs_status_text "$st"), stderr: $(head -n 2 "$WORK/ck.err")"
    fi
    # ... and, as the wait for a member's image says it (tree_member_stopped.sh), the member's
    # state and kernel wait channel: where a member that never answers waits (before, only the
    # wait for an image named them)
    if grep -qE "process $(cat "$d/ready") .*\(state [RSD], (waiting in [A-Za-z0-9_.]+|in user space)\)" "$WORK/ck.err"; then
        crs_pass "tree: the message names the member's state and wait channel"
    else
        crs_fail "tree: the message does not name the member's state and wait channel: $(head -n 1 "$WORK/ck.err")"
    fi
    left=$(ls -A "$WORK" | grep 'tree\.img')
    [ -z "$left" ] && crs_pass "tree: no image, no temporary file" || crs_fail "tree: left: $left"
    st=$(crs_wait_status "$d/hold" 30)
    if [ "$st" = 0 ] && grep -qx done "$d/hold.out" && grep -qx "parent done, child 0" "$d/hold.out"; then
        crs_pass "tree: both processes ran on to their end"
    else
        crs_fail "tree: cs_hold: $(crs_status_text "$st"), output '$(tr '\n' ' ' <"$d/hold.out")'"
    fi
fi
# (3) cr_checkpoint --tree ended early by a signal
for sig in TERM HUP; do
    d=$WORK/early$sig
    mkdir -p "$d/img"
    hold_tree "early $sig" "$d" || continue
    # a signal ignored where the suite runs (SIGHUP under nohup) stays ignored in cr_checkpoint, by
    # design: each case gets its signal's default action, as a batch system's cr_checkpoint has
    (crs_clean_exec env --default-signal="$sig" "$CRS_TOOLS/cr_checkpoint" --tree -f "$d/img/t.img" "$parent" \
        </dev/null >"$d/ck.out" 2>"$d/ck.err") &
    c=$!
    for i in $(seq 250); do
        [ -n "$(ls -A "$d/img")" ] && break
        crs_nap 0.02
    done
    [ -n "$(ls -A "$d/img")" ] || crs_note "early $sig: no temporary file seen before the signal"
    crs_nap 0.3
    kill -"$sig" "$c"
    wait "$c" 2>/dev/null
    crs_nap 0.2
    left=$(ls -A "$d/img")
    if [ -z "$left" ]; then
        crs_pass "early $sig: cr_checkpoint --tree ended before a member had the file: nothing left"
    else
        crs_fail "early $sig: cr_checkpoint --tree ended before a member had the file: left $left" \
            "($(stat -c %s "$d/img/$left" 2>/dev/null) bytes)"
    fi
    st=$(crs_wait_status "$d/hold" 30)
    if [ "$st" = 0 ] && grep -qx "parent done, child 0" "$d/hold.out"; then
        crs_pass "early $sig: the tree ran on to its end"
    else
        crs_fail "early $sig: cs_hold: $(crs_status_text "$st"), output '$(tr '\n' ' ' <"$d/hold.out")'"
    fi
done
crs_summary cs_timeout
