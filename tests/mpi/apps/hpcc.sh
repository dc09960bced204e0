#!/bin/sh
# hpcc.sh FLAVOR: the HPC Challenge benchmark (Debian package hpcc, built for Open MPI) natively
# and under Revive with 4 ranks (2x2 grid), N=500. Compares the summary section of hpccoutf.txt
# (HPL norms and residual, PTRANS residual, RandomAccess error counts, MPI FFT error, sizes, ...)
# with every timing and rate field removed, plus the PASSED/FAILED and error-count lines of the
# body. 2 ranks (1x2 grid) are run by tests/mpi/ckpt/apps/hpcc.sh, natively and under Revive
# (checkpointed and restarted), with the same comparison (HPCC_NPS="2 4" runs them here too).
flavor=$1
. "$(dirname "$0")/appenv.sh" || exit $?
hpcc=/usr/bin/hpcc
need_prog "$hpcc"
ldd "$hpcc" | grep -q "libmpi.so.40" || { echo "SKIP: $hpcc is not built for Open MPI"; exit 77; }
digest() { # deterministic part of hpccoutf.txt
    # MPIRandomAccess runs against a time bound: under CPU load it executes fewer updates
    # (ExeUpdates), natively as under Revive, so that count is timing, not a result.
    sed -n '/Begin of Summary/,/End of Summary/p' "$1" |
        grep -vE '(time|Time|flops|GBs|GUPs|usec|GBytes|_Copy|_Scale|_Add|_Triad|ExeUpdates)[0-9]*='
    grep -E 'Found [0-9]+ errors|Solution Validates|Failed Validation|tests completed and|FAILED' "$1" |
        grep -vE '^(WALL|CPU) '
}
fail=0
for n in ${HPCC_NPS:-4}; do
    case $n in 2) p=1 q=2 ;; 4) p=2 q=2 ;; esac
    for mode in native revive; do
        d=$tmp/$mode$n; mkdir -p "$d"
        sed -e "s/^1000 .*Ns/500          Ns/" -e "s/^2 .*Ps/$p            Ps/" \
            -e "s/^2 .*Qs/$q            Qs/" /usr/share/doc/hpcc/examples/_hpccinf.txt >"$d/hpccinf.txt" 2>/dev/null ||
            { echo "SKIP: hpcc's example input is missing"; exit 77; }
    done
    rm -f "$tmp/report"
    (cd "$tmp/native$n" && run_native "$n" "$hpcc" >out 2>&1); rn=$?
    if [ $rn != 0 ]; then # the reference failed: nothing to compare Revive's run with
        echo "FAIL np=$n: the native run: status $rn$([ $rn = 124 ] && echo " (out of ${TMO} s; load $(cut -d' ' -f1 /proc/loadavg))")"
        tail -3 "$tmp/native$n/out" | sed 's/^/  native: /'; fail=1; continue
    fi
    (cd "$tmp/revive$n" && REVIVE_MPI_REPORT=$tmp/report run_revive "$n" "$hpcc" >out 2>&1); rr=$?
    if [ $rn != 0 ] || [ $rr != 0 ] || [ ! -s "$tmp/native$n/hpccoutf.txt" ] || [ ! -s "$tmp/revive$n/hpccoutf.txt" ]; then
        echo "FAIL np=$n: exit status native $rn, revive $rr"; show_unsupported "$tmp/revive$n/out"
        tail -5 "$tmp/revive$n/out" | sed 's/^/  revive: /'; fail=1; continue
    fi
    digest "$tmp/native$n/hpccoutf.txt" >"$tmp/native$n/digest"
    digest "$tmp/revive$n/hpccoutf.txt" >"$tmp/revive$n/digest"
    if ! grep -q '^Success=1' "$tmp/native$n/digest"; then
        echo "FAIL np=$n: hpcc does not report Success=1 natively"; fail=1
    elif ! cmp -s "$tmp/native$n/digest" "$tmp/revive$n/digest"; then
        echo "FAIL np=$n: results differ"; diff "$tmp/native$n/digest" "$tmp/revive$n/digest" | head -20; fail=1
    elif on_lower "$n"; then
        echo "ok np=$n: $(wc -l <"$tmp/native$n/digest") result lines identical" \
             "($(grep -m1 '^HPL_RnormI' "$tmp/native$n/digest"), $(grep -m1 '^MPIFFT_maxErr' "$tmp/native$n/digest")), $n ranks on the lower half"
    else
        fail=1
    fi
done
exit $fail
