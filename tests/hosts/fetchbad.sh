#!/bin/bash
# fetchbad.sh FLAVOR: a committed sequence whose image of a rank is DAMAGED in the shared
# snapshot directory while a node-local cache holds a good copy (issue 9 point 6, newuser9 F8:
# restart-mpi refused it as "damaged ... holds no other committed sequence to restart from",
# which reads as "the job is lost", while h2's cache held a verified copy).
# (a) job on h1,h2 with --ckpt-local, --term snapshot, one byte of the shared rank_2.img
#     complemented (h2's cached copy untouched). restart-mpi --showme says rank 2's shared
#     image is damaged and shows the fetch it would make, changing nothing; the restart on h1,h3
#     (rank 2 runs on h3, which holds nothing) fetches h2's good copy over the damaged one (said),
#     the native result; the shared image is sound again (ckpt-info --verify), nothing left aside.
#     Before, ckpt-info --verify on h2 (the good copy in its cache) and on h1 (none) say which
#     copy is good and where.
# (b) the shared copy and h2's cached one damaged (no partner copy): no good copy anywhere:
#     one line naming rank 2, the damaged shared copy and what h2 answered, status 1, nothing
#     started, the shared image put back as it was.
# (f), (g) a truncated shared image and one with a damaged header are fetched over the same way
#     (newuser9b N1), ckpt-info --verify says 0 for the truncated one on h2 (newuser7 F2).
# (c)-(e) diffrev31 R-M2: restart-mpi ended by SIGTERM during that fetch, a second damaged image
#     that cannot be moved aside, and a restart-mpi killed outright: the damaged images end
#     under their names each time (before, rank_R.img.damaged was left for good).
flavor=$1
. "$(dirname "$0")/lib.sh"
cache_bed fetchbad 3

term_job a
cached=$HB/node/h2/$jd/0/rank_2.img
[ -f "$cached" ] || fail "a: h2's cache does not hold rank 2: $(ls "$HB/node/h2/$jd/0" 2>&1)"
[ "$(stat -c %d:%i "$cached")" != "$(stat -c %d:%i "$ref/rank_2.img")" ] ||
    fail "a: h2's cached copy is the shared file itself (a hard link): the test damages one copy only"
damage_copies "$ref/rank_2.img" || fail "a: cannot damage $ref/rank_2.img"
cp -p "$ref/rank_2.img" "$W/damaged.img"
cmp -s "$cached" "$ref/rank_2.img" && fail "a: the shared copy is not damaged"
hostfile "$W/hosts13" h1:2 h3:2

# ckpt-info --verify: on h2 (its cache holds the good copy, checked): verified, saying the shared
# copy is damaged and that restart-mpi fetches the good one over it; on h1 (it cannot read h2's
# cache): status 1, "not complete here", naming h2's cache, not "damaged" alone
expect_rc 0 "a: ckpt-info --verify on h2" on h2 "$INFO" --verify "$ref" || cat "$W/cmd.err"
grep -q "^  rank 2: ok (cache) rank_2.img in this directory is damaged (.*checksum mismatch.*); the copy in this host's node-local cache is good ($LOCAL/$jd/0/rank_2.img, every chunk verified): restart-mpi fetches it over the damaged one before the launch\$" "$W/cmd.out" &&
    grep -qF "verified: every image matches the metadata and every checksum; 1 missing from this directory or damaged in it, with a good copy in this host's node-local cache" "$W/cmd.out" ||
    { fail "a: ckpt-info --verify on h2 does not say the shared copy is damaged and h2's cache holds a good one"; cat "$W/cmd.out"; }
expect_rc 1 "a: ckpt-info --verify on h1" on h1 "$INFO" --verify "$ref"
grep -q "^  rank 2: ELSEWHERE rank_2.img in this directory is damaged (.*); restart-mpi would fetch a good copy over it from the node-local cache of h2, which ckpt-info cannot read from this host" "$W/cmd.out" &&
    grep -qF "is not complete here: 1 image missing from it or damaged in it may have a good copy only in other hosts' node-local caches" "$W/cmd.err" ||
    { fail "a: ckpt-info --verify on h1 does not name h2's cache for the damaged rank 2"; cat "$W/cmd.out" "$W/cmd.err"; }
pass "$flavor: ckpt-info --verify: on h2 verified (the damaged shared copy and h2's good one said), on h1 not complete here, h2's cache named"

