#!/bin/bash
# mpit_long.sh FLAVOR: a performance variable with a 300-byte name, not continuous, started by the
# program, across a snapshot (MPIX_Checkpoint at step 2), a restart of it that checkpoints again
# (step 4) and a restart of that (mpit_long.c, 2 ranks). Neither MPI installed here has such a
# variable (Open MPI 4.1: 33 pvars, all continuous, names of at most 31 bytes; MPICH 4.0: none),
# so the MPI library is given one by a stand-in (mpit_shim.c, built here: REVIVE_MPI_LOWER makes
# it the lower half's root for Revive's runs, LD_PRELOAD puts it before the library for the native
# one). Every generation's step lines from its restart on must equal the native run's: the
# variable found again by its whole name (names were cut to 255 bytes: the restarted rank's read
# failed, MPI_T_ERR_INVALID_HANDLE) and the program's started handle started again (it reads 1).
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog mpit_long
export REVIVE_RESTART_RANK=$restarter
cc=$(command -v "mpicc.$(echo "$flavor" | sed 's/ompi/openmpi/')") || { echo "SKIP: no mpicc for $flavor"; exit 77; }
# the lower half's root (revive-lower-FLAVOR.so) is made of the objects the build's Makefile lists
# for it (am_revive_lower_FLAVOR_la_OBJECTS: libtool's .lo files, each naming its PIC object): the
# shim built with them is a root (the layer looks for the root's own functions in the root itself).
# Every Revive job of this MPI loads that root, so a build without one of them is broken: a FAIL,
# never a SKIP (diffrev45 R-L8: a missing object read as a skip); the list is the build's own, not
# one written here that a new source of the root would leave behind (MPICH's lacked lower_winmem).
lo_list=$(awk -v v="am_revive_lower_${flavor}_la_OBJECTS" '$1 == v && $2 == "=" {on = 1}
    on {for (i = 1; i <= NF; i++) if ($i ~ /\.lo$/) print $i; if ($NF != "\\") exit}' "$REVIVE_BUILDDIR/Makefile")
[ -n "$lo_list" ] ||
    { echo "FAIL: $REVIVE_BUILDDIR/Makefile lists no objects of revive-lower-$flavor.la (am_revive_lower_${flavor}_la_OBJECTS)"; exit 1; }
root=()
for lo in $lo_list; do
    pic=$(sed -n "s/^pic_object='\(.*\)'\$/\1/p" "$REVIVE_BUILDDIR/$lo" 2>/dev/null)
    f=$REVIVE_BUILDDIR/$(dirname "$lo")/$pic
    [ -n "$pic" ] && [ "$pic" != none ] || f=$REVIVE_BUILDDIR/$lo
    if [ ! -f "$f" ] || [ "$f" = "$REVIVE_BUILDDIR/$lo" ]; then
        echo "FAIL: the lower half's root object $f is not built (run make in $REVIVE_BUILDDIR)"
        exit 1
    fi
    root+=("$f")
done
n=2
ck_workdir np$n
"$cc" -shared -fPIC -O1 -o "$d/shim_native.so" "$ck_srcdir/mpit_shim.c" -ldl 2>"$tmp/cc.err" &&
    "$cc" -shared -fPIC -O1 -o "$d/shim_lower.so" "$ck_srcdir/mpit_shim.c" "${root[@]}" \
        -ldl 2>>"$tmp/cc.err" ||
    { echo "FAIL: mpit_shim.c does not build:"; head -6 "$tmp/cc.err"; exit 1; }
steps=7
LD_PRELOAD=$d/shim_native.so run_native $n "$prog" $steps 2 4 >native.out 2>native.err ||
    { failed "the native run: status $?"; show_err native.err; exit 1; }
export REVIVE_MPI_LOWER=$d/shim_lower.so
clean timeout -k 5 600 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" -n $n "$prog" $steps 2 4 \
    >out.0 2>err.0; rc=$?
a=$(ls -d "$d"/revive_global_snapshot_*.ckpt 2>/dev/null)
if [ $rc != 0 ] || [ "$(echo "$a" | grep -c .)" != 1 ]; then
    failed "generation 0: status $rc, snapshots: ${a:-none}"; show_err err.0; exit 1
fi
cmp -s <(results native.out) <(results out.0) ||
    { failed "generation 0 differs from the native run"; diff <(results native.out) <(results out.0) | head -6; }
clean timeout -k 5 600 "$RESTART" "$a" >out.1 2>err.1; rc=$?
b=$(ls -d "$d"/revive_global_snapshot_*.ckpt | grep -vxF "$a")
if [ $rc != 0 ] || ! grep -q "restarted at step 2" err.1 || [ "$(echo "$b" | grep -c .)" != 1 ]; then
    failed "generation 1: status $rc, snapshots beside the first: ${b:-none}"; show_err err.1
else
    clean timeout -k 5 600 "$RESTART" "$b" >out.2 2>err.2; rc=$?
    [ $rc = 0 ] && grep -q "restarted at step 4" err.2 || { failed "generation 2: status $rc"; show_err err.2; }
fi
w1=$(results native.out | sed -n '/^step 2:/,$p') w2=$(results native.out | sed -n '/^step 4:/,$p')
if [ -z "$w2" ] || [ "$w1" != "$(results out.1)" ] || [ "$w2" != "$(results out.2)" ]; then
    failed "a restarted generation's lines differ from the uninterrupted run's"
    diff <(echo "$w1") <(results out.1) | head -4; diff <(echo "$w2") <(results out.2) | head -4
else
    pass "generations 0, 1 (from step 2) and 2 (from step 4) as uninterrupted: $(results out.2 | sed -n 1p)"
fi
left=$(no_strays "$d/") || failed "processes left: $left"
exit $fail
