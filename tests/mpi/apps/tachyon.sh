#!/bin/sh
# tachyon.sh FLAVOR: the Tachyon parallel ray tracer (Debian tachyon-bin-nox with
# libtachyon-openmpi-0 / libtachyon-mpich-0) renders tachyon-scene.dat (two spheres, one
# transparent, a checkered plane, two lights, shadows) natively and under Revive with 2 and 4
# ranks; the ranks render scanlines that rank 0 gathers, and the PPM images must be identical.
# The program and its library for FLAVOR: tachyon_env.sh.
flavor=$1
. "$(dirname "$0")/appenv.sh" || exit $?
. "$(dirname "$0")/tachyon_env.sh"
scene=$apps_src/tachyon-scene.dat
fail=0
for n in 2 4; do
    rm -f "$tmp/report" "$tmp/n.ppm" "$tmp/r.ppm"
    run_native "$n" "$tachyon" "$scene" -format PPM -numthreads 1 -o "$tmp/n.ppm" >"$tmp/n.out" 2>&1; rn=$?
    REVIVE_MPI_REPORT=$tmp/report run_revive "$n" "$tachyon" "$scene" -format PPM -numthreads 1 \
        -o "$tmp/r.ppm" >"$tmp/r.out" 2>&1; rr=$?
    if [ $rn != 0 ] || [ $rr != 0 ] || [ ! -s "$tmp/n.ppm" ] || [ ! -s "$tmp/r.ppm" ]; then
        echo "FAIL np=$n: exit status native $rn, revive $rr"; show_unsupported "$tmp/r.out"
        tail -3 "$tmp/r.out" | sed 's/^/  revive: /'; fail=1
    elif [ "$(head -c 15 "$tmp/n.ppm" | tr '\n' ' ')" != "P6 320 240 255 " ]; then
        echo "FAIL np=$n: native image is not a 320x240 PPM"; fail=1
    elif ! cmp -s "$tmp/n.ppm" "$tmp/r.ppm"; then
        echo "FAIL np=$n: images differ: $(cmp "$tmp/n.ppm" "$tmp/r.ppm" | head -1)"; fail=1
    elif on_lower "$n"; then
        echo "ok np=$n: 320x240 images identical (md5 $(md5sum <"$tmp/n.ppm" | cut -c1-12)), $n ranks on the lower half"
    else
        fail=1
    fi
done
exit $fail
