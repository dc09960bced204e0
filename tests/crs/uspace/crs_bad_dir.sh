#!/bin/bash
# Bad input (issue 2): an image that cannot be written where it is asked: a
# directory that does not exist, a path that is a directory, a read-only
# file system (a read-only tmpfs, as root), a directory without write
# permission (as a throwaway user when root, else as ourselves). Each must
# be refused with one clear line naming the path, a non-zero exit that is
# not a signal, no file left, and the process must live on: not killed by
# --kill, not stopped by --stop, and finish normally.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_bad_dir
crs_need_tools cr_run cr_checkpoint
VDSO=$CRS_BIN/crt_vdso
LOGS=$WORK/logs
mkdir -p "$LOGS"

d=$WORK/prog
if ! crs_start "$d" orig "$CRS_TOOLS/cr_run" "$VDSO"; then
    crs_fail "setup: crt_vdso under cr_run never got ready"
    crs_show "$d/orig.err"
    crs_summary crs_bad_dir
fi

# refuse NAME DIR_TO_CHECK WORD OPTIONS_AND_PATH...: run cr_checkpoint (in
# DIR_TO_CHECK when no -f is given) and expect a refusal naming WORD.
refuse() {
    local name=$1 dir=$2 word=$3 st before after state
    shift 3
    before=$(ls -A "$dir" 2>/dev/null | sort | tr '\n' ' ')
    (cd "$dir" 2>/dev/null || cd "$WORK"; crs_tool "$LOGS/$name" cr_checkpoint "$@" "$PID")
    st=$?
    crs_expect_refusal "$name" "$LOGS/$name.err" "$st" "$word"
    after=$(ls -A "$dir" 2>/dev/null | sort | tr '\n' ' ')
    [ "$before" = "$after" ] || crs_fail "$name: the directory changed: '$before' -> '$after'"
    if [ ! -d "/proc/$PID" ]; then
        crs_fail "$name: the process died after a failed checkpoint"
        return 1
    fi
    state=$(sed 's/.*) \(.\).*/\1/' "/proc/$PID/stat")
    if [ "$state" = T ] || [ "$state" = Z ]; then
        crs_fail "$name: the process is in state $state after a failed checkpoint"
        kill -CONT "$PID"
    fi
}

for opt in "" --kill --stop; do
    refuse "missing-dir$opt" "$WORK" nonexistent $opt -f "$WORK/nonexistent/ctx"
    [ -d "/proc/$PID" ] || break
    refuse "path-is-a-directory$opt" "$WORK" "$WORK/isdir" $opt -f "$(mkdir -p "$WORK/isdir" &&
        echo "$WORK/isdir")"
    [ -d "/proc/$PID" ] || break
done

if [ "$(id -u)" = 0 ]; then
    ro=$WORK/ro
    mkdir -p "$ro"
    if mount -t tmpfs -o ro,size=1m tmpfs "$ro" 2>"$WORK/mount.err"; then
        crs_at_exit "umount $ro"
        for opt in "" --kill; do
            [ -d "/proc/$PID" ] || break
            refuse "read-only-fs$opt" "$ro" "$ro" $opt -f "$ro/ctx"
            [ -d "/proc/$PID" ] || break
            # the message may name the file or its directory (".")
            refuse "read-only-cwd-default-name$opt" "$ro" "" $opt
        done
    else
        echo "SKIP read-only-fs: cannot mount a tmpfs: $(head -n 1 "$WORK/mount.err")"
    fi
    # a directory without write permission, for an unprivileged user: root
    # may write anywhere, so the checkpoint runs as a throwaway user on a
    # process of its own
    user=crsd$$
    if command -v setpriv >/dev/null && useradd -M -N -r -s /usr/sbin/nologin "$user" 2>/dev/null
    then
        crs_at_exit "userdel $user"
        crs_let_others_in
        uid=$(id -u "$user")
        gid=$(id -g "$user")
        ud=$WORK/user
        mkdir -p "$ud/locked"
        chown -R "$uid:$gid" "$ud"
        chmod 555 "$ud/locked"
        (
            cd "$ud" || exit 1
            export REVIVE_TEST_READY=$ud/ready REVIVE_TEST_GO=$ud/go
            crs_launch "$ud/orig" setpriv --reuid="$uid" --regid="$gid" --clear-groups \
                "$CRS_TOOLS/cr_run" "$VDSO"
        )
        if crs_wait_for "$ud/ready.1" 60 "$ud/orig.status"; then
            upid=$(cat "$ud/ready.1")
            timeout -k 5 "$CRS_CKPT_TIMEOUT" setpriv --reuid="$uid" --regid="$gid" \
                --clear-groups "$CRS_TOOLS/cr_checkpoint" -f "$ud/locked/ctx" "$upid" \
                </dev/null >"$WORK/unwritable.out" 2>"$WORK/unwritable.err"
            crs_expect_refusal "unwritable-dir (as $user)" "$WORK/unwritable.err" $? "$ud/locked"
            [ -z "$(ls -A "$ud/locked")" ] || crs_fail "unwritable-dir: files appeared"
            if crs_finish "$ud" orig; then
                crs_pass "unwritable-dir: the process finished normally"
            else
                crs_fail "unwritable-dir: the process $(crs_status_text "$FINISH_STATUS")" \
                    "instead of finishing normally"
                crs_show "$ud/orig.err"
            fi
        else
            crs_fail "unwritable-dir: crt_vdso run as $user never got ready" \
                "($(cat "$ud/orig.status" 2>/dev/null))"
            crs_show "$ud/orig.err"
        fi
    else
        echo "SKIP unwritable-dir: cannot create a throwaway user"
    fi
else
    locked=$WORK/locked
    mkdir -p "$locked"
    chmod 555 "$locked"
    refuse unwritable-dir "$locked" "$locked" -f "$locked/ctx"
    refuse unwritable-cwd-default-name "$locked" ""
    echo "SKIP read-only-fs: needs root to mount a tmpfs"
fi

if [ -d "/proc/$PID" ]; then
    if crs_finish "$d" orig; then
        crs_pass "the process lived through every failed checkpoint and finished normally"
    else
        crs_fail "the process $(crs_status_text "$FINISH_STATUS") instead of finishing normally"
        crs_show "$d/orig.out" 50
    fi
fi
crs_summary crs_bad_dir
