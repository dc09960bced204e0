#!/bin/bash
# State test: files held open for writing (crt_written: a log with O_APPEND, a sparse results file
# read-write) come back as they were at the checkpoint, so that the restarted run's files equal
# an uninterrupted run's: after the original ran on to its end (cont), after a first restart
# wrote on (twice), and with "mutate" log.txt removed and res.dat grown and changed between
# checkpoint and restart (a node-local /tmp cleaned, a crash after a continuing snapshot).
# Reopened by path only (before files51) twice and cont printed other contents and mutate's
# restart failed on the missing log.txt.
# Then a file past the limit: under REVIVE_SAVE_WRITTEN_MAX=1K res.dat (1 MiB) is left by path;
# removed before the restart, cr_restart is refused in one line naming the file, the limit and
# --ckpt-save-files.
CRS_FLAVOURS=${CRS_FLAVOURS:-"kill twice cont mutate"} \
CRS_MUTATE='rm written.d/log.txt && echo junk >>written.d/res.dat &&
printf X | dd of=written.d/res.dat conv=notrunc status=none' \
    bash "$(dirname "$0")/../cr_cycle.sh" crt_written
cycle=$?
[ "$cycle" = 77 ] && exit 77
. "$(dirname "$0")/../crs_lib.sh"
crs_need_tools cr_run cr_checkpoint cr_restart cr_info
crs_setup crs_files_gone
d=$WORK/big
crs_start_or_end "big: the program under REVIVE_SAVE_WRITTEN_MAX=1K never reached point 1" "$d" \
    env REVIVE_SAVE_WRITTEN_MAX=1K "$CRS_TOOLS/cr_run" "$CRS_BIN/crt_written"
if crs_tool "$d/ck" cr_checkpoint --kill -f "$d/ctx" "$PID"; then
    crs_wait_status "$d/orig" 30 >/dev/null
    crs_tool "$d/info" cr_info "$d/ctx"
    if ! grep -q ' written .*log\.txt' "$d/info.out" || grep -q ' written .*res\.dat' "$d/info.out"; then
        crs_fail "big: cr_info does not list log.txt alone as a written file"; grep -i 'written\|saved' "$d/info.out"
    fi
    rm "$d/written.d/res.dat"
    touch "$d/go.1" "$d/go.2"
    crs_tool "$d/rst" cr_restart "$d/ctx"
    st=$?
    crs_expect_refusal "big: restart without res.dat (1 MiB, past REVIVE_SAVE_WRITTEN_MAX=1K)" "$d/rst.err" "$st" \
        "res.dat" && { grep -q 'REVIVE_SAVE_WRITTEN_MAX' "$d/rst.err" && grep -q -- '--ckpt-save-files' "$d/rst.err" ||
        crs_fail "big: the refusal does not name REVIVE_SAVE_WRITTEN_MAX and --ckpt-save-files"; }
else
    crs_fail "big: cr_checkpoint --kill: exit $?"; crs_show "$d/ck.err"
fi
[ "$cycle" = 0 ] || crs_fail "the flavours of cr_cycle.sh (above)"
crs_summary crs_files_gone
