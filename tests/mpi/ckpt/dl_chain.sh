#!/bin/bash
# dl_chain.sh FLAVOR: a chain of restarts of a job that loads and unloads plugins all along
# (dl_chain.c: dlopen RTLD_LOCAL of NPLUG small plugins, one opened and one closed each step,
# each called, named by dladdr, listed by dl_iterate_phdr, walked through by backtrace; large
# malloc'ed blocks checked; another thread, outside MPI, opening and closing plugins of its own
# every 20 ms, also while a restart loads the fresh MPI library), as a Python job with h5py does (newuser11 F3: the restart of a
# restarted job's snapshot died of SIGSEGV in every rank, in ld.so's dlopen). The job under
# "mpirun -am ft-enable-cr" is ended by "ckpt-mpirun --term" after its second step; each
# restarted job (restart-mpi) runs two more steps and is ended the same way, for 3 generations
# (DL_CHAIN_GENS); the last snapshot runs to the end. The step lines of all generations together
# equal an uninterrupted native run's; no process is left.
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog dl_chain
here=$(cd "$(dirname "$0")" && pwd)
export REVIVE_RESTART_RANK=$restarter
G=${DL_CHAIN_GENS:-3}
n=2 steps=40 ms=150 nplug=8
d=$tmp/chain
mkdir -p "$d/plug"
cd "$d" || exit 1
cc=${CC:-cc}
command -v "$cc" >/dev/null || { echo "SKIP: no C compiler ($cc) to build the plugins"; exit 77; }
for k in $(seq 0 $((nplug - 1))); do
    "$cc" -O1 -shared -fPIC -DPLUG=$k -o "plug/plug_$k.so" "$here/dl_chain_plug.c" 2>>cc.err &&
        "$cc" -O1 -shared -fPIC -DPLUG=$((k + 100)) -o "plug/bg_$k.so" "$here/dl_chain_plug.c" 2>>cc.err ||
        { failed "$cc cannot build plugin $k:"; show_err cc.err; exit 1; }
done
run_native "$n" "$prog" $steps "$d/nopace" $ms "$d/plug" $nplug >native.out 2>native.err ||
    { failed "the native run: status $?"; show_err native.err; exit 1; }
touch pace
clean timeout -k 5 900 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" -n "$n" "$prog" $steps "$d/pace" \
    $ms "$d/plug" $nplug >out.0 2>err.0 &
job=$!; pids+=($job)
wait_steps out.0 2 $job 120 && ref=$(checkpoint $job 0 --term) ||
    { failed "generation 0: no snapshot ($(nsteps out.0) steps printed)"; show_err ckpt.0.err err.0; exit 1; }
wait $job
for g in $(seq 1 $G); do
    clean timeout -k 5 900 "$RESTART" "$ref" >out.$g 2>err.$g &
    job=$!; pids+=($job)
    if ! wait_steps out.$g 2 $job 120 || ! ref=$(checkpoint $job $g --term); then
        wait $job; st=$?
        failed "generation $g (a restart of generation $((g - 1))'s snapshot): no snapshot after"\
            "$(nsteps out.$g) steps, status $st"
        show_err ckpt.$g.err err.$g; break
    fi
    wait $job
    echo "generation $g: restarted, $(nsteps out.$g) steps, ended by --term: $ref"
done
rm -f pace
if [ $fail = 0 ]; then
    clean timeout -k 5 600 "$RESTART" "$ref" >out.last 2>err.last; rc=$?
    [ $rc = 0 ] || { failed "the restart of generation $G's snapshot: status $rc"; show_err err.last; }
fi
results out.0 $(seq -f out.%g 1 $G) out.last >chain.out 2>/dev/null
if [ $fail = 0 ] && cmp -s <(results native.out) chain.out; then
    pass "$G generations of a job loading and unloading plugins: $(wc -l <chain.out) result lines" \
        "as uninterrupted"
elif [ $fail = 0 ]; then
    failed "the chain's results differ from the uninterrupted run"; diff <(results native.out) chain.out | head
fi
left=$(no_strays "$d/") || failed "processes left: $left"
exit $fail
