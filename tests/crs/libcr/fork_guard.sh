#!/bin/bash
# The fork guard in a program linked with libcr (fork_guard.c; src/crs/libcr/fork_guard.h):
# - wait: a thread inside a section waits for a thread it started to make an eventfd inside a
#   section of its own, while a third forks in a loop (the MPI library's dlopen, whose
#   constructors run inside a section: diffrev32 R-L8): 200 rounds, none may hang (a fork waits
#   only for open sections; a section waits only while a fork copies the process);
# - raw: glibc's _Fork, which runs no fork handler, while a section holds a descriptor: the child
#   must not hold it (libcr's _Fork waits for the section as fork does; before, 5 of 5 children
#   held it: fork32's gap);
# - handler: a signal handler's _Fork landing in the few instructions of the main thread's section
#   entry or exit must not wait for ever (diffrev33 R-L10: it waited for its own count);
# - close: revive_close_owned disowns and closes an owned descriptor in one call (session 46).
. "$(dirname "$0")/../crs_lib.sh"
crs_setup fork_guard
P=$CRS_LIBCR_BIN/fork_guard
[ -x "$P" ] || crs_skip "$P is not built (libcr.la missing?)"
LD_PRELOAD= timeout -k 5 180 "$P" "$WORK" >"$WORK/out" 2>"$WORK/err" </dev/null
st=$?
cat "$WORK/out"
for part in wait raw handler close; do
    if grep -q "^PASS: $part:" "$WORK/out"; then
        crs_pass "$part: $(sed -n "s/^PASS: $part: //p" "$WORK/out")"
    elif grep -q "^SKIP-PART: $part:" "$WORK/out"; then
        :
    else
        crs_fail "$part: $(sed -n "s/^FAIL: $part: //p" "$WORK/out" | head -n 1) (the program: $(crs_status_text "$st"))"
        sed 's/^/   /' "$WORK/err" | head -n 5
    fi
done
crs_summary fork_guard
