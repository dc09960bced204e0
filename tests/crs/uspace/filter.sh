#!/bin/bash
# A capture filter leaves memory (a whole mapping and the middle of another),
# a thread and a descriptor out of the image: cr_info --json does not list
# them, the restarted process has none of them and everything else as it
# was, and the original runs on untouched. A registered extension producer's
# bytes are in the image as an extension section.
set -u
. "$(dirname "$0")/lib.sh"
T=$B/tests/crs/uspace
restore_workdir filter
fails=0
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1"; fails=1; }

clean_exec "$T/filter" img 2>orig.err </dev/null | cat >orig.out
st=${PIPESTATUS[0]}
[ "$st" = 0 ] && grep -qx "continue ok" orig.out && pass "the original runs on with everything" ||
    { fail "original: status $st"; cat orig.out orig.err; }

if "$B/tools/cr_info" --json img >info.json 2>info.err; then
    if python3 - orig.out info.json <<'PY'
import json, sys
out = open(sys.argv[1]).read().split("\n")
info = json.load(open(sys.argv[2]))
regions = [(int(r["start"], 16), int(r["end"], 16)) for r in info["regions"]]
bad = []
for line in out:
    w = line.split()
    if line.startswith("left-out region") or line.startswith("kept region"):
        s, e = int(w[2], 16), int(w[3], 16)
        covered = sum(max(0, min(e, re) - max(s, rs)) for rs, re in regions)
        if w[0] == "left-out" and covered:
            bad.append("left-out memory 0x%x-0x%x is in the image" % (s, e))
        if w[0] == "kept" and covered != e - s:
            bad.append("kept memory 0x%x-0x%x is not all in the image" % (s, e))
    elif line.startswith("left-out thread"):
        if int(w[2]) in [t["tid"] for t in info["threads"]]:
            bad.append("left-out thread %s is in the image" % w[2])
    elif line.startswith("left-out fd") or line.startswith("kept fd"):
        there = int(w[2]) in [f["fd"] for f in info["fds"]]
        if there != (w[0] == "kept"):
            bad.append("descriptor %s %s the image" % (w[2], "missing from" if w[0] == "kept" else "in"))
exts = [(x["owner"], x["size"]) for x in info.get("extensions", [])]
if exts != [("test", 100000)]:
    bad.append("extensions %s, expected [('test', 100000)]" % exts)
if len(info["threads"]) != 3:
    bad.append("%d threads in the image, expected 3 (main, the kept one, libcr's)" % len(info["threads"]))
if bad:
    print("\n".join(bad))
sys.exit(1 if bad else 0)
PY
    then pass "cr_info --json: no left-out region, thread or descriptor; every kept one there; the extension"
    else fail "cr_info --json shows what was left out"
    fi
else
    fail "cr_info: $(cat info.err)"
fi

timeout 60 "$B/tools/cr_restart" img 2>r.err </dev/null | cat >r.out
st=${PIPESTATUS[0]}
[ "$st" = 0 ] && grep -qx "restarted ok" r.out &&
    pass "restarted: left-out memory unmapped, thread gone, descriptor closed; the rest intact" ||
    { fail "restart: status $st"; cat r.out r.err; }
clean_exec "$T/filter" bad.img bad-producer 2>bad.err </dev/null | cat >bad.out
st=${PIPESTATUS[0]}
if [ "$st" = 0 ] && grep -qx "refused ok" bad.out &&
    grep -q "checkpoint failed: the test extension's producer failed: Input/output error" bad.err; then
    pass "a failing extension producer fails the checkpoint: $(grep -o 'checkpoint failed.*' bad.err)"
else
    fail "failing producer: status $st"; cat bad.out bad.err
fi
[ "$fails" = 0 ]
