#!/bin/bash
# The installed env.sh (tools/mpi/env.sh.in) and a program linked with -lmpix_ckpt after it was
# sourced, as the README says (review LOW-2b): before, env.sh set LIBRARY_PATH and
# LD_LIBRARY_PATH only, so the program linked and ran in that shell but had no run path and
# failed to start anywhere else ("libmpix_ckpt.so.0: cannot open shared object file"). Now
# env.sh sets LD_RUN_PATH: the program records the library's folder, and runs with
# LD_LIBRARY_PATH unset. Needs the install (scripts/build makes it): skipped without it.
set -u
B=${REVIVE_BUILDDIR:?}
envsh=$B/tools/mpi/env.sh
[ -f "$envsh" ] || { echo "SKIP: $envsh is not built"; exit 77; }
libdir=$(env -i PATH=/usr/bin:/bin bash -c '. "$1" && printf %s "$LIBRARY_PATH"' x "$envsh")
[ -f "$libdir/libmpix_ckpt.so" ] && [ -f "$libdir/../include/mpix_ckpt.h" ] ||
    { echo "SKIP: Revive is not installed in $(dirname "$libdir") (make install; scripts/build does)"; exit 77; }
command -v cc >/dev/null || { echo "SKIP: no cc"; exit 77; }
W=$(mktemp -d "${TMPDIR:-/tmp}/revive-envsh.XXXXXX") || exit 99
trap 'rm -rf "$W"' EXIT
fail=0
cat >"$W/app.c" <<'C'
#include <stdio.h>
#include <mpix_ckpt.h>
int main(int argc, char **argv)
{
    (void)argv;
    if (argc > 5)   /* never: the library must be loaded, not called */
        return MPIX_Checkpoint_request();
    puts("started");
    return 0;
}
C
# a shell with only env.sh sourced compiles and links, as the README's "cc app.c -lmpix_ckpt"
env -i PATH=/usr/bin:/bin HOME="$W" bash -c '. "$1" && cd "$2" && cc -o app app.c -lmpix_ckpt' x "$envsh" "$W" \
    >"$W/cc.out" 2>&1 || { echo "FAIL: cc app.c -lmpix_ckpt after env.sh: $(head -n 3 "$W/cc.out")"; exit 1; }
rp=$(env -i PATH=/usr/bin:/bin bash -c '. "$1" && printf %s "${LD_RUN_PATH:-}"' x "$envsh")
case ":$rp:" in
*":$libdir:"*) echo "PASS: env.sh sets LD_RUN_PATH to $libdir" ;;
*) echo "FAIL: env.sh does not put $libdir in LD_RUN_PATH ('$rp')"; fail=1 ;;
esac
# elsewhere: no env.sh, no LD_LIBRARY_PATH
if out=$(env -i PATH=/usr/bin:/bin "$W/app" 2>&1) && [ "$out" = started ]; then
    echo "PASS: the program runs without env.sh and LD_LIBRARY_PATH (run path $(readelf -d "$W/app" | sed -n 's/.*(\(RUNPATH\|RPATH\)).*\[\(.*\)\]/\2/p' | head -n 1))"
else
    echo "FAIL: the program linked after env.sh does not start without it: $out"; fail=1
fi
# the commands the man pages' COMMON TASKS type bare are found after env.sh, in the install
# (newuser52 NU-1: revive-mpirun(1)'s first line, "revive-exec --detect ./app", was "command
# not found": revive-exec was installed only in libexec/revive, which env.sh does not put in PATH)
prefix=$(dirname "$libdir")
for c in mpirun mpiexec ckpt-mpirun restart-mpi ckpt-info cr_run cr_checkpoint cr_restart cr_info revive-exec; do
    where=$(env -i PATH=/usr/bin:/bin bash -c '. "$1" && command -v "$2"' x "$envsh" "$c")
    case $where in
    "$prefix"/*) ;;
    *) echo "FAIL: after env.sh, '$c' is '${where:-not found}', not a command of $prefix"; fail=1 ;;
    esac
done
[ $fail = 0 ] && echo "PASS: after env.sh every command the man pages type is found in $prefix"
exit $fail
