#!/bin/bash
# cr_restart and restart-mpi --relocate with relative paths ("dA=dB", typed in the folder where the
# user moved dA): refused at once in one line saying that the paths must be absolute and giving
# the option as it reads from the current folder; absolute ones are taken (the command then goes on
# to its image or snapshot). Before, a relative OLD was taken, matched none of the image's
# absolute names, and the restart said a file was missing and to restart with --relocate OLD=NEW
# (a fresh-user review of issue 10).
. "$(dirname "$0")/../crs_lib.sh"
crs_setup relocate_relative
crs_need_tools cr_restart
mkdir -p "$WORK/here" && cd "$WORK/here" || exit 99
here=$(pwd)

# TOOL NAME ARGS...: the one-line refusal, exit 2 (cr_restart's usage errors) or 1 (restart-mpi's)
n=0
expect_relative_refused() {
    local tool=$1 name=$2 st out
    shift 2
    out=$WORK/try$((n += 1))
    "$tool" "$@" </dev/null >"$out.out" 2>"$out.err"
    st=$?
    crs_expect_refusal "$name" "$out.err" "$st" "--relocate takes absolute paths" &&
        if grep -qF -- "--relocate $here/dA=$here/dB" "$out.err"; then
            crs_pass "$name: the message gives --relocate $here/dA=$here/dB"
        else
            crs_fail "$name: the message does not give the option from $here: $(head -n 1 "$out.err")"
        fi
}

expect_relative_refused "$CRS_TOOLS/cr_restart" "cr_restart dA=dB" --relocate dA=dB "$WORK/none.img"
expect_relative_refused "$CRS_TOOLS/cr_restart" "cr_restart dA=HERE/dB" --relocate "dA=$here/dB" "$WORK/none.img"
expect_relative_refused "$CRS_TOOLS/cr_restart" "cr_restart HERE/dA=dB" --relocate "$here/dA=dB" "$WORK/none.img"
"$CRS_TOOLS/cr_restart" --relocate "$here/dA=$here/dB" "$WORK/none.img" </dev/null >/dev/null 2>"$WORK/abs.err"
if grep -q -- "--relocate takes" "$WORK/abs.err"; then
    crs_fail "cr_restart refused absolute paths: $(head -n 1 "$WORK/abs.err")"
else
    crs_pass "cr_restart takes absolute paths (then: $(head -n 1 "$WORK/abs.err"))"
fi
rmpi=$REVIVE_BUILDDIR/tools/snapc/restart-mpi
if [ -x "$rmpi" ]; then
    expect_relative_refused "$rmpi" "restart-mpi dA=dB" --relocate dA=dB "$WORK/none.ckpt"
    expect_relative_refused "$rmpi" "restart-mpi --relocate=dA=dB" --relocate=dA=dB "$WORK/none.ckpt"
else
    crs_fail "restart-mpi is not built ($rmpi)"
fi
crs_summary relocate_relative
