#!/bin/bash
# bench/stage/run.sh [BUILDDIR]: node-local first, staging and restart from the caches (issue 9,
# "Speed"). One run; every figure is a ratio against a baseline measured in the same run on the
# same bytes (a benchmark with printed figures, not a test). MPICH, one host, NP ranks of
# bench/stage/bigmem.c (MB MiB of incompressible memory each), the node-local caches on a tmpfs
# (a node's /tmp in memory), the snapshot directory on the disk of BENCH_DIR:
#  1. the ranks' stall (gates closed -> running again: "quiesced" -> "recovered" of
#     ckpt-mpirun --json) with node-local first and a real copy to the snapshot directory
#     afterwards (REVIVE_STAGE_COPY=1), against the same images written straight into the same
#     node-local directory (--ckpt-local none, --ckpt-dir there): both jobs run side by side
#     (idle: bigmem sleeps while it holds), their rounds alternate (which job goes first
#     alternates too); the median of the rounds' ratios, target ~1 (nothing waits for the
#     snapshot directory); the images' bytes of each round are printed (the same work);
#  2. staging throughput (each rank's copy + verify, as the coordinator logs them; the ranks
#     stage in parallel) against a raw copy of the same image files between the same
#     directories (cp, then sync FILE = fsync; as many in parallel): ratio, target >= 0.9;
#  3. restart (restart-mpi --no-verify) from the node-local caches
#     against the snapshot directory only (--ckpt-local none), the reads of the disk throttled
#     to THROTTLE MB/s (a blkio cgroup around restart-mpi and its ranks) and the snapshot
#     directory's files dropped from the page cache before each (not the whole cache: the MPI
#     library and the tools are a node's own): the time until every rank is back (its MPI layer
#     logs "rank N restarted") is the restart, ratio, target >= 2; the time until the job has
#     ended (bigmem's work after the restart, the same in both, included) is printed beside it. (--no-verify in both: restart-mpi's own check
#     before the launch reads every image from the snapshot directory; the ranks check what
#     they read either way.)
# Environment: MB (MiB per rank, default 128), NP (2), THROTTLE (MB/s, 50), REPS (5), PARTS
# (3: part 3 alone; default all), BENCH_TRACE (1: part 3's restarts with REVIVE_VERBOSE=2, their
# stderr stamped in ms from each start into NAME.<ns>.trace, copied to LOGS), BENCH_RESTART_RANK (a revive-restart-rank to use instead of the build's),
# BENCH_DIR (where the snapshot directory goes: a fresh folder under it; default /work if
# writable, else /tmp), LOGS (a folder: the jobs' logs are copied there at the end). The
# tmpfs holds at most two sequences of each job at a time (the direct job's older ones are
# removed between rounds, outside the timing), so any REPS fits. Needs root (tmpfs, cgroup). Exit 0 every target met, 1
# some not met, 2 could not run.
set -u
export LC_ALL=C
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=${1:-${REVIVE_BUILDDIR:-$src/_build}}
MB=${MB:-128} NP=${NP:-2} THROTTLE=${THROTTLE:-50} REPS=${REPS:-5} PARTS=${PARTS:-all}
. "$here/lib.sh"
stage_bench_setup "" "a tmpfs, a blkio cgroup, dropping files from the page cache" tools/snapc/restart-mpi
CG=/sys/fs/cgroup/blkio/revive-bench-stage.$$
PGIDS=""
cleanup() {
    # the jobs' process groups (job() starts each in a session of its own)
    for g in $PGIDS; do kill -KILL -- "-$g" 2>/dev/null; done
    [ -n "${LOGS:-}" ] && mkdir -p "$LOGS" && cp "$W"/*.err "$W"/*.ms "$W"/stall.* "$W"/*.trace "$LOGS"/ 2>/dev/null
    umount -l "$W/node" 2>/dev/null
    [ -d "$CG" ] && rmdir "$CG" 2>/dev/null
    rm -rf "$W"
}
trap cleanup EXIT
mkdir -m 0700 "$W/node" "$W/shared" "$W/sock"
mount -t tmpfs -o size=$((MB * NP * 6 + 256))m,mode=0700 revive-bench "$W/node" || die "cannot mount a tmpfs"
mpicc.mpich -O2 -Wall -Wextra -Werror -o "$W/bigmem" "$here/bigmem.c" || die "cannot build bigmem"
export REVIVE_MPI_LIBDIR=$build/.libs REVIVE_EXEC=$build/tools/mpi/revive-exec
# BENCH_RESTART_RANK: another revive-restart-rank (an older one, to compare two of them on the
# same build and bed)
export REVIVE_COORD_BIN=$build/tools/snapc/revive-coord
export REVIVE_RESTART_RANK=${BENCH_RESTART_RANK:-$build/tools/revive-restart-rank}
export REVIVE_SOCKET_DIR=$W/sock TMPDIR=$W/node PATH=$(dirname "$launcher"):$PATH
CKPT=$build/tools/snapc/ckpt-mpirun RESTART=$build/tools/snapc/restart-mpi
ms() { echo $(( $(date +%s%N) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {print (NR ? a[int((NR + 1) / 2)] : 0)}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
verdict() { # NAME RATIO OP TARGET
    if awk -v r="$2" -v t="$4" -v op="$3" 'BEGIN { exit !(op == ">=" ? r >= t : r <= t) }'; then
        echo "target met: $1 $2 $3 $4"
    else
        echo "target NOT met: $1 $2 (want $3 $4)"; met=1
    fi
}
met=0
# job NAME MPIRUN-OPTIONS...: bigmem under Revive in the background (JOB), holding on
# $W/go.NAME
job() {
    local name=$1; shift
    rm -f "$W/go.$name" "$W/go.$name".ready.*
    REVIVE_VERBOSE=2 setsid "$build/tools/mpi/mpirun" -am ft-enable-cr "$@" -n "$NP" "$W/bigmem" "$MB" "$W/go.$name" \
        >"$W/$name.out" 2>"$W/$name.err" </dev/null &
    JOB=$!
    PGIDS="$PGIDS $JOB"
    local t=0
    until [ "$(cat /proc/$JOB/comm 2>/dev/null)" = revive-coord ] &&
        [ "$(ls "$W/go.$name".ready.* 2>/dev/null | wc -l)" -ge "$NP" ]; do
        sleep 0.1; t=$((t + 1)); [ $t -lt 1200 ] || die "the job $name did not start"
    done
}
# ckpt [OPTIONS]: a checkpoint of JOB, its JSON summary in $W/ck.json
ckpt() { timeout 600 "$CKPT" --wait --json "$@" $JOB >"$W/ck.json" 2>"$W/ck.err" || die "ckpt-mpirun: $(cat "$W/ck.err")"; }
field() { sed -n "s/.*\"$1\":\\([0-9-]*\\).*/\\1/p" "$W/ck.json" | head -1; }
end_job() { touch "$W/go.$1"; wait "$2"; }

echo "bench/stage: $NP ranks x $MB MiB (MPICH), caches on a tmpfs, snapshot directory in $W ($(df -T "$W" | awk 'NR == 2 {print $1, $2}')); $REPS rounds each; load $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
timeout 600 "$launcher" -n "$NP" "$W/bigmem" "$MB" /dev/null >"$W/native.out" 2>/dev/null || die "native run failed"

if [ "$PARTS" != 3 ]; then
# 1 and 2: node-local first with a real copy (job "staged"), and straight into the node-local
# directory (job "direct"): both jobs run side by side (idle, holding), their rounds alternate,
# so that both see the same machine (the load on this shared VM drifts within minutes)
REVIVE_STAGE_COPY=1 job staged --ckpt-dir "$W/shared"
JOB_S=$JOB
mkdir -m 0700 -p "$W/node/direct"
job direct --ckpt-local none --ckpt-dir "$W/node/direct"
JOB_D=$JOB
: >"$W/stall.staged"; : >"$W/stall.direct"; : >"$W/stage.ms"; : >"$W/raw.ms"; : >"$W/ratio1"
: >"$W/bytes.staged"; : >"$W/bytes.direct"
# one round of each job: the staged job's stall, its staging and the raw copy of the same
# files; the direct job's stall
round_staged() {
    sync   # each round starts with nothing left to write back (the last raw copy)
    JOB=$JOB_S ckpt
    echo $(( $(field recovered) - $(field quiesced) )) >>"$W/stall.staged"
    ref=$(tail -n1 "$W/ck.json")   # the last line is the reference
    bytes=$(field bytes)
    echo "$bytes" >>"$W/bytes.staged"
    seq=$(basename "$ref"); jd=$(basename "$(dirname "$ref")")
    # this epoch's copies: the slowest rank's copy + verify (they run in parallel)
    grep "image staged" "$W/staged.err" | tail -n "$NP" |
        sed -n 's/.*copy \([0-9]*\) ms, verify \([0-9]*\) ms.*/\1 \2/p' |
        awk 'BEGIN {m = 0} {if ($1 + $2 > m) {m = $1 + $2; c = $1; v = $2}} END {print m; print c, v >"/dev/stderr"}' \
        >>"$W/stage.ms" 2>>"$W/split.ms"
    # the raw copy of the same files between the same directories, as many in parallel
    mkdir -p "$W/shared/raw"
    t0=$(ms)
    for f in "$W/node/revive-local-0/$jd/$seq"/rank_*.img; do
        [ -f "$f" ] || die "no cached image $f"
        { cp "$f" "$W/shared/raw/" && sync "$W/shared/raw/$(basename "$f")"; } &
    done
    wait $(jobs -p | grep -v -e "^$JOB_S$" -e "^$JOB_D$") 2>/dev/null
    echo $(( $(ms) - t0 )) >>"$W/raw.ms"
    # the disk is shared with whatever else runs: each round's ratio, taken side by side
    echo "$(tail -n1 "$W/raw.ms") $(tail -n1 "$W/stage.ms")" | awk '{printf "%.3f\n", ($2 > 0 ? $1 / $2 : 0)}' >>"$W/ratio2"
    rm -rf "$W/shared/raw"
}
round_direct() {
    sync   # as before the staged round
    JOB=$JOB_D ckpt
    echo $(( $(field recovered) - $(field quiesced) )) >>"$W/stall.direct"
    field bytes >>"$W/bytes.direct"
    dref=$(tail -n1 "$W/ck.json")
}
for i in $(seq "$REPS"); do
    # the order alternates: whatever the round before leaves (writeback, the raw copy's
    # removal) falls on each job alike
    if [ $((i % 2)) = 1 ]; then round_staged; round_direct; else round_direct; round_staged; fi
    echo "$(tail -n1 "$W/stall.staged") $(tail -n1 "$W/stall.direct")" | awk '{printf "%.3f\n", ($2 > 0 ? $1 / $2 : 0)}' >>"$W/ratio1"
    # only the newest sequence stays on the tmpfs (the staged job's caches keep as much): REPS
    # rounds of NP images would not fit (the coordinator's own retention, --ckpt-keep, runs
    # before the ranks resume, so it is not used here: it would be timed)
    for d in "$(dirname "$dref")"/*; do
        [ "$d" = "$dref" ] || ! [ -d "$d" ] || case ${d##*/} in *[!0-9]*) ;; *) rm -rf "$d" ;; esac
    done
