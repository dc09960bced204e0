#!/bin/bash
# procreads.sh FLAVOR: a rank's checkpoint reads its memory map from /proc twice, not four times
# (issue 7, the capture's CPU: /proc text was ~30% of the ranks' capture CPU). Before: the MPI
# layer's checkpoint hook read /proc/self/maps before the park (its table of the application's
# memory for ld.so's freeze, src/pml_hooks/restart.c), its second look at the pages that read as
# zeros at MPI_Init's end (src/pml_hooks/halves_moments.c) read it again after the park, libcr's
# capture of the regions a third time, then /proc/self/smaps. Now libcr takes the map from the maps
# lines of its smaps read and hands it to the layer's capture filter (crs/base/capture_filter.h,
# regions_begin): maps once (the hook's, before the park), smaps once; since f414c1d the capture
# reads maps for its map and smaps after the page data (maps twice, smaps once). The page walk read
# /proc/self/pagemap (~45 preads a rank, 8 bytes for every page of the regions walked, untouched
# ones too: a third of its kernel time filled holes); where the kernel has the PAGEMAP_SCAN ioctl
# (Linux 6.7) it asks that instead, which reports only the runs of present or swapped pages.
# The MPI layer's registry of the halves took the caller's thread id with a gettid system call in
# every section (~1000 a rank per checkpoint: one or two a mapping); it reads glibc's thread
# descriptor now. Its descriptor queries read /proc/self/fd/N's link for every descriptor each
# time they were asked (three or four times a capture), also where the marks alone decide.
#  a. the second checkpoint of a 2-rank job, each rank traced (strace -f -y: openat, pread64,
#     ioctl, gettid, readlink): /proc/self/maps at most twice, /proc/self/smaps once per rank; no
#     pread64 of /proc/self/pagemap where PAGEMAP_SCAN answers (SKIP-PART where the kernel refuses
#     it); fewer than 200 gettid calls per rank; at most 3 readlinks of /proc/self/fd/N per
#     descriptor read so (on average);
#     /proc/self/mem opened twice at most, by libcr alone (its dumpable check, checkpoint.c, and
#     its page walk, capture_write.c): the layer's second look at the pages that read as zeros
#     reads them with process_vm_readv, and opened /proc/self/mem at every checkpoint too for its
#     fallback where that is refused (diffrev34 R-L6: 3 opens a rank);
#  b. a --term snapshot of the same job restarts to the native result.
flavor=$1
. "$(dirname "$0")/lib.sh"
snapc_mpi_setup procreads restart
command -v strace >/dev/null || { echo "SKIP: strace is missing: the opens cannot be counted"; exit 77; }
strace -qq -o /dev/null -e trace=openat true 2>/dev/null || { echo "SKIP: strace cannot trace here (ptrace refused)"; exit 77; }
iters=${SNAPC_MPI_ITERS:-3000}

native_run
held_mpi_job
expect_rc 0 "the first checkpoint" timeout 300 "$CKPT" --wait $JOB
wait_for 120 '[ "$(rank_pids | wc -l)" -ge $np ]' || fail "the ranks did not start"
traces=
for p in $(rank_pids); do
    strace -f -qq -y -e trace=openat,pread64,ioctl,gettid,readlink -o "$W/opens.$p" -p "$p" 2>/dev/null &
    traces="$traces $!"
