#!/bin/bash
# lostfs.sh FLAVOR: restart from the node-local caches once the shared snapshot directory is
# gone (issue 9; tools/snapc/restart_cache.h). A 4-rank job on h1,h2 with --ckpt-local ends
# with a committed --term snapshot: every host's cached sequence holds, beside its images, a
# copy of the committed snapshot.meta (0600, the same bytes). Then the job's whole directory
# in the shared storage is removed (its file system lost):
# (a) restart-mpi --showme REF says what it would re-create and fetch, and makes nothing;
#     restart-mpi REF from h1 on h1,h3: it takes the metadata from h1's cache, re-creates the
#     job and sequence directories (0700, snapshot.meta 0600 and the committed bytes), fetches
#     every image from the caches of h1 (ranks 0,1) and h2 (ranks 2,3), each checked against
#     it, says so, and the restart gives the native result;
# (b) the directory gone again and h2's cached image of rank 2 moved away (back after): one
#     line naming rank 2 and h2, status 1, no rank started, nothing left re-created;
# (c) the shared storage itself gone (the job directory's parent): one line saying so, status
#     1, nothing made;
# (d) the same with --recreate-in DIR (other storage every host sees): the job directory made
#     again as DIR/<its name> from h1's cached metadata, every image fetched into it from the
#     caches (said), the old place not made, native result;
# (e) --recreate-in a directory of h1's node-local storage (no storage every host sees), the
#     restart on h1 alone: h2's sender takes the checksums from its cached metadata, native result;
# (f) the same on h1,h2: h2's ranks, which cannot see the re-created directory, read their
#     sequence from h2's cache (said), native result, nothing marked failed;
# (g) the same on h1,h3 (h3 holds nothing): its ranks say why, the restart fails, the snapshot
#     is not marked failed.
flavor=$1
. "$(dirname "$0")/lib.sh"
cache_bed lostfs 3

term_job a
for h in h1 h2; do
    m=$HB/node/$h/$jd/0/snapshot.meta
    [ "$(stat -c %a "$m" 2>&1)" = 600 ] || fail "$h's cache has no snapshot.meta 0600: $(stat -c %a "$m" 2>&1)"
    cmp -s "$m" "$ref/snapshot.meta" || fail "$h's cached snapshot.meta differs from the committed one"
done
pass "$flavor: each host's cached sequence holds the committed snapshot.meta (0600, the same bytes)"
cp "$ref/snapshot.meta" "$W/meta.committed"
hostfile "$W/hosts13" h1:2 h3:2
# restart_ok NAME HOSTFILE [OPTION...]: restart-mpi --ckpt-local of $ref from h1 with OPTIONs on
# HOSTFILE's hosts (output $W/NAME.out, messages $W/NAME.err) ends with status 0 and the native
# result; else FAIL lines naming NAME
restart_ok() {
    local name=$1 hosts=$2 st
    shift 2
    on h1 timeout -k 5 600 "$RESTART" --ckpt-local "$LOCAL" --hostfile "$hosts" "$@" "$ref" \
        >"$W/$name.out" 2>"$W/$name.err"
    st=$?
    [ $st = 0 ] || { fail "$name: restart-mpi status $st"; tail -20 "$W/$name.err"; }
    cmp -s "$W/native.out" "$W/$name.out" || { fail "$name: result differs"; cat "$W/native.out" "$W/$name.out"; }
}

# (a) the job's directory gone; every image in h1's and h2's caches
rm -rf "${SHARED:?}/$jd"
# --showme first: the re-creation and the fetch it would make, nothing made
on h1 "$RESTART" --showme --ckpt-local "$LOCAL" --hostfile "$W/hosts13" "$ref" >"$W/show.out" 2>"$W/show.err" ||
    { fail "showme: restart-mpi --showme failed"; cat "$W/show.err"; }
grep -qxF "# $SHARED/$jd is gone: restart-mpi would re-create it with sequence 0's snapshot.meta from this host's node-local cache ($LOCAL/$jd/0)" "$W/show.out" &&
grep -qxF "#   h1: rank 0 (its node's cache), rank 1 (its node's cache); not probed (this machine)" "$W/show.out" &&
grep -qxF "#   h2: rank 2 (its node's cache), rank 3 (its node's cache); asked first whether it is up (port 22)" "$W/show.out" ||
    { fail "showme: the re-creation or the fetch plan is not shown"; cat "$W/show.out"; }
[ -e "$SHARED/$jd" ] && fail "showme: the job directory was made"
sed 's/^/    /' "$W/show.out"
pass "$flavor: --showme shows the re-creation from h1's cache and the fetch from h1 and h2, makes nothing"
: >"$HB/agent.log"
restart_ok ra "$W/hosts13"
grep -qF "restart-mpi: $SHARED/$jd was gone: re-created with sequence 0's snapshot.meta from this host's node-local cache ($LOCAL/$jd/0, checked)" "$W/ra.err" ||
    { fail "ra: restart-mpi does not say it re-created the directory from h1's cache"; cat "$W/ra.err"; }
