#!/bin/bash
# Bad input (issue 2): images with a byte flipped and images truncated.
#
# A good image of crt_vdso is taken (--kill at point 1) and restarted once as
# a baseline. Then, one copy at a time:
#   - every byte of the header and of the section table, 33 bytes of every
#     metadata section, and the first, middle and last bytes of up to 40
#     chunks of page data are flipped: these bytes are covered by a checksum, so
#     cr_restart must refuse: a non-zero exit that is not a signal, within 20
#     seconds, one line on stderr naming the image, nothing from the program
#     on stdout; cr_info --verify must refuse too;
#   - bytes no checksum covers (alignment padding) are flipped: cr_restart
#     may refuse or restart, but a restart must then be exactly right;
#   - the image is cut at ~60 lengths (0, 1, around the header, each section
#     and chunk boundary, evenly spaced, size-1): cr_restart and
#     cr_info --verify must refuse as above.
# Which bytes are covered comes from `crt_imgtool ranges` (image_format.h).
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_bad_image
crs_need_tools cr_run cr_checkpoint cr_restart cr_info
TOOL=$CRS_BASE_BIN/crt_imgtool
VDSO=$CRS_BIN/crt_vdso
RS_TIMEOUT=20

crs_good_image crs_bad_image "$VDSO"

# try_restart IMAGE OUT: runs cr_restart; sets RS (status).
try_restart() {
    (crs_clean_exec timeout -k 5 "$RS_TIMEOUT" "$CRS_TOOLS/cr_restart" "$1" </dev/null \
        >"$2.out" 2>"$2.err")
    RS=$?
}

try_restart "$GOOD" "$WORK/baseline"
crs_expect_run "baseline: the unmodified image restarts correctly" \
    "$WORK/ref.after1" "$WORK/baseline" "$RS" || crs_summary crs_bad_image

"$TOOL" ranges "$GOOD" >"$WORK/ranges" 2>"$WORK/ranges.err" || {
    crs_fail "setup: crt_imgtool ranges: $(head -n 1 "$WORK/ranges.err")"
    crs_summary crs_bad_image
}
SIZE=$(stat -c %s "$GOOD")
crs_note "image: $SIZE bytes, $(grep -c chunk "$WORK/ranges") chunks," \
    "$(grep -c section "$WORK/ranges") sections"

# Positions to flip: "POS covered|free WHAT"
awk -v size="$SIZE" '
function add(p, kind, what) { if (p >= 0 && p < size && !(p in seen)) { seen[p] = 1; print p, kind, what } }
{ s[NR] = $1; e[NR] = $2; w[NR] = $3; if ($3 == "chunk") nchunk++ }
END {
    step = nchunk > 40 ? nchunk / 40 : 1; c = 0; next_c = 0
    for (i = 1; i <= NR; i++) {
        if (w[i] == "header" || w[i] == "table") {
            for (p = s[i]; p < e[i] && p < s[i] + 1024; p++) add(p, "covered", w[i])
        } else if (w[i] == "chunk") {
            c++
            if (c - 1 >= next_c) {
                next_c += step
                add(s[i], "covered", "chunk"); add(int((s[i] + e[i]) / 2), "covered", "chunk")
                add(e[i] - 1, "covered", "chunk")
            }
        } else {
            n = e[i] - s[i]
            add(s[i], "covered", w[i]); add(e[i] - 1, "covered", w[i])
            for (k = 1; k < 32; k++) add(s[i] + int(n * k / 32), "covered", w[i])
        }
    }
}' "$WORK/ranges" >"$WORK/positions"
# free bytes: gaps between the sorted ranges (up to 4 per gap, 40 in all)
sort -n "$WORK/ranges" | awk -v size="$SIZE" '
BEGIN { pos = 0; n = 0 }
{ if ($1 > pos && n < 40) { g = $1 - pos; print pos, "free", "gap"; if (g > 2) print pos + int(g / 2), "free", "gap"; print $1 - 1, "free", "gap"; n += 3 }
  if ($2 > pos) pos = $2 }
END { if (pos < size && n < 44) print pos, "free", "tail" }' >>"$WORK/positions"

