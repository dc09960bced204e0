#!/bin/sh
# The fault points listed in src/common/README.md are those of src/common/fault_points.def,
# in the same order.
set -u
src=${REVIVE_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
def=$(sed -n 's/^REVIVE_FAULT_POINT([a-z0-9_]*, *"\([^"]*\)".*/\1/p' "$src/src/common/fault_points.def")
doc=$(sed -n '/^## Fault points/,/^## /s/^| `\([^`]*\)` |.*/\1/p' "$src/src/common/README.md")
[ -n "$def" ] || { echo "FAIL: no fault point found in fault_points.def"; exit 1; }
if [ "$def" != "$doc" ]; then
    echo "FAIL: src/common/README.md lists other fault points than fault_points.def"
    echo "fault_points.def: $(echo $def)"
    echo "README.md:        $(echo $doc)"
    exit 1
fi
echo "PASS: the README lists the $(echo "$def" | wc -l) fault points of fault_points.def"
