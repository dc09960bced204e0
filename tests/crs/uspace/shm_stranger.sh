#!/bin/bash
# A /dev/shm object of the image held at restart by a process that is not the
# original (review LOW): cr_restart gives a restarted process a /dev/shm of
# its own only when the holder is the original, still running (a copy
# beside it); another program holding an object under that name now is
# refused, naming it (before, the restart went on in a /dev/shm of its own,
# cut off from that program's object). crt_saved is checkpointed with
# --cont; once the original has finished (removing its objects), another
# process makes and holds /dev/shm/crt_saved.PID.b: the restart is refused
# naming it; that process gone, the image restarts. Then (root) the advice of
# root's /dev/shm of its own only where it holds (diffrev29 K-L4; below).
. "$(dirname "$0")/../crs_lib.sh"
crs_setup shm_stranger
crs_need_tools cr_run cr_checkpoint cr_restart
crs_busy_image shm_stranger "$CRS_BIN/crt_saved"
crs_finish "$d" orig || crs_fail "the original: $FINISH_STATUS"
obj=/dev/shm/crt_saved.$PID.b
crs_at_exit "rm -f /dev/shm/crt_saved.$PID.a /dev/shm/crt_saved.$PID.b"
(crs_clean_exec setsid bash -c 'exec 3<>"$1"; echo $$ >"$2.tmp"; mv "$2.tmp" "$2"; exec sleep 600' holder "$obj" \
    "$WORK/holder" </dev/null >/dev/null 2>&1 &)
crs_wait_for "$WORK/holder" 30 || crs_fail "setup: the holder of $obj never started"
hp=$(cat "$WORK/holder")
crs_at_exit "kill -KILL $hp"
rm -f ready.*
crs_tool "$WORK/r1" cr_restart "$WORK/img"
st=$?
[ "$st" = 42 ] && crs_fail "cr_restart ran the program in a /dev/shm of its own while process $hp (sleep) holds $obj"
crs_expect_refusal "cr_restart while process $hp (sleep) holds $obj" "$WORK/r1.err" $st "does not run the image's program"
grep -q "$obj .*process $hp (sleep)" "$WORK/r1.err" && crs_pass "the message names $obj and process $hp (sleep)" ||
    crs_fail "the message does not name $obj and process $hp (sleep): $(head -n 1 "$WORK/r1.err")"
[ -s "$WORK/r1.out" ] && crs_fail "the refused restart printed: $(head -n 1 "$WORK/r1.out")"
kill -KILL "$hp"
while kill -0 "$hp" 2>/dev/null; do sleep 0.05; done
rm -f "$obj"
crs_after_point 1 "$d/orig.out" >"$WORK/after1"
rm -f ready.*
st=$(crs_run "$WORK/r2" "$CRS_TOOLS/cr_restart" "$WORK/img")
crs_expect_run "with the holder gone the image restarts" "$WORK/after1" "$WORK/r2" "$st"

# The advice "(as root, cr_restart gives the restarted processes a /dev/shm of their own
# instead)" only where it holds (diffrev29 K-L4): a user's cr_restart --no-restore-pid (no
# namespace, so no /dev/shm of its own) beside the running original is refused with it; the same
# image as an MPI rank's, restored by revive-restart-rank (a rank's restart beside its running
# job gets no /dev/shm of its own as root either: README), is refused without it (before: with
# it). Root only: a throwaway user runs crt_saved and the restarts.
if [ "$(id -u)" = 0 ] && command -v useradd >/dev/null && command -v setpriv >/dev/null &&
    [ -x "$CRS_TOOLS/revive-restart-rank" ]; then
    crs_throwaway_user crss "a user's restarts beside the original"
    chmod o+x "$WORK"
    u=$WORK/user
    mkdir -p "$u" "$WORK/seq"
    chown "$uid:$gid" "$u" "$WORK/seq"
    if crs_start "$u" orig setpriv --reuid="$uid" --regid="$gid" --clear-groups "$CRS_TOOLS/cr_run" \
        "$CRS_BIN/crt_saved"; then
        crs_at_exit "rm -f /dev/shm/crt_saved.$PID.a /dev/shm/crt_saved.$PID.b"
        crs_tool "$WORK/uck" cr_checkpoint --cont -f "$WORK/seq/rank_0.img" "$PID" ||
            crs_fail "user: cr_checkpoint --cont: $(head -n 1 "$WORK/uck.err")"
        chown "$uid:$gid" "$WORK/seq/rank_0.img"
        hint="as root, cr_restart gives the restarted processes a /dev/shm of their own"
        (cd "$u" && crs_clean_exec setpriv --reuid="$uid" --regid="$gid" --clear-groups "$CRS_TOOLS/cr_restart" \
            --no-restore-pid "$WORK/seq/rank_0.img" </dev/null >"$WORK/u1.out" 2>"$WORK/u1.err")
        st=$?
        if [ "$st" = 1 ] && grep -q "in use by process $PID: .*($hint instead)" "$WORK/u1.err"; then
            crs_pass "a user's cr_restart --no-restore-pid beside the original: refused, saying root's restart would help"
        else
            crs_fail "a user's cr_restart --no-restore-pid beside the original: $(crs_status_text "$st"): $(head -n 1 "$WORK/u1.err")"
        fi
        (cd "$u" && crs_clean_exec env PMI_RANK=0 PMI_SIZE=1 setpriv --reuid="$uid" --regid="$gid" --clear-groups \
            "$CRS_TOOLS/revive-restart-rank" "$WORK/seq" </dev/null >"$WORK/u2.out" 2>"$WORK/u2.err")
        st=$?
        if [ "$st" = 1 ] && grep -q "in use by process $PID: " "$WORK/u2.err" && ! grep -q "$hint" "$WORK/u2.err"; then
            crs_pass "a user's revive-restart-rank of that image (an MPI rank's) beside it: refused, no word of root's /dev/shm"
        else
            crs_fail "a user's revive-restart-rank beside the original: $(crs_status_text "$st"): $(head -n 1 "$WORK/u2.err")"
        fi
        crs_finish "$u" orig || crs_fail "the user's original: $FINISH_STATUS"
    else
        crs_fail "user: crt_saved under cr_run never got ready"
        crs_show "$u/orig.err"
    fi
fi
crs_summary shm_stranger