# judge KIND WHAT IMAGE NAME: classifies one cr_restart of a corrupted image.
covered_ok=0 covered_bad=0 free_refused=0 free_ok=0 free_bad=0 shown=0 JUDGE_BAD=0
judge() {
    local kind=$1 what=$2 img=$3 name=$4 why= lines
    try_restart "$img" "$WORK/try"
    # the non-empty lines of its messages, and the messages, read by the shell: a thousand
    # images are judged, and every process started waits for a core on a loaded machine
    local l err=
    lines=0
    while IFS= read -r l || [ -n "$l" ]; do
        [ -n "$l" ] && lines=$((lines + 1)) && err="$err$l"$'\n'
    done <"$WORK/try.err"
    if [ "$RS" = 124 ]; then
        why="cr_restart hung (killed after ${RS_TIMEOUT}s)"
    elif [ "$RS" -gt 128 ]; then
        why="cr_restart $(crs_status_text "$RS")"
    elif [ "$RS" = 42 ] && cmp -s "$WORK/ref.after1" "$WORK/try.out"; then
        if [ "$kind" = free ]; then
            free_ok=$((free_ok + 1))
            return
        fi
        why="restarted although the byte is covered by a checksum (the output was right)"
    elif [ "$RS" = 0 ] || [ "$RS" = 42 ]; then
        why="a wrong restart: $(crs_status_text "$RS"), output differs from the reference"
    elif [ -s "$WORK/try.out" ]; then
        why="refused ($(crs_status_text "$RS")) but the program printed: $(head -n 1 "$WORK/try.out")"
    elif [ "$lines" != 1 ]; then
        why="$lines lines on stderr, expected one"
    elif [[ $err != *"${img##*/}"* ]]; then
        why="the message does not name the image: $(head -n 1 "$WORK/try.err")"
    fi
    if [ -z "$why" ] && [ "$kind" = covered ]; then
        timeout -k 5 "$RS_TIMEOUT" "$CRS_TOOLS/cr_info" --verify "$img" </dev/null >/dev/null \
            2>"$WORK/verify.err"
        local vs=$?
        if [ "$vs" = 0 ]; then
            why="cr_restart refused but cr_info --verify accepts it"
        elif [ "$vs" -gt 123 ]; then
            why="cr_info --verify $(crs_status_text "$vs")"
        fi
    fi
    if [ -z "$why" ]; then
        if [ "$kind" = covered ]; then covered_ok=$((covered_ok + 1)); else free_refused=$((free_refused + 1)); fi
        return
    fi
    if [ "$kind" = covered ]; then covered_bad=$((covered_bad + 1)); else free_bad=$((free_bad + 1)); fi
    JUDGE_BAD=$((JUDGE_BAD + 1))
    if [ $shown -lt 25 ]; then
        shown=$((shown + 1))
        echo "FAIL $name ($what): $why"
        [ "$lines" -gt 0 ] 2>/dev/null && crs_show "$WORK/try.err" 3
    fi
}

BAD=$WORK/bad.img
while read -r pos kind what; do
    # a fresh copy for each flip, made by the tool (a cp more for each of ~1000 judges cost)
    "$TOOL" flipcopy "$GOOD" "$BAD" "$pos" || { crs_fail "setup: cannot flip byte $pos"; continue; }
    judge "$kind" "$what" "$BAD" "flip byte $pos"
done <"$WORK/positions"
n_cov=$(grep -c covered "$WORK/positions")
n_free=$(grep -c free "$WORK/positions")
if [ "$covered_bad" = 0 ]; then
    crs_pass "flips of $n_cov checksummed bytes: every one refused with one message"
else
    crs_fail "flips: $covered_bad of $n_cov checksummed bytes not handled as they must be"
fi
if [ "$free_bad" = 0 ]; then
    crs_pass "flips of $n_free unchecked padding bytes: $free_refused refused, $free_ok restarted correctly"
else
    crs_fail "flips: $free_bad of $n_free padding bytes gave a crash, hang or wrong restart"
fi

# Truncations
HDR_END=$(awk '$3 == "header" { print $2 }' "$WORK/ranges")
{
    echo 0
    echo 1
    echo 8
    echo 100
    echo $((HDR_END - 1))
    echo "$HDR_END"
    echo $((HDR_END + 1))
    echo 4095
    echo 4096
    echo 4097
    awk '$3 != "chunk" { print $1; print $1 + 1; print $2 - 1 }' "$WORK/ranges"
    awk '$3 == "chunk"' "$WORK/ranges" | awk 'NR % 10 == 1 { print $1; print $2 - 1 }' | head -n 12
    for k in $(seq 1 20); do echo $((SIZE * k / 21)); done
    echo $((SIZE - 1))
} | sort -n -u | awk -v size="$SIZE" '$1 >= 0 && $1 < size' >"$WORK/lengths"
before=$JUDGE_BAD
TRUNC=$WORK/cut.img
while read -r len; do
    head -c "$len" "$GOOD" >"$TRUNC"
    judge covered "truncated" "$TRUNC" "truncated to $len bytes"
done <"$WORK/lengths"
n_len=$(wc -l <"$WORK/lengths")
trunc_bad=$((JUDGE_BAD - before))
if [ "$trunc_bad" = 0 ]; then
    crs_pass "truncations at $n_len lengths: every one refused with one message"
else
    crs_fail "truncations: $trunc_bad of $n_len lengths not handled as they must be"
fi

# An image followed by junk (an older, longer file written over) still restarts.
cp "$GOOD" "$WORK/long.img"
head -c 100000 /dev/urandom >>"$WORK/long.img"
try_restart "$WORK/long.img" "$WORK/long"
crs_expect_run "an image followed by unrelated bytes restarts correctly" \
    "$WORK/ref.after1" "$WORK/long" "$RS"

crs_summary crs_bad_image
