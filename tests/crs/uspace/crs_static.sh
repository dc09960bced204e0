#!/bin/bash
# Statically linked programs (issue 10, point 10): cr_run refuses one at
# once, in one line saying it is statically linked and what to do, without
# running it (libcr could not be preloaded: every checkpoint would fail);
# found through PATH too. The same program built dynamically runs under
# cr_run. Built at test time with cc -static (skipped without a static libc).
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
crs_expect_refusal "cr_run of a static program" "$WORK/s1.err" $? "statically linked"
grep -q hello "$WORK/s1.out" && crs_fail "the static program ran anyway"
(PATH=$WORK:$PATH crs_tool "$WORK/s2" cr_run hello_static)
crs_expect_refusal "cr_run of a static program found in PATH" "$WORK/s2.err" $? "statically linked"
if crs_tool "$WORK/d1" cr_run "$WORK/hello_dynamic" && grep -q hello "$WORK/d1.out"; then
    crs_pass "the dynamic build runs under cr_run"
else
    crs_fail "the dynamic build under cr_run: $(head -n 1 "$WORK/d1.err")"
fi
crs_summary crs_static
