#!/bin/bash
# A single-process cr_checkpoint of a child caught right after it was made,
# before it listens (issue 10): one made without libc's fork (no fork
# handler started libcr's checkpoint thread) and a vfork child, each starting
# its program (crt_vdso, a state program) 1 s later. cr_checkpoint --kill
# must wait for it and take it once it runs its program; the restart must
# finish as the uninterrupted run (the original's output, then the
# restart's, are the reference's; status 42). Before, it said at
# once that the process "does not run under Revive". A child that does not
# start its program within the wait is refused in one line saying what it
# is (a vfork child; one with libcr loaded but no checkpoint thread), and a
# process without libcr is still refused at once.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_latefork
crs_need_tools cr_run cr_checkpoint cr_restart
prog=$CRS_BIN/crt_vdso
st=$(crs_uninterrupted "$WORK/ref" out "$prog")
[ "$st" = 42 ] || {
    crs_fail "the uninterrupted run: $(crs_status_text "$st")"
    crs_summary crs_latefork
}

# start DIR KIND MS: crt_latefork under cr_run in DIR; KID its child's pid (MS "file": the child
# starts its program once DIR/ready.start exists)
start() {
    local dir=$1
    mkdir -p "$dir"
    (
        cd "$dir" || exit 1
        export REVIVE_TEST_READY=$dir/ready REVIVE_TEST_GO=$dir/go
        crs_launch "$dir/orig" "$CRS_TOOLS/cr_run" "$CRS_BIN/crt_latefork" "$2" "$3" "$prog"
    )
    KID=
    crs_wait_for "$dir/ready.child" 30 "$dir/orig.status" && KID=$(cat "$dir/ready.child")
    [ -n "$KID" ]
}

for kind in fork vfork; do
    d=$WORK/$kind
    if ! start "$d" "$kind" 1000; then
        crs_fail "$kind: the child never named itself"
        continue
    fi
    crs_tool "$d/ck" cr_checkpoint --kill -f "$d/img" "$KID"
    cst=$?
    if [ "$cst" != 0 ]; then
        crs_fail "$kind: cr_checkpoint --kill of the child right after it was made: $(crs_status_text "$cst"): $(head -n 1 "$d/ck.err")"
        continue
    fi
    crs_pass "$kind: cr_checkpoint --kill waited for the child and took it"
    crs_wait_status "$d/orig" 30 >/dev/null
    touch "$d/go.1" "$d/go.2"
    # the restarted process prints the rest on cr_restart's stdout
    (cd "$d" && REVIVE_TEST_READY=$d/ready REVIVE_TEST_GO=$d/go crs_launch "$d/rst" "$CRS_TOOLS/cr_restart" "$d/img")
    rst=$(crs_wait_status "$d/rst")
    cat "$d/orig.out" "$d/rst.out" >"$d/both.out"
    if [ "$rst" = 42 ] && cmp -s "$WORK/ref/out.out" "$d/both.out"; then
        crs_pass "$kind: restarted, the original's output and the restart's are the uninterrupted run's"
    else
        crs_fail "$kind: the restart: $(crs_status_text "$rst")"
        diff "$WORK/ref/out.out" "$d/both.out" | head -n 10
        crs_show "$d/rst.err"
    fi
done

# one that does not start its program within the wait: refused naming it
for kind in fork:"no checkpoint thread" vfork:"vfork child"; do
    k=${kind%%:*}
    d=$WORK/long$k
    if ! start "$d" "$k" file; then
        crs_fail "long $k: the child never named itself"
        continue
    fi
    crs_tool "$d/ck" cr_checkpoint -f "$d/img" "$KID"
    crs_expect_refusal "a $k child that does not start its program within the wait" "$d/ck.err" $? "${kind#*:}"
    [ -e "$d/img" ] && crs_fail "long $k: the refused checkpoint left an image"
    touch "$d/ready.start" "$d/go.1" "$d/go.2" # the child starts its program only now
    fst=$(crs_wait_status "$d/orig")
    [ "$fst" = 42 ] || crs_fail "long $k: the program after the refusal: $(crs_status_text "$fst")"
done

# a process without libcr: refused at once, as before
sleep 30 &
spid=$!
crs_at_exit "kill $spid 2>/dev/null"
t0=$(date +%s%N)
crs_tool "$WORK/plain" cr_checkpoint -f "$WORK/plain.img" "$spid"
crs_expect_refusal "a process without libcr" "$WORK/plain.err" $? "does not run under Revive"
t1=$(date +%s%N)
[ $(((t1 - t0) / 1000000)) -lt 1500 ] && crs_pass "refused at once ($(((t1 - t0) / 1000000)) ms)" ||
    crs_fail "a process without libcr was refused only after $(((t1 - t0) / 1000000)) ms"
kill "$spid" 2>/dev/null
crs_summary crs_latefork
