#!/bin/bash
# Bad input (issue 2): an image from another kernel or another CPU. The
# header of a good image (crt_vdso, --kill at point 1) is patched and its
# XXH3 checksum fixed (crt_imgtool), so only the host facts are wrong:
#   other-kernel   kernel_release "5.10.0-other-revive-test"
#   other-machine  machine "aarch64"
#   other-cpu      xfeatures with a CPU state component this CPU lacks
# cr_restart must refuse each with one line naming the problem (the word
# "kernel", "aarch64"/"machine"/"architecture", "CPU"/"feature"), a non-zero
# exit that is not a signal, no output from the program; cr_info must still
# show the image (it is well formed). Control: patching the kernel release
# to this kernel's own (and fixing the checksum) must restart correctly, so
# the patching itself is sound.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_bad_host
crs_need_tools cr_run cr_checkpoint cr_restart cr_info
TOOL=$CRS_BASE_BIN/crt_imgtool
VDSO=$CRS_BIN/crt_vdso

crs_good_image crs_bad_host "$VDSO"

# refuse NAME REGEX: cr_restart of $WORK/NAME.img must refuse with a message
# matching REGEX (case-insensitive).
refuse() {
    local name=$1 re=$2 st
    crs_tool "$WORK/$name" cr_restart "$WORK/$name.img"
    st=$?
    [ -s "$WORK/$name.out" ] && crs_fail "$name: the program ran: $(head -n 1 "$WORK/$name.out")"
    if crs_expect_refusal "$name" "$WORK/$name.err" "$st"; then
        grep -qiE -- "$re" "$WORK/$name.err" ||
            crs_fail "$name: the message does not say what is wrong (expected /$re/)"
    fi
    crs_tool "$WORK/$name-info" cr_info "$WORK/$name.img"
    st=$?
    [ "$st" -gt 128 ] && crs_fail "$name: cr_info $(crs_status_text "$st")"
    [ "$st" = 0 ] || crs_note "$name: cr_info exits $st: $(head -n 1 "$WORK/$name-info.err")"
}

cp "$GOOD" "$WORK/other-kernel.img"
"$TOOL" set-kernel "$WORK/other-kernel.img" 5.10.0-other-revive-test
refuse other-kernel 'kernel|5\.10\.0-other'

cp "$GOOD" "$WORK/other-machine.img"
"$TOOL" set-machine "$WORK/other-machine.img" aarch64
refuse other-machine 'aarch64|machine|architecture'

cp "$GOOD" "$WORK/other-cpu.img"
"$TOOL" add-xfeatures "$WORK/other-cpu.img" >/dev/null 2>"$WORK/xf.err"
case $? in
    0) refuse other-cpu 'cpu|feature|xsave|xcr0' ;;
    3) echo "SKIP other-cpu: $(cat "$WORK/xf.err")" ;;
    *) crs_fail "other-cpu: crt_imgtool add-xfeatures failed: $(cat "$WORK/xf.err")" ;;
esac

cp "$GOOD" "$WORK/same-kernel.img"
"$TOOL" set-kernel "$WORK/same-kernel.img" "$(uname -r)"
st=$(crs_run "$WORK/same-kernel" "$CRS_TOOLS/cr_restart" "$WORK/same-kernel.img")
crs_expect_run "control: the header rewritten with this kernel's release restarts correctly" \
    "$WORK/ref.after1" "$WORK/same-kernel" "$st"
crs_summary crs_bad_host
