#!/bin/bash
# bench/mpi/ckpt.sh [FLAVOR...]: a global checkpoint and a restart of a real MPI job against raw
# I/O and a native start, measured in the same run (issue 7, "Speed"; README.md beside it).
#
# For each MPI (default: ompi mpich), each rank count of RANKS (default "8 32") and each window
# count of WINDOWS (default "0 4"), in ROUNDS rounds (default 2; the configurations alternate
# within a round): bench/mpi/ckptjob-FLAVOR runs under "mpirun -am ft-enable-cr" (MIB MiB of
# memory per rank; default 16 for 8 ranks or fewer, SMALL_MIB (default 1) above), and
# "ckpt-mpirun --json" takes SNAPS snapshots of it (default 5 per round), each followed by the
# raw baseline: as many files as ranks, each the size of one rank's image, written at once
# (dd, fsync) into the same folder. Printed per configuration: the median over the snapshots of
# the time from the request to each phase, the coordination (everything but the capture, i.e.
# committed - (captured - drained)), the capture against the raw write, and the verdicts:
# coordination <= 100 ms (8 ranks), committed <= raw write + coordination; and the medians of
# the disk's counters (/sys/block/DEV/stat of the work folder's disk) over each ckpt-mpirun and
# each raw write: write requests, MiB, busy ms, discards, flushes. SAVE=DIR keeps the
# per-snapshot figures there (FLAVOR.npN.wW.json, .raw, .disk, .rawdisk).
#
# Restart (RESTART_RANKS ranks, default 8; windows 0): the job of the last round ends with a
# snapshot (--term); then, alternating, REPS times (default 5): the raw read of its images (one
# reader per image, at once; cold with DROP=1, which drops the page cache as root before both the
# read and the restart; warm, from the page cache, by default), a native start of the same job
# ("ckptjob start": launch, MPI_Init, a barrier, MPI_Finalize; its longest MPI_Init is printed
# too), "restart-mpi REF" and
# "restart-mpi --no-verify REF" (the restarted job ends at its first step). Verdict: best restart
# <= best raw read + best native start + 200 ms.
# BUILD: the build folder (default the current one). BENCH_DIR: where the work folder goes (default
# /work, as bench/README.md says, else $TMPDIR or /tmp). Exit status 0 every target met, 1 not, 2
# the benchmark could not run.
flavors=${*:-ompi mpich}
. "$(dirname "$0")/lib.sh"
rank_counts=${RANKS:-8 32}
win_counts=${WINDOWS:-0 4}
rounds=${ROUNDS:-2}
snaps=${SNAPS:-5}
reps=${REPS:-5}
restart_np=${RESTART_RANKS:-8}
ckpt=$build/tools/snapc/ckpt-mpirun
restart=$build/tools/snapc/restart-mpi
wrapper=$build/tools/mpi/mpirun
for t in "$ckpt" "$restart" "$wrapper" "$REVIVE_RESTART_RANK" "$REVIVE_COORD_BIN"; do
    [ -x "$t" ] || { echo "ckpt.sh: $t is not built (BUILD=the build folder)"; exit 2; }
