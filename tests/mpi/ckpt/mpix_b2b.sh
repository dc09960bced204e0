#!/bin/bash
# mpix_b2b.sh FLAVOR: MPIX_Checkpoint called 4 times back to back with only local work between
# (20 ms and a change of each rank's state; newuser7c F2), under the real coordinator, 2 ranks.
# Every call must take its own snapshot: the job directory holds sequences 0-3 and every call
# returned MPI_SUCCESS (a call whose point is the previous call's cut returned at once without
# a snapshot, every second one: 2 sequences for 4 calls, and the work between was in none).
# A restart from each sequence K must come back in call K only (restarted there, not at the
# calls after it; they take new snapshots) and print what the uninterrupted native run printed.
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog mpix_b2b
nck=4 gap=20000
for n in ${MPIX_B2B_NPS:-2}; do
    ck_workdir np$n
    # the job and a restart from each sequence print as native, sequences 0-3 (ckptenv.sh)
    if ck_rounds "$n" 600 $nck $nck $gap; then
        calls=$(grep -c '^mpix_b2b: call [0-9]* rc 0 restarted 0$' err.0)
        bad=
        [ "$calls" = $nck ] || bad="; the job: $calls of $nck calls returned MPI_SUCCESS"
        for k in $seqs; do
            want=$(for c in $(seq $k $((nck - 1))); do echo "mpix_b2b: call $c rc 0 restarted $([ $c = $k ] && echo 1 || echo 0)"; done)
            got=$(grep '^mpix_b2b' err.r$k)
            [ "$got" = "$want" ] || bad="$bad; sequence $k: calls: $(echo "$got" | sed 's/mpix_b2b: //' | tr '\n' ',')"
        done
        if [ -n "$bad" ]; then
            failed "np=$n: each restart must come back in its own call only: ${bad#; }"
        else
            pass "np=$n: $nck back-to-back MPIX_Checkpoint calls took sequences $seqs; each restart came back in its own call only, output as native: $(cat out.0)"
        fi
    fi
    left=$(no_strays "$d/") || failed "np=$n: processes left: $left"
done
exit $fail
