#!/bin/bash
# State test: a dlsym that is not the C library's in front of libcr's lookups (crt_owndlsym.c,
# owndlsym_wrap.c: counts its calls, forwards to the C library's dlsym found with dlvsym, as
# tracing tools and profilers do), diffrev38 R-L8:
#   own      the program defines dlsym itself (crt_owndlsym): run, kill, rr, cont
#   preload  a preloaded library defines it, under cr_run (libcr.so comes first):
#            crt_owndlsym_plain with LD_PRELOAD=libowndlsym.so: run, kill
#   linked   a program linked with -lcr (crt_owndlsym_lcr) run with LD_PRELOAD=libowndlsym.so, so
#            the tool's dlsym comes before libcr: checkpointed with --kill at point 1, restarted;
#            its lines after the point are those of crt_owndlsym_plain run with the library
#            preloaded and without libcr
# Each line the programs print is compared with an uninterrupted run without libcr, the count of
# calls to the wrapper too (libcr's lookups do not go through it). Before, libcr found libc's
# calls through the symbol dlsym, whose RTLD_NEXT was then the wrapper's: "own" and "linked" died
# of SIGSEGV at their first close (libcr's close found itself as the next close), and "preload"
# counted libcr's lookups.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_owndlsym
crs_need_tools cr_run cr_checkpoint cr_restart
cc=${CC:-cc}
if CRS_FLAVOURS="run kill rr cont" bash "$(dirname "$0")/../cr_cycle.sh" crt_owndlsym; then
    crs_pass "own: the program's dlsym: run, kill, rr, cont as uninterrupted"
else
    crs_fail "own: the program's dlsym (the flavours above)"
fi
lib=$WORK/libowndlsym.so
command -v "$cc" >/dev/null || { crs_note "SKIP-PART: preload and linked (no C compiler: $cc)"; crs_summary crs_owndlsym; }
if ! "$cc" -O1 -shared -fPIC -o "$lib" "$(dirname "$0")/owndlsym_wrap.c" -lpthread -ldl 2>"$WORK/cc.err"; then
    crs_fail "owndlsym_wrap.c does not build as a library: $(head -n 3 "$WORK/cc.err")"
    crs_summary crs_owndlsym
fi
if LD_PRELOAD=$lib CRS_FLAVOURS="run kill" bash "$(dirname "$0")/../cr_cycle.sh" crt_owndlsym_plain; then
    crs_pass "preload: a preloaded library's dlsym under cr_run: run, kill as uninterrupted"
else
    crs_fail "preload: a preloaded library's dlsym under cr_run (the flavours above)"
fi
# linked: the reference is the program without libcr, the library preloaded
r=$WORK/ref
st=$(LD_PRELOAD=$lib crs_uninterrupted "$r" ref "$CRS_BIN/crt_owndlsym_plain")
[ "$st" = 42 ] || { crs_fail "linked: the reference run (no libcr): $(crs_status_text "$st")"; crs_show "$r/ref.out"; crs_summary crs_owndlsym; }
crs_after_point 1 "$r/ref.out" >"$WORK/ref.after1"
d=$WORK/linked
if ! crs_start "$d" orig env LD_PRELOAD="$lib" "$CRS_BIN/crt_owndlsym_lcr"; then
    crs_fail "linked: the -lcr program with the library preloaded never reached point 1: $(crs_status_text "$(crs_wait_status "$d/orig" 5)")"
    crs_show "$d/orig.out"; crs_show "$d/orig.err"
    crs_summary crs_owndlsym
fi
if ! crs_tool "$WORK/ck" cr_checkpoint --kill -f "$WORK/linked.img" "$PID"; then
    crs_fail "linked: cr_checkpoint --kill: $(head -n 1 "$WORK/ck.err")"
    crs_summary crs_owndlsym
fi
crs_wait_status "$d/orig" 30 >/dev/null
touch "$d/go.1" "$d/go.2"
cd "$d" || exit 99
st=$(crs_run "$d/rst" "$CRS_TOOLS/cr_restart" "$WORK/linked.img")
crs_expect_run "linked: the -lcr program restarted: its lines after point 1 are the uninterrupted run's without libcr" \
    "$WORK/ref.after1" "$d/rst" "$st"
crs_summary crs_owndlsym
