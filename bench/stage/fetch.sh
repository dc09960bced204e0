#!/bin/bash
# bench/stage/fetch.sh [BUILDDIR]: restart-mpi's fetch of images from other hosts' caches
# receives the copies of several hosts at once (session 13) instead of one after the other. One
# run, HOSTS hosts of the test bed (tests/hosts/hostbed.sh: network namespaces; MPICH through
# the bed's agent), one rank of bench/stage/bigmem.c (MB MiB of incompressible memory) on each,
# the node-local caches on a tmpfs, the snapshot directory on the disk of BENCH_DIR. A --term
# snapshot, then REPS rounds of two restarts on one more host (h<HOSTS+1>, which holds
# nothing), each after every image was removed from the snapshot directory: restart-mpi fetches
# them all from the hosts' caches, every host sending at once; "parallel" (the default) and
# "serial" (REVIVE_COPY_RX_SERIAL=1: the receiver takes one copy at a time, as before session
# 13); which goes first alternates. Timed: restart-mpi's own "fetched N images (X MiB) in T ms"
# (from the first probe to the last copy verified, launches included). Printed: both per round,
# the per-round ratio serial / parallel and its median (target > 1; at best about HOSTS when the
# copies, not the launches, take the time). The holder hosts share this machine's 2 CPUs and
# disk with the restarting host, unlike nodes of a cluster: each holder's link is limited to
# LINK_MBS MB/s (tc tbf on its interface; default 40; 0: no limit), as a node's own link or disk
# slower than what the restarting host takes in; with no limit the shared CPUs and disk bound
# the copies together whatever their order. Environment: MB (default 128), HOSTS (3), REPS (5),
# AA (1: both serial, an A/A run), BENCH_DIR (default /work if writable, else /tmp), LOGS (a
# folder that gets the logs). Needs root (namespaces, a tmpfs). Exit 0 target met, 1 not, 2
# could not run.
set -u
export LC_ALL=C
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=${1:-${REVIVE_BUILDDIR:-$src/_build}}
MB=${MB:-128} REPS=${REPS:-5} HOSTS=${HOSTS:-3} LINK_MBS=${LINK_MBS:-40}
. "$here/lib.sh"
stage_bench_setup "fetch" "the host test bed, a tmpfs" tools/snapc/restart-mpi
export REVIVE_SRCDIR=$src
. "$src/tests/hosts/hostbed.sh"
PGIDS=""
cleanup() {
    for g in $PGIDS; do kill -KILL -- "-$g" 2>/dev/null; done
    [ -n "${LOGS:-}" ] && mkdir -p "$LOGS" && cp "$W"/*.err "$W"/fetch.* "$LOGS"/ 2>/dev/null
    hostbed_down
    rm -rf "$W"
}
trap cleanup EXIT
mkdir -m 0700 "$W/shared" "$W/sock" "$W/hostbed"
# each node's cache: a tmpfs (its own image)
hostbed_tmpfs "$W/hostbed/node" $((MB * (HOSTS + 1) * 3 + 256))m
hostbed_up $((HOSTS + 1)) >/dev/null || die "cannot make the host test bed"
mpicc.mpich -O2 -Wall -Wextra -Werror -o "$W/bigmem" "$here/bigmem.c" || die "cannot build bigmem"
export REVIVE_MPI_LIBDIR=$build/.libs REVIVE_EXEC=$build/tools/mpi/revive-exec
export REVIVE_COORD_BIN=$build/tools/snapc/revive-coord REVIVE_RESTART_RANK=$build/tools/revive-restart-rank
export REVIVE_SOCKET_DIR=$W/sock PATH=$(dirname "$launcher"):$PATH
CKPT=$build/tools/snapc/ckpt-mpirun RESTART=$build/tools/snapc/restart-mpi
hosts=$(for i in $(seq "$HOSTS"); do printf 'h%d:1,' "$i"; done); hosts=${hosts%,}
last=h$((HOSTS + 1))
LOPTS=(-launcher ssh -launcher-exec "$HB_AGENT" -iface "$HB_IF" -hosts "$hosts")
median() { sort -n | awk '{a[NR]=$1} END {print (NR ? a[int((NR + 1) / 2)] : 0)}'; }

echo "bench/stage/fetch: $HOSTS hosts x 1 rank x $MB MiB (MPICH), each holder's link $([ "$LINK_MBS" = 0 ] && echo "not limited" || echo "at $LINK_MBS MB/s"), caches on a tmpfs, snapshot directory in $W ($(df -T "$W" | awk 'NR == 2 {print $1, $2}')); restart on $last; $REPS rounds; load $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
on h1 timeout 600 "$launcher" "${LOPTS[@]}" -n "$HOSTS" "$W/bigmem" "$MB" /dev/null >"$W/native.out" 2>"$W/native.err" ||
    die "native run failed: $(tail -3 "$W/native.err")"
# the job, a --term snapshot (committed: every image staged and in its host's cache)
nsenter -t "$(host_pid h1)" -n -u -m -- env REVIVE_STAGE_COPY=1 setsid "$build/tools/mpi/mpirun" \
    -am ft-enable-cr --ckpt-dir "$W/shared" --ckpt-local "$HB/local" "${LOPTS[@]}" -n "$HOSTS" \
    "$W/bigmem" "$MB" "$W/go" >"$W/job.out" 2>"$W/job.err" </dev/null &
JOB=$!
PGIDS="$PGIDS $JOB"
t=0
until [ "$(ls "$W/go".ready.* 2>/dev/null | wc -l)" -ge "$HOSTS" ]; do
    sleep 0.1; t=$((t + 1)); [ $t -lt 1200 ] || die "the job did not start: $(tail -3 "$W/job.err")"
done
on h1 timeout 600 "$CKPT" --wait --term "$JOB" >"$W/ck.out" 2>"$W/ck.err" || die "ckpt-mpirun: $(cat "$W/ck.err")"
wait $JOB
ref=$(tail -n1 "$W/ck.out")
[ -f "$ref/snapshot.meta" ] || die "no snapshot at '$ref'"
touch "$W/go"   # the restarted jobs run to their end
if [ "$LINK_MBS" != 0 ]; then
    for i in $(seq "$HOSTS"); do
        on h$i tc qdisc add dev "$HB_IF" root tbf rate "${LINK_MBS}mbps" burst 1mb latency 200ms ||
            die "cannot limit h$i's link (tc tbf)"
    done
fi
printf '%s:%d\n' "$last" "$HOSTS" >"$W/hostfile"
# restart NAME VAR=VALUE...: every image removed from the snapshot directory, restart-mpi from
# the host holding nothing; appends its fetch's ms to $W/fetch.NAME
restart() {
    local name=$1; shift
    rm -f "$ref"/rank_*.img
    sync
    on "$last" env "$@" timeout 900 "$RESTART" --ckpt-local "$HB/local" --hostfile "$W/hostfile" \
        "$ref" >"$W/$name.out" 2>"$W/$name.err" </dev/null || die "restart ($name): $(tail -3 "$W/$name.err")"
    cmp -s "$W/native.out" "$W/$name.out" || die "restart ($name): the result differs from the native run"
    local ms
    ms=$(sed -n "s/^restart-mpi: fetched $HOSTS images (.*) in \([0-9]*\) ms$/\1/p" "$W/$name.err")
    [ -n "$ms" ] || die "restart ($name) fetched not every image: $(grep fetch "$W/$name.err")"
    echo "$ms" >>"$W/fetch.$name"
}
: >"$W/fetch.parallel"; : >"$W/fetch.serial"; : >"$W/ratio"
par=REVIVE_COPY_RX_SERIAL=0
[ "${AA:-0}" = 1 ] && par=REVIVE_COPY_RX_SERIAL=1
for i in $(seq "$REPS"); do
    if [ $((i % 2)) = 1 ]; then restart parallel $par; restart serial REVIVE_COPY_RX_SERIAL=1
    else restart serial REVIVE_COPY_RX_SERIAL=1; restart parallel $par; fi
    echo "$(tail -n1 "$W/fetch.serial") $(tail -n1 "$W/fetch.parallel")" |
        awk '{printf "%.3f\n", ($2 > 0 ? $1 / $2 : 0)}' >>"$W/ratio"
done
echo "fetch of $HOSTS images per round (ms): parallel" $(cat "$W/fetch.parallel") "; serial" $(cat "$W/fetch.serial")
echo "median (ms): parallel $(median <"$W/fetch.parallel"), serial $(median <"$W/fetch.serial"); per round serial/parallel:" $(cat "$W/ratio")
r=$(median <"$W/ratio")
echo "load at the end $(cut -d' ' -f1-3 /proc/loadavg)"
if awk -v r="$r" 'BEGIN { exit !(r > 1) }'; then
    echo "target met: fetch time serial / parallel $r > 1"; exit 0
fi
echo "target NOT met: fetch time serial / parallel $r (want > 1)"; exit 1
