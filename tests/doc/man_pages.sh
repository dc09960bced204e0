#!/bin/bash
# The man pages (man/) against the code: each page renders without a warning; every option a
# command's --help names, or its main() compares an argument with, is in its page; every
# --ckpt-* option of the mpirun wrapper is in revive-mpirun.1; every REVIVE_* variable the
# sources read is in revive.7; every page is installed (man/Makefile.inc) and every .so link
# names a page; docs/snapshots.md names every option of ckpt-mpirun, restart-mpi, ckpt-info and
# the wrapper; every docs/ file the README, docs/ and the pages name exists. Needs groff (groff-base).
: "${REVIVE_BUILDDIR:?run through make check}" "${REVIVE_SRCDIR:?run through make check}"
src=$REVIVE_SRCDIR build=$REVIVE_BUILDDIR man=$src/man
command -v groff >/dev/null 2>&1 || {
    echo "SKIP: groff is missing (Debian: apt-get install groff-base; scripts/install-deps does)"
    exit 77
}
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/revive-man.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# the page's text as a reader types it: roff's \- as -, no font escapes
plain() { sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\f(..//g' -e 's/\\&//g' "$1"; }
# has_word FILE WORD: WORD stands alone (--term is not found in --terminal)
has_word() { grep -qE -- "(^|[^A-Za-z0-9_-])$2([^A-Za-z0-9_-]|\$)" "$1"; }

# 1. every page is installed, every installed page is here
listed=$(sed -n 's/\\$//; s/^\(dist_man[0-9]_MANS =\)\?[[:space:]]*//p' "$man/Makefile.inc" |
         tr ' \t' '\n\n' | sed -n 's|^man/\(.*\.[0-9]\)$|\1|p' | sort)
here=$(cd "$man" && ls ./*.[0-9] | sed 's|^\./||' | sort)
[ -n "$listed" ] || fail "no page found in man/Makefile.inc"
[ "$listed" = "$here" ] ||
    fail "man/Makefile.inc and man/ differ (< listed, > in the folder): $(diff <(echo "$listed") <(echo "$here") | grep '^[<>]' | tr '\n' ' ')"

# 2. every page renders without a warning; a .so link names a page of man/
pages=0
for p in "$man"/*.[0-9]; do
    if head -n 1 "$p" | grep -q '^\.so '; then
        t=$(sed -n '1s/^\.so //p' "$p")
        [ -f "$man/${t#man?/}" ] || fail "$(basename "$p") links to $t, which is not in man/"
        continue
    fi
    pages=$((pages + 1))
    grep -q '^\.SH NAME' "$p" || fail "$(basename "$p") has no NAME section"
    out=$(LC_ALL=C.UTF-8 groff -ww -z -man -t -K utf8 "$p" 2>&1)
    [ -z "$out" ] || fail "groff warns about $(basename "$p"): $out"
    if command -v man >/dev/null 2>&1; then
        out=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l "$p" 2>&1 >/dev/null)
        [ -z "$out" ] || fail "man --warnings -l $(basename "$p"): $out"
    fi
done
[ $pages -ge 10 ] || fail "only $pages pages rendered"

# 3. every option a command's --help names is in its page
check_cmd() { # PROGRAM PAGE MIN: MIN options at least in its --help
    local prog=$1 page=$man/$2 help opts n=0 o
    [ -x "$prog" ] || { fail "$prog is not built"; return; }
    help=$(timeout 20 "$prog" --help 2>&1) || { fail "$prog --help failed: $help"; return; }
    plain "$page" >"$tmp/page"
    opts=$(printf '%s\n' "$help" | grep -oE -- '(^|[^A-Za-z0-9_./-])--?[A-Za-z][A-Za-z0-9-]*' |
           sed 's/^[^-]*//' | sort -u)
    for o in $opts; do
        n=$((n + 1))
        has_word "$tmp/page" "$o" || fail "$(basename "$prog") --help names $o, man/$2 does not"
    done
    # a --help from which nothing is read would pass anything
    case $help in usage:*) ;; *) fail "$(basename "$prog") --help does not start with usage:" ;; esac
    [ $n -ge "$3" ] || fail "found only $n options in $(basename "$prog") --help (expected $3 or more)"
    echo "$(basename "$prog"): $n options of --help in man/$2"
}
check_cmd "$build/tools/cr_run" cr_run.1 0    # cr_run PROG: no option but --help
check_cmd "$build/tools/cr_checkpoint" cr_checkpoint.1 15
check_cmd "$build/tools/cr_restart" cr_restart.1 3
check_cmd "$build/tools/cr_info" cr_info.1 2
check_cmd "$build/tools/snapc/ckpt-mpirun" ckpt-mpirun.1 7
check_cmd "$build/tools/snapc/restart-mpi" restart-mpi.1 7
check_cmd "$build/tools/snapc/ckpt-info" ckpt-info.1 2

