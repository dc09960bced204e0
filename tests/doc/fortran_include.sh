#!/bin/bash
# mpix_ckpt(3)'s Fortran example, built and run exactly as the page shows it: after the installed
# env.sh, "mpif90 -o app app.f $(pkg-config --cflags --libs mpix_ckpt)" with each MPI's own
# wrapper (mpif90.openmpi, mpif90.mpich), then "mpirun -am ft-enable-cr -np 2 ./app".
# newuser7b M2: INCLUDE 'mpix_ckptf.h' failed there ("Cannot open included file"): env.sh puts the
# include dir in CPATH, which gfortran ignores for INCLUDE, and pkgconf then dropped the -I of
# mpix_ckpt.pc as a "system" dir. The program and the command lines are read from the page's
# source (man/mpix_ckpt.3), so the test follows the page. Needs the install (scripts/build makes it).
set -u
B=${REVIVE_BUILDDIR:?}
S=${REVIVE_SRCDIR:?}
envsh=$B/tools/mpi/env.sh
page=$S/man/mpix_ckpt.3
[ -f "$envsh" ] || { echo "SKIP: $envsh is not built"; exit 77; }
libdir=$(env -i PATH=/usr/bin:/bin bash -c '. "$1" && printf %s "$LIBRARY_PATH"' x "$envsh")
[ -f "$libdir/libmpix_ckpt.so" ] && [ -f "$libdir/../include/mpix_ckptf.h" ] &&
    [ -f "$libdir/pkgconfig/mpix_ckpt.pc" ] ||
    { echo "SKIP: Revive is not installed in $(dirname "$libdir") (make install; scripts/build does)"; exit 77; }
command -v pkg-config >/dev/null || { echo "SKIP: no pkg-config"; exit 77; }
W=$(mktemp -d "${TMPDIR:-/tmp}/revive-fincl.XXXXXX") || exit 99
trap 'rm -rf "$W"' EXIT
chmod 755 "$W"   # the ranks may run as another user (tests/crs/uspace/unprivileged.sh)

# the page's .EX blocks after "From Fortran": the program, then the command lines (roff escapes
# \- and \e undone)
awk '/^From Fortran/ {f = 1} f && /^\.EX/ {n++; on = 1; next} on && /^\.EE/ {on = 0; if (n == 2) exit; next}
     on {print > (n == 1 ? prog : cmds)}' prog="$W/app.f" cmds="$W/cmds" "$page"
sed -i 's/\\-/-/g; s/\\e/\\/g' "$W/app.f" "$W/cmds"
grep -q "INCLUDE 'mpix_ckptf.h'" "$W/app.f" && [ "$(grep -c . "$W/cmds")" = 2 ] ||
    { echo "FAIL: no Fortran program and command lines found in $page"; cat "$W/app.f" "$W/cmds"; exit 1; }
build=$(sed -n 1p "$W/cmds")
run=$(sed -n 2p "$W/cmds")
case $build in "mpif90 "*) ;; *) echo "FAIL: the page's build line is not an mpif90 line: $build"; exit 1 ;; esac
case $run in "mpirun "*) ;; *) echo "FAIL: the page's run line is not an mpirun line: $run"; exit 1 ;; esac

fail=0 ran=0
for flavor in openmpi mpich; do
    fc=mpif90.$flavor
    command -v "$fc" >/dev/null || { echo "(no $fc: $flavor not tried)"; continue; }
    mkdir -p "$W/$flavor" && cp "$W/app.f" "$W/$flavor/" && chmod 755 "$W/$flavor"
    # a shell with only env.sh sourced, as a user's; the page's line with the flavour's wrapper
    if ! env -i PATH=/usr/bin:/bin HOME="$W" bash -c '. "$1" && cd "$2" && eval "$3"' x "$envsh" \
            "$W/$flavor" "$fc${build#mpif90}" >"$W/$flavor/build.out" 2>&1; then
        echo "FAIL: $fc: the page's '$build' after env.sh does not build:"
        head -n 5 "$W/$flavor/build.out"
        fail=1
        continue
    fi
    echo "PASS: $fc builds the page's program with '$build' after env.sh"
    ran=$((ran + 1))
    # and it runs under Revive as the page says (MPIX_CHECKPOINT answers 0, nothing printed)
    if env -i PATH=/usr/bin:/bin HOME="$W" OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
            OMPI_MCA_rmaps_base_oversubscribe=1 TMPDIR="${TMPDIR:-/tmp}" \
            timeout 240 bash -c '. "$1" && cd "$2" && eval "$3"' x "$envsh" "$W/$flavor" "$run" \
            </dev/null >"$W/$flavor/run.out" 2>&1; then
        if grep -q restarted "$W/$flavor/run.out"; then
            echo "FAIL: $flavor: the program says 'restarted' in a first run:"; head -n 5 "$W/$flavor/run.out"; fail=1
        else
            echo "PASS: $flavor: '$run' runs it (rc 0)"
        fi
    else
        echo "FAIL: $flavor: '$run' failed (rc $?):"; head -n 8 "$W/$flavor/run.out"; fail=1
    fi
done
[ $ran -gt 0 ] || [ $fail = 1 ] || { echo "SKIP: neither mpif90.openmpi nor mpif90.mpich is installed"; exit 77; }
exit $fail
