#!/bin/bash
# cache.sh FLAVOR: restart on other hosts from the node-local caches (issue 9, point 6).
# A 4-rank job on h1,h2 with --ckpt-local is checkpointed with --term (staged, committed); h2 is
# lost (killed, its cache wiped); restart-mpi --ckpt-local --preload --hostfile h1,h3: the ranks
# on h1 read their own cache, those on h3 copy the shared image into h3's cache first and read
# it; the restart gives the native result, and at its normal end the copies --preload made are
# removed from h3's cache (said), h1's stay. Then a damaged cached copy (a chunk's byte): the
# restore finds it, its rank says which copy is damaged and restores from the snapshot
# directory, the others from their caches; the native result again; the damaged copy is removed
# from the cache. Then a sound copy whose
# restore fails past its load (REVIVE_FAULT=restore-after-fds): no run again from the snapshot
# directory, the copy not called damaged. Then the damaged copy again, removed while a fresh
# copy is renamed in under the cache's lock (REVIVE_FAULT=cache-drop-hold): the fresh copy stays.
flavor=$1
. "$(dirname "$0")/lib.sh"
cache_bed cache 3

term_job a
[ -f "$HB/node/h1/$jd/0/rank_0.img" ] && [ -f "$HB/node/h2/$jd/0/rank_2.img" ] ||
    fail "the caches do not hold the images: h1 $(ls "$HB/node/h1/$jd/0" 2>&1), h2 $(ls "$HB/node/h2/$jd/0" 2>&1)"
host_kill h2
host_wipe h2
hostfile "$W/hosts13" h1:2 h3:2

# restart_on NAME RESTART-OPTIONS...: restart-mpi from h1, the native result
restart_on() {
    local name=$1 st; shift
    on h1 env REVIVE_VERBOSE=2 timeout -k 5 600 "$RESTART" --ckpt-local "$LOCAL" "$@" \
        --hostfile "$W/hosts13" "$ref" >"$W/$name.out" 2>"$W/$name.err"
    st=$?
    [ $st = 0 ] || { fail "$name: restart-mpi status $st"; tail -20 "$W/$name.err"; }
    cmp -s "$W/native.out" "$W/$name.out" || { fail "$name: result differs"; cat "$W/native.out" "$W/$name.out"; }
}
# reads NAME RANK WHERE: rank RANK of restart NAME read its image from WHERE (local|shared)
reads() {
    local want
    case $3 in local) want="$LOCAL/$jd/0/rank_$2.img" ;; shared) want="$ref/rank_$2.img" ;; esac
    grep -qF "rank $2 reads $want" "$W/$1.err" ||
        { fail "$1: rank $2 did not read the $3 copy ($want):"; grep "reads" "$W/$1.err"; }
}
restart_on r1 --preload
for r in 0 1 2 3; do reads r1 $r local; done
# h3's ranks read the copies --preload made in h3's cache (above); the job ended normally: those
# copies, this restart's own, are removed, said (newuser9 F4: they stayed for good); h1's, which
# the cache held before, stay
for r in 2 3; do
    [ ! -e "$HB/node/h3/$jd/0/rank_$r.img" ] ||
        fail "r1 ended normally but its --preload copy of rank $r stays in h3's cache: $(ls "$HB/node/h3/$jd/0" 2>&1)"
    grep -qF "rank $r: the job ends normally: its --preload copy $LOCAL/$jd/0/rank_$r.img is removed from this node's cache" "$W/r1.err" ||
        fail "r1: rank $r does not say its --preload copy is removed"
done
[ -f "$HB/node/h1/$jd/0/rank_0.img" ] && [ -f "$HB/node/h1/$jd/0/rank_1.img" ] ||
    fail "r1: h1's cached copies (not preloaded) went: $(ls "$HB/node/h1/$jd/0" 2>&1)"
pass "$flavor: h2 lost; restart --preload on h1,h3: h1's ranks from its cache, h3's preloaded (removed at the end), native result"

# a damaged cached copy: one byte in the middle of h1's copy of rank 0 changed (to a value it
# surely is not); that rank says so and reads the snapshot directory, the others their caches
img=$HB/node/h1/$jd/0/rank_0.img
size=$(stat -c %s "$img")
off=$((size / 2))
old=$(od -An -tu1 -j $off -N1 "$img" | tr -d ' ')
cp -p "$img" "$W/good_rank_0.img"
printf "\\$(printf %03o $(( (old + 1) % 256 )))" | dd of="$img" bs=1 seek=$off conv=notrunc status=none
[ "$(od -An -tu1 -j $off -N1 "$img" | tr -d ' ')" != "$old" ] || fail "the cached copy was not changed"
cp -p "$img" "$W/bad_rank_0.img"
restart_on r2 --preload
# the cached copy's header is sound: only the restore's own check of the chunk finds the damage
# (the image is read and hashed once, bench/stage part 3), before anything of the rank is
# committed; the rank runs again from the snapshot directory's image and says which copy was
# damaged (before this, a whole check of the copy ahead of the restore read it twice)
grep -q "rank 0: the node-local copy $LOCAL/$jd/0/rank_0.img is damaged (.*checksum mismatch.*): its restore stopped before anything of the rank was committed; not used, removed from this host's cache; this rank restores from the snapshot directory's image $ref/rank_0.img instead" "$W/r2.err" ||
    { fail "r2: rank 0 does not say its cached copy is damaged and that it restores from the snapshot directory's image"; grep "rank 0" "$W/r2.err"; }
