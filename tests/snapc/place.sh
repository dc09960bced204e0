#!/bin/bash
# place.sh FLAVOR: a rank's placement (issue 9, point 7; src/filem/place.h) on one host.
#  - the launcher binds the ranks (Open MPI --bind-to core, MPICH -bind-to core): each rank's
#    binding as /proc shows it while the job runs is the one snapshot.meta records
#    (rank.<r>.place.cpus), with the host's topology and the NUMA nodes of its memory;
#  - the ranks run bound to CPU 1 by `taskset -c 1` (the launcher binds nothing): restarted
#    without taskset, each restored rank is bound to CPU 1 again (its /proc Cpus_allowed_list
#    while it runs), and the job ends with the native result;
#  - a snapshot recording more cores and NUMA nodes than this machine has (made through the
#    test hook REVIVE_PLACE_TEST, so the metadata stays checksummed): restart-mpi's output says
#    what could not be matched (cores 6-7 of 8, NUMA node 1 of 2), and the job ends with the
#    native result.
flavor=$1
. "$(dirname "$0")/lib.sh"
snapc_mpi_setup place restart
command -v taskset >/dev/null || { echo "SKIP: taskset (util-linux) is missing"; exit 77; }
[ "$(nproc --all)" -ge 2 ] || { echo "SKIP: one CPU: a binding cannot be told from none"; exit 77; }
iters=${SNAPC_MPI_ITERS:-3000}
case $flavor in
ompi) bind=(--bind-to core) nobind=(--bind-to none) xenv=(-x REVIVE_PLACE_TEST) ;;
mpich) bind=(-bind-to core) nobind=() xenv=() ;;
esac
# Open MPI's ranks yield when idle: under `taskset -c 1` (job b, and its restart) both share one
# CPU, and spinning ranks, which Open MPI does not know to be oversubscribed, wait for each
# other a time slice per message (place-ompi: 99 s at load 11). Placement is the same either way.
export OMPI_MCA_mpi_yield_when_idle=1

native_run

run_job() { # NAME PREFIX-COMMAND... -- LAUNCHER-OPTIONS...
    local name=$1 pre=() ; shift
    while [ "$1" != -- ]; do pre+=("$1"); shift; done; shift
    ( PATH=$(dirname "$launcher"):$PATH clean_exec "${pre[@]}" "$wrapper" -am ft-enable-cr "$@" \
        -n $np "$bin" $iters hold "$W/$name.go" ) >"$W/$name.out" 2>"$W/$name.err" &
    JOB=$!; jobs_started="$jobs_started $JOB"
    wait_for 120 'case "$(cat /proc/$JOB/comm 2>/dev/null)" in mpirun|revive-coord) true ;; *) false ;; esac' ||
        fail "the job $name did not start Revive's mpirun"
}
cpus_of() { sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/$1/status 2>/dev/null; }
# term NAME: ckpt-mpirun --term of JOB; REF = the snapshot
term() {
    wait_for 120 '[ "$(rank_pids | wc -l)" -ge $np ]' || fail "$1: the ranks did not start"
    expect_rc 0 "$1: ckpt-mpirun --term" timeout 300 "$CKPT" --wait --term $JOB || { touch "$W/$1.go"; finish; }
    REF=$(tail -n1 "$W/cmd.out")
    job_gone $JOB 60 || fail "$1: --term: mpirun still runs"
    wait $JOB
}
meta() { sed -n "s/^$1 //p" "$REF/snapshot.meta"; }

# 1. the launcher binds: what /proc shows is what the metadata records
run_job a -- "${bind[@]}"
wait_for 120 '[ "$(rank_pids | wc -l)" -ge $np ]' || fail "a: the ranks did not start"
seen=$(for p in $(rank_pids); do cpus_of $p; done | sort | tr '\n' ' ')
term a
rec=$(for r in $(seq 0 $((np - 1))); do meta rank.$r.place.cpus; done | sort | tr '\n' ' ')
[ "$rec" = "$seen" ] || fail "the launcher bound the ranks to CPUs '$seen'; the metadata records '$rec'"
[ "$(meta rank.0.place.cpubind)" = "cores 0" ] && [ "$(meta rank.1.place.cpubind)" = "cores 1" ] ||
    fail "--bind-to core: rank 0 on core 0, rank 1 on core 1 expected; recorded: $(grep place.cpubind "$REF/snapshot.meta")"
ncores=$(grep -c '^core id' /proc/cpuinfo | sed 's/^0$/1/')
meta rank.0.place.topo | grep -Eq "^packages [0-9]+ numa [0-9]+ cores [0-9]+ pus $(nproc --all)\$" ||
    fail "rank 0's topology: '$(meta rank.0.place.topo)' (this machine has $(nproc --all) processors)"
[ "$(meta rank.0.place.mem_nodes)" = 0 ] || fail "rank 0's memory: NUMA nodes '$(meta rank.0.place.mem_nodes)', not 0"
touch "$W/a.go"
# On a host with one NUMA node the pages recorded on node 0 are there already: the restored
# ranks move none (no migrate_pages, which walked every page of each rank), seen with strace
mig=()
if [ "$(cat /sys/devices/system/node/online 2>/dev/null)" = 0 ] && command -v strace >/dev/null; then
    mig=(strace -f -qq --seccomp-bpf -e trace=migrate_pages -o "$W/ra.migrate")
