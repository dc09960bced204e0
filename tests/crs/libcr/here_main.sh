#!/bin/bash
# crs_runtime_checkpoint_here from the main thread (here_main, linked with libcr): refused at
# once with -EINVAL and a message saying to call it from a thread of its own (runtime.h).
# Before, it ran the checkpoint from the main thread, which the image must record parked and as
# its first thread.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup here_main
P=$CRS_LIBCR_BIN/here_main
[ -x "$P" ] || crs_skip "$P is not built (libcr.la missing?)"
out=$(LD_PRELOAD= timeout -k 5 60 "$P" 2>&1 </dev/null)
st=$?
if [ "$st" = 0 ]; then
    crs_pass "refused from the main thread ($out)"
else
    crs_fail "from the main thread: $(crs_status_text "$st"): $out"
fi
crs_summary here_main