for r in 0 1 2 3; do
    h=h1; [ $r -ge 2 ] && h=h2
    grep -qF "rank $r's image was not in $ref: fetched from $h ($LOCAL/$jd/0/rank_$r.img), verified" "$W/ra.err" ||
        { fail "ra: rank $r not fetched from $h's cache"; grep fetched "$W/ra.err"; }
    cmp -s "$ref/rank_$r.img" "$HB/node/$h/$jd/0/rank_$r.img" || fail "ra: rank $r's image differs from $h's"
done
[ "$(stat -c %a "$SHARED/$jd") $(stat -c %a "$ref") $(stat -c %a "$ref/snapshot.meta")" = "700 700 600" ] ||
    fail "ra: re-created modes $(stat -c %a "$SHARED/$jd" "$ref" "$ref/snapshot.meta" | tr '\n' ' ')"
cmp -s "$ref/snapshot.meta" "$W/meta.committed" || fail "ra: the re-created snapshot.meta is not the committed one"
grep -E "was gone|fetched" "$W/ra.err" | sed 's/^/    /'
pass "$flavor: the snapshot directory gone: restart from h1 on h1,h3 from the caches (meta from h1's, images from h1's and h2's), native result"

# (b) gone again, and rank 2's image in no cache: one line naming the rank and the host
rm -rf "${SHARED:?}/$jd"
mv "$HB/node/h2/$jd/0/rank_2.img" "$W/rank_2.kept"
on h1 env REVIVE_FETCH_TIMEOUT=120 timeout -k 5 300 "$RESTART" --ckpt-local "$LOCAL" \
    --hostfile "$W/hosts13" "$ref" >"$W/rb.out" 2>"$W/rb.err"
st=$?
[ $st = 1 ] || fail "rb: restart-mpi status $st, not 1"
# the one message is the last line; before it only what was fetched of the other ranks
tail -n1 "$W/rb.err" | grep -q "rank 2's image is in no copy restart-mpi can reach: not $ref/rank_2.img, not in the cache of h2, no partner copy (h2: " ||
    { fail "rb: no message naming rank 2 and h2"; cat "$W/rb.err"; }
[ "$(grep -c "no copy" "$W/rb.err")" = 1 ] && ! head -n -1 "$W/rb.err" | grep -vE "^restart-mpi: (rank [013]'s image was not in .*, verified|fetched 3 images .*)$" ||
    { fail "rb: more than the one message and what was fetched"; cat "$W/rb.err"; }
[ -z "$(ranks_hosts)" ] || fail "rb: ranks started: $(ranks_hosts)"
[ -e "$SHARED/$jd" ] && fail "rb: the re-created directory stays after the failure: $(ls -la "$SHARED/$jd")"
sed 's/^/    /' "$W/rb.err"
pass "$flavor: an image in no cache: one line naming rank 2 and h2, status 1, nothing started, nothing left made"
mv "$W/rank_2.kept" "$HB/node/h2/$jd/0/rank_2.img"

# (c) the shared storage gone with it
mv "$SHARED" "$SHARED.away"
on h1 timeout -k 5 120 "$RESTART" --ckpt-local "$LOCAL" --hostfile "$W/hosts13" "$ref" \
    >"$W/rc.out" 2>"$W/rc.err"
st=$?
[ $st = 1 ] || fail "rc: restart-mpi status $st, not 1"
grep -qF "$ref does not exist: $SHARED is not there (mistyped, removed, or its file system is not mounted on this host); a restart from the node-local caches re-creates the job directory where it was, in $SHARED, which is missing too" "$W/rc.err" ||
    { fail "rc: no message saying the storage is missing"; cat "$W/rc.err"; }
[ "$(wc -l <"$W/rc.err")" = 1 ] || { fail "rc: more than one line"; cat "$W/rc.err"; }
[ -e "$SHARED" ] && fail "rc: something was made: $(ls -la "$SHARED")"
pass "$flavor: the shared storage itself gone: one line, status 1, nothing made"

# (d) the same, re-created elsewhere (--recreate-in: other storage every host sees)
mkdir -m 0700 "$W/other"
restart_ok rd "$W/hosts13" --recreate-in "$W/other"
grep -qF "restart-mpi: $SHARED/$jd was gone: re-created as $W/other/$jd with sequence 0's snapshot.meta from this host's node-local cache ($LOCAL/$jd/0, checked)" "$W/rd.err" ||
    { fail "rd: restart-mpi does not say where it re-created the directory"; cat "$W/rd.err"; }
for r in 0 1 2 3; do
    h=h1; [ $r -ge 2 ] && h=h2
    cmp -s "$W/other/$jd/0/rank_$r.img" "$HB/node/$h/$jd/0/rank_$r.img" || fail "rd: rank $r's image not fetched from $h into $W/other"
