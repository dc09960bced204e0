#!/bin/bash
# layer_syms.sh: the libraries revive-exec preloads into every process of a job (libcr and
# revive-mpi-FLAVOR.so, as its LD_PRELOAD names them) reference no data symbol strongly but
# glibc's. Every process the job starts gets them: a rank, and also a rank's child that is no
# MPI program (system()'s shell, a helper). The dynamic loader binds every undefined data
# symbol (OBJECT, TLS) when it loads the library, and fails the whole program when a strong one
# is found nowhere; a function is bound at its first call only (unless the library was linked
# with -z now, then functions count too). d93f706 referenced MPICH's MPI_UNWEIGHTED from
# the layer: every MPICH rank's child shell died at its start ("symbol lookup error: undefined
# symbol: MPI_UNWEIGHTED", status 127) until e2f6e5a made it weak; found only by libc_shared-mpich.
# Two checks per flavour built: a plain program (sh) with a rank's LD_PRELOAD (libcr, the layer)
# starts and runs; readelf finds no undefined non-weak data symbol outside glibc (its version
# GLIBC_*) in any of Revive's libraries that revive-exec preloads (the MPI library it preloads
# too for a program not linked against it, mpi4py's interpreter, is not Revive's).
: "${REVIVE_BUILDDIR:?run through make check}"
command -v readelf >/dev/null || { echo "SKIP: no readelf (binutils) to read the libraries' symbols"; exit 77; }
exe=$REVIVE_BUILDDIR/tools/mpi/revive-exec
libdir=$REVIVE_BUILDDIR/.libs
fail=0 flavours=0
failed() { echo "FAIL: $*"; fail=1; }
# strong_refs LIB: its undefined non-weak data symbols (functions too under -z now), one a line
# as readelf names them (NAME@VERSION when versioned); "!" alone when readelf found no
# undefined symbol at all (a parse that sees nothing checks nothing). A symbol that no library
# linked in defined has no type (NOTYPE: MPI_UNWEIGHTED in d93f706's layer): it counts too.
strong_refs() {
    local types='^(OBJECT|TLS|NOTYPE)$'
    readelf -W -d "$1" | grep -Eq '\((FLAGS|FLAGS_1)\).*\b(BIND_NOW|NOW)\b' && types='^(OBJECT|TLS|NOTYPE|FUNC|IFUNC)$'
    readelf -W --dyn-syms "$1" | awk -v types="$types" '
        $7 == "UND" && $8 != "" { any = 1; if ($4 ~ types && $5 != "WEAK") print $8 }
        END { if (!any) print "!" }'
}
declare -A seen
for flavour in ompi mpich; do
    [ -f "$libdir/revive-mpi-$flavour.so" ] || { echo "SKIP-PART: $flavour (its layer was not built)"; continue; }
    flavours=$((flavours + 1))
    # a rank's child that is no MPI program (system()'s shell) inherits the rank's LD_PRELOAD:
    # Revive's libraries alone (a program linked against the MPI library loads that itself)
    out=$(env REVIVE_MPI_FLAVOR=$flavour LD_PRELOAD="$libdir/libcr.so.0:$libdir/revive-mpi-$flavour.so" /bin/sh -c 'echo started' 2>&1 </dev/null)
    rc=$?
    if [ $rc != 0 ] || [ "$out" != started ]; then
        failed "$flavour: sh with the rank's LD_PRELOAD (libcr, the layer; no MPI library): status $rc:"
        printf '%s\n' "$out" | head -n 5 | sed 's/^/  /'
    else
        echo "PASS: $flavour: sh with the rank's LD_PRELOAD (libcr, the layer; no MPI library) starts and runs"
    fi
    # the preload list as revive-exec makes it (REVIVE_MPI forced: it adds the MPI library
    # itself for a program not linked against it, which is not Revive's to check)
    pre=$(env -u LD_PRELOAD REVIVE_MPI=$flavour REVIVE_MPI_LIBDIR="$libdir" "$exe" /bin/sh -c \
        'printf "%s\n" "$LD_PRELOAD"' 2>&1 </dev/null) ||
        { failed "$flavour: revive-exec /bin/sh failed: $(echo $pre)"; pre=$libdir/libcr.so.0:$libdir/revive-mpi-$flavour.so; }
    case $pre in *"$libdir/libcr.so.0"*"$libdir/revive-mpi-$flavour.so"*) ;;
    *) failed "$flavour: revive-exec's LD_PRELOAD does not name libcr and the layer: '$pre'" ;; esac
    IFS=: read -r -a libs <<<"$pre"
    for lib in "${libs[@]}"; do
        [ -n "$lib" ] && [ -z "${seen[$lib]}" ] || continue
        seen[$lib]=1
        case $lib in "$libdir"/*) ;; *) echo "($flavour: $lib is preloaded too, not Revive's: not checked)"; continue ;; esac
        [ -r "$lib" ] || { failed "$flavour: preloaded library $lib is not there"; continue; }
        refs=$(strong_refs "$lib")
        if [ "$refs" = "!" ]; then
            failed "$lib: readelf listed no undefined symbol (cannot check it)"
            continue
        fi
        bad=$(printf '%s\n' "$refs" | grep -v '@GLIBC_' | sed '/^$/d')
        if [ -n "$bad" ]; then
            failed "$lib (preloaded into every process of a $flavour job) references data symbol(s)" \
                "strongly that glibc does not define: $(echo $bad); a process without their library" \
                "(a rank's child shell) fails to load: declare them weak (#pragma weak) or read them" \
                "through the lower half"
        else
            echo "PASS: $lib: undefined non-weak data symbols are glibc's only ($(printf '%s\n' "$refs" | grep -c .))"
        fi
    done
done
[ $flavours -gt 0 ] || { echo "SKIP: no MPI layer was built (no Open MPI or MPICH found by configure)"; exit 77; }
exit $fail
