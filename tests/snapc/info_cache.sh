#!/bin/bash
# ckpt-info and the node-local cache's copies (review9 F5), fake ranks on one host, default cache
# ($TMPDIR/revive-local-<uid>, on the snapshot directory's file system: staging hard-links the
# images). The job is killed after a snapshot, so its cache stays.
#   - the listing counts the cached image and the staged one as one file under two names (it
#     said "copies: this directory, the cache of HOST": one truncate hits both);
#   - rank_1.img removed from the snapshot directory: --verify finds the good copy in this host's
#     cache, which restart-mpi fetches, and says so, status 0 (it said "damaged", status 1);
#   - on a host not the rank's (the same files under another host name: unshare -u, root
#     only): "not complete here", naming the cache of the rank's host, status 1, not "damaged";
#     its listing names that cache "(on that host; not checked from here)", not "(if not
#     lost)": the host was up at the commit (newuser9c C1);
#   - the cached copy damaged too: "damaged", naming the copy and its check, status 1;
#   - an image here of another size than the metadata's: listed DAMAGED, status 1 with one line,
#     "damaged" in --json per image and for the sequence, without --verify.
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-infocache
L=$TMPDIR/revive-local-$(id -u)
host=$(hostname)

start_job a 2 --coord -- --iters $UNTIL_KILLED --sleep-us 300
jd=$W/revive_global_snapshot_$JOB.ckpt
expect_rc 0 "a snapshot" "$CKPT" $JOB
kill -KILL $(pgrep -f -- "--ready $W/a.ready") $JOB 2>/dev/null; wait $JOB 2>/dev/null
ref=$jd/0
cached=$L/$(basename "$jd")/0/rank_1.img
[ "$(stat -c %h "$ref/rank_1.img")" = 2 ] || fail "the staged image is not a hard link of the cached one"

expect_rc 0 "ckpt-info of the snapshot" "$INFO" "$ref"
line=$(grep '^  rank 1:' "$W/cmd.out")
[[ $line == *"copies: this directory and the cache of $host, one file under two names (a hard link: a single copy)"* ]] ||
    fail "the listing of rank 1's copies: $line"
pass "a staged image hard-linked to its cached copy is listed as a single copy"

rm "$ref/rank_1.img"
expect_rc 0 "ckpt-info --verify with rank_1.img only in this host's cache" "$INFO" --verify "$ref"
grep -q "^  rank 1: ok (cache) rank_1.img is not in this directory; the copy in this host's node-local cache is good ($cached, every chunk verified): restart-mpi fetches it" "$W/cmd.out" ||
    fail "rank 1's line: $(grep '^  rank 1:' "$W/cmd.out")"
grep -q "damaged" "$W/cmd.out" "$W/cmd.err" && fail "called damaged: $(cat "$W/cmd.err")"
expect_rc 0 "ckpt-info --verify --json" "$INFO" --verify --json "$ref"
grep -q '"verified":true,"from_caches":1,"not_checked":0' "$W/cmd.out" || fail "--json: $(cat "$W/cmd.out")"
expect_rc 0 "ckpt-info of the snapshot" "$INFO" "$ref"
line=$(grep '^  rank 1:' "$W/cmd.out")
[[ $line == *"copies: not in this directory (restart-mpi fetches it from a cache), the cache of $host (present)"* ]] ||
    fail "the listing of rank 1's copies: $line"
pass "an image only in this host's cache: verified there, named, status 0"
# an image here of another size than the metadata's is not listed as a copy without a word
# (review10: a truncated one read "copies: this directory" until --verify)
cp -p "$ref/rank_0.img" "$W/rank_0.keep"
head -c 1000 "$W/rank_0.keep" >"$W/rank_0.short" && mv "$W/rank_0.short" "$ref/rank_0.img"
# ... and what ckpt-info itself saw damaged is status 1 with one line on stderr, and said in
# --json, per image and for the sequence (review newuser7 M1: status 0, the JSON silent)
expect_rc 1 "ckpt-info of a sequence with a truncated image" "$INFO" "$ref" &&
    err_has "ckpt-info: $ref is damaged: rank 0: rank_0.img is 1000 bytes, the metadata says "
