#!/bin/bash
# halves_ckpt.sh FLAVOR: a checkpoint of running MPI ranks saves the upper half only. Two ranks
# of tests/mpi/halves_ckpt-FLAVOR run Allreduce rounds under Revive while a thread of theirs maps
# and unmaps memory through the layer's hooks (REVIVE_HALVES_CHECK=1: every query of the
# capture checks the registry's invariants and stops the rank if it finds it torn);
# cr_checkpoint takes each rank three times (in place, with a fork, in place; --ignore-fds:
# the launcher's stdio pipes have their other end in another process). Then, for every image,
# cr_info --json must show:
#   - no memory the layer called lower both before and after the checkpoints (the lower
#     namespace's objects, MPI's segments, the library threads' stacks, ...);
#   - all of the executable, [heap], [stack] and the upper namespace's libc;
#   - exactly the threads the layer calls upper (main, the rank's own, libcr's), no lower one;
#   - no lower descriptor, and the rank's own pipe (both ends) and file.
# The ranks must finish with exit status 0 (their Allreduce sums right, their memory intact).
flavor=$1
. "$(dirname "$0")/mpienv.sh" || exit $?
bin=$REVIVE_BUILDDIR/tests/mpi/halves_ckpt-$flavor
ckpt=$REVIVE_BUILDDIR/tools/cr_checkpoint
info=$REVIVE_BUILDDIR/tools/cr_info
[ -x "$bin" ] || { echo "SKIP: $bin not built"; exit 77; }
n=2
REVIVE_HALVES_CHECK=1 run_revive $n "$bin" "$tmp" >"$tmp/out" 2>"$tmp/err" </dev/null &
job=$!
fail=0
for i in $(seq 300); do
    up=0
    for r in $(seq 0 $((n - 1))); do [ -s "$tmp/pid.$r" ] && up=$((up + 1)); done
    [ $up = $n ] && break
    kill -0 $job 2>/dev/null || break
    sleep 0.1
done
[ $up = $n ] || { echo "FAIL: the ranks did not start"; cat "$tmp/out" "$tmp/err"; touch "$tmp/go"; wait $job; exit 1; }
for round in 1 2 3; do
    mode=; [ $round = 2 ] && mode=--fork
    for r in $(seq 0 $((n - 1))); do
        if ! timeout 60 "$ckpt" --ignore-fds $mode -T 50 -f "$tmp/img.$r.$round" "$(cat "$tmp/pid.$r")" 2>"$tmp/ckpt.err"; then
            echo "FAIL: cr_checkpoint of rank $r (round $round${mode:+, $mode}): $(cat "$tmp/ckpt.err")"
            fail=1
        fi
    done
done
touch "$tmp/go"
wait $job
rc=$?
if [ $rc != 0 ] || [ "$(grep -c ': ok: ' "$tmp/out")" != $n ]; then
    echo "FAIL: the ranks ended with status $rc"
    sed 's/^/  /' "$tmp/out"; sed 's/^/  err: /' "$tmp/err" | head -20
    fail=1
fi
[ $fail = 0 ] || exit 1

for r in $(seq 0 $((n - 1))); do
    for round in 1 2 3; do
        img=$tmp/img.$r.$round
        "$info" --json "$img" >"$img.json" 2>"$img.err" || { echo "FAIL: cr_info $img: $(cat "$img.err")"; fail=1; continue; }
        python3 - "$tmp/before.$r" "$tmp/after.$r" "$tmp/own.$r" "$img.json" "$r.$round" <<'PY' || fail=1
import json, re, sys
before, after, own, img, name = sys.argv[1:6]

def dump(path):
    regions, threads, fds = [], {}, {}
    for line in open(path):
        w = line.split()
        if line.startswith("region "):
            lo, hi = (int(x, 16) for x in w[1].split("-"))
            m = re.search(r" why: (.*); (.*)$", line.rstrip("\n"))
            regions.append((lo, hi, w[3], m.group(1), m.group(2)))
        elif line.startswith("thread "):
            threads[int(w[1])] = w[2]
        elif line.startswith("fd "):
            fds[int(w[1])] = (w[2], line.rstrip("\n").split("; ")[-1])
    return regions, threads, fds

def inter(a, b):  # intersection of two lists of [lo, hi)
    out = []
    for lo, hi in a:
        for l2, h2 in b:
            l, h = max(lo, l2), min(hi, h2)
            if l < h:
                out.append((l, h))
    return out

rb, tb, fb = dump(before)
ra, ta, fa = dump(after)
info = json.load(open(img))
kept = [(int(x["start"], 16), int(x["end"], 16)) for x in info["regions"]]
bad = []

# memory: nothing lower (before and after) in the image
why = {}
for lo, hi, half, w, path in rb:
    why[(lo, hi)] = "%s (%s)" % (path, w)
lower = inter([(lo, hi) for lo, hi, h, w, p in rb if h == "lower"],
              [(lo, hi) for lo, hi, h, w, p in ra if h == "lower"])
leaked = inter(lower, kept)
for lo, hi in leaked[:10]:
    src = [why[k] for k in why if k[0] <= lo < k[1]]
    bad.append("lower memory %x-%x is in the image: %s" % (lo, hi, src[0] if src else "?"))
# memory: the application's essentials all there
musthave = [(lo, hi, p) for lo, hi, h, w, p in rb if h == "upper" and
            (p in ("[heap]", "[stack]") or "halves_ckpt" in p or re.search(r"/libc\.so", p))]
for lo, hi, p in musthave:
    cov = sum(h - l for l, h in inter([(lo, hi)], kept))
    if cov != hi - lo and (lo, hi) in [(l, h) for l, h, *_ in ra]:
        bad.append("upper %s %x-%x: only %d of %d bytes in the image" % (p, lo, hi, cov, hi - lo))

# threads: exactly the upper ones
tids = sorted(t["tid"] for t in info["threads"])
upper_t = sorted(t for t, h in tb.items() if h == "upper" and ta.get(t) == "upper")
if tids != upper_t:
    bad.append("threads in the image %s, the upper ones are %s (lower: %s)" %
               (tids, upper_t, sorted(t for t, h in tb.items() if h == "lower")))
owns = [l.split() for l in open(own)]
for k, v in owns:
    if k == "thread" and int(v) not in tids:
        bad.append("the rank's own thread %s is not in the image" % v)

# descriptors: no lower one; the rank's own there
ifds = {f["fd"]: f for f in info["fds"]}
for fd, (h, tgt) in fb.items():
    if h == "lower" and fa.get(fd, ("",))[0] == "lower" and fd in ifds and ifds[fd].get("kind") != "closed":
        bad.append("lower descriptor %d (%s) is in the image as %s" % (fd, tgt, ifds[fd].get("kind")))
for k, v in owns:
    if k == "fd" and int(v) not in ifds:
        bad.append("the rank's own descriptor %s is not in the image" % v)

nlow = sum(h - l for l, h in lower)
print("%s rank image %s: %d regions (%d MiB kept), %d threads, %d fds; %d MiB of lower memory, "
      "%d lower threads and %d lower fds left out" % (
      "FAIL" if bad else "ok", name, len(kept), sum(h - l for l, h in kept) >> 20, len(tids), len(ifds),
      nlow >> 20, sum(1 for h in tb.values() if h == "lower"), sum(1 for h, t in fb.values() if h == "lower")))
for b in bad:
    print("  " + b)
sys.exit(1 if bad else 0)
PY
    done
done
exit $fail
