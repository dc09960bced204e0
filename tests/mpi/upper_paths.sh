#!/bin/sh
# upper_paths.sh FLAVOR: no path reaches the application's copy of the MPI library.
#  1. statically: upper_paths.py lists every symbol the MPI's Fortran (and C++) binding libraries
#     import from the MPI library's internals and fails if one is neither defined by the layer
#     nor used only by binding functions the layer replaces; with Open MPI (handles are pointers
#     to the library's objects) also every binding function that reads or writes a field of a
#     handle's object, which must be replaced by the layer (src/pml_hooks/fortran_objs.c);
#  2. at run time: upper_guard-FLAVOR enters the application's copy directly after MPI_Init; the
#     layer has made its code unreachable, so the rank must stop with the layer's message naming
#     the function and its library, not run it.
flavor=$1 fields=
. "$(dirname "$0")/mpienv.sh" || exit $?
fail=0
if [ "$flavor" = ompi ]; then
    dir=$(mpicc.openmpi --showme:libdirs 2>/dev/null | awk '{print $1}')
    core="$dir/libmpi.so $dir/libopen-rte.so $dir/libopen-pal.so"
    bind="$dir/libmpi_mpifh.so $dir/libmpi_usempif08.so $dir/libmpi_usempi_ignore_tkr.so"
    cxx="$dir/libmpi_cxx.so"
    layer=$REVIVE_BUILDDIR/.libs/revive-mpi-ompi.so
    fields=--fields
else
    dir=$(mpicc.mpich -link-info 2>/dev/null | tr ' ' '\n' | sed -n 's/^-L//p' | head -1)
    core="$dir/libmpich.so"
    bind="$dir/libmpichfort.so $dir/libmpifort.so"
    cxx="$dir/libmpichcxx.so $dir/libmpicxx.so"
    layer=$REVIVE_BUILDDIR/.libs/revive-mpi-mpich.so
fi
have() { for f in "$@"; do [ -e "$f" ] && echo "$f"; done; }
bind=$(have $bind); cxx=$(have $cxx)
if [ -z "$bind" ]; then
    echo "SKIP (static): no Fortran binding library in $dir"
elif ! python3 "$REVIVE_SRCDIR/tests/mpi/upper_paths.py" --layer "$layer" --core $(have $core) \
        --bind $bind --cxx $cxx $fields >"$tmp/paths" 2>&1; then
    echo "FAIL: paths from the binding libraries into the MPI library that the layer does not cover:"
    sed 's/^/  /' "$tmp/paths"; fail=1
else
    echo "ok: $(grep -c '^  ' "$tmp/paths") imports of the MPI library's internals by $(echo $bind | wc -w) Fortran and $(echo $cxx | wc -w) C++ binding libraries, every Fortran one covered ($(grep -v '^  field' "$tmp/paths" | grep -c 'replaced') by replaced bindings, $(grep -v '^  field' "$tmp/paths" | grep -c 'sentinel') sentinels; defined by the layer: $(sed -n 's/.*defined by the layer: //p' "$tmp/paths" | head -1 | wc -w))"
    [ -n "$fields" ] && echo "ok: $(grep -c '^  field' "$tmp/paths") binding functions access fields of objects, every one covered ($(grep -c '^  field.* replaced' "$tmp/paths") replaced by the layer)"
fi
bin=$REVIVE_BUILDDIR/tests/mpi/upper_guard-$flavor
[ -x "$bin" ] || { echo "SKIP: $bin not built"; exit 77; }
if [ "$flavor" = ompi ]; then cases="pal:opal_argv_count:libopen-pal mpi:ompi_crcp_base_none_open:libmpi"
else cases="mpi:MPIR_Dup_fn:libmpich"; fi
for c in $cases; do
    arg=${c%%:*}; rest=${c#*:}; fn=${rest%%:*}; lib=${rest#*:}
    run_revive 1 "$bin" "$arg" >"$tmp/out" 2>&1; rc=$?
    if [ $rc = 0 ] || [ $rc = 124 ] || [ $rc = 137 ]; then
        echo "FAIL: entering $fn: exit status $rc (want non-zero, no timeout)"; sed 's/^/  /' "$tmp/out" | head; fail=1
    elif grep -q "$fn returned" "$tmp/out"; then
        echo "FAIL: $fn of the application's copy ran"; fail=1
    elif ! grep -q "the application's copy of the MPI library was entered: $fn in $lib" "$tmp/out"; then
        echo "FAIL: entering $fn: no message naming it"; sed 's/^/  /' "$tmp/out" | head; fail=1
    else
        echo "ok: $(grep -o "the application's copy.*upper_guard-$flavor" "$tmp/out" | head -1)"
    fi
done
exit $fail