[ "$(grep -c . "$W/cmd.err")" = 1 ] || fail "not one line on stderr: $(cat "$W/cmd.err")"
line=$(grep '^  rank 0:' "$W/cmd.out")
[[ $line == *"copies: this directory (DAMAGED: 1000 bytes here, the metadata says "*"; ckpt-info --verify checks it)"* ]] ||
    fail "the listing of a truncated rank_0.img: $line"
expect_rc 1 "ckpt-info of the snapshot directory with a truncated image" "$INFO" "$jd" &&
    err_has "ckpt-info: $ref is damaged: rank 0"
expect_rc 1 "ckpt-info --json of a sequence with a truncated image" "$INFO" --json "$ref"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["damaged"] is True, d
i = d["rank_images"]
assert i[0]["damaged"] is True and i[0]["size_here"] == 1000 and i[0]["in_directory"] is True, i[0]
assert i[1]["damaged"] is False and i[1]["in_directory"] is False, i[1]
' "$W/cmd.out" || fail "--json of a damaged sequence: $(cat "$W/cmd.out")"
expect_rc 1 "ckpt-info --json of the snapshot directory with a truncated image" "$INFO" --json "$jd"
python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); assert d["sequences"][0]["damaged"] is True, d' \
    "$W/cmd.out" || fail "--json of the directory: $(cat "$W/cmd.out")"
mv "$W/rank_0.keep" "$ref/rank_0.img"
expect_rc 0 "ckpt-info --json, the image back" "$INFO" --json "$ref"
python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); assert d["damaged"] is False and not d["rank_images"][0]["damaged"], d' \
    "$W/cmd.out" || fail "--json of a good sequence: $(cat "$W/cmd.out")"
pass "an image of the wrong size here: listed as damaged, status 1, said in --json"

if [ "$(id -u)" = 0 ] && unshare -u true 2>/dev/null; then
    expect_rc 1 "ckpt-info --verify on another host" unshare -u sh -c 'hostname revive-elsewhere && exec "$@"' sh "$INFO" --verify "$ref"
    err_has "is not complete here: 1 image missing from it is only in other hosts' node-local caches"
    grep -q "^  rank 1: ELSEWHERE rank_1.img is not in this directory; restart-mpi would fetch it from the node-local cache of $host" "$W/cmd.out" ||
        fail "rank 1's line: $(grep '^  rank 1:' "$W/cmd.out")"
    grep -q "damaged" "$W/cmd.err" && fail "called damaged: $(cat "$W/cmd.err")"
    pass "on a host other than the rank's: not complete here, the cache of $host named, status 1"
    # the listing there names the rank's host's cache without "(if not lost)": the host was up at
    # the commit (newuser9c C1: the words of a host recorded lost)
    expect_rc 0 "ckpt-info on another host" unshare -u sh -c 'hostname revive-elsewhere && exec "$@"' sh "$INFO" "$ref"
    line=$(grep '^  rank 1:' "$W/cmd.out")
    [[ $line == *"copies: not in this directory (restart-mpi fetches it from a cache), the cache of $host (on that host; not checked from here)"* ]] ||
        fail "the listing of rank 1's copies on another host: $line"
    pass "on a host other than the rank's: the cache of $host (up at the commit) listed without \"if not lost\""
else
    echo "SKIP: not root or no unshare -u: the other-host case is not run"
fi

printf 'garbage' | dd of="$cached" bs=1 seek=5000 conv=notrunc 2>/dev/null
expect_rc 1 "ckpt-info --verify with the cached copy damaged too" "$INFO" --verify "$ref"
err_has "is damaged: rank 1: rank_1.img is missing, and in no copy: $cached fails its check"
pass "the cached copy damaged too: damaged, the copy and its check named"
wait_no_strays
finish
