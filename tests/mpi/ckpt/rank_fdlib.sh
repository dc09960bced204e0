#!/bin/bash
# rank_fdlib.sh FLAVOR (newuser8 F1): descriptors that the application's shared libraries open in
# their constructors, before main (OpenFOAM's libOpenFOAM opens /dev/null for its global Snull;
# any C++ library with a global ofstream or log), across a snapshot. rank_fdlib (2 ranks, paced)
# uses, every step, the descriptors of: a library it is linked against (/dev/null, a pipe), that
# library's own dependency (an input file it reads on), a library the user preloads (LD_PRELOAD,
# after Revive's layer), and one it dlopens in main before MPI_Init (rank_fdlib_lib.c). glibc ran
# the first three's constructors before the layer's, which took every descriptor open then for
# the launcher's: left out of the images, closed after a restart (Open MPI: EBADF on every
# write) or another's (MPICH: the new launcher's or MPI library's pipe under that number, and the
# rank died of SIGPIPE). The job is ended by ckpt-mpirun --term after its second step and
# restarted twice from that snapshot by restart-mpi: both generations' lines must equal an
# uninterrupted run's each time.
flavor=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../mpienv.sh" || exit $?
. "$here/ckptenv.sh" || exit $?
mpicc=$(command -v "mpicc.$(echo "$flavor" | sed 's/ompi/openmpi/')")
[ -n "$mpicc" ] || { echo "SKIP: no mpicc for $flavor"; exit 77; }
n=2 steps=20 ms=200
ck_workdir fdlib
lib() { "$mpicc" -O1 -shared -fPIC -D"$1" -o "$2" "$here/rank_fdlib_lib.c" "${@:3}" 2>>cc.err; }
lib FDLIB_B libfdl_b.so && lib FDLIB_A libfdl_a.so -L"$d" -lfdl_b -Wl,-rpath,"$d" &&
    lib FDLIB_P libfdl_p.so && lib FDLIB_D libfdl_d.so &&
    "$mpicc" -O1 -I"$here" -o rank_fdlib "$here/rank_fdlib.c" -L"$d" -lfdl_a -Wl,-rpath,"$d" -ldl 2>>cc.err ||
    { failed "rank_fdlib.c or rank_fdlib_lib.c does not build:"; head -n 6 cc.err | sed 's/^/  /'; exit 1; }
for s in $(seq 0 $((steps - 1))); do printf '%07d\n' $(( (s * 7919 + 13) % 100000 )); done >fdlib.in
export LD_PRELOAD=$d/libfdl_p.so
run_native "$n" ./rank_fdlib $steps "$d/nopace" 0 "$d/libfdl_d.so" >native.out 2>native.err ||
    { failed "the native run: status $?"; show_err native.err; exit 1; }
[ "$(results native.out | wc -l)" = $((steps + 1)) ] || { failed "the native run's lines:"; show_err native.out; exit 1; }
touch pace
clean timeout -k 5 600 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" -n "$n" ./rank_fdlib $steps "$d/pace" \
    $ms "$d/libfdl_d.so" >out.0 2>err.0 &
job=$!; pids+=($job)
unset LD_PRELOAD
wait_steps out.0 2 $job || { rm -f pace; failed "no steps before the checkpoint"; show_err err.0; exit 1; }
if ! term_restart $job; then
    failed "ckpt-mpirun --term: $(tail -n 3 ckpt.term.err | tr '\n' ' ')"; show_err err.0; exit 1
fi
restart_verdict "restart 1 of the --term snapshot"
grep -m1 'rank_fdlib: descriptors' err.0 | sed 's/^/  (/; s/$/)/'
mv out.1 out.r1 && mv err.1 err.r1
clean timeout -k 5 600 "$RESTART" "$ref" >out.1 2>err.1; rc=$?
results out.0 out.1 >both.out
restart_verdict "restart 2 of the same snapshot"
left=$(no_strays "$d/") || { failed "processes left: $left"; kill -KILL $(awk '{print $1}' <<<"$left") 2>/dev/null; }
exit $fail
