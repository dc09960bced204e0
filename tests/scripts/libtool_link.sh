#!/bin/sh
# scripts/libtool-link's own compile of a libtool object (the build's $(LIBTOOL), Makefile.am),
# with this build's libtool for its settings and a stand-in compiler that writes the words it was
# given: the line make V=1 shows is the command run, each word as a shell reads it back (diffrev48
# R-N1: -DPACKAGE_STRING="revive 0.1.0" shown unquoted, which pasted loses its quotes); a .libs
# folder that cannot be made fails with a line saying so and what to do (R-L1: status 1 and no
# word, make said only "Error 1"); a real compile makes the object and the .lo libtool makes.
set -u
src=${REVIVE_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
b=${REVIVE_BUILDDIR:-$src/_build}
lt=$b/libtool
[ -f "$lt" ] || { echo "FAIL: no libtool in the build folder $b (run configure there)"; exit 1; }
w=$(mktemp -d) || exit 99
trap 'rm -rf "$w"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=1; }
# the stand-in compiler: its command's words, one a line, in argv.txt; an empty object where -o says
cat >"$w/cc" <<'CC'
#!/bin/sh
printf '%s\n' "$0" >"$CC_WORDS"
for a in "$@"; do printf '%s\n' "$a" >>"$CC_WORDS"; done
while [ $# -gt 0 ]; do [ "$1" = -o ] && : >"$2"; shift; done
CC
chmod +x "$w/cc"
export CC_WORDS=$w/argv.txt
# ltl DIR ARGS...: libtool-link as the Makefile runs it, in DIR; its lines in DIR/out, DIR/err
ltl() {
    (cd "$1" && shift && /bin/sh "$src/scripts/libtool-link" /bin/sh "$lt" --tag=CC "$@" >out 2>err)
}
newdir() { rm -rf "$w/$1"; mkdir -p "$w/$1/sub" && printf 'int f(void) { return 1; }\n' >"$w/$1/sub/ok.c"; }

# 1. V=1: words a shell would split or expand (DEFS' quoted strings, a quote, $, \, *, a tab)
newdir v
tab=$(printf '\t')
ltl "$w/v" --mode=compile "$w/cc" -DPACKAGE_STRING='"revive 0.1.0"' "-DQ=\"it's\"" '-DD=$HOME' \
    '-DB=a\b' '-DS=*' "-DT=a${tab}b" -DE= '' -O2 -c -o sub/ok.lo sub/ok.c; st=$?
shown=$(grep '^libtool: compile:  ' "$w/v/out")
if [ $st != 0 ] || [ "$(wc -l <"$w/v/out")" != 1 ] || [ -z "$shown" ]; then
    fail "V=1 compile: status $st, not one line 'libtool: compile:  ...' on stdout:"; cat "$w/v/out" "$w/v/err"
elif ! grep -qx 'sub/.libs/ok.o' "$w/argv.txt" || ! grep -qx "pic_object='.libs/ok.o'" "$w/v/sub/ok.lo"; then
    fail "V=1 compile: not compiled by libtool-link itself (no -o sub/.libs/ok.o, or no .lo): the case tests nothing"
else
    eval "set -- ${shown#libtool: compile:  }"
    for a in "$@"; do printf '%s\n' "$a"; done >"$w/shown.txt"
    if cmp -s "$w/argv.txt" "$w/shown.txt"; then
        echo "PASS: make V=1's line read back by a shell gives the compiler's words ($(wc -l <"$w/argv.txt") words, quotes, \$, \\, *, a tab, an empty word)"
    else
        fail "make V=1's line is not the command run: shown"; printf '    %s\n' "$shown"
        echo "  the compiler's words, then the shown line's words read back by a shell:"
        diff "$w/argv.txt" "$w/shown.txt" | sed 's/^/    /'
    fi
fi

# 2. the object folder cannot be made (a file of that name; also what a read-only build folder,
# a full or read-only disk give): status 1, mkdir's line and ours naming the folder and the way out
newdir nolibs
: >"$w/nolibs/sub/.libs"
: >"$w/argv.txt"
ltl "$w/nolibs" --silent --mode=compile "$w/cc" -O2 -c -o sub/ok.lo sub/ok.c; st=$?
if [ $st = 1 ] && grep -q '^libtool-link: cannot make the folder sub/\.libs for sub/ok\.lo.*: make sub/\.libs a writable folder' "$w/nolibs/err" &&
    grep -q 'mkdir: .*sub/\.libs' "$w/nolibs/err" && [ ! -s "$w/argv.txt" ] && [ ! -e "$w/nolibs/sub/ok.lo" ]; then
    echo "PASS: .libs not makeable: status 1, $(grep -c . "$w/nolibs/err") lines: $(grep '^libtool-link:' "$w/nolibs/err")"
else
    fail ".libs not makeable: status $st (1 expected), the compiler run: $([ -s "$w/argv.txt" ] && echo yes || echo no), stderr (mkdir's line and libtool-link's expected):"
    sed 's/^/    /' "$w/nolibs/err"
fi

# 3. a real compile (the build's compiler): the object, and the .lo libtool writes
newdir real
cc=$(sed -n 's/^CC = //p' "$b/Makefile")
ltl "$w/real" --silent --mode=compile ${cc:-gcc} -DPACKAGE_STRING='"revive 0.1.0"' -c -o sub/ok.lo sub/ok.c; st=$?
if [ $st = 0 ] && [ -s "$w/real/sub/.libs/ok.o" ] && grep -qx "pic_object='.libs/ok.o'" "$w/real/sub/ok.lo" && [ ! -s "$w/real/out" ]; then
    echo "PASS: a compile with ${cc:-gcc}: the object and its .lo, nothing printed (--silent)"
else
    fail "a compile with ${cc:-gcc}: status $st"; cat "$w/real/out" "$w/real/err"
fi
exit $fails