done
end_job staged $JOB_S
end_job direct $JOB_D
cmp -s "$W/native.out" "$W/staged.out" || die "the staged job's result differs from the native run"
cmp -s "$W/native.out" "$W/direct.out" || die "the direct job's result differs from the native run"
rm -rf "$W/node/direct"
echo "1. per round (ms): node-local first + staging" $(cat "$W/stall.staged") "; image write alone" $(cat "$W/stall.direct")
s_staged=$(median <"$W/stall.staged"); s_direct=$(median <"$W/stall.direct")
t_stage=$(median <"$W/stage.ms"); t_raw=$(median <"$W/raw.ms")
echo "1. the images' bytes per round (the same work in both): node-local first" $(cat "$W/bytes.staged") "; image write alone" $(cat "$W/bytes.direct")
echo "1. ranks' stall (quiesced -> recovered, median ms): node-local first + staging $s_staged, image write alone $s_direct; per round (staged/direct):" $(cat "$W/ratio1")
r1=$(median <"$W/ratio1")
verdict "stall ratio (node-local first / image write alone)" "$r1" "<=" 1.15
mib=$(awk -v b="$bytes" 'BEGIN { printf "%.0f", b / 1048576 }')
echo "2. staging $mib MiB (median ms): copy + verify $t_stage, raw copy (cp, then sync of the file) $t_raw; per round (raw/staging):" $(cat "$W/ratio2")
echo "   the slowest rank's copy and verify per round (ms):" $(tr ' ' '+' <"$W/split.ms" | tr '\n' ' ')
r2=$(awk '{print $1}' "$W/ratio2" | median)
verdict "staging throughput / raw copy" "$r2" ">=" 0.9
fi

