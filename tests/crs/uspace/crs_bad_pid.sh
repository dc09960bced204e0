#!/bin/bash
# Bad input (issue 2): cr_checkpoint given a wrong PID, a dead PID, a kernel
# thread, a process not run under cr_run, a process of another user; and
# cr_restart / cr_info given a missing file, a file that is no image, or an
# image the user may not read. Each must give one clear line on stderr
# (naming the PID or file), a non-zero exit that is not a signal, no hang, no
# image file; a target process must live on unharmed.
# The other-user cases need root (to create a throwaway user); otherwise
# they are skipped and say so.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_bad_pid
crs_need_tools cr_run cr_checkpoint cr_restart cr_info
VDSO=$CRS_BIN/crt_vdso
cd "$WORK" || exit 99

# refuse_ckpt NAME WORD ARGS...: cr_checkpoint ARGS must refuse, naming WORD.
refuse_ckpt() {
    local name=$1 word=$2 st
    shift 2
    mkdir -p "$WORK/$name"
    (cd "$WORK/$name" && crs_tool "$WORK/$name/ck" cr_checkpoint "$@")
    st=$?
    crs_expect_refusal "$name" "$WORK/$name/ck.err" "$st" "$word"
    if [ -n "$(ls -A "$WORK/$name" | grep -v '^ck\.')" ]; then
        crs_fail "$name: files were left:" $(ls -A "$WORK/$name" | grep -v '^ck\.')
    fi
}

refuse_ckpt not-a-number abc abc
refuse_ckpt pid-zero "" 0
refuse_ckpt pid-negative "" -- -5
refuse_ckpt pid-too-large 99999999 99999999

# option values that are not numbers or out of range are refused by name,
# not read as 0 (atoi) or replaced by a default
refuse_ckpt compress-level-big compress --compress=25 1
refuse_ckpt compress-level-word compress --compress=fast 1
refuse_ckpt time-word time -T 5s 1
refuse_ckpt time-negative time --time=-1 1
refuse_ckpt signal-word signal --signal=TERM 1

# a PID that just died (and is not reused yet)
sleep 0 &
dead=$!
wait "$dead"
if [ -e "/proc/$dead" ]; then
    crs_note "dead-pid: PID $dead was reused at once; not tested"
else
    refuse_ckpt dead-pid "$dead" "$dead"
fi

# a zombie
(sleep 0 & exec sleep 30) &
parent=$!
sleep 0.3
zombie=$(pgrep -P "$parent" | head -n 1)
if [ -n "$zombie" ] && grep -q '^State:.*Z' "/proc/$zombie/status" 2>/dev/null; then
    refuse_ckpt zombie "process $zombie has exited" "$zombie"
else
    crs_note "zombie: could not make one; not tested"
fi
kill "$parent" 2>/dev/null
wait "$parent" 2>/dev/null

# a kernel thread
refuse_ckpt kernel-thread 2 2

# a process not run under cr_run: it must be refused and live on unharmed
if crs_start "$WORK/plain" orig "$VDSO"; then
    refuse_ckpt not-under-cr_run "$PID" "$PID"
    for opt in --kill --term --stop; do
        refuse_ckpt "not-under-cr_run$opt" "$PID" "$opt" "$PID"
    done
    if crs_finish "$WORK/plain" orig; then
        crs_pass "not-under-cr_run: the process lived on and finished normally"
    else
        crs_fail "not-under-cr_run: the process $(crs_status_text "$FINISH_STATUS") instead of" \
            "finishing normally"
    fi
else
    crs_fail "not-under-cr_run: crt_vdso never got ready"
fi

# a process that is no test program at all (sleep)
sleep 30 &
sl=$!
refuse_ckpt sleep-not-under-cr_run "$sl" "$sl"
kill "$sl" 2>/dev/null
wait "$sl" 2>/dev/null

# cr_restart and cr_info on things that are no image
head -c 100000 /dev/urandom >"$WORK/random.img"
printf 'REVIVEIM' >"$WORK/magic-only.img"
: >"$WORK/empty.img"
for f in /nonexistent/context.1 "$WORK/random.img" "$WORK/magic-only.img" "$WORK/empty.img" \
    "$WORK"; do
    n=$(basename "$f")
    crs_tool "$WORK/rs-$n" cr_restart "$f"
    crs_expect_refusal "cr_restart $n" "$WORK/rs-$n.err" $? "$n"
    crs_tool "$WORK/info-$n" cr_info "$f"
    crs_expect_refusal "cr_info $n" "$WORK/info-$n.err" $? "$n"
done

# ---- another user's process (root only)
if [ "$(id -u)" != 0 ]; then
    echo "SKIP other-user: needs root to create a throwaway user (running as uid $(id -u))"
elif ! command -v useradd >/dev/null || ! command -v setpriv >/dev/null; then
    echo "SKIP other-user: useradd or setpriv is missing"
else
    user=crst$$
    if useradd -M -N -r -s /usr/sbin/nologin "$user" 2>"$WORK/useradd.err"; then
        crs_at_exit "userdel $user"
        crs_let_others_in
        uid=$(id -u "$user")
        gid=$(id -g "$user")
        if ! asuser test -x "$CRS_TOOLS/cr_checkpoint"; then
            echo "SKIP other-user: $user cannot run $CRS_TOOLS/cr_checkpoint (directory permissions)"
        else
            out=$WORK/other
            mkdir -p "$out/img"
            chmod 1777 "$out/img"
            if crs_start "$out" orig "$CRS_TOOLS/cr_run" "$VDSO"; then
                for opt in "" --kill; do
                    timeout -k 5 "$CRS_CKPT_TIMEOUT" setpriv --reuid="$uid" --regid="$gid" \
                        --clear-groups "$CRS_TOOLS/cr_checkpoint" $opt -f "$out/img/ctx" "$PID" \
                        </dev/null >"$out/ck.out" 2>"$out/ck.err"
                    crs_expect_refusal "other-user: cr_checkpoint $opt of root's process by $user" \
                        "$out/ck.err" $? "$PID"
                    [ -z "$(ls -A "$out/img")" ] ||
                        crs_fail "other-user: files left:" $(ls -A "$out/img")
                done
                # root's image (mode 0600) must not be readable to the user
                crs_tool "$out/ckroot" cr_checkpoint -f "$out/root.img" "$PID" ||
                    crs_fail "other-user: root could not checkpoint its own process:" \
                        "$(head -n 1 "$out/ckroot.err")"
                if [ -f "$out/root.img" ]; then
                    timeout -k 5 "$CRS_CKPT_TIMEOUT" setpriv --reuid="$uid" --regid="$gid" \
                        --clear-groups "$CRS_TOOLS/cr_restart" "$out/root.img" </dev/null \
                        >"$out/rs.out" 2>"$out/rs.err"
                    crs_expect_refusal "other-user: cr_restart of root's image by $user" \
                        "$out/rs.err" $? root.img
                fi
                if crs_finish "$out" orig; then
                    crs_pass "other-user: root's process lived on and finished normally"
                else
                    crs_fail "other-user: root's process $(crs_status_text "$FINISH_STATUS")" \
                        "instead of finishing normally"
                fi
            else
                crs_fail "other-user: crt_vdso under cr_run never got ready"
            fi
        fi
    else
        echo "SKIP other-user: useradd failed: $(head -n 1 "$WORK/useradd.err")"
    fi
fi

crs_summary crs_bad_pid
