#!/bin/bash
# The harness's crs_outer_pid (tests/crs/crs_lib.sh), which cr_cycle.sh's rr and sigdeath
# flavours, crs_relocate.sh, init_killed.sh and every test's exit trap use to find, from out here,
# the program a restart brought back in a pid namespace of its own, must find this test's program,
# never another test's that sees itself by the same pid in its own namespace (tests run side by
# side: the first test program anywhere with that innermost pid was taken, and an exit trap could
# SIGKILL another test's program; closing31: left after e240dc8). Here two pid namespaces, each
# with a program named crt_* as its pid 1: another test's (started first, detached: not below this
# test) and ours (started from a subshell that ends at once, as `(cd DIR && crs_launch ...)`
# does: not below this test's shell any more); crs_outer_pid 1 must name ours, and the exit
# trap's kill (crs_kill_test_prog) must leave the other alone.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup outer_pid
command -v unshare >/dev/null && command -v setsid >/dev/null || crs_skip "unshare or setsid is missing"
unshare -Urfp true 2>/dev/null || crs_skip "no user and pid namespace can be made here"

# two pid namespaces whose pid 1 is `sleep` named crt_* (argv[0])
tok=$$.$RANDOM
# each with a ready file in its test's work folder in its environment, as crs_start gives it
setsid -f env REVIVE_TEST_READY="${TMPDIR:-/tmp}/revive-other.$tok/ready" \
    unshare -Urfp bash -c "exec -a crt_other_$tok sleep 120" </dev/null >/dev/null 2>&1
crs_nap 0.3
(REVIVE_TEST_READY=$WORK/ours/ready unshare -Urfp bash -c "exec -a crt_ours_$tok sleep 120" </dev/null \
    >/dev/null 2>&1 &)
# find_pid NAME: the pid out here of the process whose argv[0] is NAME
find_pid() {
    local f
    for f in /proc/[0-9]*/cmdline; do
        [ "$(tr '\0' '\n' <"$f" 2>/dev/null | head -n 1)" = "$1" ] && { f=${f#/proc/}; echo "${f%/cmdline}"; return; }
    done
}
other= ours=
for i in $(seq 100); do
    other=$(find_pid "crt_other_$tok")
    ours=$(find_pid "crt_ours_$tok")
    [ -n "$other" ] && [ -n "$ours" ] && break
    crs_nap 0.05
done
crs_at_exit "kill -9 ${other:-0} ${ours:-0}"
if [ -z "$other" ] || [ -z "$ours" ]; then
    crs_fail "setup: the two namespaces' programs never appeared (other '${other}', ours '${ours}')"
    crs_summary outer_pid
fi
grep -q '^NSpid:.*[[:space:]]1$' "/proc/$other/status" && grep -q '^NSpid:.*[[:space:]]1$' "/proc/$ours/status" ||
    crs_fail "setup: the programs are not pid 1 of their namespaces"
first=$(grep -l '^NSpid:.*[[:space:]]1$' /proc/[0-9]*/status 2>/dev/null | while read -r f; do
    p=${f#/proc/}; p=${p%/status}
    crs_is_test_prog "$p" && { echo "$p"; break; }
done)
[ "$first" = "$other" ] ||
    crs_note "the other test's program is not the first pid 1 test program /proc lists ($first): the old helper would have found ours too"

got=$(crs_outer_pid 1)
if [ "$got" = "$ours" ]; then
    crs_pass "crs_outer_pid 1 is this test's program ($ours), not the other test's ($other)"
else
    crs_fail "crs_outer_pid 1 is $got: expected this test's program $ours (the other test's is $other)"
fi
crs_kill_test_prog 1
crs_nap 0.2
if [ -d "/proc/$other" ] && ! grep -q '^State:.*Z' "/proc/$other/status" 2>/dev/null; then
    crs_pass "the exit trap's kill of 'pid 1' left the other test's program running"
else
    crs_fail "the exit trap's kill of 'pid 1' killed the other test's program $other"
fi
if [ ! -d "/proc/$ours" ] || grep -q '^State:.*Z' "/proc/$ours/status" 2>/dev/null; then
    crs_pass "it killed this test's program"
else
    crs_fail "it left this test's program $ours running"
fi
kill -9 "$other" 2>/dev/null
crs_summary outer_pid
