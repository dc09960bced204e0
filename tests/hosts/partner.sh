#!/bin/bash
# partner.sh FLAVOR: partner copies (issue 9, point 4; mpirun --ckpt-partner). A 4-rank job on
# h1,h2 checkpointed with --term: each node's cache also holds the other node's images
# (partner_<r>.img, 0600, sent between the ranks' agents after both proved the job's secret,
# verified before they count); ckpt-info shows the sequence protected and where each copy is.
# h2 is lost (killed, cache wiped) and its ranks' images are removed from the shared directory
# too: a restart on the remaining host (h1) reads ranks 2 and 3 from h1's partner copies (said)
# and gives the native result. Then a damaged partner copy: refused with a message, that rank
# reads the snapshot directory (its image put back), native result.
flavor=$1
. "$(dirname "$0")/lib.sh"
cache_bed partner 2

term_job a --ckpt-partner
c1=$HB/node/h1/$jd/0 c2=$HB/node/h2/$jd/0
for f in $c1/rank_0.img $c1/rank_1.img $c1/partner_2.img $c1/partner_3.img \
         $c2/rank_2.img $c2/rank_3.img $c2/partner_0.img $c2/partner_1.img; do
    [ -f "$f" ] || { fail "no $f: h1 holds $(ls $c1 2>&1); h2 $(ls $c2 2>&1)"; continue; }
    [ "$(stat -c %a "$f")" = 600 ] || fail "$f is not 0600: $(stat -c %a "$f")"
done
[ "$(stat -c %a "$c1")" = 700 ] || fail "$c1 is not 0700"
cmp -s "$c1/partner_2.img" "$c2/rank_2.img" || fail "h1's partner copy of rank 2 differs from h2's image"
on h1 "$INFO" "$SHARED/$jd" >"$W/info.out" 2>&1
grep -q "partner copies: protected" "$W/info.out" || { fail "ckpt-info does not show the sequence protected"; cat "$W/info.out"; }
grep -q "rank 2: .*the cache of h2.*partner copy on h1" "$W/info.out" ||
    { fail "ckpt-info does not say where rank 2's copies are"; cat "$W/info.out"; }
pass "$flavor: --ckpt-partner: each node's cache holds the other's images (0600, verified); ckpt-info shows where"

# h2 lost, and its ranks' images gone from the shared directory too: only h1's partner copies
host_kill h2
host_wipe h2
mkdir -m 0700 "$W/keep" && mv "$ref/rank_2.img" "$ref/rank_3.img" "$W/keep/"
hostfile "$W/hosts1" h1:4
restart_on() {
    local name=$1 st; shift
    on h1 timeout -k 5 600 "$RESTART" --ckpt-local "$LOCAL" --hostfile "$W/hosts1" "$ref" \
        >"$W/$name.out" 2>"$W/$name.err"
    st=$?
    [ $st = 0 ] || { fail "$name: restart-mpi status $st"; tail -20 "$W/$name.err"; }
    cmp -s "$W/native.out" "$W/$name.out" || { fail "$name: result differs"; cat "$W/native.out" "$W/$name.out"; }
}
restart_on r1
for r in 2 3; do
    grep -qF "rank $r reads the partner copy $LOCAL/$jd/0/partner_$r.img" "$W/r1.err" ||
        { fail "r1: rank $r does not say it reads h1's partner copy"; grep -i "rank $r\|partner" "$W/r1.err"; }
done
pass "$flavor: h2 lost with its shared images: restart on h1 from the partner copies (said), native result"

# a damaged partner copy (one byte changed): refused, said; the rank reads the snapshot directory
mv "$W/keep/rank_2.img" "$W/keep/rank_3.img" "$ref/"
img=$c1/partner_2.img
off=$(($(stat -c %s "$img") / 2))
old=$(od -An -tu1 -j $off -N1 "$img" | tr -d ' ')
printf "\\$(printf %03o $(( (old + 1) % 256 )))" | dd of="$img" bs=1 seek=$off conv=notrunc status=none
restart_on r2
grep -q "rank 2: the partner copy $LOCAL/$jd/0/partner_2.img is damaged (.*checksum mismatch.*): its restore stopped before anything of the rank was committed; not used, removed from this host's cache; this rank restores from the snapshot directory's image $ref/rank_2.img instead" "$W/r2.err" ||
    { fail "r2: the damaged partner copy of rank 2 is not refused with a message"; grep -i "rank 2" "$W/r2.err"; }
# removed, as SCR drops a cached dataset that fails its check: no later restart tries it again
[ ! -e "$img" ] || fail "r2: the damaged partner copy $img is still in h1's cache"
grep -qF "rank 3 reads the partner copy" "$W/r2.err" || fail "r2: rank 3 did not read its good partner copy"
pass "$flavor: a damaged partner copy is refused (said) and removed, its rank reads the snapshot directory; native result"
finish
