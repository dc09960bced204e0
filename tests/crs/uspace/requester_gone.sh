#!/bin/bash
# cr_checkpoint gone while the process writes its image (newuser10 F1, F8): the process's own
# thread writes the image into cr_checkpoint's temporary file (.NAME.tmp.PID); when cr_checkpoint
# is ended then (SIGTERM or SIGKILL: a batch system's time limit, `timeout`), nobody renames or
# removes that file: it stayed for good at full size, and each attempt left another. Now the
# process notices the hang-up, stops writing, removes the file and runs on; the earlier image
# under the final name stays as it was. And `cr_checkpoint -T SEC` that runs out of time said
# nothing and exited 0 with no image (the file left too): now one line, exit 1, no file left.
# The target is crt_heap (64 MiB) under cr_run with REVIVE_FAULT=image-write-slow in its
# environment (its writer takes 100 ms per 4 MiB: the write surely under way when the test ends
# cr_checkpoint), waiting at checkpoint point 1:
#   term   cr_checkpoint -f ctx, SIGTERM once the temporary file holds 4 MiB
#   kill   the same with SIGKILL
#   tree   cr_checkpoint --tree (the process writes as a tree's member), SIGKILL
#   time   cr_checkpoint -T 1: exit 1 in one line naming --time, no image, nothing left
# Each time: the temporary file gone within 20 s, the earlier image (from --cont) unchanged, and
# the process runs on to its end (RESULT ok). Then the earlier image restarts.
# Old code (the slow writer kept, the rest undone): 8 of 18 checks failed (every temporary file
# left, 193 MiB after three attempts; -T exited 0).
. "$(dirname "$0")/../crs_lib.sh"
crs_setup requester_gone
crs_need_tools cr_run cr_checkpoint cr_restart
HEAP=$CRS_BIN/crt_heap
I=$WORK/images
mkdir -p "$I"
export CRT_HEAP_MB=64

# tmp_files: the temporary files beside the image, "" when none
tmp_files() { (cd "$I" && ls -A | grep -v '^ctx$' | tr '\n' ' '); }

# big_tmp: waits up to 60 s until a temporary file beside the image holds 4 MiB; 0 when it does
big_tmp() {
    local i f
    for i in $(seq 3000); do
        for f in "$I"/.ctx.tmp.*; do
            [ -f "$f" ] && [ "$(stat -c %s "$f" 2>/dev/null || echo 0)" -ge $((4 << 20)) ] && return 0
        done
        crs_nap 0.02
    done
    return 1
}

# no_tmp_within SECONDS: 0 when no temporary file is left beside the image within SECONDS
no_tmp_within() {
    local i
    for i in $(seq $(($1 * 10))); do
        [ -z "$(tmp_files)" ] && return 0
        crs_nap 0.1
    done
    return 1
}

# start NAME: crt_heap under cr_run with the slow writer, in $WORK/NAME, waiting at point 1 (PID)
start() {
    crs_start "$WORK/$1" orig env REVIVE_FAULT=image-write-slow "$CRS_TOOLS/cr_run" "$HEAP" && return 0
    crs_fail "$1: crt_heap under cr_run never got ready"
    crs_show "$WORK/$1/orig.err"
    return 1
}

# ran_on NAME: the process of `start NAME` runs on to its end
ran_on() {
    if crs_finish "$WORK/$1" orig; then
        crs_pass "$1: the process runs on to its end"
    else
        crs_fail "$1: the process after its requester went: $(crs_status_text "$FINISH_STATUS")"
        crs_show "$WORK/$1/orig.out" 20
        crs_show "$WORK/$1/orig.err"
    fi
}

# the earlier image, made while the first target waits
start first || crs_summary requester_gone
FIRST=$WORK/first
if ! crs_tool "$WORK/ck0" cr_checkpoint --cont -f "$I/ctx" "$PID"; then
    crs_fail "setup: the first checkpoint: $(head -n 1 "$WORK/ck0.err")"
    crs_summary requester_gone
fi
before=$(sha256sum <"$I/ctx")
ran_on first

# gone NAME SIGNAL OPTIONS...: cr_checkpoint OPTIONS -f ctx of a new target, ended by SIGNAL once
# its temporary file holds 4 MiB
gone() {
    local name=$1 sig=$2 c st
    shift 2
    start "$name" || return
    (crs_clean_exec "$CRS_TOOLS/cr_checkpoint" "$@" -f "$I/ctx" "$PID" </dev/null >"$WORK/$name.ck.out" \
        2>"$WORK/$name.ck.err") &
    c=$!
    if ! big_tmp; then
        crs_fail "$name: no temporary file of 4 MiB beside the image within 60 s: $(tmp_files)"
        kill -9 "$c" 2>/dev/null
        wait "$c" 2>/dev/null
        ran_on "$name"
        return
    fi
    kill -"$sig" "$c"
    wait "$c" 2>/dev/null
    st=$?
    [ "$st" = $((128 + $(kill -l "$sig"))) ] || crs_note "$name: cr_checkpoint ended with $(crs_status_text "$st")"
    if no_tmp_within 20; then
        crs_pass "$name: cr_checkpoint${*:+ $*} ended by SIG$sig while the image was written: no temporary file left"
    else
        crs_fail "$name: cr_checkpoint${*:+ $*} ended by SIG$sig while the image was written: left $(tmp_files)" \
            "($(du -sh "$I" | cut -f1) in the image folder)"
    fi
    [ "$(sha256sum <"$I/ctx")" = "$before" ] && crs_pass "$name: the earlier image unchanged" ||
        crs_fail "$name: the earlier image changed"
    grep -q "requester went away before the image was kept: its temporary file .*\.ctx\.tmp\.[0-9]* is removed" \
        "$WORK/$name/orig.err" && crs_pass "$name: the process says it removed the temporary file" ||
        crs_fail "$name: the process does not say it removed the temporary file: $(head -n 2 "$WORK/$name/orig.err")"
    ran_on "$name"
}

gone term TERM
gone kill KILL
gone tree KILL --tree

# -T that runs out (F8)
if start time; then
    crs_tool "$WORK/time.ck" cr_checkpoint -T 1 -f "$I/ctx" "$PID"
    st=$?
    crs_expect_refusal "time: cr_checkpoint -T 1 that runs out" "$WORK/time.ck.err" "$st" \
        "did not finish its checkpoint within 1 s: no image is kept"
    no_tmp_within 20 && crs_pass "time: no temporary file left" || crs_fail "time: left $(tmp_files)"
    [ "$(sha256sum <"$I/ctx")" = "$before" ] && crs_pass "time: the earlier image unchanged" ||
        crs_fail "time: the earlier image changed"
    ran_on time
fi

# the earlier image restarts and runs to the end
crs_after_point 1 "$FIRST/orig.out" >"$WORK/after1"
cd "$FIRST" && rm -f ready.*
st=$(crs_run "$WORK/r" "$CRS_TOOLS/cr_restart" "$I/ctx")
crs_expect_run "the earlier image restarts" "$WORK/after1" "$WORK/r" "$st"
crs_summary requester_gone