fi
timeout -k 5 300 "${mig[@]}" "$RESTART" "$REF" >"$W/ra.out" 2>"$W/ra.err"; st=$?
[ $st = 0 ] || { fail "restart of the bound job: status $st"; tail -5 "$W/ra.err"; }
cmp -s "$W/native.out" "$W/ra.out" || { fail "restarted result differs (bound job)"; cat "$W/ra.out"; }
grep -q "could not place" "$W/ra.err" && fail "the bound job's restart could not place a rank: $(grep 'could not place' "$W/ra.err")"
pass "$flavor: the launcher's binding (${bind[*]}) recorded per rank with the topology and NUMA node; restart: the native result"
if [ ${#mig[@]} = 0 ]; then
    echo "SKIP-PART: no page moves on a one-node host (this host has NUMA nodes '$(cat /sys/devices/system/node/online 2>/dev/null)', or no strace)"
elif [ ! -s "$W/ra.migrate" ] && [ ! -e "$W/ra.migrate" ]; then
    fail "strace wrote no trace of the restart ($W/ra.migrate)"
elif grep -q 'migrate_pages(' "$W/ra.migrate"; then
    fail "one NUMA node, pages recorded on node 0: the restored ranks still moved their pages ($(grep -c 'migrate_pages(' "$W/ra.migrate") migrate_pages calls)"
else
    pass "$flavor: one NUMA node: the restored ranks move no page (no migrate_pages)"
fi

# 2. bound by taskset, restarted without: bound to CPU 1 again
run_job b taskset -c 1 -- "${nobind[@]}"
term b
for r in $(seq 0 $((np - 1))); do
    [ "$(meta rank.$r.place.cpus)" = 1 ] && [ "$(meta rank.$r.place.cpubind)" = "cores 1" ] ||
        fail "taskset -c 1: rank $r recorded cpus '$(meta rank.$r.place.cpus)', binding '$(meta rank.$r.place.cpubind)'"
done
( clean_exec REVIVE_VERBOSE=2 timeout -k 5 300 "$RESTART" "$REF" ) >"$W/rb.out" 2>"$W/rb.err" &
R=$!; jobs_started="$jobs_started $R"
# the restored ranks hold halfway (b.go is not there yet): their binding as they run, once every
# rank is back (each is placed before it reconnects)
wait_for 120 'grep -q "Recovered" "$W/rb.err" || ! kill -0 $R 2>/dev/null' ||
    fail "the restarted job did not come back: $(tail -3 "$W/rb.err")"
got=$(for p in $(rank_pids); do cpus_of $p; done | sort | tr '\n' ' ')
touch "$W/b.go"
wait $R; st=$?
[ $st = 0 ] || { fail "restart of the taskset job: status $st"; tail -5 "$W/rb.err"; }
cmp -s "$W/native.out" "$W/rb.out" || { fail "restarted result differs (taskset job)"; cat "$W/rb.out"; }
case "$got" in "1 1 ") ;; *) fail "restarted without taskset, the ranks run on CPUs '$got', not 1 as recorded" ;; esac
pass "$flavor: bound to CPU 1 at the checkpoint (taskset), restarted unbound: bound to CPU 1 again, the native result"

# 3. a snapshot naming more cores and NUMA nodes than here: restart-mpi says what it could not match
export REVIVE_PLACE_TEST="place.topo packages 2 numa 2 cores 8 pus 8;place.cpubind cores 6-7;place.cpus 6-7;place.membind default;place.mem_nodes 1"
run_job c -- "${xenv[@]}"
term c
unset REVIVE_PLACE_TEST
[ "$(meta rank.1.place.cpubind)" = "cores 6-7" ] && [ "$(meta rank.1.place.mem_nodes)" = 1 ] ||
    fail "the test hook's placement is not in the metadata: $(grep place "$REF/snapshot.meta")"
expect_rc 0 "ckpt-info --verify of the snapshot (its checksum holds)" "$INFO" --verify "$REF"
touch "$W/c.go"
timeout -k 5 300 "$RESTART" "$REF" >"$W/rc.out" 2>"$W/rc.err"; st=$?
[ $st = 0 ] || { fail "restart of the 8-core snapshot: status $st"; tail -5 "$W/rc.err"; }
cmp -s "$W/native.out" "$W/rc.out" || { fail "restarted result differs (8-core snapshot)"; cat "$W/rc.out"; }
for r in $(seq 0 $((np - 1))); do
    grep -q "rank $r on .*: could not place it as at the checkpoint: it was bound to cores 6-7 of 8; this host has $ncores core" "$W/rc.err" ||
        fail "rank $r: no 'could not place' message for cores 6-7 of 8: $(grep -i place "$W/rc.err")"
    grep "rank $r on " "$W/rc.err" | grep -q "its memory was on NUMA node 1 of 2; this host has 1 NUMA node" ||
        fail "rank $r: no message for NUMA node 1 of 2: $(grep -i place "$W/rc.err")"
done
pass "$flavor: a snapshot of an 8-core, 2-NUMA-node host: restart says what it could not match, the native result"
finish
