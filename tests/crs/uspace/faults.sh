#!/bin/bash
# A checkpoint that fails at a named step (REVIVE_FAULT) leaves the earlier
# image under the same name untouched and restartable, and no partial file:
#   image-commit  cr_checkpoint fails after writing, before the rename;
#   image-finish  the process's own writer fails before finishing (the process
#                 runs on, and cr_checkpoint says why in one line).
# The targets are crt_ids under cr_run, waiting at checkpoint point 1.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup faults
crs_need_tools cr_run cr_checkpoint cr_restart
IDS=$CRS_BIN/crt_ids
I=$WORK/images
mkdir -p "$I"
# only_ctx: nothing but the image beside it
only_ctx() { [ "$(ls -A "$I")" = ctx ]; }

if ! crs_start "$WORK/p1" orig "$CRS_TOOLS/cr_run" "$IDS"; then
    crs_fail "setup: crt_ids under cr_run never got ready"
    crs_show "$WORK/p1/orig.err"
    crs_summary faults
fi
P1=$PID
if ! crs_tool "$WORK/ck1" cr_checkpoint -f "$I/ctx" "$P1"; then
    crs_fail "setup: the first checkpoint: $(head -n 1 "$WORK/ck1.err")"
    crs_summary faults
fi
before=$(sha256sum <"$I/ctx")

# the tool fails after the image is written, before the rename
REVIVE_FAULT=image-commit crs_tool "$WORK/commit" cr_checkpoint -f "$I/ctx" "$P1"
st=$?
if [ "$st" != 0 ] && grep -q image-commit "$WORK/commit.err" && [ "$(sha256sum <"$I/ctx")" = "$before" ] &&
    only_ctx; then
    crs_pass "image-commit: a failure before the rename leaves the earlier image, no temporary file"
else
    crs_fail "image-commit: status $st, files: $(ls -A "$I" | tr '\n' ' ')"
    crs_show "$WORK/commit.err"
fi

# the process's writer fails before finishing the image
if crs_start "$WORK/p2" orig env REVIVE_FAULT=image-finish "$CRS_TOOLS/cr_run" "$IDS"; then
    crs_tool "$WORK/finish" cr_checkpoint -f "$I/ctx" "$PID"
    st=$?
    if [ "$st" != 0 ] && grep -q image-finish "$WORK/finish.err" && [ "$(wc -l <"$WORK/finish.err")" = 1 ] &&
        [ "$(sha256sum <"$I/ctx")" = "$before" ] && only_ctx; then
        crs_pass "image-finish: a writer failing halfway leaves the earlier image, no temporary file"
    else
        crs_fail "image-finish: status $st, files: $(ls -A "$I" | tr '\n' ' ')"
        crs_show "$WORK/finish.err"
    fi
    if crs_finish "$WORK/p2" orig; then
        crs_pass "image-finish: the process runs on after the failed checkpoint and finishes"
    else
        crs_fail "image-finish: the process after the failed checkpoint: $(crs_status_text "$FINISH_STATUS")"
        crs_show "$WORK/p2/orig.out" 20
    fi
else
    crs_fail "image-finish: crt_ids under cr_run with REVIVE_FAULT=image-finish never got ready"
    crs_show "$WORK/p2/orig.err"
fi

# the earlier image still restarts and runs to the end (its go files are
# those of p1, which crs_finish makes)
crs_finish "$WORK/p1" orig >/dev/null
r=$WORK/restart
mkdir -p "$r"
st=$(crs_run "$r/r" "$CRS_TOOLS/cr_restart" "$I/ctx")
if [ "$st" = 42 ] && tail -n 1 "$r/r.out" | grep -q ' RESULT ok$' && ! grep -q -- '-- checkpoint 1 --' "$r/r.out"; then
    crs_pass "the earlier image still restarts and runs to the end"
else
    crs_fail "the earlier image: cr_restart $(crs_status_text "$st")"
    crs_show "$r/r.out" 20
    crs_show "$r/r.err"
fi
crs_summary faults
