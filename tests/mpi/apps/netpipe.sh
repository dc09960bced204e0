#!/bin/sh
# netpipe.sh FLAVOR: NetPIPE (Debian netpipe-openmpi / netpipe-mpich2) in integrity-check mode
# (-i: the receiver checks every byte of every message) for message sizes up to 64 KiB with
# perturbations, 20 round trips each (-n 20: fixed, so that a loaded machine does not stretch it),
# natively and under Revive. NetPIPE is a two-rank program. Compares, for each
# message, its size and the check's verdict (the repeat counts are timing-dependent).
flavor=$1
. "$(dirname "$0")/appenv.sh" || exit $?
case $flavor in ompi) np=/usr/bin/NPopenmpi ;; mpich) np=/usr/bin/NPmpich2 ;; esac
need_prog "$np"
# The two ranks share one output, so a line of one may be cut by a line of the other:
# compare the message sizes and the verdicts, not whole lines.
digest() {
    grep -o '^ *[0-9]*: *[0-9]* bytes' "$1" | tr -s ' '
    echo "passed $(grep -o 'Integrity check passed' "$1" | wc -l)"
    echo "failed $(grep -io 'integrity check failed' "$1" | wc -l)"
}
n=2
rm -f "$tmp/report"
run_native "$n" "$np" -i -n 20 -u 65536 -o /dev/null >"$tmp/n.out" 2>&1; rn=$?
REVIVE_MPI_REPORT=$tmp/report run_revive "$n" "$np" -i -n 20 -u 65536 -o /dev/null >"$tmp/r.out" 2>&1; rr=$?
digest "$tmp/n.out" >"$tmp/n.dig"; digest "$tmp/r.out" >"$tmp/r.dig"
fail=0
if [ $rn != 0 ] || [ $rr != 0 ]; then
    echo "FAIL np=$n: exit status native $rn, revive $rr"; show_unsupported "$tmp/r.out"
    tail -3 "$tmp/r.out" | sed 's/^/  revive: /'; fail=1
elif [ "$(sed -n 's/^passed //p' "$tmp/n.dig")" -lt 20 ] || [ "$(sed -n 's/^failed //p' "$tmp/n.dig")" != 0 ]; then
    echo "FAIL np=$n: native run did not pass its integrity checks"; head -5 "$tmp/n.out"; fail=1
elif ! cmp -s "$tmp/n.dig" "$tmp/r.dig"; then
    echo "FAIL np=$n: outputs differ"; diff "$tmp/n.dig" "$tmp/r.dig" | head -10; fail=1
elif on_lower "$n"; then
    echo "ok np=$n: $(wc -l <"$tmp/n.dig") message sizes up to 64 KiB, integrity checks passed identically, $n ranks on the lower half"
else
    fail=1
fi
exit $fail
