#!/bin/bash
# newuser8 F4: with node-local caching, sequences damaged in different ways do not send the user
# from one to the other: restart-mpi's choice, the sequence every refusal names, and ckpt-info
# --verify's verdict (per sequence and on the index line) come from one rule (seq_pick.h), which
# checks an image missing or damaged in the snapshot directory against the copy this host's
# cache holds, as ckpt-info did alone. Before, restart-mpi called such a sequence fetchable
# unchecked (its only copy the same file, a hard link, or gone): REF named 1, --seq 1 was refused,
# and ckpt-info said "restart-mpi takes 2" of a sequence it had just called damaged.
# A job of 2 fake ranks on this host (REVIVE_CKPT_KEEP=3: its cache keeps every sequence),
# each node's default cache (under the work folder, on the snapshot directory's file system:
# staging hard-links each image to its cached copy), checkpointed three times (0, 1, 2 with --term), then on copies of that snapshot directory:
#   A: 2's rank 1 image truncated (its cached copy is the same file), 1's rank 0 image missing
#      here and in the cache, 3 never committed: the chain of advice from `restart-mpi DIR` ends
#      on 0, named by every refusal, never 1 or 2; each sequence's ckpt-info --verify status is
#      restart-mpi's (--showme --seq N); ckpt-info's index line names 0; restarting 0 gives the
#      uninterrupted answer;
#   B: 0 damaged too (a byte of its chunk data, cached copy the same file): no sequence can
#      restart, said once with each sequence's defect, by restart-mpi and ckpt-info alike;
#   C: 1's missing image has a good copy in this host's cache: 1 is named (from the cache),
#      ckpt-info --verify says 1 passes, and restart-mpi --showme takes it;
#   D: (root) rank 1 ran under a host name that does not resolve: 2's and 1's images of it
#      missing here, their copies only on that host: restart-mpi's fetch finds it down, and its
#      refusal names 0, never the other; with 0's missing too, none is named.
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-advice-cached
export REVIVE_RESTART_RANK=$FRANK REVIVE_COORD_BIN=$COORD
L=$TMPDIR/revive-local-$(id -u)

opts="--iters 40000 --sleep-us 300 --seed 5"
"$COORD" --flavor fake -- "$FLAUNCH" -np 2 "$FRANK" $opts >"$W/native.out" 2>"$W/native.err" ||
    { fail "the uninterrupted run failed"; cat "$W/native.err"; finish; }
sort "$W/native.out" | grep done >"$W/native.sorted"
[ "$(grep -c done "$W/native.sorted")" = 2 ] || { fail "uninterrupted: $(cat "$W/native.out")"; finish; }

REVIVE_CKPT_KEEP=3 start_job a 2 $opts
expect_rc 0 "checkpoint 0" "$CKPT" --wait $JOB
expect_rc 0 "checkpoint 1" "$CKPT" --wait $JOB
expect_rc 0 "checkpoint 2 (--term)" "$CKPT" --term $JOB && ref=$(tail -n1 "$W/cmd.out")
wait $JOB
jd=${ref%/*}
cj=$L/${jd##*/}
[ "${ref##*/}" = 2 ] && [ -f "$jd/0/snapshot.meta" ] && [ -f "$jd/1/snapshot.meta" ] ||
    { fail "three committed sequences expected: $(ls "$jd")"; finish; }
echo "    the cache holds: $(cd "$cj" 2>/dev/null && ls -d */rank_*.img | tr '\n' ' ')"
[ "$(stat -c %h "$jd/2/rank_1.img")" = 2 ] || fail "2's rank_1.img is not hard-linked to its cached copy"
cp -a "$jd" "$W/pristine"
[ -d "$cj" ] && cp -a "$cj" "$W/pristine.cache"

