#!/bin/bash
# The capture reads /proc/self/smaps after the page data (capture.h, smaps_late): the map comes
# from /proc/self/maps, the pages are written and started to the disk, then smaps gives each
# mapping's advice and page size (perf37: an MPI rank's smaps read was 2.5-3 ms of CPU before any
# of its pages went to the disk). crt_hugepages (an 8 MiB area with HUGEPAGE, NOHUGEPAGE,
# DONTFORK, DONTDUMP, WIPEONFORK, RANDOM and SEQUENTIAL advice, a pattern in each) is
# checkpointed with --cont under strace:
#   order  smaps is opened after the writer started the disk on the pages (sync_file_range);
#          before this change it was opened first, with no page written (the part fails so)
#   same   the image's regions (addresses, protections, kinds, advice, page sizes) are those of
#          an image --fork writes (its writer child needs the advice first: smaps read first)
#   restart  the --cont image restarts to the uninterrupted output (crt_hugepages checks the
#          advice and page sizes itself after the point)
# Where the kernel may give protection keys (CPUID OSPKE: /proc/cpuinfo "ospke", most bare-metal
# x86 servers) smaps is late too as long as the process holds no key (crt_hugepages holds none):
# before diffrev37 R-L12 it was read first on every such machine, and order failed there. A process
# that holds a key is refused before any page is read (crs_unsupported.sh, pkey).
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_smaps_late
crs_need_tools cr_run cr_checkpoint cr_restart cr_info
command -v strace >/dev/null 2>&1 || crs_skip "strace is not installed: it shows when smaps is read"
PROG=$CRS_BIN/crt_hugepages

ref=$WORK/ref
crs_uninterrupted "$ref" ref "$PROG" >/dev/null
crs_after_point 1 "$ref/ref.out" >"$WORK/ref.after1"

d=$WORK/ck
crs_start_or_end "setup: crt_hugepages under cr_run never got ready" "$d" "$CRS_TOOLS/cr_run" "$PROG"
pkeys=0
keynote=
grep -qw ospke /proc/cpuinfo 2>/dev/null && pkeys=1 keynote="; protection keys possible here"
timeout -k 5 "$CRS_TIMEOUT" strace -f -qq -e trace=openat,sync_file_range -o "$d/trace" -p "$PID" \
    2>"$d/strace.err" &
st_pid=$!
for _ in $(seq 250); do
    [ "$(sed -n 's/^TracerPid:\s*//p' "/proc/$PID/status" 2>/dev/null)" = 0 ] || break
    crs_nap 0.02
done
traced=1
[ "$(sed -n 's/^TracerPid:\s*//p' "/proc/$PID/status" 2>/dev/null)" = 0 ] && traced=0
crs_tool "$d/late" cr_checkpoint --cont -f "$WORK/late.img" "$PID" ||
    crs_fail "cr_checkpoint --cont: $(head -n 1 "$d/late.err")"
kill "$st_pid" 2>/dev/null
wait "$st_pid" 2>/dev/null
if [ "$traced" = 0 ]; then
    echo "SKIP-PART: order (strace could not attach to crt_hugepages: $(head -n 1 "$d/strace.err"))"
else
    [ "$pkeys" = 1 ] || echo "SKIP-PART: order on a machine with protection keys (no ospke here: the process's keys are not asked)"
    # line numbers in the trace: the first sync_file_range, the first open of smaps
    sfr=$(grep -n 'sync_file_range(' "$d/trace" | head -n 1 | cut -d: -f1)
    smp=$(grep -n 'openat(.*"/proc/self/smaps"' "$d/trace" | head -n 1 | cut -d: -f1)
    if [ -n "$sfr" ] && [ -n "$smp" ] && [ "$smp" -gt "$sfr" ]; then
        crs_pass "order: smaps read after the pages were started to the disk (trace lines $sfr, $smp$keynote)"
    else
        crs_fail "order: smaps read ${smp:+at trace line $smp }before the pages went to the disk${sfr:+ (line $sfr)}"
        grep -E 'smaps|/maps|sync_file_range' "$d/trace" | head -n 6 | sed 's/^/   | /'
    fi
fi

# the regions of both images, without the stored bytes (the two captures are moments apart)
regions() {
    crs_tool "$1" cr_info "$2" || return 1
    sed -n '/^regions:/,/^[a-z]/p' "$1.out" | grep '^  ' | awk '{$4 = ""; print}'
}
crs_tool "$d/fork" cr_checkpoint --cont --fork -f "$WORK/fork.img" "$PID" ||
    crs_fail "cr_checkpoint --cont --fork: $(head -n 1 "$d/fork.err")"
regions "$d/info.late" "$WORK/late.img" >"$d/late.regions"
regions "$d/info.fork" "$WORK/fork.img" >"$d/fork.regions"
if [ -s "$d/late.regions" ] && grep -q '\[hugepage\]' "$d/late.regions" &&
    cmp -s "$d/late.regions" "$d/fork.regions"; then
    crs_pass "same: $(wc -l <"$d/late.regions") regions, advice and page sizes as the --fork image's"
else
    crs_fail "same: the regions differ from the --fork image's (or no [hugepage] advice in the image)"
    diff "$d/fork.regions" "$d/late.regions" | head -n 8 | sed 's/^/   | /'
fi

crs_finish "$d" orig || crs_fail "the original did not end well: $(crs_status_text "$FINISH_STATUS")"
(cd "$d" && crs_clean_exec timeout -k 5 "$CRS_TIMEOUT" "$CRS_TOOLS/cr_restart" "$WORK/late.img" </dev/null \
    >"$d/rs.out" 2>"$d/rs.err")
crs_expect_run "restart: the image restarts to the uninterrupted output" "$WORK/ref.after1" "$d/rs" "$?"
crs_summary crs_smaps_late