# 3b. every option the command's main() (or its parse_options, where main has one; restart-mpi's
# restart_parse_options in restart_options.c) compares its arguments with, or names in its getopt
# tables, is in its page too (the options a --help leaves out: cr_checkpoint --fd/--signal for
# libcr's helper, the -s forms, restart-mpi --machinefile)
check_src() { # SOURCE PAGE MIN
    local c=$src/$1 page=$man/$2 opts n=0 o
    plain "$page" >"$tmp/page"
    opts=$( (awk '/^(int main|static void parse_options|void restart_parse_options)\(/ { m = 1 } m' "$c" |
             grep -oE 'strn?cmp\((a|argv\[[a-z0-9]+\]), "-[-A-Za-z0-9]+=?"|\{ *"[a-z][a-z-]*", *(no|required|optional)_argument' |
             grep -oE '"[^"]+"' | tr -d '"=' | sed 's/^\([a-z]\)/--\1/'
             # getopt's short options: "f:z::T:vh" gives -f -z -T -v -h
             grep -oE 'getopt(_long)?\(argc, argv, "[^"]*"' "$c" | sed 's/.*"\([^"]*\)"/\1/' |
             tr -d ':' | grep -oE '[A-Za-z]' | sed 's/^/-/') | grep -vx -- '--' | sort -u)
    for o in $opts; do
        n=$((n + 1))
        has_word "$tmp/page" "$o" || fail "$1 takes $o, man/$2 does not name it"
    done
    [ $n -ge "$3" ] || fail "found only $n options in $1 (expected $3 or more)"
    echo "$1: $n options of its main() in man/$2"
}
check_src tools/cr_run.c cr_run.1 2
check_src tools/cr_checkpoint.c cr_checkpoint.1 20
check_src tools/cr_restart.c cr_restart.1 4
check_src tools/cr_info.c cr_info.1 4
check_src tools/snapc/ckpt-mpirun.c ckpt-mpirun.1 10
check_src tools/snapc/restart_options.c restart-mpi.1 11
check_src tools/snapc/ckpt-info.c ckpt-info.1 4

# 4. the wrapper has no --help of its own (mpirun --help is the real launcher's): its --ckpt-*
# options are read from the script
wrapper=$build/tools/mpi/mpirun
plain "$man/revive-mpirun.1" >"$tmp/page"
opts=$(grep -oE -- '--ckpt-[a-z][a-z-]*[a-z]' "$wrapper" | sort -u)
n=0
for o in $opts; do
    n=$((n + 1))
    has_word "$tmp/page" "$o" || fail "the mpirun wrapper takes $o, man/revive-mpirun.1 does not name it"
done
[ $n -ge 5 ] || fail "found only $n --ckpt-* options in $wrapper"
echo "mpirun wrapper: $n --ckpt-* options in man/revive-mpirun.1"

# 4b. docs/snapshots.md is the reference of the global-snapshot commands: every option of their
# --help and every --ckpt-* option of the wrapper is in it too
cp "$src/docs/snapshots.md" "$tmp/page"
n=0
for prog in ckpt-mpirun restart-mpi ckpt-info; do
    for o in $(timeout 20 "$build/tools/snapc/$prog" --help 2>&1 |
               grep -oE -- '(^|[^A-Za-z0-9_./-])--?[A-Za-z][A-Za-z0-9-]*' | sed 's/^[^-]*//' | sort -u) \
             $([ $prog = ckpt-mpirun ] && echo "$opts"); do
        n=$((n + 1))
        has_word "$tmp/page" "$o" || fail "$prog takes $o, docs/snapshots.md does not name it"
    done
done
[ $n -ge 20 ] || fail "found only $n options for docs/snapshots.md"
echo "docs/snapshots.md: $n options"

# 4c. every docs/ file the README, docs/ and the man pages point to is there (diffrev20 LOW-I: a
# placeholder "`docs/...`" was left in docs/snapshots.md); a sentence's full stop is not the name's
n=0
for ref in $(cat "$src/README.md" "$src"/docs/*.md "$man"/*.[0-9] | grep -oE 'docs/[A-Za-z0-9_.-]*' |
             sed 's/[.]*$//' | sort -u); do
    n=$((n + 1))
    [ -f "$src/$ref" ] || fail "README.md, docs/ or man/ points to '$ref', which is no file of docs/"
done
[ $n -ge 2 ] || fail "found only $n references to docs/ files"
echo "docs/ files named: $n, all there"

# 5. every REVIVE_* variable the sources read (a quoted name in C, $NAME in the shell scripts)
plain "$man/revive.7" >"$tmp/page"
vars=$( (grep -rhoE '"REVIVE_[A-Z0-9_]+"' "$src/src" "$src/tools" --include='*.c' --include='*.h'
         grep -rhoE '\$\{?REVIVE_[A-Z0-9_]+' "$src/tools" --include='*.in') |
       tr -d '"${' | sort -u)
n=0
for v in $vars; do
    n=$((n + 1))
    has_word "$tmp/page" "$v" || fail "the sources read $v, man/revive.7 does not name it"
done
[ $n -ge 20 ] || fail "found only $n REVIVE_* variables in the sources"
echo "revive.7: $n REVIVE_* variables"

[ $fails = 0 ] || { echo "$fails failures"; exit 1; }
echo "man pages: OK"
