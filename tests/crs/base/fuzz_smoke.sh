#!/bin/sh
# Short libFuzzer run of the image reader from a seed corpus of sample
# images made now (small; uncompressed and zstd; with and without extensions; with kernel objects). Skips (77) without clang.
# Longer runs by hand: see src/crs/base/README.md.
set -u
b=${REVIVE_BUILDDIR:-.}
fuzz=$b/tests/crs/base/fuzz_image_reader
mk=$b/tests/crs/base/make_sample_image
[ -x "$fuzz" ] || { echo "SKIP: $fuzz not built (needs clang)"; exit 77; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/revive-fuzz.XXXXXX") || exit 1
trap 'rm -rf "$dir"' EXIT
mkdir "$dir/corpus"
"$mk" "$dir/corpus/small-zstd" 3 small &&
"$mk" "$dir/corpus/small-raw" 0 small &&
"$mk" "$dir/corpus/small-zstd9" 9 small &&
"$mk" "$dir/corpus/small-ext-zstd" 3 small ext &&
"$mk" "$dir/corpus/small-ext-raw" 0 small ext &&
"$mk" "$dir/corpus/small-kobj" 3 small ext kobj || { echo "FAIL: cannot make the seed images"; exit 1; }
# libFuzzer exits non-zero and prints the crashing input on any finding.
if ! "$fuzz" -runs="${FUZZ_RUNS:-20000}" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$dir/" "$dir/corpus" >"$dir/log" 2>&1; then
    tail -n 40 "$dir/log"
    for f in "$dir"/crash-* "$dir"/leak-* "$dir"/timeout-* "$dir"/oom-*; do
        [ -f "$f" ] && cp "$f" "$b/tests/crs/base/" && echo "input kept as $b/tests/crs/base/${f##*/}"
    done
    echo "FAIL: the image reader fuzzer found a problem"
    exit 1
fi
tail -n 2 "$dir/log"
echo "PASS: ${FUZZ_RUNS:-20000} fuzz runs without a finding"
exit 0
