#!/bin/bash
# cr_request_file and cr_request_fd never leave a partial image under the
# final name: a fault between the write and the rename (REVIVE_FAULT=
# image-commit) keeps the earlier image, restartable, and no temporary file;
# a descriptor at another offset gets the image in place.
set -u
. "$(dirname "$0")/../uspace/lib.sh"
P=$B/tests/crs/libcr/request_durable
restore_workdir request-durable
fails=0
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1"; fails=1; }
# run NAME VAR=value MODE PATH: the program with fds 0-2 only, output through
# a pipe (a restarted process writes to cr_restart's); NAME.out, .err, .st
run() {
    local name=$1 env=$2; shift 2
    clean_exec "$env" "$P" "$@" 2>"$name.err" </dev/null | cat >"$name.out"
    echo "${PIPESTATUS[0]}" >"$name.st"
}
# only FILE...: the folder holds these files besides the logs
only() { [ "$(ls -A | grep -v -e '\.out$' -e '\.err$' -e '\.st$' | sort | tr '\n' ' ')" = "$* " ]; }
restarts() {   # restarts IMAGE: cr_restart prints "restarted", status 3
    timeout 60 "$B/tools/cr_restart" "$1" 2>r.err </dev/null | cat >r.out
    [ "${PIPESTATUS[0]}" = 3 ] && [ "$(cat r.out)" = restarted ]
}

for mode in file fd; do
    [ $mode = file ] && expect=img.file || expect="img.fd img.file"
    run $mode.1 REVIVE_FAULT= $mode img.$mode
    if [ "$(cat $mode.1.st)" = 3 ] && [ "$(cat $mode.1.out)" = continue ] && [ -s img.$mode ] &&
        [ "$(stat -c %a img.$mode)" = 600 ] && restarts img.$mode; then
        pass "cr_request_$mode writes a restartable image, 0600"
    else
        fail "cr_request_$mode: status $(cat $mode.1.st), $(cat $mode.1.out)"; cat $mode.1.err r.err 2>/dev/null
    fi
    before=$(sha256sum <img.$mode)
    run $mode.2 REVIVE_FAULT=image-commit $mode img.$mode
    if [ "$(cat $mode.2.st)" = 3 ] && grep -q "checkpoint failed: fault injected before renaming" $mode.2.err &&
        [ "$(sha256sum <img.$mode)" = "$before" ] && only $expect &&
        restarts img.$mode; then
        pass "cr_request_$mode: a failure before the rename keeps the earlier image, restartable, no temporary file"
    else
        fail "cr_request_$mode with image-commit: status $(cat $mode.2.st), files: $(ls -A)"; cat $mode.2.err
    fi
done

# at another offset: written through the descriptor, the first bytes kept
run off REVIVE_FAULT= fd-offset img.off
if [ "$(cat off.st)" = 3 ] && [ "$(head -c 100 img.off)" = "$(printf 'h%.0s' $(seq 100))" ] &&
    [ "$(tail -c +101 img.off | head -c 8)" = REVIVEIM ]; then
    pass "cr_request_fd at offset 100 writes the image in place after the caller's bytes"
else
    fail "cr_request_fd at an offset: status $(cat off.st)"; cat off.err
fi
[ "$fails" = 0 ]