# restore: the snapshot directory and its cache as the job left them
restore() {
    rm -rf "$jd" "$cj" && cp -a "$W/pristine" "$jd" || fail "cannot restore the snapshot directory"
    [ -d "$W/pristine.cache" ] && cp -a "$W/pristine.cache" "$cj"
    # cp -a keeps no hard link between the two trees: made again as staging made them
    local f s
    for f in "$cj"/*/rank_*.img; do
        [ -e "$f" ] || continue
        s=${f#"$cj/"}
        [ -e "$jd/$s" ] && ln -f "$f" "$jd/$s"
    done
}
# flip FILE: one byte in the middle of FILE (chunk data) complemented
flip() {
    local off=$(($(stat -c %s "$1") / 2)) b
    b=$(od -An -tu1 -j $off -N1 "$1" | tr -d ' ')
    printf "\\$(printf %03o $((255 - b)))" | dd of="$1" bs=1 seek=$off conv=notrunc status=none
}
# named: the sequence the last command's refusal names with --seq (none: empty)
named() { grep -o -- "--seq [0-9]* $jd" "$W/cmd.err" | head -n 1 | awk '{ print $2 }'; }
# index_line: ckpt-info's index line of the last command
index_line() { grep "^index $jd/index: " "$W/cmd.out"; }
# chain: follows the advice from `restart-mpi --showme DIR` (each refused sequence's advice, at
# most 5 steps); CHAIN: the sequences taken in turn, END: the one that passes (or "none")
chain() {
    local seq= n=0 rc
    CHAIN= END=none
    while [ $n -lt 5 ]; do
        if [ -z "$seq" ]; then
            "$RESTART" --showme "$jd" >"$W/cmd.out" 2>"$W/cmd.err"; rc=$?
            seq=$(grep -o "taking sequence [0-9]*" "$W/cmd.err" | head -n 1 | awk '{ print $3 }')
            seq=${seq:-2}
        else
            "$RESTART" --showme --seq "$seq" "$jd" >"$W/cmd.out" 2>"$W/cmd.err"; rc=$?
        fi
        CHAIN="$CHAIN $seq"
        if [ $rc = 0 ]; then END=$seq; return 0; fi
        local next; next=$(named)
        [ -n "$next" ] || return 0
        case " $CHAIN " in *" $next "*) fail "the advice comes back to sequence $next:$CHAIN -> $next: $(tail -n 1 "$W/cmd.err")"; return 1 ;; esac
        seq=$next; n=$((n + 1))
    done
    fail "the advice did not end in 5 steps:$CHAIN"
}
# agree SEQ...: ckpt-info --verify DIR/SEQ and restart-mpi --showme --seq SEQ DIR give one verdict
agree() {
    local s i r
    for s; do
        "$INFO" --verify "$jd/$s" >"$W/i.out" 2>"$W/i.err"; i=$?
        "$RESTART" --showme --seq "$s" "$jd" >"$W/r.out" 2>"$W/r.err"; r=$?
        [ $i = $r ] || fail "sequence $s: ckpt-info --verify status $i ($(tail -n 1 "$W/i.err")), restart-mpi status $r ($(tail -n 1 "$W/r.err"))"
    done
}

# A: 2 truncated (its cached copy the same file), 1's rank 0 image in no copy, 3 never committed
truncate -s 1000 "$jd/2/rank_1.img"
rm -f "$jd/1/rank_0.img" "$cj/1/rank_0.img"
mkdir -m 700 "$jd/3"
chain
[ "$CHAIN" = " 2 0" ] && [ "$END" = 0 ] ||
    fail "A: the advice from restart-mpi $jd went$CHAIN, ending on $END (expected 2 then 0)"
expect_rc 1 "A: restart-mpi" "$RESTART" --showme "$jd" && err_has "$jd/2 is damaged" &&
    err_has "sequence 0 beside it is committed (restart-mpi --seq 0 $jd)"
expect_rc 1 "A: restart-mpi --seq 1" "$RESTART" --showme --seq 1 "$jd" && err_has "$jd/1 is damaged" &&
    err_has "sequence 0 beside it is committed (restart-mpi --seq 0 $jd)"
agree 0 1 2
expect_rc 1 "A: ckpt-info --verify" "$INFO" --verify "$jd"
index_line | grep -qF "restart-mpi refuses 2 (damaged): sequence 0 beside it is committed (restart-mpi --seq 0 $jd)" ||
    fail "A: ckpt-info's index line: $(index_line)"
expect_rc 1 "A: ckpt-info" "$INFO" "$jd"
index_line | grep -q "restart-mpi takes" && fail "A: ckpt-info without --verify: $(index_line)"
"$RESTART" --seq 0 "$jd" >"$W/r0.out" 2>"$W/r0.err" || { fail "A: the restart from 0: status $?"; cat "$W/r0.err"; }
sort "$W/r0.out" | grep done >"$W/r0.sorted"
cmp -s "$W/native.sorted" "$W/r0.sorted" || { fail "A: the answer restarted from 0 differs"; diff "$W/native.sorted" "$W/r0.sorted"; }
pass "A: truncated, missing in every copy, uncommitted: the advice ends on 0, ckpt-info agrees, 0 restarts"

# B: 0's rank 1 image damaged too (its cached copy the same file): none can restart, said once
restore
truncate -s 1000 "$jd/2/rank_1.img"
rm -f "$jd/1/rank_0.img" "$cj/1/rank_0.img"
flip "$jd/0/rank_1.img"
chain
[ "$END" = none ] && [ "$CHAIN" = " 2" ] || fail "B: the advice went$CHAIN, ending on $END (expected 2, then none)"
for s in "" 0 1; do
    expect_rc 1 "B: restart-mpi ${s:+--seq $s}" "$RESTART" --showme ${s:+--seq $s} "$jd" &&
        err_has "run the job again from its start"
    [ -z "$(named)" ] || fail "B: restart-mpi ${s:+--seq $s} names sequence $(named): $(tail -n 1 "$W/cmd.err")"
    for o in 0 1 2; do
        [ "$o" = "${s:-2}" ] && continue
        grep -q "sequence $o: " "$W/cmd.err" || fail "B: restart-mpi ${s:+--seq $s} does not say what is wrong with sequence $o: $(tail -n 1 "$W/cmd.err")"
    done
done
agree 0 1 2
expect_rc 1 "B: ckpt-info --verify" "$INFO" --verify "$jd"
index_line | grep -qF "restart-mpi refuses 2 (damaged): $jd holds no other intact committed sequence" &&
    index_line | grep -q "sequence 1: .*sequence 0: " || fail "B: ckpt-info's index line: $(index_line)"
pass "B: every sequence damaged: none named, each one's defect said"

# C: 1's missing image has a good copy in this host's cache: 1 is named, from the cache
restore
truncate -s 1000 "$jd/2/rank_1.img"
rm -f "$jd/1/rank_0.img"
flip "$jd/0/rank_1.img"
chain
[ "$CHAIN" = " 2 1" ] && [ "$END" = 1 ] || fail "C: the advice went$CHAIN, ending on $END (expected 2 then 1)"
agree 0 1 2
expect_rc 1 "C: ckpt-info --verify" "$INFO" --verify "$jd"
index_line | grep -qF "restart-mpi refuses 2 (damaged): sequence 1 beside it is committed, 1 of its images to come from the node-local caches" ||
    fail "C: ckpt-info's index line: $(index_line)"
pass "C: an image missing here with a good copy in this host's cache: that sequence named"
wait_no_strays

# D: an image only on a host that is down. A job whose rank 1 runs under another host name
# (root: its own UTS namespace), one that does not resolve: restart-mpi's fetch finds that host
# down (no launch there). 2's and 1's rank 1 images missing here (their cached copies are on
# that host), 0 intact: the refusal of 2 after its fetch names 0, not 1 (whose copy is on the
# same host), and the refusal of 1 names 0, not 2; with 0's missing too: none named, each said.
if [ "$(id -u)" = 0 ] && unshare -u true 2>/dev/null; then
    rank_named 1 revive-down.invalid
    held_job d 2 REVIVE_CKPT_KEEP=3
    expect_rc 0 "D: checkpoint 0" "$CKPT" --wait $JOB
    expect_rc 0 "D: checkpoint 1" "$CKPT" --wait $JOB
    expect_rc 0 "D: checkpoint 2 (--term)" "$CKPT" --term $JOB
    wait $JOB
    grep -qx "rank.1.host revive-down.invalid" "$jd/2/snapshot.meta" ||
        fail "D: rank 1's host: $(grep '^rank.1.host' "$jd/2/snapshot.meta")"
    rm -f "$jd/2/rank_1.img" "$jd/1/rank_1.img"
    expect_rc 1 "D: restart-mpi, 2 and 1 missing an image only on a host down" "$RESTART" "$jd" &&
        err_has "$jd/2 cannot be restarted" && err_has "revive-down.invalid"
    [ "$(named)" = 0 ] || fail "D: restart-mpi names '$(named)', not 0: $(tail -n 1 "$W/cmd.err")"
    expect_rc 1 "D: restart-mpi --seq 1" "$RESTART" --seq 1 "$jd" && err_has "$jd/1 cannot be restarted"
    [ "$(named)" = 0 ] || fail "D: restart-mpi --seq 1 names '$(named)', not 0: $(tail -n 1 "$W/cmd.err")"
    expect_rc 0 "D: restart-mpi --showme --seq 0, as advised" "$RESTART" --showme --seq 0 "$jd"
    rm -f "$jd/0/rank_1.img"
    expect_rc 1 "D: restart-mpi, every sequence missing an image only on a host down" "$RESTART" "$jd" &&
        err_has "run the job again from its start" && err_has "sequence 1: rank 1: " && err_has "sequence 0: rank 1: "
    [ -z "$(named)" ] || fail "D: restart-mpi names '$(named)' with no sequence restartable: $(tail -n 1 "$W/cmd.err")"
    pass "D: an image only on a host found down: the advice names no sequence whose copy is only there"
    wait_no_strays
else
    echo "SKIP-PART: D (a rank under another host name needs root and unshare -u)"
fi
finish
