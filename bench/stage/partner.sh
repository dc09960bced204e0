#!/bin/bash
# bench/stage/partner.sh [BUILDDIR]: with partner copies (--ckpt-partner), each rank's copy to its
# partner node and its own staging to the snapshot directory run at the same time (session 12)
# instead of one after the other. One run, two hosts of the test bed (tests/hosts/hostbed.sh:
# network namespaces; MPICH through the bed's agent), one rank of bench/stage/bigmem.c (MB MiB
# of incompressible memory) on each; the node-local caches on a tmpfs (a node's local disk is
# faster than shared storage), the snapshot directory on the disk of BENCH_DIR; a real copy
# (REVIVE_STAGE_COPY=1: the caches and the snapshot directory are both under this machine's
# file systems). Two jobs run side by side, idle while they hold: "parallel" (the default) and
# "serial" (REVIVE_PARTNER_SERIAL=1, the order before session 12: partner copy, then staging);
# REPS rounds, each a checkpoint of both (which goes first alternates). Timed per checkpoint:
# "recovered" (every image in its node's cache, the ranks run on) -> "established" (every image
# verified on shared storage and every partner copy verified, snapshot.meta durable) of
# ckpt-mpirun --json. Printed: both per round, the per-round ratio serial / parallel and its
# median (target > 1; at best (partner + staging) / max(partner, staging)). Environment: MB
# (default 128), REPS (5), AA (1: both jobs serial, an A/A run: the ratio the noise alone
# gives), BENCH_DIR (default /work if writable, else /tmp), LOGS (a folder
# that gets the jobs' logs). Needs root (namespaces, a tmpfs). Exit 0 target met, 1 not, 2 could
# not run.
set -u
export LC_ALL=C
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=${1:-${REVIVE_BUILDDIR:-$src/_build}}
MB=${MB:-128} REPS=${REPS:-5}
. "$here/lib.sh"
stage_bench_setup "partner" "the host test bed, a tmpfs"
export REVIVE_SRCDIR=$src
. "$src/tests/hosts/hostbed.sh"
PGIDS=""
cleanup() {
    for g in $PGIDS; do kill -KILL -- "-$g" 2>/dev/null; done
    [ -n "${LOGS:-}" ] && mkdir -p "$LOGS" && cp "$W"/*.err "$W"/span.* "$LOGS"/ 2>/dev/null
    hostbed_down
    rm -rf "$W"
}
trap cleanup EXIT
mkdir -m 0700 "$W/shared" "$W/sock" "$W/hostbed"
# each node's cache: a tmpfs (own image + the partner's of at most two sequences per job)
hostbed_tmpfs "$W/hostbed/node" $((MB * 12 + 256))m
hostbed_up 2 >/dev/null || die "cannot make the host test bed"
mpicc.mpich -O2 -Wall -Wextra -Werror -o "$W/bigmem" "$here/bigmem.c" || die "cannot build bigmem"
export REVIVE_MPI_LIBDIR=$build/.libs REVIVE_EXEC=$build/tools/mpi/revive-exec
export REVIVE_COORD_BIN=$build/tools/snapc/revive-coord REVIVE_RESTART_RANK=$build/tools/revive-restart-rank
export REVIVE_SOCKET_DIR=$W/sock PATH=$(dirname "$launcher"):$PATH
CKPT=$build/tools/snapc/ckpt-mpirun
LOPTS=(-launcher ssh -launcher-exec "$HB_AGENT" -iface "$HB_IF" -hosts h1:1,h2:1)
median() { sort -n | awk '{a[NR]=$1} END {print (NR ? a[int((NR + 1) / 2)] : 0)}'; }
# job NAME VAR=VALUE...: bigmem under Revive on h1,h2 with partner copies, started from h1
# (JOB: its mpirun, the coordinator), holding on $W/go.NAME
job() {
    local name=$1; shift
    rm -f "$W/go.$name" "$W/go.$name".ready.*
    mkdir -m 0700 "$W/shared/$name"
    nsenter -t "$(host_pid h1)" -n -u -m -- env REVIVE_VERBOSE=2 REVIVE_STAGE_COPY=1 "$@" setsid "$build/tools/mpi/mpirun" \
        -am ft-enable-cr --ckpt-dir "$W/shared/$name" --ckpt-local "$HB/local" --ckpt-partner \
        --ckpt-keep 1 "${LOPTS[@]}" -n 2 "$W/bigmem" "$MB" "$W/go.$name" \
        >"$W/$name.out" 2>"$W/$name.err" </dev/null &
    JOB=$!
    PGIDS="$PGIDS $JOB"
    local t=0
    until [ "$(ls "$W/go.$name".ready.* 2>/dev/null | wc -l)" -ge 2 ]; do
        sleep 0.1; t=$((t + 1)); [ $t -lt 1200 ] || die "the job $name did not start: $(tail -3 "$W/$name.err")"
    done
    # nsenter, env and setsid exec: $JOB is the mpirun wrapper, which became the coordinator
    [ "$(cat /proc/$JOB/comm 2>/dev/null)" = revive-coord ] ||
        die "the job $name: $JOB is $(cat /proc/$JOB/comm 2>/dev/null), not the coordinator"
}
# ckpt NAME PID: a checkpoint; appends its recovered -> established span (ms) to $W/span.NAME
ckpt() {
    on h1 timeout 600 "$CKPT" --wait --json "$2" >"$W/ck.json" 2>"$W/ck.err" ||
        die "ckpt-mpirun ($1): $(cat "$W/ck.err")"
    local rec est
    rec=$(sed -n 's/.*"recovered":\([0-9-]*\).*/\1/p' "$W/ck.json" | head -1)
    est=$(sed -n 's/.*"established":\([0-9-]*\).*/\1/p' "$W/ck.json" | head -1)
    local ref
    ref=$(tail -n1 "$W/ck.json")
    grep -qx "partner.state protected" "$ref/snapshot.meta" ||
        die "$1: $ref is not protected by partner copies: $(grep "^partner" "$ref/snapshot.meta")"
    echo $((est - rec)) >>"$W/span.$1"
}

