#!/bin/sh
# cr_info prints exactly what it printed for images of the version-1 writer
# (tests/crs/base/v1: the images and the output of cr_info --verify and
# cr_info --json of that time).
set -u
b=${REVIVE_BUILDDIR:-.}
src=${REVIVE_SRCDIR:-.}
info=$b/tools/cr_info
dir=$(mktemp -d "${TMPDIR:-/tmp}/revive-crinfo-v1.XXXXXX") || exit 1
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

for img in raw-small zstd; do
    # the output names the file as given: run where the copy is, as it was made
    cp "$src/tests/crs/base/v1/$img.img" "$dir/" || fail "cannot copy $img.img"
    (cd "$dir" && "$info" --verify "$img.img" >"$img.txt" 2>"$img.err") ||
        fail "cr_info --verify $img.img exited $?: $(cat "$dir/$img.err")"
    cmp "$src/tests/crs/base/v1/$img.txt" "$dir/$img.txt" >/dev/null ||
        { diff "$src/tests/crs/base/v1/$img.txt" "$dir/$img.txt"; fail "cr_info text for $img.img changed"; }
    case $img in raw-small) opt=--verify ;; *) opt= ;; esac
    (cd "$dir" && "$info" --json $opt "$img.img" >"$img.json" 2>"$img.err") ||
        fail "cr_info --json $img.img exited $?: $(cat "$dir/$img.err")"
    cmp "$src/tests/crs/base/v1/$img.json" "$dir/$img.json" >/dev/null ||
        { diff "$src/tests/crs/base/v1/$img.json" "$dir/$img.json"; fail "cr_info --json for $img.img changed"; }
done
echo "PASS: cr_info prints the same bytes for version-1 images"
exit 0
