#!/bin/bash
# bench/mpi/check.sh [FLAVOR]: restart-mpi's check of a snapshot (every rank image against its
# metadata, before anything is launched) against a raw read of the same images, in the same run
# (README.md beside it, "restart-mpi's check").
#
# A job of NP ranks (default 8) of bench/mpi/ckptjob-FLAVOR (default ompi), MIB MiB of memory per
# rank (default 16), ends with a snapshot (ckpt-mpirun --term); then, alternating, REPS times
# (default 7), from the page cache (warm): the raw read of its images (one dd per image, at
# once), "restart-mpi --showme REF" (the check with every chunk's checksum, and the files the
# images map; nothing launched), "restart-mpi --showme --no-verify REF" (sizes, headers and
# file checksums) and "ckpt-info --verify REF". Printed: each one's best and median ms, and the
# best over the raw read's best. BUILD: the build folder (default the current one). BENCH_DIR:
# where the work folder goes (default /work, else $TMPDIR or /tmp). Exit status 0, or 2 when it
# could not run.
fl=${1:-ompi}
. "$(dirname "$0")/lib.sh"
np=${NP:-8}
mib=${MIB:-16}
reps=${REPS:-7}
ckpt=$build/tools/snapc/ckpt-mpirun
restart=$build/tools/snapc/restart-mpi
info=$build/tools/snapc/ckpt-info
wrapper=$build/tools/mpi/mpirun
job=$build/bench/mpi/ckptjob-$fl
for t in "$ckpt" "$restart" "$info" "$wrapper" "$job" "$REVIVE_RESTART_RANK" "$REVIVE_COORD_BIN"; do
    [ -x "$t" ] || { echo "check.sh: $t is not built (BUILD=the build folder)"; exit 2; }
done
case $fl in
ompi) launcher=$(sed -n 's/^MPIEXEC_OMPI = //p' "$build/Makefile") ;;
mpich) launcher=$(sed -n 's/^MPIEXEC_MPICH = //p' "$build/Makefile") ;;
*) echo "check.sh: unknown MPI '$fl' (ompi or mpich)"; exit 2 ;;
esac
work=$(mktemp -d "${BENCH_DIR:-/work}/revive-checkbench.XXXXXX" 2>/dev/null || mktemp -d)
trap '[ -n "${JOB:-}" ] && kill -TERM "$JOB" 2>/dev/null && sleep 2; rm -rf "$tmp" "$work"' EXIT
export TMPDIR=$work REVIVE_SOCKET_DIR=$work/sock
mkdir -m 0700 "$REVIVE_SOCKET_DIR"
now_ms() { echo $(($(date +%s%N) / 1000000)); }
median() { sort -n | awk '{a[NR]=$1} END {print (NR ? (NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2) : "-")}'; }
best() { sort -n | head -1; }

# the job and its snapshot
mkdir -p "$work/snap"
(cd "$work" && PATH=$(dirname "$launcher"):$PATH exec "$wrapper" -am ft-enable-cr --ckpt-dir "$work/snap" \
    -n "$np" "$job" loop "$mib" 0 "$work/stop") >"$work/job.out" 2>"$work/job.err" </dev/null &
JOB=$!
end=$((SECONDS + 300))
until [ -e "$work/stop.ready" ]; do
    kill -0 $JOB 2>/dev/null || { echo "check.sh: the job ended: $(tail -2 "$work/job.err" | tr '\n' ' ')"; exit 2; }
    [ $SECONDS -lt $end ] || { echo "check.sh: the job did not start within 300 s"; exit 2; }
    sleep 0.2
done
ref=$(timeout -k 5 300 "$ckpt" --term $JOB 2>"$work/ck.err" | tail -n1)
wait $JOB
JOB=
[ -f "$ref/snapshot.meta" ] || { echo "check.sh: ckpt-mpirun --term: $(tail -2 "$work/ck.err" | tr '\n' ' ')"; exit 2; }
imgs=$(find "$ref" -maxdepth 1 -name '*.img')

# timed NAME CMD...: CMD's ms appended to $work/NAME (it must exit 0)
timed() {
    local name=$1 t0
    shift
    t0=$(now_ms)
    "$@" >"$work/cmd.out" 2>"$work/cmd.err" </dev/null ||
        { echo "check.sh: $*: $(tail -3 "$work/cmd.err" | tr '\n' ' ')"; exit 2; }
    echo $(($(now_ms) - t0)) >>"$work/$name"
}
raw_read() {
    local f pids=
    for f in $imgs; do
        dd if="$f" of=/dev/null bs=4M status=none &
        pids="$pids $!"
    done
    wait $pids
}
: >"$work/read"; : >"$work/deep"; : >"$work/nv"; : >"$work/info"
for r in $(seq "$reps"); do
    timed read raw_read
    timed deep "$restart" --showme "$ref"
    timed nv "$restart" --showme --no-verify "$ref"
    timed info "$info" --verify "$ref"
done
rd=$(best <"$work/read")
echo "== $fl: the check of a snapshot of $np ranks ($(du -cb $imgs | tail -1 | cut -f1) bytes of images," \
    "warm page cache; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%F %H:%M') UTC);" \
    "ms, best of $reps (median), and best / raw read's best"
for pair in "raw read:read" "restart-mpi --showme:deep" "restart-mpi --showme --no-verify:nv" "ckpt-info --verify:info"; do
    f=${pair##*:}
    b=$(best <"$work/$f")
    echo "$(printf '%-36s' "${pair%:*}") $b ($(median <"$work/$f")) $(awk -v a="$b" -v r="$rd" 'BEGIN {printf "%.2f", (r > 0 ? a / r : 0)}')"
done
exit 0
