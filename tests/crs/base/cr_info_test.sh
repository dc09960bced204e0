#!/bin/sh
# cr_info on the sample image (with extensions): text and --json show what was written,
# --verify passes, and a damaged, truncated or missing image exits 1 with a
# message on stderr and nothing on stdout; cr_restart of a truncated one says what to do.
set -u
b=${REVIVE_BUILDDIR:-.}
info=$b/tools/cr_info
mk=$b/tests/crs/base/make_sample_image
dir=$(mktemp -d "${TMPDIR:-/tmp}/revive-crinfo.XXXXXX") || exit 1
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$mk" "$dir/img" 3 ext || fail "cannot make the sample image"

"$info" --verify "$dir/img" >"$dir/out" 2>"$dir/err" || fail "cr_info --verify exited $?: $(cat "$dir/err")"
for want in 'format:   version 2, 46464 bytes, 15 sections, zstd-compressed chunks' 'process 4242' 'exe:      /usr/bin/sample' \
        'tid 4242 (main)' 'tid 4243 (manager)' 'regions: 6' \
        '0000000030000000-0000000030800000 rw-p anon           4214784 stored  [heap]' \
        'r-xp vdso                 0 stored  [vdso]' '/usr/lib/libsample.so.1  dev 8:1 ino 1234' \
        'build-id a0a1a2a3' '3 regular   /home/user/data "x".txt offset 12345 flags 02' \
        'fds: 8' '7 pipe      pipe 0 (23 bytes held) flags 01' '8 pipe      pipe 1 (0 bytes held)' \
        'signal handlers set: 2' 'SIGINT     handler 0x20000200' 'SIGPIPE    ignored' \
        'extensions: 3' '  mpi                    300 bytes  checksum ' \
        '  test.counters            8 bytes  checksum ' '  mpi                      0 bytes  checksum ' \
        'totals: 6 regions mapping 8499200 bytes; 7 chunks holding 4235264 bytes' \
        'verify: all 7 chunks OK'; do
    grep -qF -- "$want" "$dir/out" || { cat "$dir/out"; fail "text output lacks: $want"; }
done

"$info" --json "$dir/img" >"$dir/json" || fail "cr_info --json exited $?"
if command -v python3 >/dev/null 2>&1; then
    python3 - "$dir/json" <<'PY' || fail "JSON output wrong"
import json, sys
d = json.load(open(sys.argv[1]))
def eq(got, want, what):
    if got != want:
        sys.exit("%s: got %r, expected %r" % (what, got, want))
eq(d["header"]["version"], 2, "version")
eq(d["header"]["sections"], 15, "sections")
eq([(x["owner"], x["size"]) for x in d["extensions"]],
   [("mpi", 300), ("test.counters", 8), ("mpi", 0)], "extensions")
if not all(x["checksum"].startswith("0x") for x in d["extensions"]):
    sys.exit("extension checksums: %r" % d["extensions"])
eq(list(d)[-3:], ["extensions", "totals", "verified"], "keys in order")
eq(d["header"]["compressed"], True, "compressed")
eq(d["process"]["exe"], "/usr/bin/sample", "exe")
eq([t["tid"] for t in d["threads"]], [4242, 4243], "tids")
eq([r["kind"] for r in d["regions"]], ["anon", "file", "anon", "shmem", "anon", "vdso"], "kinds")
eq(d["regions"][2]["bytes_stored"], 4214784, "heap bytes")
eq(d["files"][0]["build_id"][:8], "a0a1a2a3", "build id")
eq(d["fds"][3]["path"], '/home/user/data "x".txt', "fd path (escaped quotes)")
eq([(f["fd"], f["kind"], f["memfd"]) for f in d["fds"][5:]],
   [(6, "pipe", 0), (7, "pipe", 0), (8, "pipe", 1)], "pipe fds")
eq([(s["name"], s["handler"]) for s in d["signals"]],
   [("SIGINT", "0x20000200"), ("SIGPIPE", "ignore")], "signals")
eq(d["totals"]["chunks"], 7, "chunks")
eq(d["verified"], False, "verified")
PY
else
    grep -q '"exe": "/usr/bin/sample"' "$dir/json" || fail "JSON output lacks the exe"
fi

# Without extensions (version 1), no extensions line and no "extensions" key.
"$mk" "$dir/plain" 3 || fail "cannot make the sample image without extensions"
"$info" "$dir/plain" >"$dir/out" || fail "cr_info on the plain sample exited $?"
grep -qF 'format:   version 1, ' "$dir/out" || fail "plain sample: not version 1"
grep -q '^extensions' "$dir/out" && fail "plain sample: an extensions line"
"$info" --json "$dir/plain" | grep -q '"extensions"' && fail "plain sample: an extensions key"

# A flipped byte in chunk data: open succeeds, --verify must not.
cp "$dir/img" "$dir/bad"
printf '\377' | dd of="$dir/bad" bs=1 seek=4100 conv=notrunc 2>/dev/null
"$info" "$dir/bad" >/dev/null 2>&1 || fail "cr_info without --verify refused an image with intact metadata"
"$info" --verify "$dir/bad" >"$dir/out" 2>"$dir/err" && fail "--verify accepted a damaged chunk"
[ $? -eq 1 ] || fail "--verify exit status not 1"
grep -q 'checksum mismatch' "$dir/err" || fail "message: $(cat "$dir/err")"
[ -s "$dir/out" ] && fail "output printed for an invalid image"

# Truncated, missing, not an image, bad usage.
head -c 20000 "$dir/img" >"$dir/short"
"$info" "$dir/short" 2>"$dir/err"; [ $? -eq 1 ] || fail "truncated image: exit not 1"
grep -q 'truncated at byte 20000 of' "$dir/err" || fail "message: $(cat "$dir/err")"
# cr_restart of it: what to do in cr_restart's terms (another checkpoint file of the process)
"$b/tools/cr_restart" "$dir/short" </dev/null >/dev/null 2>"$dir/err"; [ $? -eq 1 ] || fail "cr_restart of a truncated image: exit not 1"
grep -qF 'the file is incomplete; restart an earlier checkpoint of the process instead (cr_info --verify FILE checks one first)' "$dir/err" ||
    fail "cr_restart of a truncated image: $(cat "$dir/err")"
"$info" "$dir/none" 2>"$dir/err"; [ $? -eq 1 ] || fail "missing file: exit not 1"
grep -q 'cannot open' "$dir/err" || fail "message: $(cat "$dir/err")"
"$info" /etc/passwd 2>"$dir/err"; [ $? -eq 1 ] || fail "not an image: exit not 1"
grep -q 'not a Revive image' "$dir/err" || fail "message: $(cat "$dir/err")"
"$info" --bogus "$dir/img" 2>/dev/null; [ $? -eq 2 ] || fail "bad option: exit not 2"
echo "PASS: cr_info text, --json, --verify and refusals"
exit 0
