#!/bin/bash
# cr_restart's last step runs after it unmapped its own memory, libc too: a failure there must
# still be one line on stderr and exit status 1 (REVIVE_FAULT=restore-no-return fails it right
# before the regions move). Before: its message was counted by libc's strlen, unmapped by then,
# and the restart died of SIGSEGV without a word (CI at aa626e1, crs_heap_1g.sh fork). Then the
# same image restarts without the fault and runs on to the uninterrupted result.
. "$(dirname "$0")/../crs_lib.sh"
crs_need_tools cr_run cr_checkpoint cr_restart
crs_setup no_return
crs_good_image no_return "$CRS_BIN/crt_ids"
rm -f ready.*
st=$(crs_run "$WORK/fail" env REVIVE_FAULT=restore-no-return "$CRS_TOOLS/cr_restart" "$GOOD")
crs_expect_refusal "a failure after the point of no return" "$WORK/fail.err" "$st" \
    "the restore failed after the point of no return"
rm -f ready.*
st=$(crs_run "$WORK/again" "$CRS_TOOLS/cr_restart" "$GOOD")
crs_expect_run "the image restarts without the fault" "$WORK/ref.after1" "$WORK/again" "$st"
crs_summary no_return
