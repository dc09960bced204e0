#!/bin/bash
# Statically linked programs (issue 10, point 10): cr_run refuses one without
# libcr at once, in one line saying that a static executable cannot have
# libcr preloaded and what to do (link libcr.a), without running it (every
# checkpoint would fail); found through PATH too. The same program built
# dynamically runs under cr_run. Static programs linked with libcr.a (through
# libcr-static.flags, as the README says) run checkpointable by themselves and
# under cr_run, and come back through cr_cycle.sh's flavours, compared with an
# uninterrupted run: crt_static_threads (crt_threads) through every flavour
# (what static linking changes is libcr's own start and the mechanics of each
# flavour), crt_static_heap (crt_heap) through those that restore its heap or
# keep the original's: kill, twice, nopid, rr, cont, fork, compress and busy
# (which restores it beside the running original, as crs_hugepages and
# crs_session run it; run, stop, term, stdoutfile, tty and sigdeath are how
# the process ends and its streams, the same for both programs:
# crt_static_threads shows them). A caller's CRS_FLAVOURS is used for both
# programs. Built with cc -static (skipped without a static libc).
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_static
crs_need_tools cr_run
cat >"$WORK/hello.c" <<'C'
#include <stdio.h>
int main(void) { puts("hello from the program"); return 0; }
C
cc=${CC:-cc}
if ! "$cc" -static -o "$WORK/hello_static" "$WORK/hello.c" 2>"$WORK/cc.err"; then
    crs_skip "cannot link a static program here ($cc -static: $(head -n 1 "$WORK/cc.err"))"
fi
"$cc" -o "$WORK/hello_dynamic" "$WORK/hello.c" || { crs_fail "cannot build the dynamic program"; crs_summary crs_static; }
crs_tool "$WORK/s1" cr_run "$WORK/hello_static"
crs_expect_refusal "cr_run of a static program" "$WORK/s1.err" $? "static executable"
grep -q "libcr.a" "$WORK/s1.err" && grep -q "preloaded" "$WORK/s1.err" &&
    crs_pass "the message says libcr cannot be preloaded and to link libcr.a" ||
    crs_fail "the message does not say that libcr cannot be preloaded and to link libcr.a"
grep -q hello "$WORK/s1.out" && crs_fail "the static program ran anyway"
(PATH=$WORK:$PATH crs_tool "$WORK/s2" cr_run hello_static)
crs_expect_refusal "cr_run of a static program found in PATH" "$WORK/s2.err" $? "static executable"
if crs_tool "$WORK/d1" cr_run "$WORK/hello_dynamic" && grep -q hello "$WORK/d1.out"; then
    crs_pass "the dynamic build runs under cr_run"
else
    crs_fail "the dynamic build under cr_run: $(head -n 1 "$WORK/d1.err")"
fi
for p in crt_static_threads crt_static_heap; do
    if [ ! -x "$CRS_BIN/$p" ]; then
        crs_fail "$p (linked with libcr.a) is not built"
        continue
    fi
    if ! file "$CRS_BIN/$p" 2>/dev/null | grep -q 'statically linked'; then
        crs_fail "$p is not a static executable"
        continue
    fi
    fl=${CRS_FLAVOURS:-}
    [ "$p" = crt_static_heap ] && fl=${CRS_FLAVOURS:-kill twice nopid rr cont fork compress busy}
    if CRS_FLAVOURS=$fl bash "$(dirname "$0")/../cr_cycle.sh" "$p"; then
        crs_pass "$p, static with libcr.a: ${fl:-every flavour}"
    else
        crs_fail "$p, static with libcr.a: the flavours above"
    fi
done
crs_summary crs_static
