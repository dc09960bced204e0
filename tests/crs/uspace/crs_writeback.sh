#!/bin/bash
# The image writer starts the disk on its pages as it goes (sync_file_range once more than 4 MiB
# was written since the last call: 9216d52, image_writer.c WRITEBACK_STEP), so that the disk writes
# while the rest is copied and the final fsync finds little left. Until then it did so every 32 MiB:
# an image of 18 MiB (a rank of bench/mpi/ckpt.sh) went to the disk by its fsync alone. crt_heap
# (64 MiB) is checkpointed with --kill under strace (only sync_file_range traced): its writer must
# start the disk at least 6 times (9216d52: 9; the writer before it: 2), and the image must
# restart to the uninterrupted output.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_writeback
crs_need_tools cr_run cr_checkpoint cr_restart
command -v strace >/dev/null 2>&1 || crs_skip "strace is not installed: it counts the writer's sync_file_range calls"
HEAP=$CRS_BIN/crt_heap

ref=$WORK/ref
crs_uninterrupted "$ref" ref "$HEAP" >/dev/null
crs_after_point 1 "$ref/ref.out" >"$WORK/ref.after1"

d=$WORK/ck
crs_start_or_end "setup: crt_heap under cr_run never got ready" "$d" "$CRS_TOOLS/cr_run" "$HEAP"
timeout -k 5 "$CRS_TIMEOUT" strace -f -qq -e trace=sync_file_range -o "$d/trace" -p "$PID" 2>"$d/strace.err" &
st_pid=$!
# attached: the kernel names the tracer in the process's status
for _ in $(seq 250); do
    [ "$(sed -n 's/^TracerPid:\s*//p' "/proc/$PID/status" 2>/dev/null)" = 0 ] || break
    crs_nap 0.02
done
if [ "$(sed -n 's/^TracerPid:\s*//p' "/proc/$PID/status" 2>/dev/null)" = 0 ]; then
    echo "SKIP-PART: count (strace could not attach to crt_heap: $(head -n 1 "$d/strace.err"))"
    kill "$st_pid" 2>/dev/null
    wait "$st_pid" 2>/dev/null
    crs_tool "$d/ck" cr_checkpoint --kill -f "$WORK/img" "$PID" || crs_fail "cr_checkpoint --kill: $(head -n 1 "$d/ck.err")"
else
    crs_tool "$d/ck" cr_checkpoint --kill -f "$WORK/img" "$PID" || crs_fail "cr_checkpoint --kill: $(head -n 1 "$d/ck.err")"
    wait "$st_pid" 2>/dev/null
    n=$(grep -c 'sync_file_range(' "$d/trace")
    size=$(stat -c %s "$WORK/img" 2>/dev/null || echo 0)
    if [ "$n" -ge 6 ]; then
        crs_pass "count: the writer started the disk $n times on a $size-byte image"
    else
        crs_fail "count: the writer started the disk only $n times on a $size-byte image (every 4-8 MiB expected)"
        head -n 5 "$d/trace" | sed 's/^/   | /'
    fi
fi
crs_wait_status "$d/orig" 30 >/dev/null
touch "$d/go.1" "$d/go.2"
(cd "$d" && crs_clean_exec timeout -k 5 "$CRS_TIMEOUT" "$CRS_TOOLS/cr_restart" "$WORK/img" </dev/null \
    >"$d/rs.out" 2>"$d/rs.err")
crs_expect_run "restart: the image restarts to the uninterrupted output" "$WORK/ref.after1" "$d/rs" "$?"
crs_summary crs_writeback
