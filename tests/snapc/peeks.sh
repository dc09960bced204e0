#!/bin/bash
# peeks.sh FLAVOR: a rank's checkpoint reads its memory and files through few system calls (issue
# 7, the capture's CPU). The layer finds ld.so's table of objects for the unwinder at every
# checkpoint (src/pml_hooks/lower_dlfo.c): it read ld.so's writable data a word per system call,
# ~1700 calls per rank and checkpoint (perf of 8 ranks: a tenth of the ranks' capture CPU); now
# the words found at MPI_Init are checked again, and a full look reads the data in pieces. The
# malloc-header rule (src/pml_hooks/halves_moments.c) read ~230 pages of a rank with one 16-byte
# pread of /proc/self/mem each (~580 preads a rank and checkpoint in all); now a process_vm_readv
# reads up to 256 of them; libcr's page walk read /proc/self/pagemap once per region (~210 a
# rank), now once per run of adjacent regions (~240 preads a rank after the first cut, ~45-50 now).
# libcr opened every mapped file for its build id at every checkpoint and
# stat'ed its path once per mapping (~120 opens, ~270 stats); now a build id is remembered while
# the file is unchanged (src/crs/uspace/build_id_cache.c) and a file's mappings in a row share a stat.
#  a. a checkpoint of a 2-rank job (its second): per rank, counted with perf on the ranks'
#     processes (the syscalls:sys_enter_* tracepoints), fewer than 600 process_vm_readv, 120
#     pread64, 100 openat and 200 newfstatat calls;
#  b. restarted from a --term snapshot: a checkpoint of the restarted job (its first, so openat is
#     not bounded; nor newfstatat: a restarted MPICH rank stats ~195 paths) with as few
#     process_vm_readv and pread64 calls, and a restart of that one ends with the native result
#     (the table's words as the restarted rank found them serve its own restart).
flavor=$1
. "$(dirname "$0")/lib.sh"
snapc_mpi_setup peeks restart
command -v perf >/dev/null || { echo "SKIP: perf is missing: the system calls cannot be counted"; exit 77; }
events=syscalls:sys_enter_process_vm_readv,syscalls:sys_enter_pread64,syscalls:sys_enter_openat,syscalls:sys_enter_newfstatat
perf stat -e $events -x, -o /dev/null -- true >/dev/null 2>&1 ||
    { echo "SKIP: perf cannot count the tracepoints $events (root, tracefs)"; exit 77; }
iters=${SNAPC_MPI_ITERS:-3000}
max=600 max_pread=120 max_open=100 max_stat=200

native_run
# peeks NAME JOBPID: one checkpoint of the job, counted on each rank (every thread of it); PEEKS,
# PREADS, OPENS and STATS the most of a rank
peeks() {
    local p n perfs=
    wait_for 120 '[ "$(rank_pids | wc -l)" -ge $np ]' || { fail "$1: the ranks did not start"; return; }
    PEEKS=0 PREADS=0 OPENS=0 STATS=0
    for p in $(rank_pids); do
        perf stat -e $events -x, -o "$W/$1.stat.$p" -p "$p" 2>/dev/null &
        perfs="$perfs $!"
    done
    sleep 1 # perf attached
    timeout 300 "$CKPT" --wait "$2" >"$W/$1.ck" 2>"$W/$1.ckerr" || fail "$1: the checkpoint failed: $(tail -2 "$W/$1.ckerr")"
    kill -INT $perfs 2>/dev/null
    wait $perfs
    for p in $(rank_pids); do
        n=$(awk -F, '$3 ~ /process_vm_readv/ {print $1 + 0}' "$W/$1.stat.$p" 2>/dev/null)
        [ -n "$n" ] || { fail "$1: perf counted nothing on rank process $p: $(cat "$W/$1.stat.$p" 2>/dev/null)"; continue; }
        [ "$n" -gt "$PEEKS" ] && PEEKS=$n
        n=$(awk -F, '$3 ~ /pread64/ {print $1 + 0}' "$W/$1.stat.$p")
        [ "${n:-0}" -gt "$PREADS" ] && PREADS=$n
        n=$(awk -F, '$3 ~ /openat/ {print $1 + 0}' "$W/$1.stat.$p")
        [ "${n:-0}" -gt "$OPENS" ] && OPENS=$n
        n=$(awk -F, '$3 ~ /newfstatat/ {print $1 + 0}' "$W/$1.stat.$p")
        [ "${n:-0}" -gt "$STATS" ] && STATS=$n
        echo "$1: rank process $p: $(awk -F, '$3 ~ /syscalls/ {sub(/.*sys_enter_/, "", $3); printf "%s %s ", $3, $1}' "$W/$1.stat.$p")"
    done
}
# few NAME: PREADS under its bound
few() {
    [ "$PREADS" -gt 0 ] && [ "$PREADS" -lt $max_pread ] ||
        fail "$1: $PREADS pread64 calls per rank (fewer than $max_pread expected; a pread of /proc/self/mem per page the malloc-header rule looks at made ~580, one of /proc/self/pagemap per region ~240)"
}

