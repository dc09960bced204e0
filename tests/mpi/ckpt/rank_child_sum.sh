#!/bin/bash
# rank_child_sum.sh FLAVOR: the checksum a snapshot records for a rank whose image is a tree file
# (a rank with a running child: rank_child.c's RANK_CHILD_WORKER, 2 ranks, each rank's worker and
# the worker's helper in its file as members 1 and 2) covers every member, and the copies a restart
# reads are checked as far as their restore cannot fall back (session 31, issue 9 leftovers).
# Before, the metadata's rank.N.checksum was member 0's header checksum alone, and a cached or
# partner copy was checked by its members' headers only. One --term snapshot (REVIVE_STAGE_COPY=1:
# the node-local cache and the snapshot directory hold two copies, not one file linked twice), then:
#  1. a byte of a chunk of rank 0's worker changed in the node-local cache's copy: restart-mpi
#     restores rank 0 from the snapshot directory's image instead, saying the node-local copy fails
#     its check naming the worker, and the job ends as the uninterrupted run. Before: the copy was
#     used, the worker's restore failed on the chunk, and the restart failed (a child's restore
#     cannot run again from the other copy, as the rank's own can).
#  2. the same damaged copy as a partner copy (partner_0.img; the rank's own copy absent, as on a
#     host that holds only the partner's): the same, "the partner copy ... fails its check".
#  3. rank 0's worker replaced in the snapshot directory by a whole, self-consistent image (its
#     header's kernel release changed and its checksum made again: every check of the image's own
#     passes): ckpt-info --verify and restart-mpi refuse the snapshot, naming rank 0 and the
#     checksum the metadata records. Before: both accepted it (the metadata covered member 0).
#  The byte put back, ckpt-info --verify accepts the snapshot again (the test's own check).
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog rank_child
CRINFO=$REVIVE_BUILDDIR/tools/cr_info
IMGTOOL=$REVIVE_BUILDDIR/tests/crs/base/crt_imgtool
[ -x "$IMGTOOL" ] && [ -x "$CRINFO" ] || { echo "SKIP: $IMGTOOL or $CRINFO not built"; exit 77; }
export REVIVE_RESTART_RANK=$restarter
steps=100 ms=60
ck_workdir rsum
if [ "$(ranks_choose_pid)" = 0 ]; then
    echo "SKIP: ranks keeping a running child (the ranks cannot choose a pid: not root, no CAP_CHECKPOINT_RESTORE)"
    exit 77
fi
export RANK_CHILD_WORKER=1 REVIVE_STAGE_COPY=1
run_native 2 "$prog" $steps "$d/nopace" 0 >native.out 2>native.err ||
    { failed "the native run: status $?"; tail -n 3 native.err; exit 1; }
touch pace
clean timeout -k 5 900 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" -n 2 "$prog" $steps "$d/pace" $ms \
    >out.0 2>err.0 &
job=$!; pids+=($job)
wait_steps out.0 2 $job || { failed "the job did not reach step 2: $(tail -n 2 err.0)"; exit 1; }
ref=$(checkpoint $job term --term) || { rm -f pace; wait $job; failed "ckpt-mpirun --term: $(tail -n 2 ckpt.term.err)"; exit 1; }
wait $job
rm -f pace
shared=$ref/rank_0.img
cache=$TMPDIR/revive-local-$EUID/$(basename "$(dirname "$ref")")/$(basename "$ref")
[ "$(head -c 8 "$shared")" = RVVTREE1 ] || { failed "rank 0's image is no tree file (no worker taken along)"; exit 1; }
[ -f "$cache/rank_0.img" ] || { failed "no node-local copy of rank 0's image in $cache"; ls -la "$cache" 2>&1 | head; exit 1; }
[ "$(stat -c %i "$shared")" != "$(stat -c %i "$cache/rank_0.img")" ] ||
    { failed "the node-local copy and the snapshot directory's image are one file (REVIVE_STAGE_COPY=1 made no copy)"; exit 1; }

