#!/bin/bash
# libcr.a is linked into users' static programs (crs_static.sh): every global symbol it defines
# must carry a project prefix, or a program with a global of the same name no longer links
# ("multiple definition") or, built with -fcommon as legacy codes are, silently shares it with
# libcr (diffrev26 P-H1: the park.c and image_reader.c splits made `phase`, `slots`, `get`,
# `fail`... global; a program's `int phase;` became the park's state). Lists the offenders.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup static_names
A=$REVIVE_BUILDDIR/libcr.a
[ -f "$A" ] || crs_skip "$A is not built"
command -v nm >/dev/null || crs_skip "nm (binutils) is not installed"
# glibc/compiler names begin with _; the project's with one of these prefixes
bad=$(nm --defined-only -g "$A" 2>/dev/null | awk 'NF == 3 && $2 ~ /[A-Z]/ {print $3}' |
      grep -v -E '^(_|crs_|cr_|revive_)' | sort -u | tr '\n' ' ')
n=$(nm --defined-only -g "$A" 2>/dev/null | awk 'NF == 3 && $2 ~ /[A-Z]/' | wc -l)
[ "$n" -gt 0 ] || crs_fail "nm lists no global symbol in $A"
if [ -z "$bad" ]; then
    crs_pass "all $n global symbols of libcr.a carry a project prefix"
else
    crs_fail "libcr.a defines global symbols without a project prefix (a static program with the same name breaks): $bad"
fi
crs_summary static_names