done
# the work folder: the snapshots, the node-local caches ($TMPDIR) and the raw files on one disk
work=$(mktemp -d "${BENCH_DIR:-/work}/revive-ckptbench.XXXXXX" 2>/dev/null || mktemp -d)
# JOB is the running job's pid, emptied as soon as it is waited for: a pid reaped may be any
# process of the machine's by the time the script ends
trap '[ -n "${JOB:-}" ] && kill -TERM "$JOB" 2>/dev/null && sleep 2; rm -rf "$tmp" "$work"' EXIT
export TMPDIR=$work REVIVE_SOCKET_DIR=$work/sock
mkdir -m 0700 "$REVIVE_SOCKET_DIR"
fail=0
# verdict TEXT A B: prints "TEXT: met" when A <= B, else "TEXT: NOT met" (and the exit status is 1)
verdict() {
    if awk -v a="$2" -v b="$3" 'BEGIN {exit !(a + 0 <= b + 0)}'; then echo "$1: met"; else echo "$1: NOT met"; fail=1; fi
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
median() { sort -n | awk '{a[NR]=$1} END {print (NR ? (NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2) : "-")}'; }
best() { sort -n | head -1; }
# jnum JSON KEY: a number of the ckpt-mpirun --json line
jnum() { sed -n "s/.*\"$2\":\([0-9-]*\).*/\1/p" <<<"$1"; }

# the disk of the work folder's file system: its counters (/sys/block/DEV/stat), read around each
# snapshot and each raw write; none when it has none (a device mapper, a network file system)
dstat=/sys/dev/block/$(findmnt -no MAJ:MIN -T "$work" 2>/dev/null | head -1 | tr -d ' ')/stat
[ -r "$dstat" ] || dstat=
# disk_now: the counters that matter: write requests, sectors written, ms busy, discard requests,
# sectors discarded, flushes (fields 5, 7, 10, 12, 14, 16; empty where the kernel has fewer)
disk_now() { [ -n "$dstat" ] && awk '{print $5, $7, $10, $12 + 0, $14 + 0, $16 + 0}' "$dstat"; }
# disk_delta BEFORE AFTER: "requests MiB busy-ms discards discard-MiB flushes" between two disk_now
disk_delta() {
    [ -n "$1" ] && awk -v a="$1" -v b="$2" 'BEGIN {split(a, x); split(b, y)
        printf "%d %.1f %d %d %.1f %d\n", y[1] - x[1], (y[2] - x[2]) / 2048, y[3] - x[3], y[4] - x[4], (y[5] - x[5]) / 2048, y[6] - x[6]}'
}
# raw_write DIR SIZE...: ms to write one file per SIZE (bytes) at once, each with fsync; the
# disk's counters over the write in $work/rawdisk
raw_write() {
    local d=$1 i=0 t0 s pids= d0
    shift
    mkdir -p "$d"
    sync
    d0=$(disk_now)
    t0=$(now_ms)
    for s; do
        i=$((i + 1))
        dd if=/dev/zero of="$d/raw.$i" bs=1M count=$(((s + 1048575) / 1048576)) conv=fsync status=none &
        pids="$pids $!"
    done
    wait $pids # (not the job's pid)
    echo $(($(now_ms) - t0))
    disk_delta "$d0" "$(disk_now)" >"$work/rawdisk"
    rm -rf "$d"
}
# raw_read FILE...: ms to read every FILE at once
raw_read() {
    local t0 f pids=
    [ "${DROP:-0}" = 1 ] && { sync; echo 3 >/proc/sys/vm/drop_caches; }
    t0=$(now_ms)
    for f; do
        dd if="$f" of=/dev/null bs=4M status=none &
        pids="$pids $!"
    done
    wait $pids
    echo $(($(now_ms) - t0))
}
# start_job FLAVOR NP MIB WIN NAME: the job under Revive in $work/NAME; JOB its pid (until reaped)
start_job() {
    local d=$work/$5
    mkdir -p "$d/snap"
    rm -f "$d/stop" "$d/stop.ready"
    (cd "$d" && PATH=$(dirname "$launcher"):$PATH exec "$wrapper" -am ft-enable-cr --ckpt-dir "$d/snap" \
        -n "$2" "$build/bench/mpi/ckptjob-$1" loop "$3" "$4" "$d/stop") >"$d/job.out" 2>"$d/job.err" </dev/null &
    JOB=$!
    local end=$((SECONDS + 300))
    until [ -e "$d/stop.ready" ]; do
        kill -0 $JOB 2>/dev/null || { echo "ckpt.sh: the job $5 ended: $(tail -2 "$d/job.err" | tr '\n' ' ')"; exit 2; }
        [ $SECONDS -lt $end ] || { echo "ckpt.sh: the job $5 did not start within 300 s"; exit 2; }
        sleep 0.2
    done
}
# stop_job NAME: lets the job end and checks that it ended well
stop_job() {
    touch "$work/$1/stop"
    local job=$JOB
    JOB=
    wait $job || { echo "ckpt.sh: the job $1 ended with status $?: $(tail -2 "$work/$1/job.err" | tr '\n' ' ')"; exit 2; }
    grep -q '^ckptjob: ok' "$work/$1/job.out" || { echo "ckpt.sh: the job $1: $(cat "$work/$1/job.out")"; exit 2; }
}
# snapshot NAME [--term]: one snapshot of the running job, its JSON line appended to NAME.json,
# then the raw write of its images' sizes appended to NAME.raw; REF the reference
snapshot() {
    local out st d0
    d0=$(disk_now)
    out=$(timeout -k 5 300 "$ckpt" --json $2 $JOB 2>"$work/ck.err"); st=$?
    disk_delta "$d0" "$(disk_now)" >>"$work/$1.disk"
    [ $st = 0 ] || { echo "ckpt.sh: ckpt-mpirun $2 of $1: status $st: $(tail -2 "$work/ck.err" | tr '\n' ' ')"; exit 2; }
    head -1 <<<"$out" >>"$work/$1.json"
    REF=$(tail -n1 <<<"$out")
    # the images' sizes: the committed sequence's rank images
    local sizes
    sizes=$(find "$REF" -maxdepth 1 -name '*.img' -printf '%s\n')
    [ -n "$sizes" ] || { echo "ckpt.sh: no rank image in $REF"; ls "$REF"; exit 2; }
    raw_write "$work/raw" $sizes >>"$work/$1.raw"
    cat "$work/rawdisk" >>"$work/$1.rawdisk"
}