# --showme: what would be done, nothing done
expect_rc 0 "showme: restart-mpi --showme" on h1 "$RESTART" --showme --ckpt-local "$LOCAL" --hostfile "$W/hosts13" "$ref" ||
    cat "$W/cmd.err"
grep -qF "restart-mpi: rank 2's image in $ref is damaged (" "$W/cmd.err" &&
    grep -qF "); restart-mpi would fetch a good copy from the node-local caches that may hold one (its node's, its partner's)" "$W/cmd.err" ||
    { fail "showme: restart-mpi does not say rank 2's shared image is damaged and would be fetched"; cat "$W/cmd.err"; }
grep -qxF "#   h2: rank 2 (its node's cache); asked first whether it is up (port 22)" "$W/cmd.out" ||
    { fail "showme: the fetch of rank 2 from h2 is not shown"; cat "$W/cmd.out"; }
cmp -s "$W/damaged.img" "$ref/rank_2.img" || fail "showme: the shared image was changed"
[ -e "$ref/rank_2.img.damaged" ] && fail "showme: the damaged image was moved aside"
pass "$flavor: restart-mpi --showme says rank 2's shared image is damaged and shows its fetch from h2's cache, changing nothing"

# the restart on h1,h3
on h1 timeout -k 5 600 "$RESTART" --ckpt-local "$LOCAL" --hostfile "$W/hosts13" "$ref" >"$W/ra.out" 2>"$W/ra.err"
st=$?
[ $st = 0 ] || { fail "ra: restart-mpi status $st"; grep -v '^step' "$W/ra.err" | tail -5; }
cmp -s "$W/native.out" "$W/ra.out" || { fail "ra: result differs from the native run"; cat "$W/native.out" "$W/ra.out"; }
grep -qF "restart-mpi: rank 2's image in $ref is damaged: fetched the good copy from h2 ($LOCAL/$jd/0/rank_2.img), verified; it replaces the damaged one, and rank 2 restores from it" "$W/ra.err" ||
    { fail "ra: restart-mpi does not say it fetched rank 2's good copy from h2 over the damaged one"; grep -v '^step' "$W/ra.err"; }
cmp -s "$cached" "$ref/rank_2.img" || fail "ra: the shared rank_2.img is not h2's good copy"
[ "$(stat -c %a "$ref/rank_2.img")" = 600 ] || fail "ra: the fetched image is not 0600"
[ -e "$ref/rank_2.img.damaged" ] && fail "ra: the damaged image was left aside"
expect_rc 0 "ra: ckpt-info --verify" "$INFO" --verify "$ref" || cat "$W/cmd.err"
grep "damaged" "$W/ra.err" | sed 's/^/    /'
pass "$flavor: rank 2's shared image damaged, h2's cache good: fetched over it (said), restart on h1,h3 = native, the snapshot sound again"

cp -p "$ref/rank_2.img" "$W/good2.img"   # h2's good copy, for (f)

# (b) no good copy anywhere: the shared one and h2's damaged
damage_copies "$ref/rank_2.img" "$cached" || fail "b: cannot damage rank 2's copies"
cp -p "$ref/rank_2.img" "$W/damaged.img"
: >"$HB/agent.log"
on h1 timeout -k 5 600 "$RESTART" --ckpt-local "$LOCAL" --hostfile "$W/hosts13" "$ref" >"$W/rb.out" 2>"$W/rb.err"
st=$?
[ $st = 1 ] || fail "rb: restart-mpi status $st, not 1"
tail -n1 "$W/rb.err" | grep -q "^restart-mpi: $ref is damaged and cannot be restarted: rank 2's image is in no good copy restart-mpi can reach: $ref/rank_2.img is damaged (.*), not in the cache of h2, no partner copy (h2: .*); $SHARED/$jd holds no other committed sequence to restart from\$" ||
    { fail "rb: the refusal does not name rank 2, the damaged shared copy and h2's answer"; cat "$W/rb.err"; }
cmp -s "$W/damaged.img" "$ref/rank_2.img" || fail "rb: the shared image was not put back as it was"
[ -e "$ref/rank_2.img.damaged" ] && fail "rb: the damaged image was left aside"
[ -z "$(ranks_hosts)" ] || fail "rb: ranks started: $(ranks_hosts)"
sed 's/^/    /' "$W/rb.err"
pass "$flavor: rank 2 damaged in every copy: one refusal naming the shared copy and h2's answer, status 1, the shared image as it was"