# member 1 of IMAGE (rank 0's worker): "LENGTH OFFSET" of its image in the file
member1() {
    "$CRINFO" "$1" | sed -n "s/^  pid [0-9]* .*image of \([0-9]*\) bytes at \([0-9]*\)$/\1 \2/p" | sed -n 2p
}
set -- $(member1 "$shared")
mlen=$1 moff=$2
[ -n "$moff" ] || { failed "cr_info names no second process in $shared"; exit 1; }
dd if="$shared" of=member1.img bs=4096 skip=$((moff / 4096)) count=$(((mlen + 4095) / 4096)) status=none
[ $((moff % 4096)) = 0 ] || { failed "member 1 of $shared is not at a 4096-byte boundary ($moff)"; exit 1; }
# the middle of its first chunk of page data: covered by that chunk's checksum only
set -- $("$IMGTOOL" ranges member1.img | awk '$3 ~ /^chunk/ {print $1, $2; exit}')
[ -n "$2" ] || { failed "crt_imgtool finds no chunk in rank 0's worker image"; exit 1; }
coff=$((moff + ($1 + $2) / 2))
flip() { # FILE OFFSET: the byte XORed with 0xff
    "$IMGTOOL" flip "$1" "$2" || failed "crt_imgtool flip $1 $2"
}
restart_ok() { # WHAT SAID: restart-mpi of ref to the end as uninterrupted, its stderr saying SAID
    local what=$1 said=$2
    clean timeout -k 5 600 "$RESTART" "$ref" >out.1 2>err.1; rc=$?
    results out.0 out.1 >both.out
    if [ $rc = 0 ] && ! grep -q "$said" err.1; then
        failed "$what: restart-mpi does not say \"$said\""; show_err err.1
    else
        restart_verdict "$what ($(grep -m1 -o "$said[^:]*" err.1 | cut -c1-160))"
    fi
}

# 1. a chunk of the worker damaged in the node-local copy
flip "$cache/rank_0.img" $coff
restart_ok "a chunk of rank 0's worker damaged in the node-local copy: the snapshot directory's image restored" \
    "rank 0: the node-local copy fails its check (.*(process [0-9]* 'rank_child[^']*', a child of its first)"
[ -f "$cache/rank_0.img" ] || failed "the damaged node-local copy was removed (a copy failing its check is kept)"

# 2. the same as a partner copy
mv "$cache/rank_0.img" "$cache/partner_0.img"
restart_ok "a chunk of rank 0's worker damaged in a partner copy: the snapshot directory's image restored" \
    "rank 0: the partner copy .*partner_0.img fails its check (.*a child of its first).*reading the snapshot directory"
mv "$cache/partner_0.img" "$cache/rank_0.img"
flip "$cache/rank_0.img" $coff
cmp -s "$cache/rank_0.img" "$shared" || failed "the node-local copy, its byte put back, differs from the snapshot directory's"

# 3. the worker replaced by a self-consistent image in the snapshot directory, the only copy: the
# node-local ones are moved aside (with them, restart-mpi takes rank 0's over the replaced image,
# newuser9 F8: tests/hosts/fetchbad.sh)
only_shared_copy "$ref"
cp member1.img member1.new
"$IMGTOOL" set-kernel member1.new "0.0.0-rank-child-sum" || failed "crt_imgtool set-kernel"
"$IMGTOOL" header member1.new >/dev/null || failed "the changed worker image does not read as an image"
cp "$shared" shared.orig
dd if=member1.new of="$shared" bs=4096 seek=$((moff / 4096)) conv=notrunc status=none
if v=$("$INFO" --verify "$ref" 2>&1); then
    failed "ckpt-info --verify accepts rank 0's worker replaced by another image: $(echo "$v" | tail -n 2)"
elif echo "$v" | grep -q "rank_0.img has checksum [0-9a-f]*, the metadata says [0-9a-f]* (replaced)"; then
    pass "rank 0's worker replaced by another image: ckpt-info --verify refuses it: $(echo "$v" | grep -m1 -o 'rank_0.img has checksum.*')"
else
    failed "ckpt-info --verify of rank 0's worker replaced does not name the checksum: $(echo "$v" | tail -n 3)"
fi
clean timeout -k 5 600 "$RESTART" "$ref" >out.r 2>err.r; rc=$?
if [ $rc = 0 ]; then
    failed "restart-mpi restarted the snapshot whose rank 0's worker was replaced"
elif grep -q "is damaged.*rank 0.*rank_0.img has checksum [0-9a-f]*, the metadata says" err.r; then
    pass "restart-mpi refuses it (status $rc): $(grep -m1 -o 'is damaged.*rank 0.*' err.r | cut -c1-200)"
else
    failed "restart-mpi of the snapshot whose rank 0's worker was replaced: status $rc, $(tail -n 2 err.r)"
fi
cp shared.orig "$shared"
shared_copy_back "$ref"
"$INFO" --verify "$ref" >/dev/null 2>&1 || failed "the snapshot, rank 0's image put back, is not verified"
no_strays "$d/" >/dev/null || failed "processes of the test left: $(pgrep -af "$d/" | head -n 3)"
exit $fail
