#!/bin/bash
# child_thread.sh FLAVOR: a child a rank forked (child_thread.c: rank 0's worker, a plain
# process) whose threads end and start after its checkpoint, on 2 ranks. The worker inherited the
# MPI layer's capture filter, so its image leaves the MPI library's memory out, as the rank's
# does; but glibc's stack cache in the worker still listed the library's threads' stacks (the
# fork put them there). After a restart its first thread to end linked its stack in front of one
# of those and died of SIGSEGV (status 139 from cr_restart; gdb: list_add in queue_stack); the
# MPI layer now freezes and forgets the dead half in a forked child as in the rank
# (src/pml_hooks/restart.c).
# 1. native: the worker's thread works until the go file exists, then returns; 20 short threads
#    and a detached one follow; "worker: exit 42" and the worker's line are the reference.
# 2. under Revive, cr_checkpoint --cont of the worker while its thread works: the worker and the
#    job go on as natively (the freeze of the child's ld.so lists is let go: a thread that ends
#    afterwards must not wait for ever).
# 3. cr_checkpoint --kill of the worker while its thread works, the job ends (rank 0 sees signal
#    9), cr_restart of the worker's image, go: the restarted worker's threads end and start, it
#    writes the reference line and exits 42. A forked child's image has an empty "mpi" section,
#    so cr_restart takes it alone; refusing it as "the image of a rank" is a failure (it was a
#    SKIP-PART before a rank's children were supported, diffrev29 H-L3).
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog child_thread
CR_CKPT=$REVIVE_BUILDDIR/tools/cr_checkpoint
CR_RESTART=$REVIVE_BUILDDIR/tools/cr_restart
wait_file() { # wait_file FILE SECONDS PID: 0 once FILE is there, 1 when PID ended or time ran out
    local i
    for i in $(seq $(($2 * 10))); do
        [ -s "$1" ] && return 0
        kill -0 "$3" 2>/dev/null || { [ -s "$1" ]; return; }
        sleep 0.1
    done
    return 1
}
wmax=$(load_scaled 30)
# revive_worker HOW: parts 2 and 3 alike: the job under Revive in the work folder HOW, then
# cr_checkpoint --HOW of rank 0's worker once it runs (w: its pid); a worker that never starts
# ends the test
revive_worker() {
    ck_workdir "$1"
    PATH=$(dirname "$launcher"):$PATH clean timeout -k 5 "$TMO" "$wrapper" -am ft-enable-cr -n 2 "$prog" "$d" >"$d/out" 2>"$d/err" </dev/null &
    job=$!
    pids+=("$job")
    if ! wait_file "$d/worker.pid" "$wmax" "$job"; then
        failed "--$1: the worker did not start"; show_err "$d/out" "$d/err"; exit 1
    fi
    w=$(cat "$d/worker.pid")
    timeout -k 5 "$TMO" "$CR_CKPT" --"$1" --ignore-fds -f "$d/w.img" "$w" >"$d/ck.out" 2>&1 ||
        failed "--$1: cr_checkpoint of the worker: $(head -c 400 "$d/ck.out")"
}

# 1. native
ck_workdir native
clean timeout -k 5 "$TMO" "$launcher" -n 2 "$prog" "$d" >"$d/out" 2>"$d/err" </dev/null &
job=$!
pids+=("$job")
wait_file "$d/worker.pid" "$wmax" "$job" && touch "$d/go"
wait "$job"
rc=$?
ref_line=$(cat "$d/worker.res" 2>/dev/null)
if [ $rc != 0 ] || ! grep -qx 'worker: exit 42' "$d/out" || [ "$ref_line" != "joined a sum, 20 more, detached ended" ]; then
    failed "native run: status $rc, worker: '$(grep worker "$d/out")', line '$ref_line'"
    show_err "$d/out" "$d/err"
    exit 1
fi
pass "native run: worker: exit 42, '$ref_line'"

# 2. --cont
revive_worker cont
touch "$d/go"
wait "$job"
rc=$?
line=$(cat "$d/worker.res" 2>/dev/null)
if [ $rc = 0 ] && grep -qx 'worker: exit 42' "$d/out" && [ "$line" = "$ref_line" ]; then
    pass "--cont: the worker's threads end and start after its checkpoint, as natively"
else
    failed "--cont: job status $rc, worker: '$(grep worker "$d/out")', line '$line' (expected '$ref_line')"
    show_err "$d/out" "$d/err"
fi

# 3. --kill, cr_restart of the worker
revive_worker kill
wait "$job"
rc=$?
grep -qx 'worker: signal 9' "$d/out" && [ $rc = 0 ] ||
    failed "--kill: the job: status $rc, worker: '$(grep worker "$d/out")' (expected signal 9)"
clean timeout -k 5 "$TMO" "$CR_RESTART" "$d/w.img" >"$d/rs.out" 2>"$d/rs.err" </dev/null &
rs=$!
pids+=("$rs")
# the go file once the restarted worker runs (cr_restart's child, or cr_restart itself)
for i in $(seq $((wmax * 10))); do
    kill -0 "$rs" 2>/dev/null || break
    grep -q "child_thread" /proc/"$w"/cmdline 2>/dev/null && break
    sleep 0.1
done
touch "$d/go"
wait "$rs"
rc=$?
line=$(cat "$d/worker.res" 2>/dev/null)
if grep -q "is the image of a rank of an MPI job" "$d/rs.err"; then
    failed "--kill, cr_restart of the worker: its image was taken for a rank's (status $rc): $(head -c 300 "$d/rs.err")"
elif [ $rc = 42 ] && [ "$line" = "$ref_line" ]; then
    pass "--kill, cr_restart: the restarted worker's threads end and start: exit 42, '$line'"
else
    failed "--kill, cr_restart of the worker: status $rc$([ $rc -gt 128 ] && echo " (signal $((rc - 128)))"), line '$line' (expected 42, '$ref_line')"
    show_err "$d/rs.out" "$d/rs.err"
fi
exit $fail