# 3. restart from the caches vs the throttled snapshot directory
job term --ckpt-dir "$W/shared"
ckpt --term
ref=$(tail -n1 "$W/ck.json")
wait $JOB
touch "$W/go.term"   # the restarted jobs run to their end
dev=$(findmnt -no MAJ:MIN -T "$W/shared" 2>/dev/null | head -1 | tr -d " ")   # padded by findmnt
if [ -z "$dev" ] || ! mkdir "$CG" 2>/dev/null ||
    ! echo "$dev $((THROTTLE * 1048576))" >"$CG/blkio.throttle.read_bps_device"; then
    echo "3. not measured: no blkio cgroup to throttle the disk ($dev)"; met=1
else
    # bytes the throttled cgroup has read from the disk so far
    read_bytes() { awk -v d="$dev" '$1 == d && $2 == "Read" {print $3; f = 1} END {if (!f) print 0}' "$CG/blkio.throttle.io_service_bytes"; }
    restart() { # NAME OPTIONS...: "ms-until-back ms-until-ended bytes-read-from-disk bytes-cached-before"
        # of a restart in the throttled cgroup
        local name=$1; shift
        # only the snapshot directory's files leave the page cache (what the throttle stands
        # for: slow shared storage); dropping every cache (before) also sent the MPI library
        # (libmpich 41 MB), the launcher and the tools through the 50 MB/s throttle at every
        # restart, cache or not, on this one-disk machine, where a node reads them locally
        sync
        find "$W/shared" -type f -exec dd if={} iflag=nocache count=0 status=none \;
        # what of the snapshot directory is still in the page cache, and (after) what the
        # restart read from the disk through the throttle: the shared restart must read its
        # images there, or its time is not that of slow shared storage
        local cached; cached=$(find "$W/shared" -type f -name 'rank_*.img' -exec fincore -bno RES {} + |
            awk '{s += $1} END {print s + 0}')
        local rd0; rd0=$(read_bytes)   # (blkio.reset_stats leaves these counters as they are)
        local t0 tb="" p; t0=$(ms)
        : >"$W/$name.err"
        timeout 900 sh -c 'echo $$ >"$1/cgroup.procs"; shift; exec "$@"' sh "$CG" \
            env ${BENCH_TRACE:+REVIVE_VERBOSE=2} "$RESTART" --no-verify "$@" "$ref" >"$W/$name.out" 2>"$W/$name.err" </dev/null &
        p=$!
        # BENCH_TRACE=1: where the restart's time goes: its stderr lines (REVIVE_VERBOSE=2) stamped
        # in ms from its start as they come, one file per restart (copied to LOGS)
        local tp=""
        if [ -n "${BENCH_TRACE:-}" ]; then
            rm -f "$W/trace.stop"
            perl -MTime::HiRes=time,sleep -e '($f, $stop, $t0) = @ARGV; open(F, "<", $f) or die;
                while (1) { while (defined($l = <F>)) { printf "%6d %s", time * 1000 - $t0, $l }
                    last if -e $stop; sleep 0.02; seek(F, 0, 1) }' \
                "$W/$name.err" "$W/trace.stop" "$t0" >"$W/$name.$(date +%s%N).trace" &
            tp=$!
        fi
        # every rank back: its MPI layer's "rank N restarted" line (REVIVE_VERBOSE=2)
        while kill -0 $p 2>/dev/null; do
            [ -z "$tb" ] && [ "$(grep -c "restarted (generation" "$W/$name.err")" -ge "$NP" ] && tb=$(ms)
            sleep 0.05
        done
        wait $p || die "restart $name failed: $(tail -3 "$W/$name.err")"
        local te; te=$(ms)
        [ -n "$tp" ] && { touch "$W/trace.stop"; wait "$tp"; }
        [ "$(grep -c "restarted (generation" "$W/$name.err")" -ge "$NP" ] ||
            die "restart $name: not every rank said it was back: $(tail -3 "$W/$name.err")"
        echo "$(( ${tb:-$te} - t0 )) $(( te - t0 )) $(( $(read_bytes) - rd0 )) $cached"
        cmp -s "$W/native.out" "$W/$name.out" || die "restart $name: result differs from the native run"
    }
    : >"$W/r.cache"; : >"$W/r.shared"
    # which restart goes first alternates (before session 27 the cache's always did): whatever
    # one leaves behind (writeback, a load that drifts) falls on each alike
    for i in $(seq "$REPS"); do
        if [ $((i % 2)) = 1 ]; then
            restart cache >>"$W/r.cache"; restart shared --ckpt-local none >>"$W/r.shared"
        else
            restart shared --ckpt-local none >>"$W/r.shared"; restart cache >>"$W/r.cache"
        fi
    done
    rc=$(cut -d' ' -f1 "$W/r.cache" | median); rsh=$(cut -d' ' -f1 "$W/r.shared" | median)
    ec=$(cut -d' ' -f2 "$W/r.cache" | median); esh=$(cut -d' ' -f2 "$W/r.shared" | median)
    echo "3. restart (median ms, disk reads at $THROTTLE MB/s) until every rank is back: from the caches $rc, from the snapshot directory $rsh; per round (ms): caches" $(cut -d' ' -f1 "$W/r.cache") "; snapshot directory" $(cut -d' ' -f1 "$W/r.shared")
    echo "3. read from the disk (through the throttle) per restart (MB): caches" $(awk '{printf "%.1f ", $3 / 1e6}' "$W/r.cache") "; snapshot directory" $(awk '{printf "%.1f ", $3 / 1e6}' "$W/r.shared") "; of its images in the page cache before (MB):" $(awk '{printf "%.1f ", $4 / 1e6}' "$W/r.shared")
    echo "3. per round (snapshot directory / caches, the two restarts side by side):" $(paste -d' ' "$W/r.shared" "$W/r.cache" | awk '{printf "%.2f ", ($5 > 0 ? $1 / $5 : 0)}')
    echo "3. until the job has ended (its work after the restart included): from the caches $ec, from the snapshot directory $esh (ratio $(ratio "$esh" "$ec"))"
    # the shared restarts must have read their images through the throttle (else the ratio is
    # not that of slow shared storage: a page cache not dropped, a reader outside the cgroup)
    imgb=$(find "$(dirname "$ref")" -path "$ref/rank_*.img" -printf '%s\n' | awk '{s += $1} END {print s + 0}')
    awk -v b="$imgb" '$3 < 0.95 * b {bad = 1} END {exit bad}' "$W/r.shared" ||
        { echo "3. NOT valid: a restart from the snapshot directory read less than its images' $imgb bytes from the disk"; met=1; }
    r3=$(ratio "$rsh" "$rc")
    verdict "restart speed-up from the caches (until every rank is back)" "$r3" ">=" 2
fi
exit $met
