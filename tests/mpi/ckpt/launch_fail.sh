#!/bin/bash
# launch_fail.sh FLAVOR: what "ckpt-mpirun --wait" says of a job that ended with no rank ever
# connected to Revive (newuser9 F1):
# 1. the launcher fails on its own options (`mpirun -am ft-enable-cr -np 2 --no-such-option PROG`:
#    Open MPI's mpirun says 'unknown option', status 1; Hydra the same, 255) and starts no rank:
#    one line naming the launcher and its status ("the job ended before any rank started: its
#    launcher (mpirun.openmpi) exited with status 1 (see its error above)"). Before: "the job ended and no rank
#    of it ever connected to Revive: its ranks never reached Revive's MPI_Init, or they run the
#    MPI library without Revive's layer (... Julia's MPI.jl or a Python package ...)".
# 2. the ranks start (through revive-exec) and end before MPI_Init, the launcher's status not 0:
#    still the message that the ranks never reached Revive's MPI_Init (a launcher's failure alone
#    does not say that no rank started).
# The launcher is the real one behind a gate of the same name (REVIVE_MPIEXEC_*) that waits until
# ckpt-mpirun --wait said it waits: the tool's request is in before the launcher ends (without the
# gate a launcher that fails at once can be gone before the tool asks: "there is no process N").
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
np=2
ck_workdir gate
name=$(basename "$launcher")
mkdir -p bin
printf '#!/bin/bash\nwhile [ ! -e "%s/go" ]; do sleep 0.05; done\nexec "%s" "$@"\n' "$d" "$launcher" >bin/$name
chmod 755 bin/$name
gate=$d/bin/$name
case $flavor in ompi) genv=REVIVE_MPIEXEC_OMPI ;; *) genv=REVIVE_MPIEXEC_MPICH ;; esac
touch nopace

# gated KEY CMD...: runs the job CMD... (Revive's mpirun, the gate as its launcher) in the
# background, ckpt-mpirun --wait on it once its coordinator is there, opens the gate once the tool
# said it waits; sets jrc (the job's status) and wrc (the tool's); output in KEY.job.*, KEY.w.*
gated() {
    local key=$1 j c w
    shift
    rm -f "$d/go"
    clean env "$genv=$gate" timeout -k 5 "$TMO" "$@" >$key.job.out 2>$key.job.err &
    j=$!; pids+=($j)
    if ! c=$(coord $j); then
        touch "$d/go"; wait $j; jrc=$? wrc=-1
        echo "no coordinator under the job" >$key.w.err
        return
    fi
    timeout -k 5 120 "$CKPT" --wait "$c" >$key.w.out 2>$key.w.err & w=$!
    wait_for_job 60 $w 'grep -q "waiting for the job to start" $key.w.err'
    touch "$d/go"
    wait $j; jrc=$?
    wait $w; wrc=$?
}

# 1. the launcher fails on an option of its own
gated badopt "$wrapper" -am ft-enable-cr -np $np --no-such-option "$prog" 3 "$d/nopace" 0
want="ckpt-mpirun: the job ended before any rank started: its launcher ($name) exited with status $jrc (see its error above)"
if [ $jrc != 0 ] && [ $wrc != 0 ] && grep -qxF "$want" badopt.w.err && ! grep -q "MPI.jl" badopt.w.err; then
    pass "the launcher fails on --no-such-option (status $jrc): ckpt-mpirun --wait (status $wrc) says so: $want"
else
    failed "the launcher fails on --no-such-option: job status $jrc, ckpt-mpirun --wait status $wrc, not '$want':"
    show_err badopt.w.err badopt.job.err
fi

# 2. the ranks start and end before MPI_Init (status 3): the ranks never reached Revive
gated early env REVIVE_MPI=$flavor "$wrapper" -am ft-enable-cr -np $np /bin/sh -c 'sleep 1; exit 3'
if [ $jrc != 0 ] && [ $wrc != 0 ] &&
    grep -q "ckpt-mpirun: the job ended and no rank of it ever connected to Revive: its ranks never reached Revive's MPI_Init" early.w.err &&
    ! grep -q "before any rank started" early.w.err; then
    pass "ranks that end before MPI_Init (job status $jrc): ckpt-mpirun --wait (status $wrc) says they never reached Revive's MPI_Init"
else
    failed "ranks that end before MPI_Init: job status $jrc, ckpt-mpirun --wait status $wrc:"
    show_err early.w.err early.job.err
fi
no_strays "$d/" || failed "processes left under $d"
exit $fail
