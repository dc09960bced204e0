#!/bin/bash
# Security test: root restarting an image of another user's process (nobody,
# with an extra group) gives a process with that image's real, effective and
# saved uid and gid and its groups, not root's: crt_creds prints its
# /proc/self/status Uid/Gid/Groups lines before the checkpoint and after the
# restart, and they must be the same.
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
crs_summary crs_creds