# what it says is what happens (review9 F6: "use an earlier checkpoint", then the fallback)
grep "rank 0: the node-local copy" "$W/r2.err" | grep -q "earlier checkpoint\|earlier sequence" &&
    fail "r2: the damaged cached copy's message advises an earlier checkpoint although the rank falls back"
[ "$(grep -c "rank 0: the node-local copy" "$W/r2.err")" = 1 ] ||
    { fail "r2: rank 0's damaged copy is not said once"; grep "rank 0" "$W/r2.err"; }
grep -q "rank 0: runs again to restore from the snapshot directory's image $ref/rank_0.img" "$W/r2.err" ||
    fail "r2: rank 0 does not say it runs again from the snapshot directory's image"
reads r2 0 shared
for r in 1 2 3; do reads r2 $r local; done
# the damaged copy is removed (as SCR drops a cached dataset that fails its check): a later
# restart does not try it again (no failed restore and run again first)
[ ! -e "$img" ] || fail "r2: the damaged cached copy $img is still in h1's cache"
pass "$flavor: a damaged cached copy is passed over (said) and removed, its rank reads the snapshot directory; native result"

# a sound cached copy whose restore fails after the rank's descriptors were restored (-EIO, as a
# failed seal or switch): the rank must not run again from the snapshot directory's image
# (diffrev24 K-M1: 49c681d did, in a process whose descriptors and limits were the image's) and
# must not call the copy damaged; it stops with the restore's own message
cp -p "$W/good_rank_0.img" "$img"
on h1 env REVIVE_VERBOSE=2 REVIVE_FAULT=restore-after-fds timeout -k 5 600 "$RESTART" --ckpt-local "$LOCAL" \
    --hostfile "$W/hosts13" "$ref" >"$W/r3.out" 2>"$W/r3.err"
st=$?
[ $st != 0 ] || fail "r3: restart-mpi ended 0 although every rank's restore failed"
grep -q "fault injected after the descriptors" "$W/r3.err" ||
    { fail "r3: no rank stopped with the restore's message"; tail -20 "$W/r3.err"; }
grep -q "runs again to restore\|rank 0 reads $ref/rank_0.img" "$W/r3.err" &&
    fail "r3: rank 0 ran again from the snapshot directory's image after a failure past its load"
grep -q "is damaged" "$W/r3.err" && fail "r3: a sound cached copy was called damaged"
pass "$flavor: a restore failing after the descriptors does not run again from the snapshot directory"

# the damaged copy is removed while a fresh copy is renamed in, as a --preload of another restart
# makes it (under the cache's shared lock) (diffrev25 S-L1: the removal took no lock, the fresh
# copy could be lost): the removal holds the cache's lock exclusively (REVIVE_FAULT=
# cache-drop-hold holds it there, the copy checked to be still the damaged one), the rename waits
# for it, the fresh copy stays
cp -p "$W/bad_rank_0.img" "$img"
seqd=$HB/node/h1/$jd/0
on h1 env REVIVE_VERBOSE=2 REVIVE_FAULT=cache-drop-hold REVIVE_STAGE_HOLD="$W/drop.hold" timeout -k 5 600 \
    "$RESTART" --ckpt-local "$LOCAL" --hostfile "$W/hosts13" "$ref" >"$W/r4.out" 2>"$W/r4.err" &
r4pid=$!
wait_for 300 'grep -q "rank 0: holds before removing" "$W/r4.err"' ||
    { fail "r4: rank 0 did not come to removing its damaged copy"; tail -20 "$W/r4.err"; }
flock -n -s "$seqd" true && fail "r4: the cache's sequence directory is not locked while its damaged copy is removed"
cp -p "$W/good_rank_0.img" "$seqd/.rank_0.img.fresh"
flock -s "$seqd" mv "$seqd/.rank_0.img.fresh" "$img" &
mvpid=$!
# the rename made (without the lock) or waiting for the lock (flock(2), syscall 73 on x86-64)
# before the removal goes on
mv_settled() {
    local s
    s=$(cut -d' ' -f3 "/proc/$mvpid/stat" 2>/dev/null)
    [ -z "$s" ] || [ "$s" = Z ] || [ "$(cut -d' ' -f1 "/proc/$mvpid/syscall" 2>/dev/null)" = 73 ]
}
wait_for 120 mv_settled || fail "r4: the rename neither ended nor waited for the cache's lock"
touch "$W/drop.hold"
wait $r4pid; st=$?
wait $mvpid || fail "r4: the fresh copy's rename failed"
[ $st = 0 ] || { fail "r4: restart-mpi status $st"; tail -20 "$W/r4.err"; }
cmp -s "$W/native.out" "$W/r4.out" || fail "r4: result differs"
grep -q "rank 0: the node-local copy $LOCAL/$jd/0/rank_0.img is damaged (.*; not used, removed from this host's cache" "$W/r4.err" ||
    { fail "r4: rank 0 does not say its damaged copy was removed"; grep "rank 0" "$W/r4.err"; }
cmp -s "$W/good_rank_0.img" "$img" || fail "r4: the fresh copy renamed in while the damaged one was removed is lost"
pass "$flavor: a damaged copy is removed under the cache's lock: a fresh copy renamed in meanwhile stays"
finish
