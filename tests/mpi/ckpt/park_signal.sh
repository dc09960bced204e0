#!/bin/bash
# park_signal.sh FLAVOR: an MPI program that wants signal 62 (SIGRTMAX-2, Revive's default park
# signal) for a handler of its own, under "mpirun -am ft-enable-cr" (newuser7b F2). Revive keeps
# the signal: the program's sigaction fails with EINVAL, as natively it would not, and libcr says
# so on stderr, one line per rank naming the signal and REVIVE_SIGNAL (before: nothing on stderr,
# the job silently gave another result). With REVIVE_SIGNAL=50 the job gives the native result.
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_workdir run
ck_build_src park_signal
np=2
clean timeout -k 5 "$TMO" "$launcher" -n $np "$prog" >native.out 2>native.err ||
    { failed "the native run: status $?"; show_err native.err; exit 1; }
expect='sigaction(62): ok; handler calls 20 sum 210; all ranks'"'"' calls 40'
[ "$(cat native.out)" = "$expect" ] || { failed "natively: '$(cat native.out)', expected '$expect'"; exit 1; }
under() {
    PATH=$(dirname "$launcher"):$PATH clean timeout -k 5 "$TMO" "$wrapper" -am ft-enable-cr -n $np "$prog" \
        >"$1.out" 2>"$1.err"
}
under revive || failed "under Revive: status $?"
want='sigaction(62): EINVAL; handler calls 0 sum 0; all ranks'"'"' calls 0'
line='signal 62 (SIGRTMAX-2) is reserved by Revive for checkpoints'
n=$(grep -c "$line" revive.err)
if [ "$(cat revive.out)" = "$want" ]; then
    pass "under Revive the program's sigaction(62) fails with EINVAL: $(cat revive.out)"
else
    failed "under Revive: '$(cat revive.out)', expected '$want'"
fi
if [ "$n" = $np ] && [ "$(grep -c "REVIVE_SIGNAL=N" revive.err)" = $np ]; then
    pass "stderr says it once per rank, naming the signal and REVIVE_SIGNAL: $(grep -m1 "$line" revive.err)"
else
    failed "stderr should hold $np lines (one per rank) naming signal 62 and REVIVE_SIGNAL, found $n"
    show_err revive.err
fi
REVIVE_SIGNAL=50 under moved || failed "REVIVE_SIGNAL=50: status $?"
if [ "$(cat moved.out)" = "$expect" ] && ! grep -q "reserved by Revive" moved.err; then
    pass "REVIVE_SIGNAL=50: the native result, no word about the signal"
else
    failed "REVIVE_SIGNAL=50: '$(cat moved.out)', expected the native '$expect'"; show_err moved.err
fi
left=$(no_strays "$d/") || failed "processes left: $left"
exit $fail