echo "bench/stage/partner: 2 hosts x 1 rank x $MB MiB (MPICH), caches on a tmpfs, snapshot directory in $W ($(df -T "$W" | awk 'NR == 2 {print $1, $2}')); $REPS rounds; load $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
on h1 timeout 600 "$launcher" "${LOPTS[@]}" -n 2 "$W/bigmem" "$MB" /dev/null >"$W/native.out" 2>"$W/native.err" ||
    die "native run failed: $(tail -3 "$W/native.err")"
if [ "${AA:-0}" = 1 ]; then job parallel REVIVE_PARTNER_SERIAL=1; else job parallel; fi
C_P=$JOB
job serial REVIVE_PARTNER_SERIAL=1
C_S=$JOB
: >"$W/span.parallel"; : >"$W/span.serial"; : >"$W/ratio"
for i in $(seq "$REPS"); do
    sync
    if [ $((i % 2)) = 1 ]; then ckpt parallel $C_P; sync; ckpt serial $C_S
    else ckpt serial $C_S; sync; ckpt parallel $C_P; fi
    echo "$(tail -n1 "$W/span.serial") $(tail -n1 "$W/span.parallel")" |
        awk '{printf "%.3f\n", ($2 > 0 ? $1 / $2 : 0)}' >>"$W/ratio"
done
touch "$W/go.parallel" "$W/go.serial"
wait $C_P $C_S
cmp -s "$W/native.out" "$W/parallel.out" || die "the parallel job's result differs from the native run"
cmp -s "$W/native.out" "$W/serial.out" || die "the serial job's result differs from the native run"
echo "recovered -> established per round (ms): parallel" $(cat "$W/span.parallel") "; serial" $(cat "$W/span.serial")
echo "median (ms): parallel $(median <"$W/span.parallel"), serial $(median <"$W/span.serial"); per round serial/parallel:" $(cat "$W/ratio")
r=$(median <"$W/ratio")
echo "load at the end $(cut -d' ' -f1-3 /proc/loadavg)"
if awk -v r="$r" 'BEGIN { exit !(r > 1) }'; then
    echo "target met: staging span serial / parallel $r > 1"; exit 0
fi
echo "target NOT met: staging span serial / parallel $r (want > 1)"; exit 1