held_mpi_job
expect_rc 0 "the first checkpoint" timeout 300 "$CKPT" --wait $JOB
peeks a $JOB
[ "$PEEKS" -gt 0 ] && [ "$PEEKS" -lt $max ] ||
    fail "a checkpoint of a rank: $PEEKS process_vm_readv calls (fewer than $max expected; a word of ld.so's data per call made ~1700)"
few "a checkpoint of a rank"
[ "$STATS" -gt 0 ] && [ "$STATS" -lt $max_stat ] ||
    fail "a checkpoint of a rank: $STATS newfstatat calls (fewer than $max_stat expected; a stat per file mapping made ~270)"
[ "$OPENS" -gt 0 ] && [ "$OPENS" -lt $max_open ] ||
    fail "a checkpoint of a rank: $OPENS openat calls (fewer than $max_open expected; opening every mapped file for its build id made ~120)"
pass "$flavor: a checkpoint: at most $PEEKS process_vm_readv (< $max), $PREADS pread64 (< $max_pread), $OPENS openat (< $max_open), $STATS newfstatat (< $max_stat) calls per rank"

expect_rc 0 "ckpt-mpirun --term" timeout 300 "$CKPT" --wait --term $JOB || { touch "$W/go"; finish; }
REF=$(tail -n1 "$W/cmd.out")
job_gone $JOB 60 || fail "--term: mpirun still runs"
wait $JOB
# b. the restarted job (held: go is not there yet), a checkpoint of it counted, then its restart
( clean_exec "$RESTART" "$REF" ) >"$W/r1.out" 2>"$W/r1.err" & # R: restart-mpi, then the coordinator

R=$!; jobs_started="$jobs_started $R"
wait_for 120 '[ "$(rank_pids | wc -l)" -ge $np ] || ! kill -0 $R 2>/dev/null' || fail "the restarted ranks did not start"
peeks b $R
[ "$PEEKS" -gt 0 ] && [ "$PEEKS" -lt $max ] ||
    fail "a checkpoint of a restarted rank: $PEEKS process_vm_readv calls (fewer than $max expected)"
few "a checkpoint of a restarted rank"
REF2=
if expect_rc 0 "--term of the restarted job" timeout 300 "$CKPT" --wait --term $R; then
    REF2=$(tail -n1 "$W/cmd.out")
else
    touch "$W/go" # not left waiting
fi
wait $R
touch "$W/go"
[ -n "$REF2" ] || finish
timeout -k 5 300 "$RESTART" "$REF2" >"$W/r2.out" 2>"$W/r2.err"; st=$?
[ $st = 0 ] || { fail "restart of the restarted job: status $st"; tail -5 "$W/r2.err"; }
cmp -s "$W/native.out" "$W/r2.out" || { fail "the restart of the restarted job differs from the native run"; cat "$W/r2.out"; }
pass "$flavor: a restarted rank's checkpoint: at most $PEEKS process_vm_readv, $PREADS pread64 calls; its restart ends with the native result"
finish
