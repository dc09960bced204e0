#!/bin/bash
# BLCR callbacks and critical sections (crt_callbacks, linked with -lcr):
#   ref        without a checkpoint no callback runs
#   outside    checkpointed from outside (cr_checkpoint --cont) while a thread
#              is in a critical section: thread-context callbacks first, each
#              kind in registration order, the code after cr_checkpoint in
#              reverse; every cr_checkpoint returns 0; the checkpoint waited
#              for the critical section; then a restart of the image, where
#              every cr_checkpoint returns > 0
#   self       the same with the program requesting its own checkpoint
#              (cr_request_file + an empty critical section, as the mail does)
# and in every run cr_checkpoint outside a callback returns -1.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup callbacks
crs_need_tools cr_checkpoint cr_restart
P=$CRS_LIBCR_BIN/crt_callbacks
[ -x "$P" ] || crs_skip "$P is not built (libcr.la missing?)"
unset REVIVE_TEST_READY REVIVE_TEST_GO

# restart_of NAME DIR IMAGE: restarts IMAGE in DIR; the output must be the
# original's after its checkpoint marker, with "restarted" for "original"
restart_of() {
    local name=$1 d=$2 img=$3 st
    cd "$d" || exit 99
    crs_after_point 1 orig.out |
        sed 's/this is the original process$/this is the restarted process/' >exp
    rm -f ready.*
    st=$(crs_run r "$CRS_TOOLS/cr_restart" "$img")
    crs_expect_run "$name: the restart (cr_checkpoint > 0 in every callback)" exp r "$st"
}

# ---- ref: no checkpoint
d=$WORK/ref
mkdir -p "$d"
touch "$d/go.1" "$d/go.2"
(cd "$d" && REVIVE_TEST_READY=$d/ready REVIVE_TEST_GO=$d/go crs_run "$d/ref" "$P" >/dev/null)
if [ "$(cat "$d/ref.status")" = 42 ] && grep -q 'no callback ran' "$d/ref.out"; then
    crs_pass "ref: without a checkpoint no callback runs"
else
    crs_fail "ref: the run without a checkpoint: $(crs_status_text "$(cat "$d/ref.status")")"
    crs_show "$d/ref.out" 20
fi

# ---- outside: cr_checkpoint --cont
d=$WORK/outside
if crs_start "$d" orig "$P"; then
    t0=$(date +%s%N)
    crs_tool "$d/ck" cr_checkpoint --cont -f "$d/img" "$PID"
    st=$?
    t1=$(date +%s%N)
    if [ "$st" != 0 ]; then
        crs_fail "outside: cr_checkpoint of a -lcr program: $(crs_status_text "$st")"
        crs_show "$d/ck.err"
    else
        crs_note "outside: the checkpoint took $(((t1 - t0) / 1000000)) ms (a thread held a" \
            "critical section for ~1 s)"
    fi
    if crs_finish "$d" orig && grep -q 'this is the original process' "$d/orig.out"; then
        crs_pass "outside: the original went on: callbacks, order and critical section right"
    else
        crs_fail "outside: the original: $(crs_status_text "$FINISH_STATUS")"
        crs_show "$d/orig.out" 30
        crs_show "$d/orig.err"
    fi
    [ -f "$d/img" ] && restart_of outside "$d" "$d/img"
else
    crs_fail "outside: crt_callbacks never got ready"
    crs_show "$d/orig.err"
fi

# ---- self: cr_request_file
d=$WORK/self
mkdir -p "$d"
st=$(cd "$d" && crs_run "$d/orig" "$P" "$d/img")
if [ "$st" = 42 ] && grep -q 'this is the original process' "$d/orig.out" &&
    tail -n 1 "$d/orig.out" | grep -q ' RESULT ok$'; then
    crs_pass "self: cr_request_file: callbacks, order and critical section right"
else
    crs_fail "self: the original: $(crs_status_text "$st")"
    crs_show "$d/orig.out" 30
    crs_show "$d/orig.err"
fi
if [ -f "$d/img" ]; then
    restart_of self "$d" "$d/img"
else
    crs_fail "self: no image at $d/img"
fi
crs_summary callbacks