for fl in $flavors; do
    case $fl in
    ompi) launcher=$(sed -n 's/^MPIEXEC_OMPI = //p' "$build/Makefile") ;;
    mpich) launcher=$(sed -n 's/^MPIEXEC_MPICH = //p' "$build/Makefile") ;;
    *) echo "ckpt.sh: unknown MPI '$fl' (ompi or mpich)"; exit 2 ;;
    esac
    [ -x "$build/bench/mpi/ckptjob-$fl" ] || { echo "$fl: $build/bench/mpi/ckptjob-$fl not built"; continue; }
    [ "$fl" = mpich ] && export REVIVE_MPI_YIELD_WHEN_IDLE=${REVIVE_MPI_YIELD_WHEN_IDLE:-1}
    echo "== $fl: global checkpoints, $snaps per round, $rounds rounds ($(uname -r), $(nproc) cores," \
        "load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%F %H:%M') UTC)"
    rm -f "$work"/*.json "$work"/*.raw "$work"/*.disk "$work"/*.rawdisk
    for round in $(seq "$rounds"); do
        for np in $rank_counts; do
            mib=${MIB:-$([ "$np" -le 8 ] && echo 16 || echo "${SMALL_MIB:-1}")}
            for w in $win_counts; do
                name=$fl.np$np.w$w
                start_job "$fl" "$np" "$mib" "$w" "$name"
                for s in $(seq "$snaps"); do snapshot "$name"; done
                if [ "$round" = "$rounds" ] && [ "$np" = "$restart_np" ] && [ "$w" = 0 ]; then
                    snapshot "$name.term" --term
                    wait $JOB
                    JOB=
                    restart_ref=$REF
                else
                    stop_job "$name"
                fi
            done
        done
    done
    printf '%-14s %6s %7s %8s %7s %8s %8s %9s %8s %8s %8s\n' "ranks,windows" MiB targets converged drained \
        captured committed coordinat capture rawwrite total/lim
    for np in $rank_counts; do
        mib=${MIB:-$([ "$np" -le 8 ] && echo 16 || echo "${SMALL_MIB:-1}")}
        for w in $win_counts; do
            f=$work/$fl.np$np.w$w.json
            [ -s "$f" ] || continue
            col() { while read -r l; do jnum "$l" "$1"; done <"$f" | median; }
            # per snapshot: coordination = committed - (captured - drained)
            coord=$(while read -r l; do echo $(($(jnum "$l" established) - $(jnum "$l" captured) + $(jnum "$l" drained))); done <"$f" | median)
            cap=$(while read -r l; do echo $(($(jnum "$l" captured) - $(jnum "$l" drained))); done <"$f" | median)
            raw=$(median <"$work/$fl.np$np.w$w.raw")
            est=$(col established)
            printf '%-14s %6s %7s %8s %7s %8s %8s %9s %8s %8s %8s\n' "$np,$w" "$mib" "$(col targets)" "$(col quiesced)" \
                "$(col drained)" "$(col captured)" "$est" "$coord" "$cap" "$raw" \
                "$(awk -v t="$est" -v r="$raw" -v c="$coord" 'BEGIN {printf "%.2f", t / (r + c)}')"
            echo "$np $w $coord $est $raw" >>"$work/$fl.verdicts"
        done
    done
    echo "(ms from the request, median of $((snaps * rounds)) snapshots; coordinat = committed - capture;" \
        "capture = captured - drained; rawwrite: the images' bytes written at once with fsync, median;" \
        "total/lim = committed / (rawwrite + coordinat))"
    for f in "$work/$fl".np*.disk; do
        [ -s "$f" ] || continue
        # dcol FILE N: the median of column N
        dcol() { awk -v n="$2" '{print $n}' "$1" | median; }
        r=${f%.disk}.rawdisk
        echo "disk ${f##*/} (medians): snapshot $(dcol "$f" 1) write requests, $(dcol "$f" 2) MiB," \
            "busy $(dcol "$f" 3) ms, $(dcol "$f" 4) discards ($(dcol "$f" 5) MiB), $(dcol "$f" 6) flushes;" \
            "raw write $(dcol "$r" 1) requests, $(dcol "$r" 2) MiB, busy $(dcol "$r" 3) ms, $(dcol "$r" 4) discards," \
            "$(dcol "$r" 6) flushes"
    done
    # SAVE=DIR: the per-snapshot figures kept (FLAVOR.npN.wW.json, .raw, .disk, .rawdisk)
    [ -n "${SAVE:-}" ] && mkdir -p "$SAVE" && for x in json raw disk rawdisk; do cp "$work/$fl".np*."$x" "$SAVE/" 2>/dev/null; done
    while read -r np w coord est raw; do
        if [ "$np" -le 8 ]; then
            verdict "$fl $np ranks, $w windows: coordination $coord ms <= 100 ms" "$coord" 100
        else
            echo "$fl $np ranks, $w windows: coordination $coord ms (no target; oversubscribed $np on $(nproc) cores)"
        fi
        verdict "$fl $np ranks, $w windows: committed $est ms <= raw write $raw + coordination $coord ms" \
            "$est" "$(awk -v a="$raw" -v b="$coord" 'BEGIN {print a + b}')"
    done <"$work/$fl.verdicts"
    rm -f "$work/$fl.verdicts"

    [ -n "${restart_ref:-}" ] || continue
    touch "$work/$fl.np$restart_np.w0/stop" # the restarted job ends at its first step
    imgs=$(find "$restart_ref" -maxdepth 1 -name '*.img')
    : >"$work/read"; : >"$work/start"; : >"$work/init"; : >"$work/rst"; : >"$work/rstnv"
    for r in $(seq "$reps"); do
        # shellcheck disable=SC2086
        raw_read $imgs >>"$work/read"
        t0=$(now_ms)
        timeout -k 5 120 "$launcher" -n "$restart_np" "$build/bench/mpi/ckptjob-$fl" start >"$work/start.out" 2>"$work/start.err" </dev/null ||
            { echo "ckpt.sh: the native start failed: $(tail -2 "$work/start.err")"; exit 2; }
        echo $(($(now_ms) - t0)) >>"$work/start"
        sed -n 's/^ckptjob: MPI_Init ms //p' "$work/start.out" >>"$work/init"
        for v in "" --no-verify; do
            [ "${DROP:-0}" = 1 ] && { sync; echo 3 >/proc/sys/vm/drop_caches; }
            t0=$(now_ms)
            (cd "$work" && PATH=$(dirname "$launcher"):$PATH exec timeout -k 5 300 "$restart" $v "$restart_ref") \
                >"$work/rst.out" 2>"$work/rst.err" </dev/null ||
                { echo "ckpt.sh: restart-mpi $v failed: $(tail -3 "$work/rst.err" | tr '\n' ' ')"; exit 2; }
            echo $(($(now_ms) - t0)) >>"$work/rst${v:+nv}"
            grep -q '^ckptjob: ok' "$work/rst.out" || { echo "ckpt.sh: the restarted job: $(cat "$work/rst.out")"; exit 2; }
        done
    done
    rd=$(best <"$work/read"); st=$(best <"$work/start"); rs=$(best <"$work/rst"); rn=$(best <"$work/rstnv")
    echo "-- $fl restart of $restart_np ranks ($(du -cb $imgs | tail -1 | cut -f1) bytes of images," \
        "$([ "${DROP:-0}" = 1 ] && echo cold || echo warm) page cache), ms, best of $reps" \
        "(median): raw read $rd ($(median <"$work/read")), native start $st ($(median <"$work/start"))," \
        "restart-mpi $rs ($(median <"$work/rst")), restart-mpi --no-verify $rn ($(median <"$work/rstnv"));" \
        "the native start's longest MPI_Init $(best <"$work/init") ($(median <"$work/init"))"
    for pair in "restart-mpi:$rs" "restart-mpi --no-verify:$rn"; do
        t=${pair##*:}
        verdict "$fl restart: ${pair%:*} $t ms (the native start + $((t - st)) ms) <= raw read $rd + native start $st + 200 ms" \
            "$t" $((rd + st + 200))
    done
    restart_ref=
done
exit $fail
