#!/bin/sh
# gate_order.sh: no entry point of the MPI layer reads a lower-half handle before the gate where a
# snapshot parks the thread (gate_order.py; campaign-failures.md #28): the hand-written sources
# and the generated entry points of the build tree.
: "${REVIVE_SRCDIR:?run through make check}" "${REVIVE_BUILDDIR:?run through make check}"
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }
gen=$REVIVE_BUILDDIR/src/pml_hooks/pml_entries.c
[ -f "$gen" ] || { echo "SKIP: $gen not generated (no MPI found by configure)"; exit 77; }
exec python3 "$REVIVE_SRCDIR/tests/mpi/gate_order.py" "$REVIVE_SRCDIR"/src/pml_hooks/*.c "$gen"
