#!/bin/bash
# bench/cache_sweep.sh [BUILDDIR]: the CPU a job's start costs (revive-coord, under a launcher
# that starts no rank: its set-up, the sweep of this host's node-local cache, its end) with the
# cache empty and with it holding the caches of N ended jobs (BENCH_CACHES, default 200; each a
# committed sequence with one image, its shared directory there), in the same run, alternated
# (BENCH_ROUNDS rounds, default 20). Prints the median of each and their ratio: 1.0 when the
# start does not depend on the cache's size (start47: 170 caches, 38-53 ms against 14-18 ms).
# The first start on the full cache lists and sweeps every cache once (no list yet:
# filem/local_gc.h) and is not counted. A benchmark with printed figures, not a test.
set -u
B=${1:-${REVIVE_BUILDDIR:-$(cd "$(dirname "$0")/.." && pwd)/_build}}
COORD=$B/tools/snapc/revive-coord
[ -x "$COORD" ] || { echo "cache_sweep: $COORD is not built (scripts/build)" >&2; exit 2; }
N=${BENCH_CACHES:-200}
R=${BENCH_ROUNDS:-20}
W=$(mktemp -d "${TMPDIR:-/tmp}/revive-bench-sweep.XXXXXX") || exit 2
trap 'rm -rf "$W"' EXIT
u=$(id -u)
(umask 077
 mkdir -p "$W/empty/revive-local-$u" "$W/full/revive-local-$u" "$W/shared" "$W/sock"
 for i in $(seq 1000 $((1000 + N - 1))); do
     j=revive_global_snapshot_$i.ckpt c=$W/full/revive-local-$u/$j
     mkdir -p "$c/0" "$W/shared/$j/0"
     echo "$W/shared/$j" >"$c/.jobdir"
     printf 'image' >"$c/0/rank_0.img"
     printf 'image' >"$W/shared/$j/0/rank_0.img"
     : >"$W/shared/$j/0/snapshot.meta"
 done)
# (not exec: the trap removes the work folder at the end)
REVIVE_SOCKET_DIR=$W/sock COORD=$COORD W=$W N=$N R=$R python3 - <<'PY'
import os, resource, statistics, subprocess
coord, w, n, rounds = os.environ["COORD"], os.environ["W"], int(os.environ["N"]), int(os.environ["R"])

def start(tmp):
    """CPU ms (user + system, the coordinator and every process it reaped) of one job's start"""
    env = dict(os.environ, TMPDIR=tmp)
    a = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([coord, "--flavor", "fake", "--", "true"], env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    b = resource.getrusage(resource.RUSAGE_CHILDREN)
    return 1000.0 * (b.ru_utime + b.ru_stime - a.ru_utime - a.ru_stime)

first = start(w + "/full")  # lists and sweeps the caches made before the list: once
e, f = [], []
for _ in range(rounds):
    e.append(start(w + "/empty"))
    f.append(start(w + "/full"))
me, mf = statistics.median(e), statistics.median(f)
print(f"job start, CPU ms (median of {rounds}): empty cache {me:.1f}, {n} ended jobs' caches "
      f"{mf:.1f}, ratio {mf / me:.2f} (the first start on those caches, which lists and sweeps "
      f"them once: {first:.1f})")
PY
