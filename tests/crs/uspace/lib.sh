# Sourced by tests/crs/uspace/*.sh: the build tree, a private work folder, and a
# way to start programs with only descriptors 0-2 (whatever the test runner
# leaked into us, make's jobserver pipe among them, is not the program's, and
# cr_checkpoint would rightly refuse it).
B=${REVIVE_BUILDDIR:?run through make check}
export REVIVE_LIBCR=$B/.libs/libcr.so.0

# restore_workdir NAME: makes W=/tmp/revive-NAME.XXXXXX, removed at exit, and cd's there.
# Extra cleanup goes in $cleanup (run first).
cleanup=:
restore_workdir() {
    W=$(mktemp -d "/tmp/revive-$1.XXXXXX") || exit 99
    trap 'eval "$cleanup"; rm -rf "$W"' EXIT
    cd "$W" || exit 99
}

# clean_exec [VAR=value...] CMD ARGS...: replaces the calling (sub)shell with CMD
# run with only descriptors 0-2, so $! of "clean_exec ... &" is CMD's pid. Use
# it only in the background or in a pipeline: in the foreground it would
# replace the test script itself.
clean_exec() {
    exec bash -c 'for f in /proc/$$/fd/*; do n=${f##*/}; [ "$n" -gt 2 ] 2>/dev/null && eval "exec $n>&-"; done
        exec env "$@"' clean_exec "$@"
}
