#!/bin/bash
# Security test: root restarting an image of another user's process (nobody,
# with an extra group) gives a process with that image's real, effective and
# saved uid and gid and its groups, not root's: crt_creds prints its
# /proc/self/status Uid/Gid/Groups lines before the checkpoint and after the
# restart, and they must be the same.
# Then crt_creds started as root becomes nobody itself (CRT_CREDS_BECOME), which makes the
# kernel mark it not dumpable: its checkpoint was refused naming /proc/self/pagemap or
# /proc/self/mem, not why nor what to do (issue 10); the refusal must say it is not dumpable
# and name prctl(PR_SET_DUMPABLE, 1), and leave it running. Made dumpable again
# (CRT_CREDS_DUMPABLE=1) it is checkpointed and restarted with nobody's ids.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_creds
[ "$(id -u)" = 0 ] || crs_skip "needs root (it restarts another user's image)"
command -v setpriv >/dev/null || crs_skip "setpriv is missing"
crs_need_tools cr_run cr_checkpoint cr_restart
nb=$(id -u nobody 2>/dev/null) || crs_skip "no user nobody"
d=$(mktemp -d) && chmod 755 "$d" && chown "$nb" "$d"
crs_at_exit "rm -rf '$d'"
# nobody cannot reach a build tree under a private folder (a clone in mktemp -d, as CI makes
# it): it runs copies of cr_run, libcr and the program from its own folder
libcr=$(readlink -f "$REVIVE_BUILDDIR/.libs/libcr.so.0") || crs_skip "libcr.so.0 is not built"
cp "$CRS_TOOLS/cr_run" "$CRS_BIN/crt_creds" "$d/" && cp "$libcr" "$d/libcr.so.0" &&
    chmod 755 "$d/cr_run" "$d/crt_creds" "$d/libcr.so.0" || crs_fail "cannot copy the programs"
setsid env REVIVE_LIBCR="$d/libcr.so.0" setpriv --reuid="$nb" --regid="$nb" --groups="$nb",100 -- \
    "$d/cr_run" "$d/crt_creds" > "$d/out" 2>&1 < /dev/null &
pid=$!
sleep 1.5
if ! "$CRS_TOOLS/cr_checkpoint" --kill -f "$d/img" "$pid" > "$d/ckpt.log" 2>&1; then
    cat "$d/ckpt.log"
    crs_fail "checkpoint"
else
    wait "$pid" 2>/dev/null
    "$CRS_TOOLS/cr_restart" "$d/img" >> "$d/out" 2>&1 < /dev/null
    cat "$d/out"
    b=$(grep '^start' "$d/out" | sed 's/^start //')
    a=$(grep '^end' "$d/out" | sed 's/^end //')
    if [ -n "$b" ] && [ "$a" = "$b" ] && grep -q "^start Uid:	$nb	" "$d/out"; then
        crs_pass "uid, gid and groups after the restart by root"
    else
        crs_fail "credentials after the restart: before '$b', after '$a'"
    fi
fi

# become_nobody NAME [VAR=VALUE...]: crt_creds under cr_run in $d, started as root, becomes
# nobody (the variables added); sets PID once it printed its ids, else fails the test
become_nobody() {
    local n=$1 i
    shift
    (cd "$d" && crs_launch "$d/$n" env "$@" CRT_CREDS_BECOME="$nb" "$CRS_TOOLS/cr_run" "$CRS_BIN/crt_creds")
    for ((i = 0; i < 3000; i++)); do
        grep -q '^start Uid' "$d/$n.out" 2>/dev/null && break
        [ -e "$d/$n.status" ] && break
        crs_nap 0.02
    done
    PID=$(sed -n 's/^pid \([0-9]*\) .*/\1/p' "$d/$n.out")
    if ! grep -q '^start Uid' "$d/$n.out" || [ -z "$PID" ]; then
        crs_fail "crt_creds never became nobody ($n)"
        crs_show "$d/$n.err"
        crs_summary crs_creds
    fi
}
become_nobody nodump
crs_tool "$d/ck1" cr_checkpoint --kill -f "$d/nodump.img" "$PID"
crs_expect_refusal "the checkpoint of a process that became nobody (not dumpable)" "$d/ck1.err" $? "not dumpable"
grep -qF "prctl(PR_SET_DUMPABLE, 1)" "$d/ck1.err" && crs_pass "the refusal names prctl(PR_SET_DUMPABLE, 1)" ||
    crs_fail "the refusal does not say what to do (prctl(PR_SET_DUMPABLE, 1))"
if [ -e "$d/nodump.status" ] || ! kill -0 "$PID" 2>/dev/null; then
    crs_fail "the refused process did not run on"
else
    crs_pass "the refused process runs on"
fi
crs_kill_test_prog "$PID"
crs_wait_status "$d/nodump" 30 >/dev/null

become_nobody dump CRT_CREDS_DUMPABLE=1
if crs_tool "$d/ck2" cr_checkpoint --kill -f "$d/dump.img" "$PID"; then
    crs_wait_status "$d/dump" 30 >/dev/null
    st=$(cd "$d" && crs_run "$d/r2" "$CRS_TOOLS/cr_restart" "$d/dump.img")
    b=$(sed -n 's/^start //p' "$d/dump.out")
    a=$(sed -n 's/^end //p' "$d/r2.out")
    if [ "$st" = 0 ] && [ -n "$b" ] && [ "$a" = "$b" ] && grep -q "^start Uid:	$nb	" "$d/dump.out"; then
        crs_pass "became nobody, dumpable again: checkpointed, restarted with nobody's ids"
    else
        crs_fail "became nobody, dumpable again: restart $(crs_status_text "$st"), ids before '$b', after '$a'"
        crs_show "$d/r2.err"
    fi
else
    crs_fail "became nobody, dumpable again: cr_checkpoint: $(head -n 1 "$d/ck2.err")"
    crs_kill_test_prog "$PID"
fi
crs_summary crs_creds