done
cmp -s "$W/other/$jd/0/snapshot.meta" "$W/meta.committed" || fail "rd: the re-created snapshot.meta is not the committed one"
[ -e "$SHARED" ] && fail "rd: the old place was made again: $(ls -la "$SHARED")"
grep -E "was gone" "$W/rd.err" | sed 's/^/    /'
pass "$flavor: the shared storage gone: --recreate-in re-creates the snapshot in other storage from the caches (said), native result"

# (e) no shared storage at all: re-created in h1's node-local storage (not seen by h2), the job
# restarted on h1 alone: h2's sender, which cannot see the re-created directory, takes the
# checksums from its cached snapshot.meta; native result (before: "h2: not reached (the
# launcher: status 1 ...)", the sender could not read DIR/<job>/0/snapshot.meta there)
hostfile "$W/hosts1" h1:4
on h1 mkdir -m 0700 "$LOCAL/redo"
restart_ok re "$W/hosts1" --recreate-in "$LOCAL/redo"
grep -qF "rank 2's image was not in $LOCAL/redo/$jd/0: fetched from h2 ($LOCAL/$jd/0/rank_2.img), verified" "$W/re.err" ||
    { fail "re: rank 2 not fetched from h2 into h1's node-local storage"; grep -E "fetched|cannot" "$W/re.err"; }
[ -e "$HB/node/h2/redo" ] && fail "re: something was made in h2's node-local storage"
pass "$flavor: no shared storage at all: re-created in h1's node-local storage, images fetched from h1's and h2's caches, restart on h1 alone, native result"

# (f) no shared storage at all and the restart on several hosts (h1,h2): the re-created
# directory is on h1 only; h2's ranks take their sequence from h2's cache, which holds their
# images and the committed metadata; native result (before: h2's ranks could not see the
# directory, the job ended and the good snapshot was marked as failed)
hostfile "$W/hosts12" h1:2 h2:2
on h1 mkdir -m 0700 "$LOCAL/redo2"
on h1 timeout -k 5 600 "$RESTART" --ckpt-local "$LOCAL" --hostfile "$W/hosts12" \
    --recreate-in "$LOCAL/redo2" "$ref" >"$W/rf.out" 2>"$W/rf.err"
st=$?
[ $st = 0 ] || { fail "rf: restart-mpi status $st"; tail -8 "$W/rf.err"; }
cmp -s "$W/native.out" "$W/rf.out" || { fail "rf: result differs"; cat "$W/native.out" "$W/rf.out"; }
for r in 2 3; do
    grep -qF "revive-restart-rank: rank $r: $LOCAL/redo2/$jd/0 is not on this host (h2): its sequence read from this host's node-local cache ($LOCAL/$jd/0)" "$W/rf.err" ||
        { fail "rf: rank $r does not say it read h2's cache"; grep revive-restart-rank "$W/rf.err"; }
done
for h in h1 h2; do
    grep -qs "^failed_restarts [1-9]" "$HB/node/$h/$jd/0/restart.failed" && fail "rf: the sequence is marked failed in $h's cache"
done
grep -q failed_restarts "$HB/node/h1/redo2/$jd/index" 2>/dev/null && fail "rf: the re-created index marks the sequence failed"
pass "$flavor: no shared storage, restart on h1,h2: h2's ranks read h2's cache (said), native result, nothing marked failed"

# (g) the same on h1,h3: h3 holds no copy and cannot see the directory: its ranks say so, the
# restart fails, and the snapshot is NOT marked failed (its images were never read there)
on h1 mkdir -m 0700 "$LOCAL/redo3"
on h1 timeout -k 5 300 "$RESTART" --ckpt-local "$LOCAL" --hostfile "$W/hosts13" \
    --recreate-in "$LOCAL/redo3" "$ref" >"$W/rg.out" 2>"$W/rg.err"
st=$?
[ $st != 0 ] || fail "rg: restart-mpi status 0 with ranks on a host that holds nothing"
grep -qF "revive-restart-rank: rank 2: $LOCAL/redo3/$jd/0: No such file or directory on this host (h3), and its node-local cache ($LOCAL) holds no copy of that sequence" "$W/rg.err" ||
    { fail "rg: rank 2 does not say why it cannot restart on h3"; tail -8 "$W/rg.err"; }
grep -qF "is not marked as failed" "$W/rg.err" || { fail "rg: the coordinator does not say the snapshot is not marked"; tail -8 "$W/rg.err"; }
for h in h1 h2 h3; do
    grep -qs "^failed_restarts [1-9]" "$HB/node/$h/$jd/0/restart.failed" && fail "rg: the sequence is marked failed in $h's cache"
done
grep -q failed_restarts "$HB/node/h1/redo3/$jd/index" 2>/dev/null && fail "rg: the re-created index marks the sequence failed"
[ -z "$(ranks_hosts)" ] || fail "rg: ranks left: $(ranks_hosts)"
grep -E "not on this host|not marked" "$W/rg.err" | sed 's/^/    /'
pass "$flavor: no shared storage, ranks on h3 that holds nothing: they say why, the restart fails, the snapshot not marked failed"
mv "$SHARED.away" "$SHARED"
finish
