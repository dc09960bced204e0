#!/bin/bash
# rank_strayfd.sh FLAVOR: a job started from a shell that holds descriptors of its own, as a
# user's login shell, terminal or batch system leaves them (10, 255, 1000, 1023 and 1500 here):
# MPICH's Hydra passes them on to the ranks under their numbers, Open MPI's daemons close them.
# Under "mpirun -am ft-enable-cr", ended by "ckpt-mpirun --term" after step 2 and restarted by
# restart-mpi from a shell holding them too: the results of an uninterrupted run. Before, the
# layer took only 3-1023 for the launcher's: 1500 went into every MPICH rank's image as the
# application's, and the restart failed ("descriptor 900 to keep is one the image uses too").
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
steps=100 ms=200 # paced: 20 s at least before the end, for the snapshot
strays="10 255 1000 1023 1500"
ck_workdir stray
mkfifo fifo
echo hello >stray.in
# stray CMD...: CMD with 0-2 and the shell's strays open
stray() {
    (
        for f in /proc/$BASHPID/fd/*; do n=${f##*/}; [ "$n" -gt 2 ] 2>/dev/null && eval "exec $n>&-"; done
        exec 10>"$d/ten" 255<"$d/stray.in" 1000<>"$d/fifo" 1023</dev/null 1500>>"$d/far"
        exec "$@"
    )
}
# held: how many of the job's ranks hold every stray
held() {
    local p s k=0
    for p in $(pgrep -f -- "$d/pace"); do
        [ "$(readlink /proc/$p/exe 2>/dev/null)" = "$prog" ] || continue
        for s in $strays; do [ -e /proc/$p/fd/$s ] || continue 2; done
        k=$((k + 1))
    done
    echo $k
}
run_native 2 "$prog" $steps --pace "$d/nopace" $ms >native.out 2>native.err ||
    { failed "the native run: status $?"; tail -n 3 native.err; exit 1; }
touch pace
stray timeout -k 5 900 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" -n 2 "$prog" $steps --pace "$d/pace" $ms \
    >out.0 2>err.0 &
job=$!; pids+=($job)
wait_steps out.0 2 $job || { rm -f pace; wait $job; failed "no step: status $?"; show_err err.0; exit 1; }
k=$(held)
echo "  the strays reached $k of 2 ranks"
[ "$flavor" = mpich ] && [ "$k" != 2 ] && failed "Hydra passed the strays to $k of 2 ranks: this test proves nothing then"
ref=$(checkpoint $job term --term) ||
    { rm -f pace; wait $job; failed "ckpt-mpirun --term: $(tail -n 2 ckpt.term.err)"; show_err err.0; exit 1; }
wait $job; termst=$?
rm -f pace
stray timeout -k 5 600 "$RESTART" "$ref" >out.1 2>err.1; rc=$?
results out.0 out.1 >both.out
[ "$termst" = 0 ] || { failed "the --term'd job's status $termst"; show_err err.0; }
restart_verdict "$flavor, descriptors ${strays// /,} open in the shell (in $k of 2 ranks)"
exit $fail