done
# traced: every thread of every rank has its tracer (strace -f -p attaches to each)
traced() {
    local p
    for p in $(rank_pids); do
        ! grep -q '^TracerPid:[[:space:]]*0$' /proc/$p/task/*/status 2>/dev/null || return 1
    done
}
wait_for 60 traced || fail "a: strace did not attach to every thread of the ranks"
timeout 300 "$CKPT" --wait $JOB >"$W/a.ck" 2>"$W/a.ckerr" || fail "a: the second checkpoint failed: $(tail -2 "$W/a.ckerr")"
kill -INT $traces 2>/dev/null
wait $traces
n=0
for p in $(rank_pids); do
    maps=$(grep -c '"/proc/self/maps"' "$W/opens.$p")
    smaps=$(grep -c '"/proc/self/smaps"' "$W/opens.$p")
    all=$(grep -c 'openat(' "$W/opens.$p")
    pmread=$(grep -c 'pread64([0-9]*<[^>]*/pagemap>' "$W/opens.$p")
    pmscan=$(grep 'ioctl([0-9]*<[^>]*/pagemap>' "$W/opens.$p" | grep -vc ' = -1 ')
    pmrefused=$(grep 'ioctl([0-9]*<[^>]*/pagemap>' "$W/opens.$p" | grep -c ' = -1 ')
    mem=$(grep -c '"/proc/self/mem"' "$W/opens.$p")
    tids=$(grep -c 'gettid(' "$W/opens.$p")
    links=$(grep -c 'readlink("/proc/self/fd/' "$W/opens.$p")
    locks=$(grep -c '"/proc/locks"' "$W/opens.$p")
    linked=$(grep -o 'readlink("/proc/self/fd/[0-9]*"' "$W/opens.$p" | sort -u | wc -l)
    echo "a: rank process $p: $all openat, /proc/self/maps $maps, /proc/self/smaps $smaps, /proc/self/mem $mem, /proc/locks $locks; pagemap: $pmread pread64, $pmscan PAGEMAP_SCAN ($pmrefused refused); gettid $tids; readlink of /proc/self/fd/N $links for $linked descriptors"
    [ "$all" -gt 0 ] || { fail "a: strace saw no openat of rank process $p"; continue; }
    n=$((n + 1))
    # twice since f414c1d: the capture takes its map from maps (a seventh of smaps's CPU) and
    # reads smaps after the page data, so the disk starts ~5 ms sooner (bench/mpi/README.md);
    # once where smaps is still read first (protection keys, --fork, direct writes)
    [ "$maps" -ge 1 ] && [ "$maps" -le 2 ] || fail "a: rank process $p opened /proc/self/maps $maps times in one checkpoint (at most twice expected: the MPI layer's hook before the park and the capture's map; its second look after the park and libcr's capture made it 3)"
    [ "$smaps" = 1 ] || fail "a: rank process $p opened /proc/self/smaps $smaps times in one checkpoint (once expected: the capture's map and advice)"
    [ "$mem" -le 2 ] || fail "a: rank process $p opened /proc/self/mem $mem times in one checkpoint (twice at most expected, libcr's dumpable check and page walk: the MPI layer reads the words it looks at with process_vm_readv, /proc/self/mem is its fallback where that is refused, diffrev34 R-L6)"
    # its files' build ids known from the first checkpoint: /proc/locks (which waits for an RCU
    # grace period, ~11 ms a rank before its first page) is not read (perf38)
    [ "$locks" = 0 ] || fail "a: rank process $p opened /proc/locks $locks times in its second checkpoint (none expected: the build ids of its files are known from the first, and the locks matter only to a file opened to read one)"
    [ "$tids" -lt 200 ] || fail "a: rank process $p called gettid $tids times in one checkpoint (fewer than 200 expected: the halves registry's sections take the id from glibc's thread descriptor)"
    [ "$linked" -gt 0 ] && [ "$links" -le $((3 * linked)) ] ||
        fail "a: rank process $p read /proc/self/fd/N's link $links times for $linked descriptors in one checkpoint (at most 3 a descriptor expected: the descriptor queries read it only where the marks do not decide)"
    if [ "$pmrefused" -gt 0 ]; then
        echo "SKIP-PART: the pagemap reads of rank process $p (the kernel refused PAGEMAP_SCAN: before Linux 6.7)"
    else
        [ "$pmscan" -gt 0 ] && [ "$pmread" = 0 ] ||
            fail "a: rank process $p read /proc/self/pagemap $pmread times with pread64 and $pmscan times with PAGEMAP_SCAN (only PAGEMAP_SCAN expected)"
    fi
done
[ $n = $np ] || fail "a: $n of $np ranks traced"
pass "$flavor: a: a checkpoint opens /proc/self/maps at most twice and /proc/self/smaps once per rank, /proc/self/mem twice at most (libcr's), reads pagemap through PAGEMAP_SCAN, calls gettid fewer than 200 times and reads descriptor links at most 3 times a descriptor ($n ranks traced)"

expect_rc 0 "ckpt-mpirun --term" timeout 300 "$CKPT" --wait --term $JOB || { touch "$W/go"; finish; }
REF=$(tail -n1 "$W/cmd.out")
job_gone $JOB 60 || fail "--term: mpirun still runs"
wait $JOB
touch "$W/go"
timeout -k 5 300 "$RESTART" "$REF" >"$W/r.out" 2>"$W/r.err"; st=$?
[ $st = 0 ] || { fail "b: restart: status $st"; tail -5 "$W/r.err"; }
cmp -s "$W/native.out" "$W/r.out" && pass "$flavor: b: the restart from a --term snapshot ends with the native result" ||
    { fail "b: the restart differs from the native run"; cat "$W/r.out"; }
finish
