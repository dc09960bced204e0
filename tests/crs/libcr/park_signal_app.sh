#!/bin/bash
# A program that installs a handler for Revive's park signal (62, SIGRTMAX-2 by default) under
# libcr (newuser7b F2). Revive keeps the signal (as BLCR and DMTCP keep theirs): sigaction,
# signal() and sigset() of it fail with EINVAL, SIG_IGN too, a full mask leaves it unblocked; and
# libcr says so ONCE on stderr, naming the signal and REVIVE_SIGNAL. Before: the refusal was
# silent (the program just lost its handler), and signal()/sigset() went around the refusal and
# took the signal from Revive. With REVIVE_SIGNAL=50 the program gets the native result.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup park_signal_app
P=$CRS_LIBCR_BIN/park_signal_app
[ -x "$P" ] || crs_skip "$P is not built (libcr.la missing?)"
run() { LD_PRELOAD= timeout -k 5 60 "$@" >"$WORK/out" 2>"$WORK/err" </dev/null; }

# natively (libcr passive): what the program gets when the signal is its own
REVIVE_DISABLE=1 run "$P" 62
native=$(cat "$WORK/out")
case "$native" in
    *"holder: program"*"handler calls 5 sum 15"*) ;;
    *) crs_skip "natively the program does not get signal 62 either: $native" ;;
esac

run "$P" 62
st=$?
expect="sigaction SIG_IGN: EINVAL
signal: EINVAL
sigset: EINVAL
sigaction handler: EINVAL
holder: not the program
blocked by sigfillset: no
handler calls 0 sum 0"
if [ "$st" = 0 ] && [ "$(cat "$WORK/out")" = "$expect" ]; then
    crs_pass "signal 62 stays Revive's: sigaction, signal(), sigset(), SIG_IGN refused with EINVAL, never blocked"
else
    crs_fail "signal 62 under libcr: $(crs_status_text "$st")"
    diff <(echo "$expect") "$WORK/out" | sed 's/^/   | /'
fi
n=$(grep -c "signal 62 (SIGRTMAX-2) is reserved by Revive for checkpoints" "$WORK/err")
if [ "$n" = 1 ] && grep -q "sigset(62) is refused (EINVAL)\|signal(62) is refused (EINVAL)" "$WORK/err" &&
    grep -q "REVIVE_SIGNAL=N" "$WORK/err" && [ "$(wc -l <"$WORK/err")" = 1 ]; then
    crs_pass "one line on stderr names the signal and REVIVE_SIGNAL: $(cat "$WORK/err")"
else
    crs_fail "stderr should hold one line naming signal 62 and REVIVE_SIGNAL (found $n):"
    crs_show "$WORK/err"
fi

REVIVE_SIGNAL=50 run "$P" 62
st=$?
if [ "$st" = 0 ] && [ "$(cat "$WORK/out")" = "$native" ] && [ ! -s "$WORK/err" ]; then
    crs_pass "REVIVE_SIGNAL=50: the native result, nothing on stderr"
else
    crs_fail "REVIVE_SIGNAL=50: $(crs_status_text "$st"), not the native result"
    diff <(echo "$native") "$WORK/out" | sed 's/^/   | /'
    crs_show "$WORK/err"
fi
crs_summary park_signal_app
