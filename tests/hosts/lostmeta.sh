#!/bin/bash
# lostmeta.sh FLAVOR: restart from the node-local caches once the snapshot directory is gone
# and the host restart-mpi runs on has lost its cache too (issue 9; tools/snapc/
# restart_meta_ask.h). A 4-rank job on h1,h2 with --ckpt-local --ckpt-partner ends with a
# committed --term snapshot; then the job's directory in the shared storage is removed and
# h1's node-local directory wiped (its disk replaced): only h2's cache holds the metadata
# (and every image: its own ranks' and h1's partner copies).
# (a) restart-mpi --showme from h1 with --hostfile h1,h3: h1's cache has nothing, h3 (asked
#     through the remote shell, REVIVE_RSH) has nothing either: one line naming both, status 1,
#     nothing made;
# (b) restart-mpi from h1 on h1,h3 with --meta-from h2: the metadata taken from h2's cache
#     (said), the directory re-created with it, ranks 0,1 fetched from h2's partner copies and
#     2,3 from h2's own, the restart gives the native result.
flavor=$1
. "$(dirname "$0")/lib.sh"
cache_bed lostmeta 3

term_job a --ckpt-partner
cp "$ref/snapshot.meta" "$W/meta.committed"
hostfile "$W/hosts13" h1:2 h3:2
rm -rf "${SHARED:?}/$jd"
host_wipe h1
export REVIVE_RSH=$HB/agent

# (a) no host asked holds it
on h1 timeout -k 5 120 "$RESTART" --showme --ckpt-local "$LOCAL" --hostfile "$W/hosts13" "$ref" \
    >"$W/sa.out" 2>"$W/sa.err"
st=$?
[ $st = 1 ] || fail "sa: restart-mpi --showme status $st, not 1"
grep -qF "h1's node-local cache ($LOCAL) holds no sequence 0 of it (asked too: h3: holds no copy either): run restart-mpi on a host the job ran on" "$W/sa.err" ||
    { fail "sa: no message naming h1's cache and h3's answer"; cat "$W/sa.err"; }
[ "$(wc -l <"$W/sa.err")" = 1 ] || { fail "sa: more than one line"; cat "$W/sa.err"; }
grep -qx h3 "$HB/agent.log" || fail "sa: h3 was not asked through the remote shell"
[ -e "$SHARED/$jd" ] && fail "sa: the job directory was made"
sed 's/^/    /' "$W/sa.err"
pass "$flavor: no host asked holds the metadata: one line naming h1's cache and h3's answer, status 1, nothing made"

# (b) h2 named: its copy taken
: >"$HB/agent.log"
on h1 timeout -k 5 600 "$RESTART" --ckpt-local "$LOCAL" --hostfile "$W/hosts13" --meta-from h2 \
    "$ref" >"$W/rb.out" 2>"$W/rb.err"
st=$?
[ $st = 0 ] || { fail "rb: restart-mpi status $st"; tail -20 "$W/rb.err"; }
cmp -s "$W/native.out" "$W/rb.out" || { fail "rb: result differs"; cat "$W/native.out" "$W/rb.out"; }
grep -qF "restart-mpi: h1's node-local cache has no copy of its snapshot.meta (holds no sequence 0 of it); took the one in h2's node-local cache" "$W/rb.err" &&
grep -qF "restart-mpi: $SHARED/$jd was gone: re-created with sequence 0's snapshot.meta from h2's node-local cache ($LOCAL/$jd/0, checked)" "$W/rb.err" ||
    { fail "rb: restart-mpi does not say it took the metadata from h2's cache"; cat "$W/rb.err"; }
cmp -s "$ref/snapshot.meta" "$W/meta.committed" || fail "rb: the re-created snapshot.meta is not the committed one"
[ "$(stat -c %a "$ref/snapshot.meta")" = 600 ] || fail "rb: snapshot.meta mode $(stat -c %a "$ref/snapshot.meta")"
for r in 0 1 2 3; do
    f=rank_$r.img; [ $r -lt 2 ] && f=partner_$r.img
    grep -qF "rank $r's image was not in $ref: fetched from h2 ($LOCAL/$jd/0/$f), verified" "$W/rb.err" ||
        { fail "rb: rank $r not fetched from h2's $f"; grep fetched "$W/rb.err"; }
done
[ -z "$(ls "$HB/node/h1" | grep revive-meta-)" ] ||
    fail "rb: restart-mpi's folder of the answer is left"
grep -E "no copy|was gone|fetched" "$W/rb.err" | sed 's/^/    /'
pass "$flavor: h1's cache lost too: the metadata from h2's cache (--meta-from), images from h2's own and partner copies, native result"
finish