# (c) restart-mpi ended while it fetches over the damaged shared image (diffrev31 R-M2): SIGTERM
# while the fetch's launch to h2 hangs (HB_AGENT_HANG=h2): status 143, the damaged image back
# under its name, nothing left aside. Before, rank_2.img.damaged stayed and rank_2.img was gone:
# the image then read as missing, and the store did not know the name (retention could never
# remove the sequence).
hung() { local p; for p in $(host_pids h1); do [ "$(tr '\0' ' ' </proc/$p/cmdline 2>/dev/null)" = "hb-agent-hang " ] && echo $p; done; }
on h1 env HB_AGENT_HANG=h2 REVIVE_FETCH_START_TIMEOUT=300 REVIVE_FETCH_TIMEOUT=300 \
    sh -c 'echo $$ >"$0"; exec "$@"' "$W/rc.pid" "$RESTART" --ckpt-local "$LOCAL" --hostfile "$W/hosts13" \
    "$ref" >"$W/rc.out" 2>"$W/rc.err" &
rp=$!; jobs_started="$jobs_started $rp"
if wait_for 120 '[ -n "$(hung)" ]'; then
    [ -e "$ref/rank_2.img.damaged" ] || fail "rc: the damaged image was not moved aside for the fetch (the test proves nothing)"
    kill -TERM "$(cat "$W/rc.pid")"
    wait $rp; st=$?
    [ $st = 143 ] || { fail "rc: restart-mpi's status $st, not 143 (ended by SIGTERM)"; cat "$W/rc.err"; }
    cmp -s "$W/damaged.img" "$ref/rank_2.img" || fail "rc: the damaged shared image is not back under its name: $(ls "$ref")"
    [ -e "$ref/rank_2.img.damaged" ] && fail "rc: the damaged image was left aside"
    wait_for 10 '[ -z "$(hung)" ]' || fail "rc: the fetch's hung remote shell is left: $(hung)"
    pass "$flavor: SIGTERM during the fetch over a damaged image: status 143, the image back as it was, nothing left aside"
else
    fail "rc: the fetch's launch to h2 never hung: $(cat "$W/rc.err")"
    kill -KILL $rp 2>/dev/null
fi

# (d) two damaged images, the second cannot be moved aside (a folder holds its aside name):
# one line naming it, status 1, the first one back under its name
cp -p "$ref/rank_3.img" "$W/good3.img"
damage_copies "$ref/rank_3.img" || fail "d: cannot damage rank 3's shared image"
cp -p "$ref/rank_3.img" "$W/damaged3.img"
mkdir -p "$ref/rank_3.img.damaged/x"
on h1 timeout -k 5 600 "$RESTART" --ckpt-local "$LOCAL" --hostfile "$W/hosts13" "$ref" >"$W/rd.out" 2>"$W/rd.err"
st=$?
[ $st = 1 ] || fail "rd: restart-mpi status $st, not 1"
tail -n1 "$W/rd.err" | grep -q "^restart-mpi: cannot move the damaged image $ref/rank_3.img aside to fetch a good copy: " ||
    { fail "rd: the last line does not name rank 3's image"; cat "$W/rd.err"; }
cmp -s "$W/damaged.img" "$ref/rank_2.img" || fail "rd: rank 2's damaged image is not back under its name: $(ls "$ref")"
[ -e "$ref/rank_2.img.damaged" ] && fail "rd: rank 2's damaged image was left aside"
cmp -s "$W/damaged3.img" "$ref/rank_3.img" || fail "rd: rank 3's image changed"
rm -r "$ref/rank_3.img.damaged"
pass "$flavor: the second damaged image cannot be moved aside: one line, status 1, the first put back"

# (e) restart-mpi killed outright (SIGKILL) during that fetch: the next one puts the image back
# (said) and refuses it as damaged, naming it; ckpt-info --verify then says damaged, not missing
mv "$ref/rank_2.img" "$ref/rank_2.img.damaged"
cp -p "$W/good3.img" "$ref/rank_3.img"
expect_rc 1 "re: restart-mpi after one was killed" on h1 "$RESTART" --ckpt-local "$LOCAL" --hostfile "$W/hosts13" "$ref"
grep -qF "restart-mpi: rank 2's damaged image was left aside as $ref/rank_2.img.damaged by a restart-mpi killed during its fetch: put back under its name" "$W/cmd.err" ||
    { fail "re: restart-mpi does not say it put rank 2's image back"; cat "$W/cmd.err"; }
