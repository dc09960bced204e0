#!/bin/bash
# hpcc.sh FLAVOR: the HPC Challenge benchmark (Debian package hpcc, built for Open MPI), 2 ranks
# (1x2 grid), N=500: run natively, and under Revive ended by "ckpt-mpirun --term" once
# hpccoutf.txt shows that the PTRANS section has begun (the RandomAccess tests are done; PTRANS,
# DGEMM, STREAM, FFT, latency/bandwidth and HPL are still to come), then restarted with
# restart-mpi; hpcc goes on appending to the same hpccoutf.txt. The results must equal the native
# run's: the summary section without its timing and rate fields, and the PASSED/FAILED and
# error-count lines (as tests/mpi/apps/hpcc.sh).
flavor=$1
. "$(dirname "$0")/ckapp.sh" || exit $?
hpcc=/usr/bin/hpcc
need_prog "$hpcc"
ldd "$hpcc" | grep -q "libmpi.so.40" || { echo "SKIP: $hpcc is not built for Open MPI"; exit 77; }
[ -r /usr/share/doc/hpcc/examples/_hpccinf.txt ] || { echo "SKIP: hpcc's example input is missing"; exit 77; }
# Left out: every time, rate and bandwidth (they change from run to run, and the restarted run's
# include the checkpoint and the restart), and MPIRandomAccess's ExeUpdates: it runs against a
# time bound, so the number of updates it executes is timing too (its error count stays).
digest() {
    sed -n '/Begin of Summary/,/End of Summary/p' "$1" |
        grep -vE '(time|Time|flops|GBs|GUPs|usec|GBytes|_Copy|_Scale|_Add|_Triad|ExeUpdates)[0-9]*='
    grep -E 'Found [0-9]+ errors|Solution Validates|Failed Validation|tests completed and|FAILED' "$1" |
        grep -vE '^(WALL|CPU) '
}
n=2
d=$tmp/hpcc
export CKAPP_SETUP='sed -e "s/^1000 .*Ns/500          Ns/" -e "s/^2 .*Ps/1            Ps/" -e "s/^2 .*Qs/2            Qs/" /usr/share/doc/hpcc/examples/_hpccinf.txt >hpccinf.txt'
export CKAPP_AFTER_TERM='cp hpccoutf.txt at-checkpoint.txt'
ck_try "$d" $n "grep -q 'Begin of PTRANS section' hpccoutf.txt 2>/dev/null" "$hpcc" || {
    echo "FAIL np=$n: $CK_WHY"; exit 1; }
digest "$d/native/hpccoutf.txt" >"$d/n.digest"
digest "$d/revive/hpccoutf.txt" >"$d/r.digest"
if ! grep -q '^Success=1' "$d/n.digest"; then
    echo "FAIL np=$n: hpcc does not report Success=1 natively"; exit 1
elif ! cmp -s "$d/n.digest" "$d/r.digest"; then
    echo "FAIL np=$n: results differ from the native run's"; diff "$d/n.digest" "$d/r.digest" | head -20; exit 1
fi
echo "ok np=$n: checkpointed in $(grep 'Begin of' "$d/revive/at-checkpoint.txt" | tail -1 | sed 's/Begin of //; s/\.$//') ($CK_SNAP)," \
    "restarted; $(wc -l <"$d/n.digest") result lines identical ($(grep -m1 '^HPL_RnormI' "$d/n.digest"), $(grep -m1 '^MPIFFT_maxErr' "$d/n.digest"))"
