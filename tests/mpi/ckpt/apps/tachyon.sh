#!/bin/bash
# tachyon.sh FLAVOR: the Tachyon ray tracer (Debian tachyon-bin-nox with libtachyon-openmpi-0 /
# libtachyon-mpich-0) renders tests/mpi/apps/tachyon-scene.dat at 1600x1200 with 4 antialiasing
# samples, 2 and 4 ranks: natively, and under Revive ended by "ckpt-mpirun --term" once its
# progress meter passed 20%, then restarted with restart-mpi. The PPM image must equal the native
# one, and so must the progress output of the two generations, one after the other.
flavor=$1
. "$(dirname "$0")/ckapp.sh" || exit $?
# the program and its library for FLAVOR
. "$(dirname "$0")/../../apps/tachyon_env.sh"
scene=$(cd "$(dirname "$0")/../../apps" && pwd)/tachyon-scene.dat
# Left out of the text output: the lines that report times (parsing, preprocessing, ray
# tracing, image I/O), which change from run to run and, restarted, include the checkpoint.
text() { tr '\r' '\n' | grep -v 'Time:'; }
fail=0
for n in 2 4; do
    d=$tmp/t$n
    if ! ck_try "$d" $n "grep -qE 'Progress: +([2-9][0-9]|100)% complete' gen0.out" \
        "$tachyon" "$scene" -format PPM -numthreads 1 -res 1600 1200 -aasamples 4 -o image.ppm; then
        echo "FAIL np=$n: $CK_WHY"; fail=1; continue
    fi
    pct=$(tr '\r' '\n' <"$d/revive/gen0.out" | grep -oE '[0-9]+% complete' | tail -1)
    text <"$d/native/native.out" >"$d/n.text"
    cat "$d/revive/gen0.out" "$d/revive/gen1.out" | text >"$d/r.text"
    if [ "$(head -c 17 "$d/native/image.ppm" | tr '\n' ' ')" != "P6 1600 1200 255 " ]; then
        echo "FAIL np=$n: the native image is not a 1600x1200 PPM"; fail=1
    elif ! cmp -s "$d/native/image.ppm" "$d/revive/image.ppm"; then
        echo "FAIL np=$n: the images differ: $(cmp "$d/native/image.ppm" "$d/revive/image.ppm" 2>&1 | head -1)"; fail=1
    elif ! cmp -s "$d/n.text" "$d/r.text"; then
        echo "FAIL np=$n: the output differs from the native run's"; diff "$d/n.text" "$d/r.text" | head -10; fail=1
    else
        echo "ok np=$n: checkpointed at $pct ($CK_SNAP), restarted; image identical (md5 $(md5sum <"$d/native/image.ppm" | cut -c1-12)), output identical"
    fi
done
exit $fail