cmp -s "$W/damaged.img" "$ref/rank_2.img" || fail "re: rank 2's image is not back"
[ -e "$ref/rank_2.img.damaged" ] && fail "re: rank 2's damaged image is still aside"
expect_rc 1 "re: ckpt-info --verify" on h1 "$INFO" --verify "$ref"
grep -q "rank 2: .*damaged" "$W/cmd.out" || { fail "re: ckpt-info does not say rank 2's image is damaged"; cat "$W/cmd.out"; }
pass "$flavor: an image left aside by a killed restart-mpi: the next one puts it back, said; it reads as damaged again"

# (f) the shared rank_2.img TRUNCATED (to half), h2's cached copy good; (g) the HEADER of the
# shared rank_3.img damaged (bytes 8, 16, 40 and 100 complemented), h2's cached copy good: the
# restart fetches the good copy over it as for a damaged chunk, native result (newuser9b N1: it
# said "fetching a good copy", then refused at once, "use an earlier checkpoint", as the check of
# the files the images map read the damaged image first). ckpt-info --verify on h2 exits 0 for the
# truncated one (newuser7 F2: status 1 with no line on stderr).
cp -p "$W/good2.img" "$cached"
cp -p "$W/good2.img" "$ref/rank_2.img"
truncate -s $(( $(stat -c %s "$ref/rank_2.img") / 2 )) "$ref/rank_2.img"
expect_rc 0 "f: ckpt-info --verify on h2 (rank 2 truncated, h2's copy good)" on h2 "$INFO" --verify "$ref" ||
    { cat "$W/cmd.out"; }
grep -q "^  rank 2: ok (cache) rank_2.img in this directory is damaged (" "$W/cmd.out" ||
    { fail "f: ckpt-info --verify on h2 does not say rank 2's shared copy is damaged and the cached one good"; cat "$W/cmd.out"; }
on h1 timeout -k 5 600 "$RESTART" --ckpt-local "$LOCAL" --hostfile "$W/hosts13" "$ref" >"$W/rf.out" 2>"$W/rf.err"
st=$?
[ $st = 0 ] || { fail "rf: restart-mpi status $st"; grep -v '^step' "$W/rf.err" | tail -5; }
cmp -s "$W/native.out" "$W/rf.out" || { fail "rf: result differs from the native run"; cat "$W/native.out" "$W/rf.out"; }
grep -qF "restart-mpi: rank 2's image in $ref is damaged: fetched the good copy from h2" "$W/rf.err" ||
    { fail "rf: restart-mpi does not say it fetched rank 2's good copy"; grep -v '^step' "$W/rf.err"; }
cmp -s "$cached" "$ref/rank_2.img" || fail "rf: the shared rank_2.img is not h2's good copy"
pass "$flavor: rank 2's shared image truncated, h2's cache good: ckpt-info --verify 0 on h2; fetched over it, native result"

cp -p "$ref/rank_3.img" "$W/good3.img"
for off in 8 16 40 100; do
    b=$(od -An -tu1 -j $off -N1 "$ref/rank_3.img" | tr -d ' ')
    printf "\\$(printf %03o $((255 - b)))" | dd of="$ref/rank_3.img" bs=1 seek=$off conv=notrunc status=none
done
cmp -s "$W/good3.img" "$ref/rank_3.img" && fail "g: rank 3's header is not damaged"
on h1 timeout -k 5 600 "$RESTART" --ckpt-local "$LOCAL" --hostfile "$W/hosts13" "$ref" >"$W/rg.out" 2>"$W/rg.err"
st=$?
[ $st = 0 ] || { fail "rg: restart-mpi status $st"; grep -v '^step' "$W/rg.err" | tail -5; }
cmp -s "$W/native.out" "$W/rg.out" || { fail "rg: result differs from the native run"; cat "$W/native.out" "$W/rg.out"; }
grep -qF "restart-mpi: rank 3's image in $ref is damaged: fetched the good copy from h2" "$W/rg.err" ||
    { fail "rg: restart-mpi does not say it fetched rank 3's good copy"; grep -v '^step' "$W/rg.err"; }
cmp -s "$W/good3.img" "$ref/rank_3.img" || fail "rg: the shared rank_3.img is not h2's good copy"
pass "$flavor: rank 3's shared image with a damaged header, h2's cache good: fetched over it, native result"
finish
